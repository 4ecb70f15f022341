/**
 * Encoding: measure the packet, then write it into one exactly-sized
 * Uint8Array (or the caller's buffer). No intermediate arrays.
 */
import { localError } from '../errors.ts';
import { ackSize, disconnectSize, writeAck, writeDisconnect } from './ack.ts';
import { connackSize, connectSize, writeConnack, writeConnect } from './connect.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import { publishFlags, publishSize, writePublish } from './publish.ts';
import {
  subackSize,
  subscribeSize,
  unsubscribeSize,
  writeSuback,
  writeSubscribe,
  writeUnsubscribe,
} from './subscribe.ts';
import type { Packet, ProtocolVersion } from './types.ts';
import { MAX_VARINT, varintSize, writeVarint } from './wire.ts';

function unreachable(p: never): never {
  throw localError('INVALID_ARGUMENT', `unknown packet type ${(p as { type: string }).type}`);
}

/** The size of everything after the fixed header (the Remaining Length). */
function bodySize(p: Packet, version: ProtocolVersion): number {
  switch (p.type) {
    case 'publish':
      return publishSize(p, version);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return ackSize(p, version);
    case 'connect':
      return connectSize(p);
    case 'connack':
      return connackSize(p, version);
    case 'subscribe':
      return subscribeSize(p, version);
    case 'suback':
    case 'unsuback':
      return subackSize(p, version);
    case 'unsubscribe':
      return unsubscribeSize(p, version);
    case 'pingreq':
    case 'pingresp':
      return 0;
    case 'disconnect':
    case 'auth':
      return disconnectSize(p, version);
    default:
      return unreachable(p);
  }
}

function writeBody(buf: Uint8Array, pos: number, p: Packet, version: ProtocolVersion): number {
  switch (p.type) {
    case 'publish':
      return writePublish(buf, pos, p, version);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return writeAck(buf, pos, p, version);
    case 'connect':
      return writeConnect(buf, pos, p);
    case 'connack':
      return writeConnack(buf, pos, p, version);
    case 'subscribe':
      return writeSubscribe(buf, pos, p, version);
    case 'suback':
    case 'unsuback':
      return writeSuback(buf, pos, p, version);
    case 'unsubscribe':
      return writeUnsubscribe(buf, pos, p, version);
    case 'pingreq':
    case 'pingresp':
      return pos;
    case 'disconnect':
    case 'auth':
      return writeDisconnect(buf, pos, p, version);
    default:
      return unreachable(p);
  }
}

/** The first byte: packet type in the high nibble, flags in the low one. */
function firstByte(p: Packet): number {
  const type = PACKET_TYPE_NUMBER[p.type];
  if (type === undefined) throw localError('INVALID_ARGUMENT', `unknown packet type ${p.type}`);
  if (p.type === 'publish') return (type << 4) | publishFlags(p);
  // PUBREL, SUBSCRIBE and UNSUBSCRIBE have reserved flags 0010 [MQTT-2.2.2-1].
  if (p.type === 'pubrel' || p.type === 'subscribe' || p.type === 'unsubscribe') return (type << 4) | 0x02;
  return type << 4;
}

function versionOf(p: Packet, version: ProtocolVersion): ProtocolVersion {
  // A CONNECT declares its own version.
  const v = p.type === 'connect' ? p.protocolVersion : version;
  if (v !== 4 && v !== 5) throw localError('INVALID_ARGUMENT', `protocol version must be 4 or 5, got ${v}`);
  return v;
}

function measure(p: Packet, version: ProtocolVersion): number {
  const body = bodySize(p, version);
  if (body > MAX_VARINT)
    throw localError('PACKET_TOO_LARGE', `packet body of ${body} bytes exceeds MQTT's limit`);
  return body;
}

/** The number of bytes `packet` encodes to, fixed header included. */
export function encodedLength(packet: Packet, version: ProtocolVersion): number {
  const body = measure(packet, versionOf(packet, version));
  return 1 + varintSize(body) + body;
}

/*
 * Small packets are carved out of a shared slab, as Node's Buffer pool does:
 * allocating (and zero-filling) a fresh ArrayBuffer per packet costs more
 * than encoding a 1 KiB PUBLISH. Each packet gets its own region, never
 * reused, so views stay valid; `bytes.buffer` is the slab, so use
 * `byteOffset`/`byteLength` when going through `.buffer`.
 */
const SLAB_SIZE = 32 * 1024;
const SLAB_MAX_PACKET = 4 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

function allocate(size: number): Uint8Array {
  if (size > SLAB_MAX_PACKET) return new Uint8Array(size);
  if (slabUsed + size > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed = (slabUsed + size + 7) & ~7; // keep regions 8-byte aligned
  return out;
}

/**
 * Encodes `packet` for the given protocol version into an exactly-sized
 * Uint8Array (a packet of up to 4 KiB is a view into a shared slab).
 */
export function encode(packet: Packet, version: ProtocolVersion): Uint8Array {
  const v = versionOf(packet, version);
  const body = measure(packet, v);
  const buf = allocate(1 + varintSize(body) + body);
  write(buf, 0, packet, v, body);
  return buf;
}

/**
 * Encodes `packet` into `target` at `offset` (to batch many packets into one
 * write). Returns the number of bytes written; throws INVALID_ARGUMENT if the
 * packet does not fit, writing nothing.
 */
export function encodeInto(packet: Packet, version: ProtocolVersion, target: Uint8Array, offset = 0): number {
  const v = versionOf(packet, version);
  const body = measure(packet, v);
  const total = 1 + varintSize(body) + body;
  if (offset < 0 || offset + total > target.length) {
    throw localError(
      'INVALID_ARGUMENT',
      `packet of ${total} bytes does not fit the target at offset ${offset}`,
    );
  }
  write(target, offset, packet, v, body);
  return total;
}

function write(buf: Uint8Array, pos: number, p: Packet, version: ProtocolVersion, body: number): void {
  buf[pos] = firstByte(p);
  const start = writeVarint(buf, pos + 1, body);
  const end = writeBody(buf, start, p, version);
  // Cheap insurance: a size bug would otherwise put a corrupt packet on the wire.
  if (end - start !== body)
    throw new Error(`steadfast-mqtt bug: ${p.type} measured ${body} bytes, wrote ${end - start}`);
}
