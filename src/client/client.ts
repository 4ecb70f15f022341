/**
 * The Client: the async API over a Session and its Supervisor. It turns
 * session events into resolved promises, messages for subscriptions, and
 * `up`/`down` events. It is thin on purpose: protocol rules live in the
 * Session, links and time in the Supervisor.
 */

import { ReasonCode } from '../codec/reason-codes.ts';
import { validateTopicName } from '../codec/topic.ts';
import type { Properties, PublishPacket } from '../codec/types.ts';
import { localError, MqttError } from '../errors.ts';
import { type BrokerAddress, serverReferenceAddress } from '../links/url.ts';
import { DEFAULT_CONNECT_TIMEOUT, type ServerCapabilities, Session } from '../session/session.ts';
import { MemoryStore, type SessionStore } from '../session/store.ts';
import type { OutboundMessage, SessionEvent } from '../session/types.ts';
import {
  type ClientEvents,
  type ClientStats,
  type Deferred,
  deferred,
  type PendingPublication,
  type PublishOptions,
  type PublishResult,
  type SubscribeOptions,
} from './api.ts';
import { Delivery } from './delivery.ts';
import { Emitter } from './emitter.ts';
import { extensions, notInstalled, type RequestHandler, type RequestOptions } from './extensions.ts';
import { Message } from './message.ts';
import {
  brokerAddresses,
  type ClientOptions,
  DEFAULT_OPEN_RETRY_INTERVAL,
  DEFAULT_RESET_BACKOFF_AFTER,
  DEFAULT_STALL_PROBE_AFTER,
  defaultWriteTimeout,
  deliveryLimitsFrom,
  makeLink,
  sessionOptionsFrom,
  toBytes,
} from './options.ts';
import { OutageCounters } from './outages.ts';
import { type PublishToken, pendingPublication, restoredToken } from './pending.ts';
import { ReadyWaiters } from './ready.ts';
import { SubscriptionRouter } from './routing.ts';
import { SessionDriver, type SessionView } from './session-driver.ts';
import type { ClientStatus } from './status.ts';
import { Subscriber } from './subscriber.ts';
import type { Subscription } from './subscription.ts';
import { Supervisor } from './supervisor.ts';
import { validateOptions } from './validate-options.ts';
import { clockFor } from './worker-timers.ts';

export type {
  ClientEvents,
  ClientStats,
  PendingPublication,
  PublishOptions,
  PublishResult,
  SubscribeOptions,
} from './api.ts';

/** What the Client gives the Session for each SUBSCRIBE/UNSUBSCRIBE: settled with the broker's reason codes. */
type RequestToken = Deferred<number[]>;

/**
 * An MQTT client that stays connected: it reconnects after any outage and resumes the session,
 * so that `publish()` resolves once the QoS flow completes, however many outages come in between.
 * Made by `connect()` (resolves once connected) or `createClient()` (call `start()`).
 */
export class Client extends Emitter<ClientEvents> {
  readonly options: ClientOptions;
  /** The Session and the one place it is fed and drained. */
  readonly #driver: SessionDriver<PublishToken, RequestToken>;
  readonly #supervisor: Supervisor;
  /** The subscriptions, and which one each message belongs to. */
  readonly #router = new SubscriptionRouter();
  /** Messages on their way to the application: buffered, routed, acknowledged when taken. */
  readonly #delivery: Delivery;
  /** SUBSCRIBE and UNSUBSCRIBE, and the Subscriptions they make. */
  readonly #subscriber: Subscriber;
  #isUp = false;
  #closedError: MqttError | undefined;
  /** cleanInit: the next connection starts clean; cleared when one is up. */
  #cleanInitPending: boolean;
  readonly #ready = new ReadyWaiters();
  /** The user's store; undefined by default, where a MemoryStore would only mirror the Session's own state. */
  readonly #store: SessionStore | undefined;
  readonly #addresses: BrokerAddress[];
  readonly #outages = new OutageCounters();
  /** The topic the last `publish()` checked and found valid. */
  #lastValidTopic: string | undefined;

  constructor(options: ClientOptions) {
    super();
    validateOptions(options);
    this.options = options;
    this.#addresses = brokerAddresses(options);
    const links = options.link ? [options.link] : this.#addresses.map((a) => makeLink(options, a));
    const clean = options.clean ?? false;
    this.#cleanInitPending = !clean && (options.cleanInit ?? false);
    if (options.store !== undefined && !(options.store instanceof MemoryStore) && !options.clientId) {
      throw localError('INVALID_ARGUMENT', 'a store that outlives the process needs a fixed clientId');
    }
    // Without a store of the user's, nothing outlives this client: the Session's own in-flight
    // state is the session, and a default MemoryStore would be a second copy of it, updated
    // three times per QoS 1/2 message, that nobody can read.
    this.#store = options.store;
    const sessionOptions = sessionOptionsFrom(options, this.#store, this.#addresses[0]);
    const session = new Session<PublishToken, RequestToken>(sessionOptions);
    // A CONNECT the options make impossible is refused here, where the user passed them.
    session.checkConnect(clean);
    session.adopt(restoredToken); // before any input: it has no output

    this.#driver = new SessionDriver(session, {
      write: (bytes) => this.#supervisor.write(bytes),
      event: (event) => this.#onSessionEvent(event),
      deadline: (at) => this.#supervisor.armTimer(at),
    });

    this.#supervisor = new Supervisor(
      this.#driver,
      {
        links,
        clean: () => clean || this.#cleanInitPending,
        // A 3.1.1 clean session ends with its connection: cleanInit's clean connect only discards the
        // stale session, and the lasting one is opened at once without clean (mqtt_as's method).
        discard: () => this.#cleanInitPending && session.version === 4,
        reconnectPeriod: options.reconnectPeriod ?? 1000,
        reconnectPeriodMax: options.reconnectPeriodMax ?? 30_000,
        connectTimeout: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
        quietPeriod: options.quietPeriod ?? 1000,
        resetBackoffAfter: options.resetBackoffAfter ?? DEFAULT_RESET_BACKOFF_AFTER,
        openRetryInterval: options.openRetryInterval ?? DEFAULT_OPEN_RETRY_INTERVAL,
        stallProbeAfter: options.stallProbeAfter ?? DEFAULT_STALL_PROBE_AFTER,
        writeTimeout: options.writeTimeout ?? defaultWriteTimeout(options),
        store: this.#store,
        clock: clockFor(options.timers),
      },
      {
        down: (cause, wasUp) => {
          this.#isUp = false;
          this.#outages.down(wasUp, this.#supervisor.now());
          this.emit('down', { cause, wasUp });
        },
        fatal: (cause) => void this.#shutdown(cause),
        status: (status) => this.emit('status', status),
      },
    );
    this.#delivery = new Delivery(deliveryLimitsFrom(options), this.#supervisor.clock, !options.manualAck);
    this.#subscriber = new Subscriber(this.#router, this.#delivery, {
      closedError: () => this.#closedError,
      session: () => this.#session,
      identifiers: options.subscriptionIdentifiers !== false,
      subscribe: (specs, properties, done) => this.#driver.input((s) => s.subscribe(specs, properties, done)),
      unsubscribe: (list, properties, done) =>
        this.#driver.input((s) => s.unsubscribe(list, properties, done)),
      handlerFailed: (error, message) => {
        if (this.listenerCount('handlerError') > 0) this.emit('handlerError', { error, message });
        else
          queueMicrotask(() => {
            throw error;
          }); // not swallowed: reported as an uncaught error of the application's
      },
    });
  }

  /**
   * Adds a listener. A `message` listener also takes the messages no
   * subscription has claimed yet (see `unclaimedTimeout`).
   */
  override on<K extends keyof ClientEvents>(
    event: K,
    listener: (value: ClientEvents[K]) => void,
  ): () => void {
    const off = super.on(event, listener);
    if (event === 'message' && this.#delivery.stats.unclaimed > 0) {
      queueMicrotask(() => this.#delivery.drainUnclaimed((m) => this.emit('message', m)));
    }
    return off;
  }

  /** The Session, for queries (its inputs go through the driver). */
  get #session(): SessionView<PublishToken, RequestToken> {
    return this.#driver.session;
  }

  /** Starts connecting (and reconnecting). `connect()` calls this for you. */
  start(): this {
    this.#supervisor.start();
    return this;
  }

  /** The client id in use (the broker may have assigned it). */
  get clientId(): string {
    return this.#session.clientId;
  }

  /** True while connected. */
  get connected(): boolean {
    return this.#isUp;
  }

  /**
   * Where the client stands: `idle` (not started), `opening`, `connected`,
   * `quiet` (down after an outage, the quiet period), `backoff` (waiting
   * before the next attempt) or `stopped` (closed for good). Each change is
   * also a `status` event: `connected` just before `up`; after a `down`, the
   * state it leads to.
   */
  get status(): ClientStatus {
    return this.#supervisor.status;
  }

  /** Counters: outages, reconnects, re-sent packets, time down, queue depth. */
  get stats(): ClientStats {
    return {
      ...this.#outages.stats(this.#supervisor.now()),
      stallProbes: this.#supervisor.stallProbes,
      ...this.#session.stats,
      ...this.#delivery.stats,
    };
  }

  /**
   * QoS 1/2 publications not finished yet, oldest first: those of this process
   * and those a store restored from an earlier one (`restored`), each with the
   * promise of its outcome. After a restart, await these instead of publishing
   * again: a second publish would be a second message.
   */
  pending(): PendingPublication[] {
    // Every record has a token: the restored ones were adopted when the client was made.
    return this.#session
      .publications()
      .flatMap((r) => (r.message.qos > 0 && r.token ? [pendingPublication(r, r.token)] : []));
  }

  /** What the broker said about itself in its last CONNACK. */
  get server(): ServerCapabilities | undefined {
    return this.#session.server;
  }

  /**
   * Resolves when connected. Rejects when the client is closed, when the
   * broker refuses the connection for good (bad credentials, not authorized...),
   * or after `timeout` ms (with the last connection error as `cause`).
   */
  ready(timeout?: number): Promise<void> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    if (this.#isUp) return Promise.resolve();
    return this.#ready.wait(timeout, (listener) => this.on('down', listener));
  }

  /**
   * Publishes a message. Resolves when its QoS flow completes (QoS 0: handed
   * to the link; QoS 1: PUBACK; QoS 2: PUBCOMP), across any number of
   * outages. Rejects for a refusal (reason code >= 0x80), an invalid topic or
   * size, an expired message, or a closed client.
   */
  publish(topic: string, payload: string | Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    // At once, even offline: a bad topic must never reach the queue. A stream on one topic
    // (the common case) checks it once.
    if (topic !== this.#lastValidTopic) {
      try {
        validateTopicName(topic);
      } catch (error) {
        return Promise.reject(error);
      }
      this.#lastValidTopic = topic;
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(aborted(signal));
    const done: PublishToken = deferred<PublishResult>();
    const message: OutboundMessage = {
      topic,
      payload: toBytes(payload),
      qos: options.qos ?? 0,
      retain: options.retain ?? false,
    };
    if (options.properties !== undefined) message.properties = options.properties;
    this.#driver.publish(message, done, this.#supervisor.now());
    if (signal === undefined) return done.promise;
    const onAbort = () => {
      // Withdrawn if not sent yet; otherwise the flow completes without anyone waiting.
      this.#driver.input((s) => s.withdraw(done));
      done.reject(aborted(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return done.promise.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /**
   * Subscribes to one or more topic filters. The returned Subscription is an
   * async iterator of its messages; `onMessage` delivers by callback instead.
   * It takes messages from the moment of the call, also before `start()` (the
   * SUBSCRIBE then goes out with the first connection), so a resumed session's
   * queued messages find it. Resolves once the broker granted at least one
   * filter; rejects when it refuses every filter.
   */
  async subscribe(filters: string | string[], options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#subscriber.subscribe(filters, options);
  }

  /** Unsubscribes from topic filters (all subscriptions on them end). */
  async unsubscribe(filters: string | string[], properties?: Properties): Promise<number[]> {
    return this.#subscriber.unsubscribe(filters, properties);
  }

  /**
   * MQTT 5 request/response: publishes `payload` with a response topic and
   * correlation data, and resolves with the response (or rejects with TIMEOUT).
   * Needs the request module: the Node entry installs it; in a browser bundle
   * call `useRequest()` from 'steadfast-mqtt/request' once, or use its
   * `request(client, ...)`.
   */
  request(topic: string, payload: string | Uint8Array, options: RequestOptions = {}): Promise<Message> {
    const run = extensions.request;
    if (run === undefined)
      return Promise.reject(notInstalled('request', 'steadfast-mqtt/request', 'useRequest()'));
    return run(this, topic, payload, options);
  }

  /**
   * Serves requests on `filter`: `handler`'s result is published to each
   * request's response topic with its correlation data. Returns the
   * subscription. Needs the request module, as `request()` does.
   */
  respond(filter: string, handler: RequestHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    const run = extensions.respond;
    if (run === undefined)
      return Promise.reject(notInstalled('respond', 'steadfast-mqtt/request', 'useRequest()'));
    return run(this, filter, handler, options);
  }

  /**
   * Closes the client: sends DISCONNECT (MQTT 5 `reasonCode`, default 0, or
   * 0x04 to have the broker publish the will), closes the link, and rejects
   * what is still pending with CLIENT_CLOSED.
   */
  async end(reasonCode: number = ReasonCode.NormalDisconnection, properties?: Properties): Promise<void> {
    if (this.#closedError) return;
    if (this.#isUp) this.#driver.input((s) => s.disconnect(reasonCode, properties));
    await this.#shutdown(new MqttError('CLIENT_CLOSED', 'the client was closed'));
  }

  async #shutdown(error: MqttError): Promise<void> {
    if (this.#closedError) return;
    this.#closedError = error;
    await this.#supervisor.stop(error);
    this.#isUp = false; // a stopped supervisor reports no 'down'
    this.#driver.input((s) => s.close(error));
    this.#store?.close();
    this.#subscriber.close(error);
    this.#delivery.close();
    this.#ready.reject(error);
  }

  /** Every output event of the Session comes here, from the driver's drain. */
  #onSessionEvent(event: SessionEvent<PublishToken, RequestToken>): void {
    switch (event.type) {
      case 'discarded':
        // The stale session is gone (3.1.1 cleanInit): open the lasting one, with no outage to report.
        this.#cleanInitPending = false;
        return this.#supervisor.reconnectNow();
      case 'up': {
        this.#cleanInitPending = false;
        this.#isUp = true;
        this.#delivery.connected();
        const outageMs = this.#outages.up(this.#supervisor.markUp(), this.#supervisor.now());
        const up: ClientEvents['up'] = {
          sessionPresent: event.sessionPresent,
          server: this.#session.server!,
        };
        if (outageMs !== undefined) up.outageMs = outageMs;
        this.emit('up', up);
        this.#ready.resolve();
        return;
      }
      case 'message':
        return this.#onMessage(event.message);
      case 'published': {
        const result: PublishResult = { reasonCode: event.reasonCode };
        if (event.properties) result.properties = event.properties;
        return event.token?.resolve(result);
      }
      case 'publish-failed':
        return event.token?.reject(event.error);
      case 'subscribe-failed':
        return event.token.reject(event.error);
      case 'redirect':
        return this.#onRedirect(event.reference, event.permanent);
      case 'subscribed':
        return event.token.resolve(event.suback.reasonCodes);
      case 'unsubscribed':
        return event.token.resolve(event.unsuback.reasonCodes);
      case 'auth':
        return void this.#onAuth(event.auth.reasonCode ?? 0, event.auth.properties?.authenticationData);
      case 'server-disconnect':
        return;
      case 'close':
        return this.#supervisor.closeLink(event.error);
      default: {
        const never: never = event;
        throw localError('INVALID_ARGUMENT', `unknown session event ${(never as SessionEvent).type}`);
      }
    }
  }

  /** MQTT 5 Server Reference: the next connection goes there (links made from URLs only). */
  #onRedirect(reference: string, permanent: boolean): void {
    if (this.options.link) return;
    const i = this.#supervisor.rotationIndex;
    const address = serverReferenceAddress(reference, this.#addresses[i]);
    if (address === undefined) return;
    if (permanent) this.#addresses[i] = address;
    this.#supervisor.redirect(makeLink(this.options, address), permanent);
  }

  async #onAuth(reasonCode: number, data: Uint8Array | undefined): Promise<void> {
    const auth = this.options.authenticator;
    if (auth === undefined) return;
    try {
      const answer = await auth.challenge(data, reasonCode);
      const properties = { authenticationMethod: auth.method, authenticationData: answer };
      this.#driver.input((s) => s.auth(ReasonCode.ContinueAuthentication, properties));
    } catch (error) {
      this.#supervisor.closeLink(
        new MqttError('CONNECTION_REFUSED', 'authentication failed', { cause: error }),
      );
    }
  }

  #onMessage(packet: PublishPacket): void {
    const message = new Message(packet);
    let ack: (() => void) | undefined;
    if (packet.qos > 0) {
      const generation = this.#session.generation;
      const id = packet.packetId!;
      const qos = packet.qos as 1 | 2;
      const acknowledge = (reasonCode: number) => this.#driver.acknowledge(id, qos, generation, reasonCode);
      if (this.options.manualAck) message.ackHandler = acknowledge;
      ack = () => void acknowledge(ReasonCode.Success);
    }
    const listening = this.listenerCount('message') > 0;
    if (listening) this.emit('message', message);
    this.#delivery.arrive(message, ack, this.#router.claimantsOf(packet, message), listening);
  }
}

function aborted(signal: AbortSignal): MqttError {
  return new MqttError('ABORTED', 'the publication was aborted', { cause: signal.reason });
}

/** Creates a client and waits until it is connected (see `Client.ready` for when this rejects). */
export async function connect(options: ClientOptions & { readyTimeout?: number }): Promise<Client> {
  const client = new Client(options).start();
  try {
    await client.ready(options.readyTimeout);
  } catch (error) {
    await client.end();
    throw error;
  }
  return client;
}
