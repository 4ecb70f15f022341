/**
 * The file store's on-disk format: the header, the record frame, the record
 * types and the replay scanner. `file.ts` describes the layout and why.
 */
import { decode } from '../codec/decoder.ts';
import { encodedLength, encodeInto } from '../codec/encode.ts';
import type { PublishPacket } from '../codec/types.ts';
import type { InboundQos2State } from '../session/store.ts';
import type { OutboundMessage, OutboundState } from '../session/types.ts';
import { crc32 } from './crc32.ts';
import { storeError, wrap } from './file-io.ts';

/** PNG-style magic: a high byte, the name, then CR LF and ^Z to catch text-mode mangling. */
const MAGIC = [0x89, 0x53, 0x46, 0x4d, 0x51, 0x0d, 0x0a, 0x1a]; // \x89 S F M Q \r \n \x1a
export const FORMAT_VERSION = 1;
/** Magic (8), format version (1), reserved zeros (3). */
export const HEADER_SIZE = 12;

/** Length (4) and CRC (4) before the op byte. */
export const FRAME_SIZE = 8;

export const OP_ADD = 1;
export const OP_UPDATE = 2;
export const OP_REMOVE = 3;
export const OP_INBOUND_SET = 4;
export const OP_INBOUND_REMOVE = 5;
export const OP_INBOUND_CLEAR = 6;

/** Whole record sizes, frame included. An add is ADD_SIZE plus the encoded PUBLISH. */
export const ADD_SIZE = FRAME_SIZE + 1 + 8 + 2 + 1;
export const UPDATE_SIZE = FRAME_SIZE + 1 + 8 + 2 + 1;
export const REMOVE_SIZE = FRAME_SIZE + 1 + 8;
export const INBOUND_SET_SIZE = FRAME_SIZE + 1 + 2 + 1;
export const INBOUND_REMOVE_SIZE = FRAME_SIZE + 1 + 2;
export const INBOUND_CLEAR_SIZE = FRAME_SIZE + 1;

/** The largest op + body: an add holding the largest PUBLISH MQTT can express. */
const MAX_RECORD_LENGTH = ADD_SIZE - FRAME_SIZE + 268_435_460;

export function writeHeader(buf: Buffer, at: number): void {
  for (let i = 0; i < MAGIC.length; i++) buf[at + i] = MAGIC[i];
  buf[at + 8] = FORMAT_VERSION;
  buf.fill(0, at + 9, at + HEADER_SIZE);
}

/** Throws STORE_ERROR unless `image` starts with a header this version reads. */
export function checkHeader(image: Buffer, path: string): void {
  if (image.length < HEADER_SIZE || MAGIC.some((b, i) => image[i] !== b)) {
    throw storeError(`${path} is not a steadfast-mqtt store`);
  }
  if (image[8] !== FORMAT_VERSION) {
    throw storeError(
      `${path} is a format version ${image[8]} steadfast-mqtt store; this version reads version ${FORMAT_VERSION}`,
    );
  }
}

/**
 * Completes the record of `size` bytes at `buf[at]` whose op and body are
 * filled in: writes its length and its CRC (over the length, op and body).
 */
export function seal(buf: Buffer, at: number, size: number): void {
  buf.writeUInt32LE(size - FRAME_SIZE, at);
  buf.writeUInt32LE(crc32(buf, at + FRAME_SIZE, at + size, crc32(buf, at, at + 4)), at + 4);
}

function outboundStateCode(state: OutboundState): number {
  switch (state) {
    case 'queued':
      return 0;
    case 'sent':
      return 1;
    case 'received':
      return 2;
    default:
      throw storeError(`unknown outbound state ${String(state satisfies never)}`);
  }
}

const OUTBOUND_STATES: readonly OutboundState[] = ['queued', 'sent', 'received'];
const INBOUND_STATES: readonly InboundQos2State[] = ['delivered', 'acked'];

export function outboundState(code: number, at: number): OutboundState {
  const state = OUTBOUND_STATES[code];
  if (state === undefined) throw storeError(`record at offset ${at} has unknown outbound state ${code}`);
  return state;
}

function inboundStateCode(state: InboundQos2State): number {
  if (state === 'delivered') return 0;
  if (state === 'acked') return 1;
  throw storeError(`unknown inbound QoS 2 state ${String(state satisfies never)}`);
}

export function inboundState(code: number, at: number): InboundQos2State {
  const state = INBOUND_STATES[code];
  if (state === undefined) throw storeError(`record at offset ${at} has unknown inbound state ${code}`);
  return state;
}

/** Where a replay ended, and why if it ended before the end of the file. */
export interface ScanResult {
  end: number;
  damage?: string;
}

/**
 * Visits the whole, intact records of `image` after the header, in order,
 * with the offsets of the record and of its body (after the op byte). Stops
 * at the first record that is cut short or fails its CRC: nothing after a
 * damaged record can be trusted to be in order.
 */
export function scanRecords(
  image: Buffer,
  visit: (op: number, record: number, body: number, bodyLength: number) => void,
): ScanResult {
  const n = image.length;
  let pos = HEADER_SIZE;
  while (pos < n) {
    if (n - pos <= FRAME_SIZE) return { end: pos, damage: `a record header cut short at offset ${pos}` };
    const length = image.readUInt32LE(pos);
    if (length === 0 || length > MAX_RECORD_LENGTH) {
      return { end: pos, damage: `an impossible record length ${length} at offset ${pos}` };
    }
    const end = pos + FRAME_SIZE + length;
    if (end > n) return { end: pos, damage: `a record cut short at offset ${pos}` };
    const crc = crc32(image, pos + FRAME_SIZE, end, crc32(image, pos, pos + 4));
    if (crc !== image.readUInt32LE(pos + 4)) return { end: pos, damage: `a CRC mismatch at offset ${pos}` };
    visit(image[pos + FRAME_SIZE], pos, pos + FRAME_SIZE + 1, length - 1);
    pos = end;
  }
  return { end: pos };
}

/** Fills in the body of an add or update record at `buf[at]` (the op byte included). */
export function writeOutbound(
  buf: Buffer,
  at: number,
  op: number,
  key: number,
  packetId: number,
  state: OutboundState,
): void {
  if (!Number.isInteger(packetId) || packetId < 0 || packetId > 0xffff) {
    throw storeError(`packet id must be an integer from 0 to 65535, got ${packetId}`);
  }
  buf[at + FRAME_SIZE] = op;
  buf.writeDoubleLE(key, at + FRAME_SIZE + 1);
  buf.writeUInt16LE(packetId, at + FRAME_SIZE + 9);
  buf[at + FRAME_SIZE + 11] = outboundStateCode(state);
}

/** Fills in the body of an inbound set record (state given) or remove record (state undefined). */
export function writeInbound(buf: Buffer, at: number, packetId: number, state?: InboundQos2State): void {
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
    throw storeError(`packet id must be an integer from 1 to 65535, got ${packetId}`);
  }
  buf[at + FRAME_SIZE] = state === undefined ? OP_INBOUND_REMOVE : OP_INBOUND_SET;
  buf.writeUInt16LE(packetId, at + FRAME_SIZE + 1);
  if (state !== undefined) buf[at + FRAME_SIZE + 3] = inboundStateCode(state);
}

/** A whole add record for `message`, but for its length and CRC (see `seal`). */
export function addRecord(
  key: number,
  message: OutboundMessage,
  packetId: number,
  state: OutboundState,
): Buffer {
  const packet: PublishPacket = {
    type: 'publish',
    topic: message.topic,
    payload: message.payload,
    qos: message.qos,
    retain: message.retain,
    dup: false,
    packetId: message.qos > 0 ? 1 : undefined,
    properties: message.properties,
  };
  let buf: Buffer;
  try {
    buf = Buffer.allocUnsafe(ADD_SIZE + encodedLength(packet, 5));
    encodeInto(packet, 5, buf, ADD_SIZE);
  } catch (error) {
    throw wrap(error, `cannot store message ${key}`);
  }
  writeOutbound(buf, 0, OP_ADD, key, packetId, state);
  return buf;
}

/** Decodes a stored PUBLISH from a copy of its bytes, so that the message does not pin `image`. */
export function decodeMessage(image: Buffer, at: number, length: number): OutboundMessage {
  const bytes = new Uint8Array(length);
  bytes.set(image.subarray(at, at + length));
  let packet: ReturnType<typeof decode>;
  try {
    packet = decode(bytes, 5);
  } catch (error) {
    throw wrap(error, `stored message at offset ${at} does not decode`);
  }
  if (packet.type !== 'publish') throw storeError(`stored message at offset ${at} is not a PUBLISH`);
  const message: OutboundMessage = {
    topic: packet.topic,
    payload: packet.payload,
    qos: packet.qos,
    retain: packet.retain,
  };
  if (packet.properties !== undefined) message.properties = packet.properties;
  return message;
}
