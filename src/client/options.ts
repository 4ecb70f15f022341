/**
 * Client options. Names follow MQTT.js where they mean the same thing, so a
 * user can move over by reading one page (docs/migrating-from-mqttjs.md).
 */
import type { Properties, QoS } from '../codec/types.ts';
import { localError } from '../errors.ts';
import type { Link } from '../links/types.ts';
import { type BrokerAddress, parseBrokerUrl } from '../links/url.ts';
import { DEFAULT_QUEUE_LIMITS } from '../session/publish-queue.ts';
import { DEFAULT_ROLLBACK_GUARD } from '../session/rollback-guard.ts';
import { DEFAULT_CONNECT_TIMEOUT, DEFAULT_KEEPALIVE } from '../session/session.ts';
import type { SessionStore } from '../session/store.ts';
import type { SessionOptions } from '../session/types.ts';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_BUFFERED_MESSAGES,
  DEFAULT_UNCLAIMED_TIMEOUT,
  type DeliveryLimits,
} from './delivery.ts';

/** Makes the link for a broker address; the Node entry point supplies TCP, TLS and WebSocket. */
export type LinkFactory = (address: BrokerAddress) => Link;

/** The will: a message the broker publishes for us if we disappear without DISCONNECT. */
export interface WillOptions {
  /** The topic the will is published to. */
  topic: string;
  /** Text (sent as UTF-8) or bytes. */
  payload: string | Uint8Array;
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 will properties, e.g. `{ willDelayInterval: 10 }`. Default none. */
  properties?: Properties;
}

/** Pluggable MQTT 5 extended authentication (AUTH exchange). */
export interface Authenticator {
  /** The Authentication Method sent in CONNECT, e.g. 'SCRAM-SHA-1'. */
  method: string;
  /** Authentication Data for CONNECT. Default none. */
  initialData?(): Uint8Array | undefined;
  /** Answers the server's AUTH challenge with the next Authentication Data. */
  challenge(data: Uint8Array | undefined, reasonCode: number): Uint8Array | Promise<Uint8Array>;
}

/** Options for `connect()`, `createClient()` and `new Client()`. Every one is optional except a way to reach the broker (`url` or `link`). */
export interface ClientOptions {
  /**
   * Broker URL(s): mqtt://, mqtts://, ws://, wss:// (user:pass@ in the URL is
   * used as credentials). With several, the client rotates through them on
   * reconnect. Either `url` or `link` is required. Default none.
   */
  url?: string | string[];
  /** Your own Link (serial, radio, a test proxy...) instead of one made from `url`. Default none. */
  link?: Link;
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0. Default 5. */
  protocolVersion?: 4 | 5;
  /**
   * The client identifier. Default: `steadfast_` and 12 random hex digits, made
   * once per Client, so that reconnects resume the same session.
   */
  clientId?: string;
  /**
   * Clean session (3.1.1) / clean start (5.0) on every connect: the broker
   * forgets the session each time. Default false: sessions are resumed, so
   * nothing in flight is lost across an outage.
   */
  clean?: boolean;
  /**
   * Discard a stale session on the first connect of this Client, then keep
   * the session on every reconnect (mqtt_as's clean_init). Default false.
   */
  cleanInit?: boolean;
  /** Keepalive in seconds; 0 disables it. Default DEFAULT_KEEPALIVE (60). */
  keepalive?: number;
  /** User name for the broker (also taken from `user@` in the URL). Default none. */
  username?: string;
  /** Text (sent as UTF-8) or bytes. Default none. */
  password?: string | Uint8Array;
  /** A message the broker publishes if the client vanishes without DISCONNECT. Default none. */
  will?: WillOptions;
  /**
   * MQTT 5 CONNECT properties. Default `sessionExpiryInterval` 0xFFFFFFFF
   * unless `clean` is set (a session that expires at disconnect could not be
   * resumed after an outage); `receiveMaximum` 64 (QoS 1/2 messages the broker
   * may send before we acknowledge one: what bounds a slow consumer's memory,
   * since we acknowledge only what the application has taken);
   * `maximumPacketSize` 1 MiB (a broker must not send us a larger packet; it
   * drops such a message for us instead, so raise it if you receive larger ones).
   */
  properties?: Properties;
  /** Milliseconds to wait for the link to open and CONNACK to arrive. Default 30,000. */
  connectTimeout?: number;
  /**
   * Milliseconds to wait for any packet after a PINGREQ before the link is
   * declared dead (mqtt_as's response_time). Default keepalive × 1.5.
   */
  responseTimeout?: number;
  /**
   * Milliseconds a write may make no progress (the link's buffer not
   * shrinking) before the link is declared dead. A slow link that keeps
   * moving is never cut. Default: the response timeout, or 30,000 without keepalive.
   */
  writeTimeout?: number;
  /**
   * Milliseconds to stay down after a connection ends, before reconnecting,
   * so that every hop (access point, gateway, broker) has seen the link die
   * and the next connection starts from a known state; the link's own
   * `reset()` runs meanwhile. Added to the backoff. Default 1,000.
   */
  quietPeriod?: number;
  /**
   * Wait before a reconnect, in ms, after the quiet period: a random time up
   * to this (full jitter), doubling per failed attempt. Default 1,000.
   */
  reconnectPeriod?: number;
  /** The cap on that doubling, in ms. Default 30,000. */
  reconnectPeriodMax?: number;
  /**
   * Ms a connection must stay up before the backoff starts over from
   * `reconnectPeriod`, unless the broker served us on it sooner (a success
   * ack of a request, or a message delivered to us; CONNACK and PINGRESP do
   * not count). One that the other end closes sooner having served nothing
   * (a broker that accepts and then drops: overloaded, a refusing ACL, a
   * proxy) counts as a failed attempt, so the wait keeps doubling instead of
   * every client of a fleet reconnecting every second. An outage the client
   * detects itself (keepalive, a dead link) starts over at once as before.
   * Default 10,000.
   */
  resetBackoffAfter?: number;
  /**
   * Ms between fresh connection attempts while one is still pending, on links
   * that open a socket per attempt (TCP, TLS, WebSocket). After a path heals,
   * a pending TCP connect may not resend its SYN for seconds (the kernel
   * waits 1, 2, 4, 8 s...); a fresh attempt every 750 ms gets through within
   * a second. The first attempt to open wins; at most 3 stay pending. 0 for
   * one attempt at a time. Default 750.
   */
  openRetryInterval?: number;
  /**
   * Ms a request (QoS 1/2 PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE, PINGREQ)
   * may go unanswered, with nothing at all from the broker meanwhile, before
   * a fresh connection is opened beside the current one (links that open a
   * socket per attempt). If the fresh one gets through while the old one is
   * still silent, the old one is stuck in TCP's retransmission backoff after
   * a lost stretch of path: the client moves to the fresh one and resumes
   * the session there (reported as an outage). Never less than 4x the
   * broker's smoothed answer time, so a slow broker is not taken for a dead
   * path; the probe travels the same path, so on a merely slow path the old
   * connection's answer arrives first. Repeated every `openRetryInterval`
   * while the silence lasts. The move needs evidence that the path was dark:
   * another probe held up, or this one slow to open; one through at once
   * (a proxy that terminates TCP, a stalled broker) ends probing for that
   * stall. 0 turns it off. Default 2,000.
   */
  stallProbeAfter?: number;
  /**
   * Where in-flight messages and inbound QoS 2 ids are kept from `publish()`
   * to their final ack. Default none: the client's own session state, which
   * survives reconnects but not the client (as a MemoryStore of its own would,
   * without the second copy). A `MemoryStore` passed here can be handed to a
   * new Client in the same process; `FileStore` from the Node entry point
   * survives a crash. A store that outlives the process needs a fixed `clientId`.
   */
  store?: SessionStore;
  /** Messages the client holds at once (queued while down + in flight). Default 100,000. */
  maxQueuedMessages?: number;
  /** Bytes (topic + payload) the client holds at once. Default 64 MiB. */
  maxQueuedBytes?: number;
  /**
   * MQTT 5: QoS 1/2 publications in flight at once (sent, not yet finished)
   * when the broker announces no Receive Maximum, or 65,535. A Receive
   * Maximum the broker announces is used as it is; MQTT 3.1.1 uses 20.
   * Default 100 (chosen by measurement: docs/performance.md).
   */
  maxInflight?: number;
  /**
   * When the queue is full, once the oldest queued QoS 0 messages have been
   * dropped (each rejects with QUEUE_FULL): 'wait' makes `publish()` wait for
   * room (back-pressure), 'reject' rejects it with QUEUE_FULL. Default 'wait'.
   */
  queueFullPolicy?: 'wait' | 'reject';
  /** Use MQTT 5 topic aliases for outbound messages when the broker allows them. Default true. */
  topicAliases?: boolean;
  /**
   * Acknowledge inbound QoS 1 and 2 messages only when `message.ack()` is
   * called. Default false: a message is acknowledged once the application has
   * taken it (its callback returned, or the `for await` body came back for the
   * next), never on arrival.
   */
  manualAck?: boolean;
  /**
   * Exactly-once against a broker that rolled its state back (Mosquitto
   * killed between sending PUBREL and reading our PUBCOMP re-sends the
   * PUBLISH on restart): the last this-many completed inbound QoS 2 messages
   * are remembered by packet id and a digest of topic and payload, and a
   * re-send of one (DUP set) is acknowledged without being delivered again,
   * counted in `stats.qos2RollbackCopies`. The one message this could wrongly
   * drop is an identical one (same id, topic and payload) whose first
   * transmission was lost with a connection. The same digests recognise the
   * other face of a rollback: a new message under an id whose flow is still
   * open here (we sent PUBREC, the restarted broker forgot the flow and gave
   * the id to the next message). It is delivered, counted in
   * `stats.qos2IdsReused`, where the spec's rule would answer it and lose it.
   * 0 turns both off. Default 256.
   */
  qos2RollbackGuard?: number;
  /**
   * Messages held for the application at once (received, not yet taken),
   * across all subscriptions. QoS 0 messages beyond it are dropped and
   * counted (`stats.droppedInbound`); QoS 1/2 ones are bounded by
   * `receiveMaximum` (MQTT 5) or the broker's in-flight window (3.1.1),
   * since we acknowledge them only once taken. Default 1,000.
   */
  maxBufferedMessages?: number;
  /** Bytes (topic + payload) held for the application at once; QoS 0 beyond it is dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * Milliseconds a message that no subscription matches waits for one (a
   * resumed session's queued messages arrive right after CONNACK, maybe before
   * `subscribe()`); a `message` listener takes it at once. After that it is
   * acknowledged and dropped (`stats.unclaimedDropped`), so that it cannot
   * hold the broker's window forever. Messages are held only during this long
   * after the first connection; later ones nobody claims (a subscription the
   * broker keeps but the application no longer makes) are dropped at once.
   * Infinity waits for good. Default 30,000.
   */
  unclaimedTimeout?: number;
  /**
   * MQTT 5: send a subscription identifier with each `subscribe()` and route
   * messages by it (a `subscriptionIdentifier` in `subscribe()`'s properties is
   * always used as given). Some brokers mishandle them: false sends none and
   * routes by topic. Default true.
   */
  subscriptionIdentifiers?: boolean;
  /** MQTT 5 extended authentication. Default none. */
  authenticator?: Authenticator;
  /** Makes links from URLs. Default: the entry point's (Node: TCP, TLS, WebSocket; browser: WebSocket). */
  linkFactory?: LinkFactory;
  /**
   * Where the client's timers (keepalive, timeouts, backoff) run. Browsers
   * throttle a hidden tab's timers (Chrome: once a minute after a few minutes
   * hidden), which makes keepalive late and the broker drop the connection;
   * 'worker' and 'auto' run them in a dedicated Web Worker, which is not
   * throttled so. 'main' uses the page's (or Node's) own timers. Without a
   * Worker (Node) 'auto' and 'worker' use the own timers too. Default 'auto'.
   */
  timers?: 'auto' | 'main' | 'worker';
}

/** A connection this long up (ms) proves the path healthy: the backoff starts over. */
export const DEFAULT_RESET_BACKOFF_AFTER = 10_000;
/** A fresh open attempt every 750 ms while one is pending: through within a second of a path healing. */
export const DEFAULT_OPEN_RETRY_INTERVAL = 750;
/**
 * A request unanswered this long (ms), nothing received meanwhile: try a fresh connection beside it.
 * Past TCP's first retransmissions (0.2, 0.6, 1.4 s after a loss), which end a short stall sooner.
 */
export const DEFAULT_STALL_PROBE_AFTER = 2000;

/** MQTT 5: QoS 1/2 messages the broker may send before we acknowledge one (see `properties`). */
export const DEFAULT_RECEIVE_MAXIMUM = 64;
/** MQTT 5: the largest packet we accept, 1 MiB (see `properties`). */
export const DEFAULT_MAXIMUM_PACKET_SIZE = 1024 * 1024;

/** Makes payloads and passwords bytes: strings are sent as UTF-8. */
export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}

/** A random client id, stable for the life of the Client. */
export function randomClientId(): string {
  let id = 'steadfast_';
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  for (const b of bytes) id += b.toString(16).padStart(2, '0');
  return id;
}

/** The broker addresses from `url` (none when a `link` is given). */
export function brokerAddresses(options: ClientOptions): BrokerAddress[] {
  if (options.link) return [];
  const urls = options.url === undefined ? [] : Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0) throw localError('INVALID_ARGUMENT', 'give a broker url or a link');
  if (options.linkFactory === undefined)
    throw localError('INVALID_ARGUMENT', 'no link factory: import from steadfast-mqtt/node in Node');
  return urls.map((url) => parseBrokerUrl(url));
}

export function makeLink(options: ClientOptions, address: BrokerAddress): Link {
  return options.linkFactory!(address);
}

/** A write may stall as long as the broker may take to answer a ping. */
export function defaultWriteTimeout(options: ClientOptions): number {
  if (options.responseTimeout !== undefined) return options.responseTimeout;
  const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
  return keepalive > 0 ? keepalive * 1500 : 30_000;
}

/**
 * The Session's options from the Client's: defaults applied, MQTT 5 session
 * expiry "never" unless the session is clean, the authenticator's method and
 * first data, credentials from the first URL when the options give none.
 */
export function sessionOptionsFrom(
  options: ClientOptions,
  store: SessionStore | undefined,
  fromUrl: BrokerAddress | undefined,
): SessionOptions {
  const version = options.protocolVersion ?? 5;
  const clean = options.clean ?? false;
  let properties = options.properties;
  if (version === 5 && !clean && properties?.sessionExpiryInterval === undefined) {
    properties = { ...properties, sessionExpiryInterval: 0xffff_ffff };
  }
  if (version === 5) {
    properties = {
      receiveMaximum: DEFAULT_RECEIVE_MAXIMUM,
      maximumPacketSize: DEFAULT_MAXIMUM_PACKET_SIZE,
      ...properties,
    };
  }
  if (options.authenticator) {
    const data = options.authenticator.initialData?.();
    properties = { ...properties, authenticationMethod: options.authenticator.method };
    if (data) properties.authenticationData = data;
  }
  // Credentials in the (first) URL, when the options give none.
  const username = options.username ?? fromUrl?.username;
  const password = options.password ?? fromUrl?.password;
  const sessionOptions: SessionOptions = {
    protocolVersion: version,
    clientId: options.clientId ?? randomClientId(),
    keepalive: options.keepalive ?? DEFAULT_KEEPALIVE,
    outboundTopicAliases: options.topicAliases ?? true,
    // The client acknowledges each message when the application has taken it (delivery.ts).
    manualAck: true,
    qos2RollbackGuard: options.qos2RollbackGuard ?? DEFAULT_ROLLBACK_GUARD,
    connectTimeout: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    store,
    // A session started afresh (clean, or cleanInit's first connect) must not resume stale messages.
    resume: !clean && !(options.cleanInit ?? false),
    queueLimits: {
      maxMessages: options.maxQueuedMessages ?? DEFAULT_QUEUE_LIMITS.maxMessages,
      maxBytes: options.maxQueuedBytes ?? DEFAULT_QUEUE_LIMITS.maxBytes,
      whenFull: options.queueFullPolicy ?? DEFAULT_QUEUE_LIMITS.whenFull,
    },
  };
  if (options.responseTimeout !== undefined) sessionOptions.responseTimeout = options.responseTimeout;
  if (options.maxInflight !== undefined) sessionOptions.maxInflight = options.maxInflight;
  if (username !== undefined) sessionOptions.username = username;
  if (password !== undefined) sessionOptions.password = toBytes(password);
  if (properties !== undefined) sessionOptions.properties = properties;
  if (options.will) {
    const w = options.will;
    sessionOptions.will = {
      topic: w.topic,
      payload: toBytes(w.payload),
      qos: w.qos ?? 0,
      retain: w.retain ?? false,
    };
    if (w.properties) sessionOptions.will.properties = w.properties;
  }
  return sessionOptions;
}

/** The bounds of what the client holds for the application. */
export function deliveryLimitsFrom(options: ClientOptions): DeliveryLimits {
  return {
    maxBufferedMessages: options.maxBufferedMessages ?? DEFAULT_MAX_BUFFERED_MESSAGES,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    unclaimedTimeout: options.unclaimedTimeout ?? DEFAULT_UNCLAIMED_TIMEOUT,
  };
}
