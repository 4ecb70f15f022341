/**
 * The Client's public types: what `publish` and `subscribe` take and give,
 * its events and its counters.
 */
import type { Properties, QoS } from '../codec/types.ts';
import type { MqttError } from '../errors.ts';
import type { ServerCapabilities, SessionStats } from '../session/session.ts';
import type { OutboundState } from '../session/types.ts';
import type { DeliveryStats } from './delivery.ts';
import type { Message } from './message.ts';
import type { ClientStatus } from './status.ts';

/** Options for `Client.publish`. */
export interface PublishOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 properties: contentType, responseTopic, correlationData, userProperties, messageExpiryInterval... Default none. */
  properties?: Properties;
  /**
   * Bounds the wait. Aborted before the message is sent (queued while down,
   * or waiting for room), the message is withdrawn and never sent. Aborted
   * after its first byte went out, only the wait ends: the QoS flow still
   * completes in the background, since stopping it half way would break the
   * protocol (the broker may already have the message). Either way the
   * promise rejects with ABORTED. Default none.
   */
  signal?: AbortSignal;
}

/** What the broker answered to a publication. */
export interface PublishResult {
  /** 0 for QoS 0 and for success; MQTT 5 success codes such as 0x10 No matching subscribers. */
  reasonCode: number;
  properties?: Properties;
}

/** Options for `Client.subscribe`. */
export interface SubscribeOptions {
  /** Maximum QoS for these filters. Default 0. */
  qos?: QoS;
  /** MQTT 5: don't receive our own publications. Default false. */
  noLocal?: boolean;
  /** MQTT 5: keep the retain flag as published. Default false. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never. Default 0. */
  retainHandling?: 0 | 1 | 2;
  /**
   * MQTT 5 SUBSCRIBE properties (user properties, subscription identifier).
   * A `subscriptionIdentifier` given here is used as is; otherwise the client
   * picks one (see the `subscriptionIdentifiers` client option). Default none.
   */
  properties?: Properties;
  /**
   * Receive messages by callback instead of iterating the subscription, one at
   * a time: the next comes once this one returned, or the promise it returned
   * settled, and only then is the message acknowledged. A callback that throws
   * or rejects still counts as done (the error goes to the `handlerError`
   * event). Default none: iterate the subscription.
   */
  onMessage?: (message: Message) => unknown;
}

/** Counters for status displays and monitoring; see `Client.stats`. */
export interface ClientStats extends SessionStats, DeliveryStats {
  /** Connections that were up and went down. */
  outages: number;
  /** Connections that came up after the first one. */
  reconnects: number;
  /** Connection attempts that failed before CONNACK. */
  failedAttempts: number;
  /** Milliseconds spent down since the first connection came up (the current outage included). */
  downtimeMs: number;
  /** Fresh connections tried beside one that had stopped answering (see `stallProbeAfter`). */
  stallProbes: number;
}

/** The Client's events, for `client.on(name, listener)`. */
export interface ClientEvents extends Record<string, unknown> {
  /**
   * Connected (CONNACK accepted). `outageMs`: how long the client was down
   * before this connection (absent on the first one).
   */
  up: { sessionPresent: boolean; server: ServerCapabilities; outageMs?: number };
  /** The connection ended; the client reconnects unless it was closed. */
  down: { cause: MqttError; wasUp: boolean };
  /** `client.status` changed: `connected` just before `up`; after a `down`, the state it leads to. */
  status: ClientStatus;
  /**
   * Every inbound message, whichever subscription it matched. A message no
   * subscription matches counts as taken (and is acknowledged) once the
   * `message` listeners have returned; with none, it waits for a subscription
   * (see `unclaimedTimeout`), and a listener added later gets it.
   */
  message: Message;
  /** An `onMessage` callback threw or rejected; the message counted as done. Without a listener the error is thrown uncaught. */
  handlerError: { error: unknown; message: Message };
}

/** A QoS 1/2 publication not finished yet, as `Client.pending()` lists it. */
export interface PendingPublication {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  readonly properties?: Properties;
  /** queued: not sent yet; sent: PUBLISH sent, no ack yet; received: PUBREC received (QoS 2), PUBREL sent. Live. */
  readonly state: OutboundState;
  /** Restored from the store: published by an earlier process. */
  readonly restored: boolean;
  /** Settles as `publish()`'s promise does: on PUBACK / PUBCOMP, or a refusal. */
  readonly result: Promise<PublishResult>;
}

export interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/*
 * The executor's two functions, handed over through these two slots: a Promise
 * calls its executor synchronously, so one shared executor serves every
 * deferred, and a publish() does not make a closure and its context (about
 * 100 bytes per message) just to get them out.
 */
let settleWith: (value: never) => void = () => {};
let failWith: (error: unknown) => void = () => {};
function capture(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  settleWith = resolve;
  failWith = reject;
}

export function deferred<T>(): Deferred<T> & { promise: Promise<T> } {
  const promise = new Promise<T>(
    capture as (resolve: (value: T) => void, reject: (e: unknown) => void) => void,
  );
  return { promise, resolve: settleWith as (value: T) => void, reject: failWith };
}
