/**
 * PUBACK, PUBREC, PUBREL and PUBCOMP: a packet identifier, and on MQTT 5 an
 * optional reason code and properties. Also DISCONNECT and AUTH, which are a
 * reason code and properties with no identifier.
 */

import { localError, remoteError } from '../errors.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import { propertiesSize, readProperties, writeProperties } from './properties.ts';
import { checkReasonCode } from './reason-codes.ts';
import { allocate } from './slab.ts';
import type { AckPacket, AuthPacket, DisconnectPacket, ProtocolVersion } from './types.ts';
import { checkPacketId, type Reader, readPacketId, varintSize, writeU16 } from './wire.ts';

export type AckType = 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
const TYPE_NUMBER = PACKET_TYPE_NUMBER;
/** Names for messages, made once: `type.toUpperCase()` per ack was a string allocated per message. */
const NAME = { puback: 'PUBACK', pubrec: 'PUBREC', pubrel: 'PUBREL', pubcomp: 'PUBCOMP' } as const;
/** PUBREL's reserved fixed-header flags, 0010 [MQTT-2.2.2-1]. */
const PUBREL_FLAGS = 0x02;

let propsSize = 0;

function reasonOf(code: number | undefined): number {
  if (code === undefined) return 0;
  if (typeof code !== 'number' || code < 0 || code > 255 || code % 1 !== 0) {
    throw localError('INVALID_ARGUMENT', `reason code must be a byte, got ${code}`);
  }
  return code;
}

/**
 * Size of what follows the reason code: MQTT 5 lets a packet end early when
 * the rest is default (reason 0, no properties), which saves bytes on the air.
 */
function tailSize(code: number, props: object | undefined, typeNumber: number): number {
  propsSize = propertiesSize(props, typeNumber);
  // AUTH may drop both fields only together (MQTT 5 section 3.15.2.1), so it always writes the property length.
  if (propsSize > 0 || (code !== 0 && typeNumber === AUTH_TYPE)) return 1 + varintSize(propsSize) + propsSize;
  return code !== 0 ? 1 : 0;
}

export function ackSize(p: AckPacket<AckType>, version: ProtocolVersion): number {
  checkPacketId(p.packetId, NAME[p.type]);
  if (version === 4) return 2;
  return 2 + tailSize(reasonOf(p.reasonCode), p.properties, TYPE_NUMBER[p.type]);
}

function writeTail(
  buf: Uint8Array,
  pos: number,
  code: number,
  props: object | undefined,
  auth = false,
): number {
  if (propsSize > 0 || (code !== 0 && auth)) {
    buf[pos++] = code;
    return writeProperties(buf, pos, props, propsSize);
  }
  if (code !== 0) buf[pos++] = code;
  return pos;
}

export function writeAck(
  buf: Uint8Array,
  pos: number,
  p: AckPacket<AckType>,
  version: ProtocolVersion,
): number {
  pos = writeU16(buf, pos, p.packetId);
  if (version === 4) return pos;
  return writeTail(buf, pos, reasonOf(p.reasonCode), p.properties);
}

export function readAck<T extends AckType>(r: Reader, type: T, version: ProtocolVersion): AckPacket<T> {
  const packet: AckPacket<T> = { type, packetId: readPacketId(r, NAME[type]), reasonCode: 0 };
  if (version === 5 && r.remaining() > 0) {
    packet.reasonCode = r.u8();
    checkReasonCode(type, packet.reasonCode);
    if (r.remaining() > 0) {
      const props = readProperties(r, TYPE_NUMBER[type]);
      if (props) packet.properties = props;
    }
  }
  r.done(NAME[type]);
  return packet;
}

/**
 * An ack with no properties, as its 4 bytes (5 with a reason code other than
 * Success on MQTT 5), written straight into the slab: the same bytes as
 * `encode({ type, packetId, reasonCode }, version)` without a packet object
 * or the measuring pass. MQTT 3.1.1 acks carry no reason code.
 */
export function ackBytes(
  type: AckType,
  packetId: number,
  reasonCode: number,
  version: ProtocolVersion,
): Uint8Array {
  checkPacketId(packetId, NAME[type]);
  const code = reasonOf(reasonCode);
  const withCode = version === 5 && code !== 0;
  const out = allocate(withCode ? 5 : 4);
  out[0] = (TYPE_NUMBER[type] << 4) | (type === 'pubrel' ? PUBREL_FLAGS : 0);
  out[1] = withCode ? 3 : 2;
  out[2] = packetId >>> 8;
  out[3] = packetId & 0xff;
  if (withCode) out[4] = code;
  return out;
}

const { disconnect: DISCONNECT_TYPE, auth: AUTH_TYPE } = PACKET_TYPE_NUMBER;

export function disconnectSize(p: DisconnectPacket | AuthPacket, version: ProtocolVersion): number {
  if (version === 4) {
    if (p.type === 'auth') throw localError('INVALID_ARGUMENT', 'AUTH does not exist in MQTT 3.1.1');
    return 0;
  }
  return tailSize(reasonOf(p.reasonCode), p.properties, p.type === 'auth' ? AUTH_TYPE : DISCONNECT_TYPE);
}

export function writeDisconnect(
  buf: Uint8Array,
  pos: number,
  p: DisconnectPacket | AuthPacket,
  version: ProtocolVersion,
): number {
  if (version === 4) return pos;
  return writeTail(buf, pos, reasonOf(p.reasonCode), p.properties, p.type === 'auth');
}

export function readDisconnect<T extends 'disconnect' | 'auth'>(
  r: Reader,
  type: T,
  version: ProtocolVersion,
): T extends 'auth' ? AuthPacket : DisconnectPacket {
  if (version === 4 && type === 'auth')
    throw remoteError('MALFORMED_PACKET', 'AUTH does not exist in MQTT 3.1.1');
  const packet: DisconnectPacket | AuthPacket = { type, reasonCode: 0 } as DisconnectPacket | AuthPacket;
  if (version === 5 && r.remaining() > 0) {
    packet.reasonCode = r.u8();
    checkReasonCode(type, packet.reasonCode);
    if (r.remaining() > 0) {
      const props = readProperties(r, type === 'auth' ? AUTH_TYPE : DISCONNECT_TYPE);
      if (props) packet.properties = props;
    }
  }
  r.done(type.toUpperCase());
  return packet as T extends 'auth' ? AuthPacket : DisconnectPacket;
}
