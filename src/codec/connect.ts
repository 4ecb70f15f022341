/** CONNECT and CONNACK: size, encode and decode. */

import { localError, remoteError } from '../errors.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import { propertiesSize, readProperties, WILL, writeProperties } from './properties.ts';
import { validateTopicName } from './topic.ts';
import type { ConnackPacket, ConnectPacket, ProtocolVersion, QoS, Will } from './types.ts';
import {
  binarySize,
  type Reader,
  readBinary,
  readString,
  stringSize,
  varintSize,
  writeBinary,
  writeString,
  writeU16,
} from './wire.ts';

const { connect: CONNECT_TYPE, connack: CONNACK_TYPE } = PACKET_TYPE_NUMBER;

// Sizes measured by connectSize, reused by writeConnect (measure then write happens synchronously).
let connectPropsSize = 0;
let willPropsSize = 0;

export function connectSize(p: ConnectPacket): number {
  const v5 = p.protocolVersion === 5;
  if (p.protocolVersion !== 4 && p.protocolVersion !== 5) {
    throw localError('INVALID_ARGUMENT', `protocolVersion must be 4 or 5, got ${p.protocolVersion}`);
  }
  if (!(p.keepalive >= 0 && p.keepalive <= 0xffff) || p.keepalive % 1 !== 0) {
    throw localError('INVALID_ARGUMENT', `keepalive must be 0 to 65535 seconds, got ${p.keepalive}`);
  }
  if (!v5 && p.clientId === '' && !p.clean) {
    throw localError(
      'INVALID_ARGUMENT',
      'MQTT 3.1.1 needs clean session for an empty client id [MQTT-3.1.3-7]',
    );
  }
  // protocol name (2 + 4), level, flags, keepalive
  let size = 10 + stringSize(p.clientId, 'clientId');
  if (v5) {
    connectPropsSize = propertiesSize(p.properties, CONNECT_TYPE);
    size += varintSize(connectPropsSize) + connectPropsSize;
  }
  if (p.will) {
    const w = p.will;
    if (v5) {
      willPropsSize = propertiesSize(w.properties, WILL);
      size += varintSize(willPropsSize) + willPropsSize;
    }
    validateTopicName(w.topic);
    if (w.qos !== 0 && w.qos !== 1 && w.qos !== 2)
      throw localError('INVALID_ARGUMENT', `will qos must be 0, 1 or 2`);
    size += stringSize(w.topic, 'will topic') + binarySize(w.payload, 'will payload');
  }
  if (p.username !== undefined) size += stringSize(p.username, 'username');
  if (p.password !== undefined) {
    if (p.username === undefined && !v5) {
      throw localError('INVALID_ARGUMENT', 'MQTT 3.1.1 does not allow a password without a username');
    }
    size += binarySize(p.password, 'password');
  }
  return size;
}

export function writeConnect(buf: Uint8Array, pos: number, p: ConnectPacket): number {
  const w = p.will;
  pos = writeString(buf, pos, 'MQTT');
  buf[pos++] = p.protocolVersion;
  let flags = 0;
  if (p.username !== undefined) flags |= 0x80;
  if (p.password !== undefined) flags |= 0x40;
  if (w) flags |= 0x04 | (w.qos << 3) | (w.retain ? 0x20 : 0);
  if (p.clean) flags |= 0x02;
  buf[pos++] = flags;
  pos = writeU16(buf, pos, p.keepalive);
  if (p.protocolVersion === 5) pos = writeProperties(buf, pos, p.properties, connectPropsSize);
  pos = writeString(buf, pos, p.clientId);
  if (w) {
    if (p.protocolVersion === 5) pos = writeProperties(buf, pos, w.properties, willPropsSize);
    pos = writeString(buf, pos, w.topic);
    pos = writeBinary(buf, pos, w.payload);
  }
  if (p.username !== undefined) pos = writeString(buf, pos, p.username);
  if (p.password !== undefined) pos = writeBinary(buf, pos, p.password);
  return pos;
}

/** Decodes a CONNECT body; its own protocol level says which version it is. */
export function readConnect(r: Reader): ConnectPacket {
  const name = readString(r);
  const level = r.u8();
  if (name !== 'MQTT' || (level !== 4 && level !== 5)) {
    throw remoteError('UNSUPPORTED_PROTOCOL_VERSION', `unsupported protocol ${name} level ${level}`);
  }
  const version = level as ProtocolVersion;
  const flags = r.u8();
  if (flags & 0x01) throw remoteError('MALFORMED_PACKET', 'CONNECT reserved flag is set');
  const hasWill = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  if (!hasWill && (willQos !== 0 || willRetain)) {
    throw remoteError('MALFORMED_PACKET', 'CONNECT will QoS/retain set without a will');
  }
  if (willQos === 3) throw remoteError('MALFORMED_PACKET', 'CONNECT will QoS is 3');
  const hasUsername = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  if (version === 4 && hasPassword && !hasUsername) {
    throw remoteError('MALFORMED_PACKET', 'CONNECT has a password but no username');
  }
  const packet: ConnectPacket = {
    type: 'connect',
    protocolVersion: version,
    clientId: '',
    clean: (flags & 0x02) !== 0,
    keepalive: r.u16(),
  };
  if (version === 5) {
    const props = readProperties(r, CONNECT_TYPE);
    if (props) packet.properties = props;
  }
  packet.clientId = readString(r);
  if (hasWill) {
    const props = version === 5 ? readProperties(r, WILL) : undefined;
    const topic = readString(r);
    validateTopicName(topic, 'remote');
    const will: Will = { topic, payload: readBinary(r), qos: willQos as QoS, retain: willRetain };
    if (props) will.properties = props;
    packet.will = will;
  }
  if (hasUsername) packet.username = readString(r);
  if (hasPassword) packet.password = readBinary(r);
  r.done('CONNECT');
  return packet;
}

let connackPropsSize = 0;

export function connackSize(p: ConnackPacket, version: ProtocolVersion): number {
  const code = p.reasonCode;
  if (typeof code !== 'number' || code < 0 || code > 255 || code % 1 !== 0) {
    throw localError('INVALID_ARGUMENT', `CONNACK reason code must be a byte, got ${code}`);
  }
  if (p.sessionPresent && code !== 0) {
    throw localError('INVALID_ARGUMENT', 'CONNACK cannot have session present with a refusal [MQTT-3.2.2-6]');
  }
  if (version === 4) return 2;
  connackPropsSize = propertiesSize(p.properties, CONNACK_TYPE);
  return 2 + varintSize(connackPropsSize) + connackPropsSize;
}

export function writeConnack(
  buf: Uint8Array,
  pos: number,
  p: ConnackPacket,
  version: ProtocolVersion,
): number {
  buf[pos++] = p.sessionPresent ? 1 : 0;
  buf[pos++] = p.reasonCode;
  if (version === 5) pos = writeProperties(buf, pos, p.properties, connackPropsSize);
  return pos;
}

export function readConnack(r: Reader, version: ProtocolVersion): ConnackPacket {
  const flags = r.u8();
  if (flags > 1) throw remoteError('MALFORMED_PACKET', 'CONNACK reserved flags are set');
  const reasonCode = r.u8();
  if (flags === 1 && reasonCode !== 0) {
    throw remoteError('MALFORMED_PACKET', 'CONNACK has session present with a refusal');
  }
  const packet: ConnackPacket = { type: 'connack', sessionPresent: flags === 1, reasonCode };
  if (version === 5) {
    const props = readProperties(r, CONNACK_TYPE);
    if (props) packet.properties = props;
  }
  r.done('CONNACK');
  return packet;
}
