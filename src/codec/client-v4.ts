/**
 * The packets an MQTT 3.1.1 client sends and receives, and nothing else: no
 * MQTT 5 properties or reason codes, no server-side packets. It is what the
 * lite client (src/lite) bundles instead of the full codec, so that a
 * 3.1.1-only browser build stays small.
 *
 * It is built from the same wire primitives and topic validation as the full
 * codec and gives the same bytes, the same decoded packets and the same error
 * codes (test/codec/client-v4.test.ts checks all three against `encode` /
 * `decode`). One difference: strings go through the platform's TextEncoder
 * and strict (fatal) TextDecoder, which every browser, Node, Deno and Bun
 * has, instead of the codec's plain-JS UTF-8 that engines without them need;
 * the MQTT rules on top (no U+0000, no lone surrogate, at most 65,535 bytes)
 * are checked here.
 */
import { localError, remoteError } from '../errors.ts';
import { MAX_PACKET_SIZE, PACKET_TYPE_NAME } from './constants.ts';
import { validateTopicFilter, validateTopicName } from './topic.ts';
import type {
  ConnackPacket,
  PubackPacket,
  PubcompPacket,
  PublishPacket,
  PubrecPacket,
  PubrelPacket,
  QoS,
  SubackPacket,
  UnsubackPacket,
} from './types.ts';
import {
  binarySize,
  checkPacketId,
  Reader,
  readPacketId,
  truncated,
  varintSize,
  writeVarint,
} from './wire.ts';

/** What a 3.1.1 server sends a client. */
export type ServerPacket4 =
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubackPacket
  | UnsubackPacket
  | { type: 'pingresp' };

/** The fields of a 3.1.1 CONNECT. */
export interface Connect4 {
  clientId: string;
  clean: boolean;
  keepalive: number;
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: QoS; retain: boolean };
}

export const PINGREQ_4 = Uint8Array.of(0xc0, 0);
export const DISCONNECT_4 = Uint8Array.of(0xe0, 0);

/** A packet made of its first byte and its fields, in order (the fixed header's remaining length written in). */
function frame(first: number, fields: Uint8Array[]): Uint8Array {
  let body = 0;
  for (const f of fields) body += f.length;
  const buf = new Uint8Array(1 + varintSize(body) + body);
  buf[0] = first;
  let pos = writeVarint(buf, 1, body);
  for (const f of fields) {
    buf.set(f, pos);
    pos += f.length;
  }
  return buf;
}

/** A 16-bit field: a packet identifier, the keepalive, or the length before a string or binary field. */
function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n);
}

let textEncoder: TextEncoder | undefined;

/** `s` as UTF-8 by the platform's TextEncoder (a lone surrogate becomes U+FFFD): for payloads, which are not MQTT strings. */
export function utf8Bytes(s: string): Uint8Array {
  textEncoder ??= new TextEncoder();
  return textEncoder.encode(s);
}

/** Length-prefixed binary data as two fields, with the checks of the codec's `binarySize`. */
function binary(data: Uint8Array, what: string): Uint8Array[] {
  binarySize(data, what);
  return [u16(data.length), data];
}

/** An MQTT string as its two fields (length, UTF-8), with the checks of the codec's `stringSize`. */
function string(s: string, what: string): Uint8Array[] {
  if (typeof s !== 'string') throw localError('INVALID_ARGUMENT', `${what} must be a string`);
  // With the u flag a surrogate pair is one code point, so only a lone surrogate matches \p{Cs}.
  if (/\0|\p{Cs}/u.test(s))
    throw localError('INVALID_ARGUMENT', `${what} must not contain U+0000 or a lone surrogate`);
  return binary(utf8Bytes(s), what);
}

/** The variable header's start: the protocol name 'MQTT' as a string, and level 4 (3.1.1). */
const PROTOCOL_4 = Uint8Array.of(0, 4, 0x4d, 0x51, 0x54, 0x54, 4);

function checkQos(qos: number, what: string): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw localError('INVALID_ARGUMENT', `${what} must be 0, 1 or 2, got ${qos}`);
  }
}

/** CONNECT, with the same checks, in the same order, as `encode`. */
export function encodeConnect4(p: Connect4): Uint8Array {
  const { will: w, password, username, keepalive } = p;
  if (!(keepalive >= 0 && keepalive <= 0xffff) || keepalive % 1 !== 0) {
    throw localError('INVALID_ARGUMENT', `keepalive must be 0 to 65535 seconds, got ${keepalive}`);
  }
  if (p.clientId === '' && !p.clean) {
    throw localError('INVALID_ARGUMENT', 'an empty clientId needs clean: true [MQTT-3.1.3-7]');
  }
  const flags =
    (username !== undefined ? 0x80 : 0) |
    (password !== undefined ? 0x40 : 0) |
    (w ? 0x04 | (w.qos << 3) | (w.retain ? 0x20 : 0) : 0) |
    (p.clean ? 0x02 : 0);
  const fields = [PROTOCOL_4, Uint8Array.of(flags), u16(keepalive), ...string(p.clientId, 'clientId')];
  if (w) {
    validateTopicName(w.topic);
    checkQos(w.qos, 'will qos');
    fields.push(...string(w.topic, 'will topic'), ...binary(w.payload, 'will payload'));
  }
  if (username !== undefined) fields.push(...string(username, 'username'));
  if (password !== undefined) {
    if (username === undefined) {
      throw localError('INVALID_ARGUMENT', 'a password needs a username in MQTT 3.1.1');
    }
    fields.push(...binary(password, 'password'));
  }
  return frame(0x10, fields);
}

/** PUBLISH; `packetId` is used (and required) for QoS 1 and 2 only. */
export function encodePublish4(
  topic: string,
  payload: Uint8Array,
  qos: QoS,
  retain: boolean,
  dup: boolean,
  packetId?: number,
): Uint8Array {
  checkQos(qos, 'qos');
  if (dup && qos === 0) throw localError('INVALID_ARGUMENT', 'a QoS 0 PUBLISH cannot be a duplicate');
  validateTopicName(topic);
  if (!(payload instanceof Uint8Array)) throw localError('INVALID_ARGUMENT', 'payload must be a Uint8Array');
  const fields = string(topic, 'topic');
  if (qos > 0) fields.push(u16(checkPacketId(packetId, 'a QoS 1 or 2 PUBLISH')));
  fields.push(payload);
  return frame(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), fields);
}

const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };

/** PUBACK, PUBREC, PUBREL or PUBCOMP. */
export function encodeAck4(type: keyof typeof ACK_FIRST_BYTE, packetId: number): Uint8Array {
  return frame(ACK_FIRST_BYTE[type], [u16(checkPacketId(packetId, type.toUpperCase()))]);
}

/**
 * SUBSCRIBE when `qos` is given (the same QoS for every filter), else
 * UNSUBSCRIBE: the two differ only in that byte per filter.
 */
export function encodeSubscribe4(packetId: number, filters: string[], qos?: QoS): Uint8Array {
  const what = qos === undefined ? 'UNSUBSCRIBE' : 'SUBSCRIBE';
  const fields = [u16(checkPacketId(packetId, what))];
  if (filters.length === 0) throw localError('INVALID_ARGUMENT', `${what} needs at least one topic filter`);
  if (qos !== undefined) checkQos(qos, 'qos');
  for (const f of filters) {
    validateTopicFilter(f);
    fields.push(...string(f, 'topic filter'));
    if (qos !== undefined) fields.push(Uint8Array.of(qos));
  }
  return frame(qos === undefined ? 0xa2 : 0x82, fields);
}

const EMPTY = new Uint8Array(0);
let textDecoder: TextDecoder | undefined;

function malformed(message: string): never {
  throw remoteError('MALFORMED_PACKET', message);
}

/** A length-prefixed MQTT string: strict UTF-8 (a BOM is kept, as MQTT requires), no U+0000. */
function readString4(r: Reader): string {
  const len = r.u16();
  const start = r.pos;
  if (start + len > r.end) truncated();
  r.pos = start + len;
  textDecoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let s = '';
  try {
    s = textDecoder.decode(r.buf.subarray(start, r.pos));
  } catch {
    malformed('invalid UTF-8 in an MQTT string');
  }
  if (s.includes('\0')) malformed('invalid UTF-8 in an MQTT string');
  return s;
}

/** Bit N set for each packet type N a server sends: CONNACK 2, PUBLISH 3, the acks 4 to 7, SUBACK 9, UNSUBACK 11, PINGRESP 13. */
const SERVER_TYPES = 0b10_1010_1111_1100;

/** Decodes the body of one packet a 3.1.1 server sends. */
function parse(first: number, r: Reader): ServerPacket4 {
  const type = first >> 4;
  const flags = first & 0x0f;
  if (type === 0 || type === 15) malformed(`reserved packet type ${type}`);
  const name = PACKET_TYPE_NAME[type]!;
  const what = name.toUpperCase();
  if (((SERVER_TYPES >> type) & 1) === 0)
    throw remoteError('PROTOCOL_ERROR', `a server does not send ${what} to a client`);
  if (type !== 3 && flags !== (type === 6 ? 2 : 0))
    malformed(`${name} has invalid fixed header flags ${flags}`);
  let packet: ServerPacket4;
  switch (type) {
    case 2: {
      const ack = r.u8();
      if (ack > 1) malformed('CONNACK reserved flags are set');
      const reasonCode = r.u8();
      if (ack === 1 && reasonCode !== 0) malformed('CONNACK has session present with a refusal');
      packet = { type: 'connack', sessionPresent: ack === 1, reasonCode };
      break;
    }
    case 3: {
      const qos = (flags >> 1) & 3;
      if (qos === 3) malformed('PUBLISH has QoS 3');
      const dup = (flags & 8) !== 0;
      if (dup && qos === 0) malformed('QoS 0 PUBLISH has DUP set');
      const topic = readString4(r);
      validateTopicName(topic, 'remote');
      const publish: PublishPacket = {
        type: 'publish',
        topic,
        payload: EMPTY,
        qos: qos as QoS,
        retain: (flags & 1) !== 0,
        dup,
      };
      if (qos > 0) publish.packetId = readPacketId(r, 'PUBLISH');
      publish.payload = r.rest();
      return publish;
    }
    case 4:
    case 5:
    case 6:
    case 7:
      packet = { type: name as 'puback', packetId: readPacketId(r, what), reasonCode: 0 };
      break;
    case 9:
    case 11: {
      const ack = { type: name as 'suback', packetId: readPacketId(r, what), reasonCodes: [] as number[] };
      if (type === 9) {
        if (r.remaining() === 0) throw remoteError('PROTOCOL_ERROR', 'SUBACK has no reason codes');
        while (r.remaining() > 0) {
          const code = r.u8();
          if (code > 2 && code !== 0x80) malformed(`SUBACK return code ${code} is not 0, 1, 2 or 128`);
          ack.reasonCodes.push(code);
        }
      }
      packet = ack;
      break;
    }
    default: // 13, PINGRESP
      packet = { type: 'pingresp' };
  }
  r.done(what);
  return packet;
}

/**
 * Streaming decoder for what a 3.1.1 server sends: push chunks of any size,
 * take whole packets out with `next()` until it returns undefined. A packet
 * inside one chunk is parsed in place (its payload is a view of the chunk).
 * Throws MqttError (side 'remote') for bytes that break the protocol; use a
 * new decoder for the next connection.
 */
export class ClientDecoder4 {
  private pending: Uint8Array = EMPTY;
  private readonly reader = new Reader();

  /**
   * @param maximumPacketSize the largest packet accepted, fixed header
   *   included; a larger one fails with PACKET_TOO_LARGE as soon as its header
   *   is read, before its body is buffered. Default 268,435,460 (MQTT's limit).
   */
  constructor(private readonly maximumPacketSize = MAX_PACKET_SIZE) {}

  push(chunk: Uint8Array): void {
    const rest = this.pending;
    if (rest.length === 0) {
      this.pending = chunk;
      return;
    }
    // Only a packet split across chunks gets here; it is copied once per chunk it spans.
    const merged = new Uint8Array(rest.length + chunk.length);
    merged.set(rest);
    merged.set(chunk, rest.length);
    this.pending = merged;
  }

  next(): ServerPacket4 | undefined {
    const buf = this.pending;
    let length = 0;
    let i = 1;
    for (let multiplier = 1; ; multiplier *= 128) {
      if (i >= buf.length) return undefined;
      if (i === 5) malformed('remaining length is longer than 4 bytes');
      const b = buf[i++];
      if (b === 0 && i > 2) malformed('remaining length is not minimally encoded');
      length += (b & 0x7f) * multiplier;
      if (b < 0x80) break;
    }
    const end = i + length;
    if (end > this.maximumPacketSize) {
      throw remoteError(
        'PACKET_TOO_LARGE',
        `a ${end}-byte packet is over maximumPacketSize ${this.maximumPacketSize}`,
      );
    }
    if (buf.length < end) return undefined;
    this.pending = buf.subarray(end);
    return parse(buf[0], this.reader.reset(buf, i, end));
  }
}
