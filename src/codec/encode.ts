/**
 * Encoding: measure the packet, then write it into one exactly-sized
 * Uint8Array (or the caller's buffer). No intermediate arrays.
 */
import { localError } from '../errors.ts';
import { type AckType, ackSize, disconnectSize, writeAck, writeDisconnect } from './ack.ts';
import { connackSize, connectSize, writeConnack, writeConnect } from './connect.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import { publishFlags, publishSize, writePublish } from './publish.ts';
import { allocate } from './slab.ts';
import {
  subackSize,
  subscribeSize,
  unsubscribeSize,
  writeSuback,
  writeSubscribe,
  writeUnsubscribe,
} from './subscribe.ts';
import type {
  AckPacket,
  AuthPacket,
  DisconnectPacket,
  Packet,
  ProtocolVersion,
  SubackPacket,
  UnsubackPacket,
} from './types.ts';
import { MAX_VARINT, varintSize, writeVarint } from './wire.ts';

/** Measures and writes the body of one packet type (everything after the fixed header). */
export interface PacketWriter<P extends Packet> {
  size(p: P, version: ProtocolVersion): number;
  write(buf: Uint8Array, pos: number, p: P, version: ProtocolVersion): number;
}

/**
 * A writer per packet type. The client's own table (client-role.ts) leaves
 * out the packets only a broker sends, so a client bundle does not carry
 * their encoding; `encode` below has them all.
 */
export type PacketWriters = { readonly [T in Packet['type']]?: PacketWriter<Extract<Packet, { type: T }>> };

const ACK: PacketWriter<AckPacket<AckType>> = { size: ackSize, write: writeAck };
const EMPTY_BODY: PacketWriter<Packet> = { size: () => 0, write: (_buf, pos) => pos };
const DISCONNECT: PacketWriter<DisconnectPacket | AuthPacket> = {
  size: disconnectSize,
  write: writeDisconnect,
};

/** The writers for the packets a client sends: what client-role.ts encodes with. */
export const CLIENT_WRITERS: PacketWriters = {
  connect: { size: connectSize, write: writeConnect },
  publish: { size: publishSize, write: writePublish },
  puback: ACK,
  pubrec: ACK,
  pubrel: ACK,
  pubcomp: ACK,
  subscribe: { size: subscribeSize, write: writeSubscribe },
  unsubscribe: { size: unsubscribeSize, write: writeUnsubscribe },
  pingreq: EMPTY_BODY,
  disconnect: DISCONNECT,
  auth: DISCONNECT,
};

const SUBACK: PacketWriter<SubackPacket | UnsubackPacket> = { size: subackSize, write: writeSuback };

/** Every packet, a broker's too. */
const ALL_WRITERS: PacketWriters = {
  connect: { size: connectSize, write: writeConnect },
  connack: { size: connackSize, write: writeConnack },
  publish: { size: publishSize, write: writePublish },
  puback: ACK,
  pubrec: ACK,
  pubrel: ACK,
  pubcomp: ACK,
  subscribe: { size: subscribeSize, write: writeSubscribe },
  suback: SUBACK,
  unsubscribe: { size: unsubscribeSize, write: writeUnsubscribe },
  unsuback: SUBACK,
  pingreq: EMPTY_BODY,
  pingresp: EMPTY_BODY,
  disconnect: DISCONNECT,
  auth: DISCONNECT,
};

function writerFor(p: Packet, writers: PacketWriters): PacketWriter<Packet> {
  // Object.hasOwn: a type such as 'toString' must not find Object.prototype's.
  const writer = Object.hasOwn(writers, p.type) ? writers[p.type] : undefined;
  if (writer === undefined) throw localError('INVALID_ARGUMENT', `unknown packet type ${p.type}`);
  return writer as PacketWriter<Packet>;
}

/** The first byte: packet type in the high nibble, flags in the low one. */
function firstByte(p: Packet): number {
  const type = PACKET_TYPE_NUMBER[p.type]; // known: writerFor has checked the type
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

function measure(p: Packet, version: ProtocolVersion, writer: PacketWriter<Packet>): number {
  const body = writer.size(p, version);
  if (body > MAX_VARINT)
    throw localError('PACKET_TOO_LARGE', `packet body of ${body} bytes exceeds MQTT's limit`);
  return body;
}

/** The number of bytes `packet` encodes to, fixed header included. */
export function encodedLength(packet: Packet, version: ProtocolVersion): number {
  const body = measure(packet, versionOf(packet, version), writerFor(packet, ALL_WRITERS));
  return 1 + varintSize(body) + body;
}

/**
 * Encodes `packet` for the given protocol version into an exactly-sized
 * Uint8Array (a packet of up to 4 KiB is a view into a shared slab).
 */
export function encode(packet: Packet, version: ProtocolVersion): Uint8Array {
  return encodeWith(ALL_WRITERS, packet, version);
}

/** `encode` with a given table of writers: a packet type missing from it is INVALID_ARGUMENT. */
export function encodeWith(writers: PacketWriters, packet: Packet, version: ProtocolVersion): Uint8Array {
  const writer = writerFor(packet, writers);
  const v = versionOf(packet, version);
  const body = measure(packet, v, writer);
  const buf = allocate(1 + varintSize(body) + body);
  write(buf, 0, packet, v, body, writer);
  return buf;
}

/**
 * Encodes `packet` into `target` at `offset` (to batch many packets into one
 * write). Returns the number of bytes written; throws INVALID_ARGUMENT if the
 * packet does not fit, writing nothing.
 */
export function encodeInto(packet: Packet, version: ProtocolVersion, target: Uint8Array, offset = 0): number {
  const writer = writerFor(packet, ALL_WRITERS);
  const v = versionOf(packet, version);
  const body = measure(packet, v, writer);
  const total = 1 + varintSize(body) + body;
  if (offset < 0 || offset + total > target.length) {
    throw localError(
      'INVALID_ARGUMENT',
      `packet of ${total} bytes does not fit the target at offset ${offset}`,
    );
  }
  write(target, offset, packet, v, body, writer);
  return total;
}

function write(
  buf: Uint8Array,
  pos: number,
  p: Packet,
  version: ProtocolVersion,
  body: number,
  writer: PacketWriter<Packet>,
): void {
  buf[pos] = firstByte(p);
  const start = writeVarint(buf, pos + 1, body);
  const end = writer.write(buf, start, p, version);
  // Cheap insurance: a size bug would otherwise put a corrupt packet on the wire.
  if (end - start !== body)
    throw new Error(`steadfast-mqtt bug: ${p.type} measured ${body} bytes, wrote ${end - start}`);
}
