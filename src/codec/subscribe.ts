/** SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK: size, encode and decode. */

import { localError, remoteError } from '../errors.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import { propertiesSize, readProperties, writeProperties } from './properties.ts';
import { checkReasonCode } from './reason-codes.ts';
import { parseSharedSubscription, validateTopicFilter } from './topic.ts';
import type {
  ProtocolVersion,
  QoS,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
} from './types.ts';
import {
  checkPacketId,
  type Reader,
  readPacketId,
  readString,
  stringSize,
  varintSize,
  writeString,
  writeU16,
} from './wire.ts';

const {
  subscribe: SUBSCRIBE_TYPE,
  suback: SUBACK_TYPE,
  unsubscribe: UNSUBSCRIBE_TYPE,
  unsuback: UNSUBACK_TYPE,
} = PACKET_TYPE_NUMBER;

let propsSize = 0;

function propsPart(props: object | undefined, typeNumber: number, version: ProtocolVersion): number {
  if (version === 4) return 0;
  propsSize = propertiesSize(props, typeNumber);
  return varintSize(propsSize) + propsSize;
}

function optionsByte(s: Subscription, version: ProtocolVersion): number {
  if (s.qos !== 0 && s.qos !== 1 && s.qos !== 2)
    throw localError('INVALID_ARGUMENT', `qos must be 0, 1 or 2, got ${s.qos}`);
  if (version === 4) return s.qos;
  const rh = s.retainHandling ?? 0;
  if (rh !== 0 && rh !== 1 && rh !== 2)
    throw localError('INVALID_ARGUMENT', `retainHandling must be 0, 1 or 2`);
  return s.qos | (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (rh << 4);
}

export function subscribeSize(p: SubscribePacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId, 'SUBSCRIBE');
  if (p.subscriptions.length === 0)
    throw localError('INVALID_ARGUMENT', 'SUBSCRIBE needs at least one topic filter');
  let size = 2 + propsPart(p.properties, SUBSCRIBE_TYPE, version);
  for (const s of p.subscriptions) {
    validateTopicFilter(s.topic);
    optionsByte(s, version);
    if (s.noLocal && version === 5 && parseSharedSubscription(s.topic)) {
      throw localError('INVALID_ARGUMENT', 'noLocal cannot be set on a shared subscription');
    }
    size += stringSize(s.topic, 'topic filter') + 1;
  }
  return size;
}

export function writeSubscribe(
  buf: Uint8Array,
  pos: number,
  p: SubscribePacket,
  version: ProtocolVersion,
): number {
  pos = writeU16(buf, pos, p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsSize);
  for (const s of p.subscriptions) {
    pos = writeString(buf, pos, s.topic);
    buf[pos++] = optionsByte(s, version);
  }
  return pos;
}

export function readSubscribe(r: Reader, version: ProtocolVersion): SubscribePacket {
  const packet: SubscribePacket = {
    type: 'subscribe',
    packetId: readPacketId(r, 'SUBSCRIBE'),
    subscriptions: [],
  };
  if (version === 5) {
    const props = readProperties(r, SUBSCRIBE_TYPE);
    if (props) packet.properties = props;
  }
  if (r.remaining() === 0) throw remoteError('PROTOCOL_ERROR', 'SUBSCRIBE has no topic filters');
  while (r.remaining() > 0) {
    const topic = readString(r);
    validateTopicFilter(topic, 'remote');
    const options = r.u8();
    const qos = options & 0x03;
    // 3.1.1 [MQTT-3-8.3-4]: malformed; 5.0 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3".
    if (qos === 3)
      throw remoteError(version === 5 ? 'PROTOCOL_ERROR' : 'MALFORMED_PACKET', 'subscription QoS is 3');
    if (version === 4) {
      if (options & 0xfc) throw remoteError('MALFORMED_PACKET', 'subscription options reserved bits are set');
      packet.subscriptions.push({ topic, qos: qos as QoS });
      continue;
    }
    if (options & 0xc0) throw remoteError('MALFORMED_PACKET', 'subscription options reserved bits are set');
    const retainHandling = (options >> 4) & 0x03;
    if (retainHandling === 3) throw remoteError('PROTOCOL_ERROR', 'retain handling is 3');
    const noLocal = (options & 0x04) !== 0;
    if (noLocal && parseSharedSubscription(topic)) {
      throw remoteError('PROTOCOL_ERROR', 'no local is set on a shared subscription');
    }
    packet.subscriptions.push({
      topic,
      qos: qos as QoS,
      noLocal,
      retainAsPublished: (options & 0x08) !== 0,
      retainHandling: retainHandling as 0 | 1 | 2,
    });
  }
  return packet;
}

function checkCodes(codes: number[], what: string): void {
  for (const c of codes) {
    if (typeof c !== 'number' || c < 0 || c > 255 || c % 1 !== 0) {
      throw localError('INVALID_ARGUMENT', `${what} reason codes must be bytes`);
    }
  }
}

export function subackSize(p: SubackPacket | UnsubackPacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId, p.type.toUpperCase());
  checkCodes(p.reasonCodes, p.type.toUpperCase());
  // MQTT 3.1.1 SUBACK return codes other than 0x00, 0x01, 0x02 and 0x80 MUST NOT be used [MQTT-3.9.3-2].
  if (version === 4 && p.type === 'suback' && p.reasonCodes.some((c) => c > 2 && c !== 0x80)) {
    throw localError('INVALID_ARGUMENT', 'MQTT 3.1.1 SUBACK return codes are 0, 1, 2 or 0x80');
  }
  const typeNumber = p.type === 'suback' ? SUBACK_TYPE : UNSUBACK_TYPE;
  // An MQTT 3.1.1 UNSUBACK carries only the packet identifier.
  const codes = version === 4 && p.type === 'unsuback' ? 0 : p.reasonCodes.length;
  return 2 + propsPart(p.properties, typeNumber, version) + codes;
}

export function writeSuback(
  buf: Uint8Array,
  pos: number,
  p: SubackPacket | UnsubackPacket,
  version: ProtocolVersion,
): number {
  pos = writeU16(buf, pos, p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsSize);
  if (version === 4 && p.type === 'unsuback') return pos;
  for (const c of p.reasonCodes) buf[pos++] = c;
  return pos;
}

export function readSuback<T extends 'suback' | 'unsuback'>(
  r: Reader,
  type: T,
  version: ProtocolVersion,
): T extends 'suback' ? SubackPacket : UnsubackPacket {
  const packet = { type, packetId: readPacketId(r, type.toUpperCase()), reasonCodes: [] as number[] } as
    | SubackPacket
    | UnsubackPacket;
  if (version === 5) {
    const props = readProperties(r, type === 'suback' ? SUBACK_TYPE : UNSUBACK_TYPE);
    if (props) packet.properties = props;
  }
  if (version === 4 && type === 'unsuback') {
    r.done('UNSUBACK');
  } else {
    if (r.remaining() === 0) throw remoteError('PROTOCOL_ERROR', `${type.toUpperCase()} has no reason codes`);
    while (r.remaining() > 0) {
      const code = r.u8();
      if (version === 4 && code > 2 && code !== 0x80) {
        throw remoteError('MALFORMED_PACKET', `SUBACK return code ${code} is not allowed in MQTT 3.1.1`);
      }
      if (version === 5) checkReasonCode(type, code);
      packet.reasonCodes.push(code);
    }
  }
  return packet as T extends 'suback' ? SubackPacket : UnsubackPacket;
}

export function unsubscribeSize(p: UnsubscribePacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId, 'UNSUBSCRIBE');
  if (p.topics.length === 0)
    throw localError('INVALID_ARGUMENT', 'UNSUBSCRIBE needs at least one topic filter');
  let size = 2 + propsPart(p.properties, UNSUBSCRIBE_TYPE, version);
  for (const t of p.topics) {
    validateTopicFilter(t);
    size += stringSize(t, 'topic filter');
  }
  return size;
}

export function writeUnsubscribe(
  buf: Uint8Array,
  pos: number,
  p: UnsubscribePacket,
  version: ProtocolVersion,
): number {
  pos = writeU16(buf, pos, p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsSize);
  for (const t of p.topics) pos = writeString(buf, pos, t);
  return pos;
}

export function readUnsubscribe(r: Reader, version: ProtocolVersion): UnsubscribePacket {
  const packet: UnsubscribePacket = {
    type: 'unsubscribe',
    packetId: readPacketId(r, 'UNSUBSCRIBE'),
    topics: [],
  };
  if (version === 5) {
    const props = readProperties(r, UNSUBSCRIBE_TYPE);
    if (props) packet.properties = props;
  }
  if (r.remaining() === 0) throw remoteError('PROTOCOL_ERROR', 'UNSUBSCRIBE has no topic filters');
  while (r.remaining() > 0) {
    const topic = readString(r);
    validateTopicFilter(topic, 'remote');
    packet.topics.push(topic);
  }
  return packet;
}
