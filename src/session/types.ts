/**
 * The Session's inputs and outputs. The Session never does I/O and never
 * reads a clock: the host (the Client) gives it bytes, link changes, commands
 * and the time, and takes what it produced (bytes, events, the next deadline)
 * out of its outbox after every input.
 *
 * `P` is the host's value for one publication and `S` for one SUBSCRIBE or
 * UNSUBSCRIBE (the Client's are the promises it settles): the Session keeps
 * them and hands them back in the events that end those requests.
 */

import type {
  AuthPacket,
  ConnackPacket,
  DisconnectPacket,
  Properties,
  ProtocolVersion,
  PublishPacket,
  QoS,
  SubackPacket,
  Subscription,
  UnsubackPacket,
  Will,
} from '../codec/types.ts';
import type { MqttError } from '../errors.ts';
import type { QueueLimits } from './publish-queue.ts';
import type { SessionStore } from './store.ts';

export interface SessionOptions {
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0. Default 5. */
  protocolVersion?: ProtocolVersion;
  /** The client identifier. Default '' (the broker assigns one on MQTT 5; 3.1.1 needs clean session then). */
  clientId?: string;
  /** Keepalive in seconds; 0 disables it. Default DEFAULT_KEEPALIVE (60). */
  keepalive?: number;
  username?: string;
  password?: Uint8Array;
  will?: Will;
  /**
   * MQTT 5 CONNECT properties (sessionExpiryInterval, receiveMaximum,
   * maximumPacketSize, topicAliasMaximum, requestResponseInformation, ...).
   * receiveMaximum, maximumPacketSize and topicAliasMaximum are also enforced inbound.
   */
  properties?: Properties;
  /**
   * Milliseconds to wait for any packet after a PINGREQ before declaring the
   * link dead (mqtt_as's response_time). Default keepalive × 1.5.
   */
  responseTimeout?: number;
  /** Milliseconds to wait for CONNACK after the link comes up. Default 30,000. */
  connectTimeout?: number;
  /** Use MQTT 5 topic aliases for outbound messages when the broker allows them. Default true. */
  outboundTopicAliases?: boolean;
  /** Acknowledge inbound QoS 1 and 2 messages only when the host calls `acknowledge`. Default false. */
  manualAck?: boolean;
  /**
   * How many completed inbound QoS 2 messages are remembered (packet id and a
   * digest of topic and payload) so that a broker that rolled its state back
   * and re-sends one with DUP set does not get it delivered twice
   * (rollback-guard.ts). 0 turns the guard off. Default 256.
   */
  qos2RollbackGuard?: number;
  /**
   * Where in-flight state is kept so a restarted process resumes it. Default
   * none: the state lives in the Session's memory only.
   */
  store?: SessionStore;
  /**
   * Resume what `store` holds (true), or discard it (false: cleanInit, or a
   * clean session, where the broker's side is discarded too). Default true.
   */
  resume?: boolean;
  /** Bounds of the outbound queue and the policy when full. Default DEFAULT_QUEUE_LIMITS. */
  queueLimits?: QueueLimits;
  /**
   * MQTT 5: QoS 1/2 publications in flight at once when the broker announces
   * no Receive Maximum (or 65,535). A Receive Maximum the broker does
   * announce is used as it is. Default DEFAULT_MAX_INFLIGHT (100).
   */
  maxInflight?: number;
}

/** A message the application asked to publish. */
export interface OutboundMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties?: Properties;
}

/** Where an outbound QoS 1/2 message stands in its flow. */
export type OutboundState = 'queued' | 'sent' | 'received';

/** An outbound message with its flow state: what a store must keep to resume. */
export interface OutboundRecord<P = unknown> {
  /** Unique per session, increasing in publish order: the store's key. */
  key: number;
  message: OutboundMessage;
  /** Assigned when the message first goes out; kept across reconnects. */
  packetId: number;
  /** queued: not sent yet; sent: PUBLISH sent, no ack; received: PUBREC received, PUBREL sent. */
  state: OutboundState;
  /** When the message was accepted (host's clock, ms), for message expiry. */
  acceptedAt: number;
  /**
   * The host's value for this publication, returned in its completion event;
   * undefined for a record restored from a store that the host has not adopted.
   */
  token: P | undefined;
}

/** Why the Session wants the link closed, or closed by itself. */
export type CloseReason = MqttError;

export type SessionEvent<P = unknown, S = unknown> =
  /** CONNACK accepted: the session is up. */
  | { type: 'up'; connack: ConnackPacket; sessionPresent: boolean; resubscribe: boolean }
  /**
   * CONNACK accepted on a connection opened only to discard the broker's
   * stale session (`linkUp`'s `discard`: MQTT 3.1.1 cleanInit). The session
   * has sent DISCONNECT; the host closes the link and connects again, with no
   * outage to report.
   */
  | { type: 'discarded'; connack: ConnackPacket }
  /** A message for the application (topic alias resolved, QoS 2 delivered exactly once). */
  | { type: 'message'; message: PublishPacket }
  /** A publication completed: QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP. */
  | { type: 'published'; token: P | undefined; reasonCode: number; properties?: Properties }
  /** A publication was refused or could not be sent; nothing more will happen to it. */
  | { type: 'publish-failed'; token: P | undefined; error: MqttError }
  | { type: 'subscribed'; token: S; suback: SubackPacket }
  | { type: 'unsubscribed'; token: S; unsuback: UnsubackPacket }
  /** A SUBSCRIBE or UNSUBSCRIBE could not be sent, or the session was closed before its answer. */
  | { type: 'subscribe-failed'; token: S; error: MqttError }
  /** The server sent AUTH (MQTT 5 extended authentication). */
  | { type: 'auth'; auth: AuthPacket }
  /**
   * MQTT 5 server reference: the broker (CONNACK or DISCONNECT with 0x9C Use
   * another server or 0x9D Server moved) names where to connect instead; a
   * `close` follows. `permanent` for 0x9D.
   */
  | { type: 'redirect'; reference: string; permanent: boolean }
  /** The server sent DISCONNECT; a `close` follows. */
  | { type: 'server-disconnect'; disconnect: DisconnectPacket }
  /**
   * The link must be closed: keepalive or CONNACK timeout, a refused CONNECT,
   * a protocol error by the peer, the server's DISCONNECT. The host closes the
   * link and then calls `linkDown`.
   */
  | { type: 'close'; error: CloseReason };

/** How the Session's parts (Outbound, Inbound, Subscriptions) put bytes and events in the outbox. */
export interface SessionIo<P, S> {
  /** Bytes for the link, in order. */
  send(bytes: Uint8Array): void;
  /** An event for the host. */
  emit(event: SessionEvent<P, S>): void;
}

/** A subscription as the session remembers it, to resubscribe when the broker lost the session. */
export interface SubscriptionRecord {
  subscriptions: Subscription[];
  properties?: Properties;
}
