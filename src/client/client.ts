/**
 * The Client: the async API over a Session and its Supervisor. It turns
 * session events into resolved promises, messages for subscriptions, and
 * `up`/`down` events. It is thin on purpose: protocol rules live in the
 * Session, links and time in the Supervisor.
 */

import { validateTopicName } from '../codec/topic.ts';
import type { Properties, QoS, Subscription as SubscriptionSpec } from '../codec/types.ts';
import { localError, MqttError } from '../errors.ts';
import type { Link } from '../links/types.ts';
import { parseBrokerUrl } from '../links/url.ts';
import { type ServerCapabilities, Session } from '../session/session.ts';
import type { SessionEvent, SessionOptions } from '../session/types.ts';
import { Emitter } from './emitter.ts';
import { Message } from './message.ts';
import { type ClientOptions, randomClientId, toBytes } from './options.ts';
import { Requester } from './request.ts';
import { Subscription } from './subscription.ts';
import { Supervisor } from './supervisor.ts';

export interface PublishOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 properties: contentType, responseTopic, correlationData, userProperties, messageExpiryInterval... */
  properties?: Properties;
}

/** What the broker answered to a publication. */
export interface PublishResult {
  /** 0 for QoS 0 and for success; MQTT 5 success codes such as 0x10 No matching subscribers. */
  reasonCode: number;
  properties?: Properties;
}

export interface SubscribeOptions {
  /** Maximum QoS for these filters. Default 0. */
  qos?: QoS;
  /** MQTT 5: don't receive our own publications. Default false. */
  noLocal?: boolean;
  /** MQTT 5: keep the retain flag as published. Default false. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never. Default 0. */
  retainHandling?: 0 | 1 | 2;
  /** MQTT 5 SUBSCRIBE properties (user properties). The subscription identifier is managed by the client. */
  properties?: Properties;
  /** Receive messages by callback instead of iterating the subscription. */
  onMessage?: (message: Message) => void;
}

export interface ClientEvents extends Record<string, unknown> {
  /** Connected (CONNACK accepted). */
  up: { sessionPresent: boolean; server: ServerCapabilities };
  /** The connection ended; the client reconnects unless it was closed. */
  down: { cause: MqttError; wasUp: boolean };
  /** Every inbound message, whichever subscription it matched. */
  message: Message;
}

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> & { promise: Promise<T> } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class Client extends Emitter<ClientEvents> {
  readonly options: ClientOptions;
  private readonly session: Session;
  private readonly supervisor: Supervisor;
  private readonly activeSubscriptions = new Set<Subscription>();
  /**
   * MQTT 5: the subscription identifier the broker holds for each filter. A new
   * subscription on a filter replaces the broker's (and its identifier), so every
   * Subscription on that filter is matched by the latest one.
   */
  private readonly identifierByFilter = new Map<string, number>();
  private nextSubscriptionId = 1;
  private isUp = false;
  private closedError: MqttError | undefined;
  /** cleanInit: the next connection starts clean; cleared when one is up. */
  private cleanInitPending: boolean;
  private readyWaiters: Deferred<void>[] = [];
  /** Request/response helper, made on first use. */
  private requester: Requester | undefined;

  constructor(options: ClientOptions) {
    super();
    this.options = options;
    const links = makeLinks(options);
    const version = options.protocolVersion ?? 5;
    const clean = options.clean ?? false;
    this.cleanInitPending = !clean && (options.cleanInit ?? false);
    let properties = options.properties;
    if (version === 5 && !clean && properties?.sessionExpiryInterval === undefined) {
      properties = { ...properties, sessionExpiryInterval: 0xffff_ffff };
    }
    if (options.authenticator) {
      const data = options.authenticator.initialData?.();
      properties = { ...properties, authenticationMethod: options.authenticator.method };
      if (data) properties.authenticationData = data;
    }
    const firstUrl = Array.isArray(options.url) ? options.url[0] : options.url;
    const fromUrl = firstUrl ? parseBrokerUrl(firstUrl) : undefined;
    const username = options.username ?? fromUrl?.username;
    const password = options.password ?? fromUrl?.password;
    const sessionOptions: SessionOptions = {
      protocolVersion: version,
      clientId: options.clientId ?? randomClientId(),
      keepalive: options.keepalive ?? 60,
      outboundTopicAliases: options.topicAliases ?? true,
      manualAck: options.manualAck ?? false,
      connectTimeout: options.connectTimeout ?? 30_000,
    };
    if (options.responseTimeout !== undefined) sessionOptions.responseTimeout = options.responseTimeout;
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
    this.session = new Session(sessionOptions, {
      send: (bytes) => this.supervisor.write(bytes),
      emit: (event) => this.onSessionEvent(event),
    });
    this.supervisor = new Supervisor(
      this.session,
      {
        links,
        clean: () => clean || this.cleanInitPending,
        reconnectPeriod: options.reconnectPeriod ?? 1000,
        reconnectPeriodMax: options.reconnectPeriodMax ?? 30_000,
        connectTimeout: options.connectTimeout ?? 30_000,
      },
      {
        down: (cause, wasUp) => {
          this.isUp = false;
          this.emit('down', { cause, wasUp });
        },
        fatal: (cause) => void this.shutdown(cause),
      },
    );
  }

  /** Starts connecting (and reconnecting). `connect()` calls this for you. */
  start(): this {
    this.supervisor.start();
    return this;
  }

  /** The client id in use (the broker may have assigned it). */
  get clientId(): string {
    return this.session.clientId;
  }

  /** True while connected. */
  get connected(): boolean {
    return this.isUp;
  }

  /** What the broker said about itself in its last CONNACK. */
  get server(): ServerCapabilities | undefined {
    return this.session.server;
  }

  /**
   * Resolves when connected. Rejects when the client is closed, when the
   * broker refuses the connection for good (bad credentials, not authorized...),
   * or after `timeout` ms (with the last connection error as `cause`).
   */
  ready(timeout?: number): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.isUp) return Promise.resolve();
    const waiter = deferred<void>();
    this.readyWaiters.push(waiter);
    if (timeout === undefined) return waiter.promise;
    let lastCause: MqttError | undefined;
    const offDown = this.on('down', ({ cause }) => {
      lastCause = cause;
    });
    const timer = setTimeout(() => {
      const detail = lastCause ? `: ${lastCause.message}` : '';
      waiter.reject(
        new MqttError('TIMEOUT', `not connected within ${timeout} ms${detail}`, { cause: lastCause }),
      );
    }, timeout);
    return waiter.promise.finally(() => {
      clearTimeout(timer);
      offDown();
      this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
    });
  }

  /**
   * Publishes a message. Resolves when its QoS flow completes (QoS 0: handed
   * to the link; QoS 1: PUBACK; QoS 2: PUBCOMP), across any number of
   * outages. Rejects for a refusal (reason code >= 0x80), an invalid topic or
   * size, an expired message, or a closed client.
   */
  publish(topic: string, payload: string | Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    if (this.closedError) return Promise.reject(this.closedError);
    try {
      validateTopicName(topic); // at once, even offline: a bad topic must never reach the queue
    } catch (error) {
      return Promise.reject(error);
    }
    const done = deferred<PublishResult>();
    const message = {
      topic,
      payload: toBytes(payload),
      qos: options.qos ?? 0,
      retain: options.retain ?? false,
      properties: options.properties,
    };
    this.session.publish(message, done, this.supervisor.now());
    this.supervisor.armTimer();
    return done.promise;
  }

  /**
   * Subscribes to one or more topic filters. The returned Subscription is an
   * async iterator of its messages; `onMessage` delivers by callback instead.
   * Rejects when the broker refuses every filter.
   */
  async subscribe(filters: string | string[], options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closedError) throw this.closedError;
    const list = Array.isArray(filters) ? filters : [filters];
    const specs: SubscriptionSpec[] = list.map((topic) => {
      const spec: SubscriptionSpec = { topic, qos: options.qos ?? 0 };
      if (options.noLocal !== undefined) spec.noLocal = options.noLocal;
      if (options.retainAsPublished !== undefined) spec.retainAsPublished = options.retainAsPublished;
      if (options.retainHandling !== undefined) spec.retainHandling = options.retainHandling;
      return spec;
    });
    let properties = options.properties;
    let identifier: number | undefined;
    if (this.session.version === 5 && this.session.server?.subscriptionIdentifiersAvailable !== false) {
      identifier = this.nextSubscriptionId++;
      properties = { ...properties, subscriptionIdentifier: identifier };
    }
    const done = deferred<SessionEvent & { type: 'subscribed' }>();
    this.session.subscribe(specs, properties, done);
    const event = await done.promise;
    const granted = event.suback.reasonCodes;
    if (granted.every((code) => code >= 0x80)) {
      throw new MqttError('REFUSED', `the broker refused the subscription to ${list.join(', ')}`, {
        reasonCode: granted[0],
        side: 'remote',
      });
    }
    if (identifier !== undefined) {
      list.forEach((filter, i) => {
        if (granted[i] < 0x80) this.identifierByFilter.set(filter, identifier);
      });
    }
    const subscription = new Subscription(list, granted, identifier, options.onMessage, (s) =>
      this.unsubscribeOne(s),
    );
    this.activeSubscriptions.add(subscription);
    return subscription;
  }

  /** Unsubscribes from topic filters (all subscriptions on them end). */
  async unsubscribe(filters: string | string[], properties?: Properties): Promise<number[]> {
    if (this.closedError) throw this.closedError;
    const list = Array.isArray(filters) ? filters : [filters];
    for (const s of this.activeSubscriptions) {
      if (s.filters.every((f) => list.includes(f))) {
        s.end();
        this.activeSubscriptions.delete(s);
      }
    }
    for (const filter of list) this.identifierByFilter.delete(filter);
    const done = deferred<SessionEvent & { type: 'unsubscribed' }>();
    this.session.unsubscribe(list, properties, done);
    return (await done.promise).unsuback.reasonCodes;
  }

  private async unsubscribeOne(subscription: Subscription): Promise<void> {
    this.activeSubscriptions.delete(subscription);
    if (this.closedError) return;
    // Filters still used by another subscription stay subscribed at the broker.
    const stillUsed = new Set<string>();
    for (const s of this.activeSubscriptions) for (const f of s.filters) stillUsed.add(f);
    const filters = subscription.filters.filter((f) => !stillUsed.has(f));
    if (filters.length > 0) await this.unsubscribe(filters);
  }

  /**
   * MQTT 5 request/response: publishes `payload` with a response topic and
   * correlation data, and resolves with the response (or rejects with TIMEOUT).
   */
  request(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions & { timeout?: number } = {},
  ): Promise<Message> {
    this.requester ??= new Requester(this);
    return this.requester.request(topic, payload, options);
  }

  /**
   * Serves requests on `filter`: `handler`'s result is published to each
   * request's response topic with its correlation data. Returns the subscription.
   */
  respond(
    filter: string,
    handler: (request: Message) => string | Uint8Array | Promise<string | Uint8Array>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.requester ??= new Requester(this);
    return this.requester.respond(filter, handler, options);
  }

  /**
   * Closes the client: sends DISCONNECT (MQTT 5 `reasonCode`, default 0, or
   * 0x04 to have the broker publish the will), closes the link, and rejects
   * what is still pending with CLIENT_CLOSED.
   */
  async end(reasonCode = 0, properties?: Properties): Promise<void> {
    if (this.closedError) return;
    if (this.isUp) this.session.disconnect(reasonCode, properties);
    await this.shutdown(new MqttError('CLIENT_CLOSED', 'the client was closed'));
  }

  private async shutdown(error: MqttError): Promise<void> {
    if (this.closedError) return;
    this.closedError = error;
    await this.supervisor.stop();
    this.isUp = false; // a stopped supervisor reports no 'down'
    this.session.outbound.failAll(error);
    this.session.subscriptions.failAll(error);
    for (const s of this.activeSubscriptions) s.end(error.code === 'CLIENT_CLOSED' ? undefined : error);
    this.activeSubscriptions.clear();
    for (const w of this.readyWaiters.splice(0)) w.reject(error);
    this.requester?.close(error);
  }

  private onSessionEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'up':
        if (this.cleanInitPending) {
          this.cleanInitPending = false;
          if (this.session.version === 4) {
            // A 3.1.1 clean session ends with its connection: this one only discarded the
            // stale session. Reconnect without clean to start one that lasts (mqtt_as's method).
            this.session.disconnect();
            this.supervisor.reconnectNow();
            return;
          }
        }
        this.isUp = true;
        this.supervisor.markUp();
        this.emit('up', { sessionPresent: event.sessionPresent, server: this.session.server! });
        for (const w of this.readyWaiters.splice(0)) w.resolve();
        return;
      case 'message':
        return this.onMessage(event.message);
      case 'published': {
        const result: PublishResult = { reasonCode: event.reasonCode };
        if (event.properties) result.properties = event.properties;
        return (event.token as Deferred<PublishResult>).resolve(result);
      }
      case 'publish-failed':
      case 'subscribe-failed':
        return (event.token as Deferred<unknown>).reject(event.error);
      case 'subscribed':
      case 'unsubscribed':
        return (event.token as Deferred<unknown>).resolve(event);
      case 'auth':
        return void this.onAuth(event.auth.reasonCode ?? 0, event.auth.properties?.authenticationData);
      case 'server-disconnect':
        return;
      case 'close':
        return this.supervisor.closeLink(event.error);
      default: {
        const never: never = event;
        throw localError('INVALID_ARGUMENT', `unknown session event ${(never as SessionEvent).type}`);
      }
    }
  }

  private async onAuth(reasonCode: number, data: Uint8Array | undefined): Promise<void> {
    const auth = this.options.authenticator;
    if (auth === undefined) return;
    try {
      const answer = await auth.challenge(data, reasonCode);
      this.session.auth(0x18, { authenticationMethod: auth.method, authenticationData: answer });
      this.supervisor.armTimer();
    } catch (error) {
      this.supervisor.closeLink(
        new MqttError('CONNECTION_REFUSED', 'authentication failed', { cause: error }),
      );
    }
  }

  private onMessage(packet: import('../codec/types.ts').PublishPacket): void {
    const message = new Message(packet);
    if (this.options.manualAck && packet.qos > 0) {
      const epoch = this.session.inbound.epoch;
      const id = packet.packetId!;
      const qos = packet.qos as 1 | 2;
      message.ackHandler = (reasonCode) => {
        const ok = this.session.acknowledge(id, qos, epoch, reasonCode);
        this.supervisor.armTimer();
        return ok;
      };
    }
    this.emit('message', message);
    const ids = message.subscriptionIdentifiers;
    for (const s of this.activeSubscriptions) {
      if (s.matches(message, ids, this.identifierByFilter)) s.deliver(message);
    }
  }
}

function makeLinks(options: ClientOptions): Link[] {
  if (options.link) return [options.link];
  const urls = options.url === undefined ? [] : Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0) throw localError('INVALID_ARGUMENT', 'give a broker url or a link');
  const factory = options.linkFactory;
  if (factory === undefined)
    throw localError('INVALID_ARGUMENT', 'no link factory: import from steadfast-mqtt/node in Node');
  return urls.map((url) => factory(parseBrokerUrl(url)));
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
