/**
 * Encoding of every MQTT-SN 1.2 message (spec 5.4) into one datagram. The length header takes
 * the 1-byte form up to 255 bytes and the 3-byte form (0x01, length high, length low) above.
 */
import { utf8Length, writeUtf8 } from '../../codec/utf8.ts';
import {
  SN_CTRL_RADIUS_MASK,
  SN_LONG_LENGTH_MARKER,
  SN_MAX_CLIENT_ID_LENGTH,
  SN_MAX_LENGTH,
  SN_MAX_SHORT_LENGTH,
  SN_PROTOCOL_ID,
  SnFlag,
  SnMsgType,
  SnTopicIdTypeBits,
} from './constants.ts';
import type { SnMessage, SnSubscribeTopic, SnTopic } from './types.ts';
import { checkU8, checkU16, invalid, qosBits, shortTopicBytes } from './wire.ts';

/** Collects the body of one message. */
class Body {
  private buf = new Uint8Array(64);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf[this.length++] = v >> 8;
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  utf8(s: string): this {
    const n = utf8Length(s);
    this.room(n);
    this.length = writeUtf8(this.buf, this.length, s);
    return this;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function topicFlags(topic: SnTopic | SnSubscribeTopic): number {
  switch (topic.type) {
    case 'normal':
    case 'name':
      return SnTopicIdTypeBits.Normal;
    case 'predefined':
      return SnTopicIdTypeBits.Predefined;
    case 'short':
      return SnTopicIdTypeBits.Short;
  }
}

function writeTopic(body: Body, topic: SnTopic | SnSubscribeTopic): void {
  switch (topic.type) {
    case 'normal':
    case 'predefined':
      body.u16(checkU16(topic.id, 'topic id'));
      return;
    case 'short': {
      const [a, b] = shortTopicBytes(topic.name);
      body.u8(a).u8(b);
      return;
    }
    case 'name':
      if (topic.name.length === 0) throw invalid('a topic name or filter is never empty');
      body.utf8(topic.name);
      return;
  }
}

function flag(on: boolean | undefined, bit: number): number {
  return on ? bit : 0;
}

/** The body of `msg` (everything after the length and MsgType bytes), and its MsgType. */
function encodeBody(msg: SnMessage, body: Body): number {
  switch (msg.type) {
    case 'advertise':
      body.u8(checkU8(msg.gwId, 'gwId')).u16(checkU16(msg.duration, 'duration'));
      return SnMsgType.Advertise;
    case 'searchgw':
      body.u8(checkU8(msg.radius, 'radius'));
      return SnMsgType.SearchGw;
    case 'gwinfo':
      body.u8(checkU8(msg.gwId, 'gwId'));
      if (msg.gwAdd) body.bytes(msg.gwAdd);
      return SnMsgType.GwInfo;
    case 'connect': {
      const n = msg.clientId.length;
      if (n < 1 || n > SN_MAX_CLIENT_ID_LENGTH)
        throw invalid(`a client id has 1 to ${SN_MAX_CLIENT_ID_LENGTH} characters, not ${n}`);
      body
        .u8(flag(msg.will, SnFlag.Will) | flag(msg.cleanSession, SnFlag.CleanSession))
        .u8(SN_PROTOCOL_ID)
        .u16(checkU16(msg.duration, 'duration'))
        .utf8(msg.clientId);
      return SnMsgType.Connect;
    }
    case 'connack':
      body.u8(msg.returnCode);
      return SnMsgType.Connack;
    case 'willtopicreq':
      return SnMsgType.WillTopicReq;
    case 'willmsgreq':
      return SnMsgType.WillMsgReq;
    case 'willtopic':
    case 'willtopicupd':
      // The empty form (no Flags, no topic) deletes the will.
      if (msg.topic !== undefined) {
        if (msg.topic.length === 0)
          throw invalid('a will topic is never empty (leave it undefined to delete)');
        body.u8(qosBits(msg.qos) | flag(msg.retain, SnFlag.Retain)).utf8(msg.topic);
      }
      return msg.type === 'willtopic' ? SnMsgType.WillTopic : SnMsgType.WillTopicUpd;
    case 'willmsg':
    case 'willmsgupd':
      body.bytes(msg.message);
      return msg.type === 'willmsg' ? SnMsgType.WillMsg : SnMsgType.WillMsgUpd;
    case 'register':
      if (msg.topicName.length === 0) throw invalid('REGISTER needs a topic name');
      body.u16(checkU16(msg.topicId, 'topicId')).u16(checkU16(msg.msgId, 'msgId')).utf8(msg.topicName);
      return SnMsgType.Register;
    case 'regack':
      body.u16(checkU16(msg.topicId, 'topicId')).u16(checkU16(msg.msgId, 'msgId')).u8(msg.returnCode);
      return SnMsgType.Regack;
    case 'publish':
      body.u8(
        flag(msg.dup, SnFlag.Dup) |
          qosBits(msg.qos) |
          flag(msg.retain, SnFlag.Retain) |
          topicFlags(msg.topic),
      );
      writeTopic(body, msg.topic);
      body.u16(checkU16(msg.msgId, 'msgId')).bytes(msg.data);
      return SnMsgType.Publish;
    case 'puback':
      body.u16(checkU16(msg.topicId, 'topicId')).u16(checkU16(msg.msgId, 'msgId')).u8(msg.returnCode);
      return SnMsgType.Puback;
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
    case 'unsuback':
      body.u16(checkU16(msg.msgId, 'msgId'));
      return MSG_ID_ONLY[msg.type];
    case 'subscribe':
      body
        .u8(flag(msg.dup, SnFlag.Dup) | qosBits(msg.qos) | topicFlags(msg.topic))
        .u16(checkU16(msg.msgId, 'msgId'));
      writeTopic(body, msg.topic);
      return SnMsgType.Subscribe;
    case 'suback':
      body
        .u8(qosBits(msg.qos))
        .u16(checkU16(msg.topicId, 'topicId'))
        .u16(checkU16(msg.msgId, 'msgId'))
        .u8(msg.returnCode);
      return SnMsgType.Suback;
    case 'unsubscribe':
      body.u8(topicFlags(msg.topic)).u16(checkU16(msg.msgId, 'msgId'));
      writeTopic(body, msg.topic);
      return SnMsgType.Unsubscribe;
    case 'pingreq':
      if (msg.clientId !== undefined) body.utf8(msg.clientId);
      return SnMsgType.Pingreq;
    case 'pingresp':
      return SnMsgType.Pingresp;
    case 'disconnect':
      if (msg.duration !== undefined) body.u16(checkU16(msg.duration, 'duration'));
      return SnMsgType.Disconnect;
    case 'willtopicresp':
      body.u8(msg.returnCode);
      return SnMsgType.WillTopicResp;
    case 'willmsgresp':
      body.u8(msg.returnCode);
      return SnMsgType.WillMsgResp;
    case 'encapsulated':
      throw invalid('encode an encapsulated message with encodeEncapsulated');
    default: {
      const never: never = msg;
      throw invalid(`unknown message ${(never as { type: string }).type}`);
    }
  }
}

const MSG_ID_ONLY = {
  pubrec: SnMsgType.Pubrec,
  pubrel: SnMsgType.Pubrel,
  pubcomp: SnMsgType.Pubcomp,
  unsuback: SnMsgType.Unsuback,
} as const;

/** Prepends the length header (1- or 3-byte form) and MsgType to `body`. */
function frame(msgType: number, body: Uint8Array): Uint8Array {
  const short = 2 + body.length;
  if (short <= SN_MAX_SHORT_LENGTH) {
    const out = new Uint8Array(short);
    out[0] = short;
    out[1] = msgType;
    out.set(body, 2);
    return out;
  }
  const long = 4 + body.length;
  if (long > SN_MAX_LENGTH)
    throw invalid(`a message of ${long} bytes exceeds the MQTT-SN maximum of ${SN_MAX_LENGTH}`);
  const out = new Uint8Array(long);
  out[0] = SN_LONG_LENGTH_MARKER;
  out[1] = long >> 8;
  out[2] = long & 0xff;
  out[3] = msgType;
  out.set(body, 4);
  return out;
}

/**
 * Encodes one MQTT-SN message as one datagram. Throws INVALID_ARGUMENT (side 'local') for a value
 * the protocol cannot carry. An encapsulated message is encoded with {@link encodeEncapsulated}.
 */
export function encodeSn(msg: SnMessage): Uint8Array {
  if (msg.type === 'encapsulated') return encodeEncapsulated(msg.radius, msg.nodeId, encodeSn(msg.message));
  const body = new Body();
  const msgType = encodeBody(msg, body);
  return frame(msgType, body.view());
}

/**
 * Wraps an encoded MQTT-SN message for a forwarder (spec 5.5): Length (of this header only),
 * 0xFE, Ctrl (broadcast radius), Wireless Node Id, then the message unchanged.
 */
export function encodeEncapsulated(radius: number, nodeId: Uint8Array, inner: Uint8Array): Uint8Array {
  if (!Number.isInteger(radius) || radius < 0 || radius > SN_CTRL_RADIUS_MASK)
    throw invalid(`an encapsulation radius is 0..${SN_CTRL_RADIUS_MASK}, not ${radius}`);
  const headerLength = 3 + nodeId.length;
  if (headerLength > SN_MAX_SHORT_LENGTH) throw invalid('a wireless node id of more than 252 bytes');
  const out = new Uint8Array(headerLength + inner.length);
  out[0] = headerLength;
  out[1] = SnMsgType.Encapsulated;
  out[2] = radius;
  out.set(nodeId, 3);
  out.set(inner, headerLength);
  return out;
}
