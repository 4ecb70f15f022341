/** PUBLISH: size, encode and decode. The hot path of the codec. */

import { localError, remoteError } from '../errors.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import { propertiesSize, readProperties, writeProperties } from './properties.ts';
import { validateTopicName } from './topic.ts';
import { readTopicName } from './topic-cache.ts';
import type { ProtocolVersion, PublishPacket, QoS } from './types.ts';
import {
  checkPacketId,
  type Reader,
  readPacketId,
  stringSize,
  truncated,
  varintSize,
  writeString,
  writeU16,
} from './wire.ts';

const PUBLISH_TYPE = PACKET_TYPE_NUMBER.publish;

// Measured by publishSize, used by writePublish right after.
let propsSize = 0;

/*
 * The last topic written, validated and encoded once (length prefix
 * included): a stream of publications on one topic (the common case) skips
 * validating, measuring and UTF-8 encoding it per message. Only a topic that
 * passed validateTopicName is ever cached.
 */
let cachedTopic: string | undefined;
let cachedTopicBytes = new Uint8Array(0);
/** publishSize validated a topic that is not the cached one: writePublish caches it. */
let topicToCache: string | undefined;

/** The fixed header's low nibble: DUP, QoS, RETAIN. */
export function publishFlags(p: PublishPacket): number {
  return (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0);
}

export function publishSize(p: PublishPacket, version: ProtocolVersion): number {
  const qos = p.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2)
    throw localError('INVALID_ARGUMENT', `qos must be 0, 1 or 2, got ${qos}`);
  if (p.dup && qos === 0) throw localError('INVALID_ARGUMENT', 'a QoS 0 PUBLISH cannot be a duplicate');
  const topic = p.topic;
  let size: number;
  topicToCache = undefined;
  if (topic === cachedTopic) {
    size = cachedTopicBytes.length;
  } else {
    const aliased = version === 5 && topic === '' && p.properties?.topicAlias !== undefined;
    if (!aliased) validateTopicName(topic);
    size = stringSize(topic, 'topic');
    if (!aliased) topicToCache = topic;
  }
  if (!(p.payload instanceof Uint8Array))
    throw localError('INVALID_ARGUMENT', 'payload must be a Uint8Array');
  size += p.payload.length;
  if (qos > 0) {
    checkPacketId(p.packetId, 'a QoS 1 or 2 PUBLISH');
    size += 2;
  }
  if (version === 5) {
    propsSize = propertiesSize(p.properties, PUBLISH_TYPE);
    size += varintSize(propsSize) + propsSize;
  }
  return size;
}

export function writePublish(
  buf: Uint8Array,
  pos: number,
  p: PublishPacket,
  version: ProtocolVersion,
): number {
  if (p.topic === cachedTopic) {
    const t = cachedTopicBytes;
    // Short topics (most): a loop beats set()'s call overhead.
    if (t.length <= 64) for (let i = 0; i < t.length; i++) buf[pos + i] = t[i];
    else buf.set(t, pos);
    pos += t.length;
  } else {
    const start = pos;
    pos = writeString(buf, pos, p.topic);
    if (topicToCache === p.topic) {
      cachedTopicBytes = buf.slice(start, pos);
      cachedTopic = topicToCache;
    }
  }
  if (p.qos > 0) pos = writeU16(buf, pos, p.packetId!);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsSize);
  buf.set(p.payload, pos);
  return pos + p.payload.length;
}

export function readPublish(r: Reader, flags: number, version: ProtocolVersion): PublishPacket {
  const qos = (flags >> 1) & 0x03;
  if (qos === 3) throw remoteError('MALFORMED_PACKET', 'PUBLISH has QoS 3');
  const dup = (flags & 0x08) !== 0;
  if (dup && qos === 0) throw remoteError('MALFORMED_PACKET', 'QoS 0 PUBLISH has DUP set');
  const topicLength = r.u16();
  const topicStart = r.pos;
  if (topicStart + topicLength > r.end) truncated();
  r.pos = topicStart + topicLength;
  const topic = readTopicName(r.buf, topicStart, r.pos);
  const packet: PublishPacket = {
    type: 'publish',
    topic,
    payload: EMPTY,
    qos: qos as QoS,
    retain: (flags & 0x01) !== 0,
    dup,
  };
  if (qos > 0) packet.packetId = readPacketId(r, 'PUBLISH');
  if (version === 5) {
    const props = readProperties(r, PUBLISH_TYPE);
    if (props) packet.properties = props;
  }
  if (topic.length === 0) {
    if (version === 4) throw remoteError('TOPIC_NAME_INVALID', 'PUBLISH has an empty topic');
    if (packet.properties?.topicAlias === undefined) {
      throw remoteError('PROTOCOL_ERROR', 'PUBLISH has an empty topic and no topic alias');
    }
  }
  packet.payload = r.rest();
  return packet;
}

const EMPTY = new Uint8Array(0);
