/**
 * Every MQTT-SN 1.2 message as a tagged union. Field names follow the specification's figures
 * (section 5.4); multi-byte integers are numbers, strings are JavaScript strings (UTF-8 on the
 * wire), opaque data are Uint8Array.
 */
import type { SnReturnCodeValue } from './constants.ts';

/** MQTT-SN QoS: -1 is "publish without connection" to a pre-defined or short topic id. */
export type SnQoS = -1 | 0 | 1 | 2;

/** Where a PUBLISH, REGACK, PUBACK or SUBACK topic comes from. */
export type SnTopic =
  /** A topic id the gateway (or the client) assigned with REGISTER / SUBACK. */
  | { type: 'normal'; id: number }
  /** A topic id both sides know beforehand (configuration). */
  | { type: 'predefined'; id: number }
  /** A two-character topic name carried in place of the id: no registration. */
  | { type: 'short'; name: string };

/** What a SUBSCRIBE or UNSUBSCRIBE names: a full topic name or filter, a pre-defined id or a short name. */
export type SnSubscribeTopic =
  | { type: 'name'; name: string }
  | { type: 'predefined'; id: number }
  | { type: 'short'; name: string };

/** ADVERTISE (5.4.1): a gateway announces itself. */
export interface SnAdvertise {
  type: 'advertise';
  gwId: number;
  /** Seconds until the next ADVERTISE. */
  duration: number;
}
/** SEARCHGW (5.4.2): a client looks for a gateway within `radius` hops. */
export interface SnSearchGw {
  type: 'searchgw';
  radius: number;
}
/** GWINFO (5.4.3): the answer to SEARCHGW. */
export interface SnGwInfo {
  type: 'gwinfo';
  gwId: number;
  /** Present only when a client answers on behalf of a gateway. */
  gwAdd?: Uint8Array;
}
/** CONNECT (5.4.4). */
export interface SnConnect {
  type: 'connect';
  will: boolean;
  cleanSession: boolean;
  /** Keepalive, seconds. */
  duration: number;
  clientId: string;
}
/** CONNACK (5.4.5). */
export interface SnConnack {
  type: 'connack';
  returnCode: SnReturnCodeValue;
}
/** WILLTOPICREQ (5.4.6): the gateway asks for the will topic. */
export interface SnWillTopicReq {
  type: 'willtopicreq';
}
/** WILLTOPIC or WILLTOPICUPD; `topic` undefined is the empty form (no flags, no topic: delete the will). */
export interface SnWillTopic {
  type: 'willtopic' | 'willtopicupd';
  qos: 0 | 1 | 2;
  retain: boolean;
  topic: string | undefined;
}
/** WILLMSGREQ (5.4.8): the gateway asks for the will message. */
export interface SnWillMsgReq {
  type: 'willmsgreq';
}
/** WILLMSG or WILLMSGUPD. */
export interface SnWillMsg {
  type: 'willmsg' | 'willmsgupd';
  message: Uint8Array;
}
/** REGISTER (5.4.10): either side binds a topic name to a topic id. */
export interface SnRegister {
  type: 'register';
  /** 0 when the client registers; the id assigned when the gateway does. */
  topicId: number;
  msgId: number;
  topicName: string;
}
/** REGACK (5.4.11). */
export interface SnRegack {
  type: 'regack';
  topicId: number;
  msgId: number;
  returnCode: SnReturnCodeValue;
}
/** PUBLISH (5.4.12). */
export interface SnPublish {
  type: 'publish';
  dup: boolean;
  qos: SnQoS;
  retain: boolean;
  topic: SnTopic;
  /** 0 for QoS 0 and -1. */
  msgId: number;
  data: Uint8Array;
}
/** PUBACK (5.4.13): QoS 1 acknowledgement, or a refusal at any QoS. */
export interface SnPuback {
  type: 'puback';
  topicId: number;
  msgId: number;
  returnCode: SnReturnCodeValue;
}
/** PUBREC, PUBREL, PUBCOMP and UNSUBACK carry only the message id. */
export interface SnMsgIdOnly {
  type: 'pubrec' | 'pubrel' | 'pubcomp' | 'unsuback';
  msgId: number;
}
/** SUBSCRIBE (5.4.15). */
export interface SnSubscribe {
  type: 'subscribe';
  dup: boolean;
  qos: 0 | 1 | 2;
  msgId: number;
  topic: SnSubscribeTopic;
}
/** SUBACK (5.4.16). */
export interface SnSuback {
  type: 'suback';
  qos: 0 | 1 | 2;
  /** The id of the topic (0 for a wildcard filter). */
  topicId: number;
  msgId: number;
  returnCode: SnReturnCodeValue;
}
/** UNSUBSCRIBE (5.4.17). */
export interface SnUnsubscribe {
  type: 'unsubscribe';
  msgId: number;
  topic: SnSubscribeTopic;
}
/** PINGREQ (5.4.19). */
export interface SnPingreq {
  type: 'pingreq';
  /** Present when a sleeping client wakes to collect its messages. */
  clientId?: string;
}
/** PINGRESP (5.4.20). */
export interface SnPingresp {
  type: 'pingresp';
}
/** DISCONNECT (5.4.21). */
export interface SnDisconnect {
  type: 'disconnect';
  /** Present when the client goes to sleep: seconds it will sleep. */
  duration?: number;
}
/** WILLTOPICRESP or WILLMSGRESP. */
export interface SnWillResp {
  type: 'willtopicresp' | 'willmsgresp';
  returnCode: SnReturnCodeValue;
}
/** A message relayed by a forwarder (spec 5.5): the wireless node id and the inner message. */
export interface SnEncapsulated {
  type: 'encapsulated';
  radius: number;
  nodeId: Uint8Array;
  message: SnMessage;
}

/** Every MQTT-SN 1.2 message. */
export type SnMessage =
  | SnAdvertise
  | SnSearchGw
  | SnGwInfo
  | SnConnect
  | SnConnack
  | SnWillTopicReq
  | SnWillTopic
  | SnWillMsgReq
  | SnWillMsg
  | SnRegister
  | SnRegack
  | SnPublish
  | SnPuback
  | SnMsgIdOnly
  | SnSubscribe
  | SnSuback
  | SnUnsubscribe
  | SnPingreq
  | SnPingresp
  | SnDisconnect
  | SnWillResp
  | SnEncapsulated;

/** The `type` tag of every message. */
export type SnMessageType = SnMessage['type'];
