/**
 * Strict decoding of one MQTT-SN 1.2 datagram (spec 5.4). Whatever is wrong (a length that
 * disagrees with the datagram, a reserved message type, return code or TopicIdType, a field
 * missing or one too many, bad UTF-8, a client id outside 1..23) is an MqttError with code
 * MALFORMED_PACKET (UNSUPPORTED_PROTOCOL_VERSION for a CONNECT with another ProtocolId), side
 * 'remote': the gateway drops and counts it. Nothing else is ever thrown.
 *
 * Bits of a Flags byte the message does not use are ignored, as the specification does not ask
 * senders to clear them.
 */
import { readUtf8 } from '../../codec/utf8.ts';
import { remoteError } from '../../errors.ts';
import {
  SN_CTRL_RADIUS_MASK,
  SN_LONG_LENGTH_MARKER,
  SN_MAX_CLIENT_ID_LENGTH,
  SN_PROTOCOL_ID,
  SnFlag,
  SnMsgType,
  SnTopicIdTypeBits,
} from './constants.ts';
import type { SnMessage, SnSubscribeTopic, SnTopic } from './types.ts';
import {
  malformed,
  qosNoMinusOne,
  qosOf,
  Reader,
  returnCodeOf,
  shortTopicName,
  topicIdTypeOf,
} from './wire.ts';

/** Decodes one datagram holding exactly one MQTT-SN message (or one encapsulated message). */
export function decodeSn(datagram: Uint8Array): SnMessage {
  const { msgType, start } = header(datagram);
  if (msgType === SnMsgType.Encapsulated) return decodeEncapsulated(datagram);
  return decodeBody(msgType, new Reader(datagram, start, datagram.length, messageName(msgType)));
}

/** The MsgType and where the body starts, after checking the length against the datagram. */
function header(d: Uint8Array): { msgType: number; start: number } {
  if (d.length < 2) throw malformed(`a datagram of ${d.length} bytes`);
  if (d[0] === SN_LONG_LENGTH_MARKER) {
    if (d.length < 4) throw malformed('a 3-byte length header with no MsgType');
    const length = (d[1] << 8) | d[2];
    if (length !== d.length) throw malformed(`length ${length} in a datagram of ${d.length} bytes`);
    return { msgType: d[3], start: 4 };
  }
  if (d[1] === SnMsgType.Encapsulated) return { msgType: d[1], start: 2 };
  if (d[0] !== d.length) throw malformed(`length ${d[0]} in a datagram of ${d.length} bytes`);
  return { msgType: d[1], start: 2 };
}

function decodeEncapsulated(d: Uint8Array): SnMessage {
  const headerLength = d[0];
  if (headerLength < 3 || headerLength > d.length)
    throw malformed(`encapsulation header length ${headerLength}`);
  const ctrl = d[2];
  const nodeId = d.slice(3, headerLength);
  const innerBytes = d.subarray(headerLength);
  const inner = header(innerBytes);
  if (inner.msgType === SnMsgType.Encapsulated) throw malformed('an encapsulated message inside another');
  const message = decodeBody(
    inner.msgType,
    new Reader(innerBytes, inner.start, innerBytes.length, messageName(inner.msgType)),
  );
  return { type: 'encapsulated', radius: ctrl & SN_CTRL_RADIUS_MASK, nodeId, message };
}

function messageName(msgType: number): string {
  for (const [name, value] of Object.entries(SnMsgType)) if (value === msgType) return name.toUpperCase();
  return `MsgType 0x${msgType.toString(16).padStart(2, '0')}`;
}

function text(r: Reader): string {
  const s = readUtf8(r.buf, r.pos, r.end);
  r.pos = r.end;
  return s;
}

function nonEmptyText(r: Reader, field: string): string {
  if (r.remaining === 0) throw malformed(`${r.what} with an empty ${field}`);
  return text(r);
}

function topicOf(r: Reader, bits: number): SnTopic {
  switch (bits) {
    case SnTopicIdTypeBits.Predefined:
      return { type: 'predefined', id: r.u16() };
    case SnTopicIdTypeBits.Short:
      return { type: 'short', name: shortTopicName(r.u8(), r.u8()) };
    default:
      return { type: 'normal', id: r.u16() };
  }
}

function subscribeTopicOf(r: Reader, bits: number): SnSubscribeTopic {
  switch (bits) {
    case SnTopicIdTypeBits.Predefined: {
      const t = { type: 'predefined' as const, id: r.u16() };
      r.done();
      return t;
    }
    case SnTopicIdTypeBits.Short: {
      const t = { type: 'short' as const, name: shortTopicName(r.u8(), r.u8()) };
      r.done();
      return t;
    }
    default:
      return { type: 'name', name: nonEmptyText(r, 'topic name') };
  }
}

function decodeBody(msgType: number, r: Reader): SnMessage {
  let msg: SnMessage;
  switch (msgType) {
    case SnMsgType.Advertise:
      msg = { type: 'advertise', gwId: r.u8(), duration: r.u16() };
      break;
    case SnMsgType.SearchGw:
      msg = { type: 'searchgw', radius: r.u8() };
      break;
    case SnMsgType.GwInfo: {
      const gwId = r.u8();
      return r.remaining > 0 ? { type: 'gwinfo', gwId, gwAdd: r.rest() } : { type: 'gwinfo', gwId };
    }
    case SnMsgType.Connect: {
      const flags = r.u8();
      const protocolId = r.u8();
      if (protocolId !== SN_PROTOCOL_ID)
        throw remoteError('UNSUPPORTED_PROTOCOL_VERSION', `MQTT-SN CONNECT with ProtocolId ${protocolId}`);
      const duration = r.u16();
      const clientId = nonEmptyText(r, 'client id');
      if (clientId.length > SN_MAX_CLIENT_ID_LENGTH)
        throw malformed(`a client id of ${clientId.length} characters (at most ${SN_MAX_CLIENT_ID_LENGTH})`);
      return {
        type: 'connect',
        will: (flags & SnFlag.Will) !== 0,
        cleanSession: (flags & SnFlag.CleanSession) !== 0,
        duration,
        clientId,
      };
    }
    case SnMsgType.Connack:
      msg = { type: 'connack', returnCode: returnCodeOf(r.u8()) };
      break;
    case SnMsgType.WillTopicReq:
      msg = { type: 'willtopicreq' };
      break;
    case SnMsgType.WillMsgReq:
      msg = { type: 'willmsgreq' };
      break;
    case SnMsgType.WillTopic:
    case SnMsgType.WillTopicUpd: {
      const type = msgType === SnMsgType.WillTopic ? 'willtopic' : 'willtopicupd';
      if (r.remaining === 0) return { type, qos: 0, retain: false, topic: undefined };
      const flags = r.u8();
      return {
        type,
        qos: qosNoMinusOne(flags, r.what),
        retain: (flags & SnFlag.Retain) !== 0,
        topic: nonEmptyText(r, 'will topic'),
      };
    }
    case SnMsgType.WillMsg:
    case SnMsgType.WillMsgUpd:
      return { type: msgType === SnMsgType.WillMsg ? 'willmsg' : 'willmsgupd', message: r.rest() };
    case SnMsgType.Register: {
      const topicId = r.u16();
      const msgId = r.u16();
      return { type: 'register', topicId, msgId, topicName: nonEmptyText(r, 'topic name') };
    }
    case SnMsgType.Regack:
      msg = { type: 'regack', topicId: r.u16(), msgId: r.u16(), returnCode: returnCodeOf(r.u8()) };
      break;
    case SnMsgType.Publish: {
      const flags = r.u8();
      const topic = topicOf(r, topicIdTypeOf(flags, r.what));
      const msgId = r.u16();
      return {
        type: 'publish',
        dup: (flags & SnFlag.Dup) !== 0,
        qos: qosOf(flags),
        retain: (flags & SnFlag.Retain) !== 0,
        topic,
        msgId,
        data: r.rest(),
      };
    }
    case SnMsgType.Puback:
      msg = { type: 'puback', topicId: r.u16(), msgId: r.u16(), returnCode: returnCodeOf(r.u8()) };
      break;
    case SnMsgType.Pubrec:
      msg = { type: 'pubrec', msgId: r.u16() };
      break;
    case SnMsgType.Pubrel:
      msg = { type: 'pubrel', msgId: r.u16() };
      break;
    case SnMsgType.Pubcomp:
      msg = { type: 'pubcomp', msgId: r.u16() };
      break;
    case SnMsgType.Unsuback:
      msg = { type: 'unsuback', msgId: r.u16() };
      break;
    case SnMsgType.Subscribe: {
      const flags = r.u8();
      const qos = qosNoMinusOne(flags, r.what);
      const bits = topicIdTypeOf(flags, r.what);
      const msgId = r.u16();
      return {
        type: 'subscribe',
        dup: (flags & SnFlag.Dup) !== 0,
        qos,
        msgId,
        topic: subscribeTopicOf(r, bits),
      };
    }
    case SnMsgType.Suback: {
      const flags = r.u8();
      msg = {
        type: 'suback',
        qos: qosNoMinusOne(flags, r.what),
        topicId: r.u16(),
        msgId: r.u16(),
        returnCode: returnCodeOf(r.u8()),
      };
      break;
    }
    case SnMsgType.Unsubscribe: {
      const flags = r.u8();
      const bits = topicIdTypeOf(flags, r.what);
      const msgId = r.u16();
      return { type: 'unsubscribe', msgId, topic: subscribeTopicOf(r, bits) };
    }
    case SnMsgType.Pingreq:
      return r.remaining > 0 ? { type: 'pingreq', clientId: text(r) } : { type: 'pingreq' };
    case SnMsgType.Pingresp:
      msg = { type: 'pingresp' };
      break;
    case SnMsgType.Disconnect:
      if (r.remaining === 0) return { type: 'disconnect' };
      msg = { type: 'disconnect', duration: r.u16() };
      break;
    case SnMsgType.WillTopicResp:
      msg = { type: 'willtopicresp', returnCode: returnCodeOf(r.u8()) };
      break;
    case SnMsgType.WillMsgResp:
      msg = { type: 'willmsgresp', returnCode: returnCodeOf(r.u8()) };
      break;
    default:
      throw malformed(`unknown or reserved ${r.what}`);
  }
  r.done();
  return msg;
}
