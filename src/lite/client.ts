/**
 * The lite client: MQTT 3.1.1 only, for bundles where every kilobyte counts.
 * QoS 0, 1 and 2 both ways, keepalive with outage detection, reconnect with
 * exponential backoff and full jitter, and session resume: the broker keeps
 * the session (clean session false by default), unacknowledged PUBLISH and
 * PUBREL packets are re-sent in their original order on every reconnect, and
 * the subscriptions are made again when the broker has lost the session.
 *
 * What it leaves to the full client (`steadfast-mqtt`): MQTT 5, a persistent
 * session store, offline queue limits, write backpressure, server rotation,
 * request/response, manual acks. Everything is in memory: a page reload
 * loses the messages in flight, as with any in-memory client.
 */
import {
  ClientDecoder4,
  DISCONNECT_4,
  encodeAck4,
  encodeConnect4,
  encodePublish4,
  encodeSubscribe4,
  PINGREQ_4,
  type ServerPacket4,
  utf8Bytes,
} from '../codec/client-v4.ts';
import { topicMatches } from '../codec/topic.ts';
import type { QoS } from '../codec/types.ts';
import { MqttError } from '../errors.ts';
import type { Connection } from '../links/types.ts';
import { type LiteEvents, LiteMessage, type LiteOptions } from './message.ts';

/** An exchange waiting for the broker's answer, keyed by packet identifier. */
interface Pending {
  /** What to send (again): the PUBLISH, the PUBREL once PUBREC came, or the SUBSCRIBE / UNSUBSCRIBE. */
  bytes: Uint8Array;
  /** The packet that moves this exchange on. */
  expect: Ack;
  /** Set once a PUBLISH has gone out, so a re-send carries DUP. */
  sent?: boolean;
  done(result: number[]): void;
  fail(error: Error): void;
}

/** The answers an exchange waits for; '' for none (QoS 0). */
type Ack = 'puback' | 'pubrec' | 'pubcomp' | 'suback' | 'unsuback' | '';

/** MQTT 3.1.1 CONNACK return codes 1 to 5, in the words of the specification (section 3.2.2.3). */
const REFUSALS = [
  'unacceptable protocol version',
  'identifier rejected',
  'server unavailable',
  'bad user name or password',
  'not authorized',
];

/** A payload or password as bytes: a string is sent as UTF-8, like the full client does. */
function utf8(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? utf8Bytes(s) : s;
}

/**
 * Calls an application handler, then `done` once it returned or the promise it
 * returned settled; its error is reported on the next turn instead of taking
 * the connection down.
 */
function deliver<T>(handler: (value: T) => unknown, value: T, done?: () => unknown): void {
  const fail = (error: unknown) => {
    done?.();
    queueMicrotask(() => {
      throw error;
    });
  };
  try {
    const result = handler(value) as PromiseLike<unknown> | undefined;
    if (typeof result?.then === 'function') result.then(done, fail);
    else done?.();
  } catch (error) {
    fail(error);
  }
}

/** States of an inbound id (see `#inbound`). */
const HELD = 0;
const RELEASING = 1;
const OWED = 2;
/** Messages held for a subscription to come; more QoS 0 ones are dropped, more QoS 1/2 ones acked and dropped. */
const MAX_UNCLAIMED = 100;

function closedError(): MqttError {
  return new MqttError('CLIENT_CLOSED', 'the client was ended');
}

/**
 * The MQTT 3.1.1-only client: publish and subscribe at QoS 0, 1 and 2, with keepalive, reconnect with backoff and session resume.
 * Made by `connect()` from `steadfast-mqtt/lite`.
 */
export class LiteClient {
  /** The client identifier sent in CONNECT. */
  readonly clientId: string;
  readonly #options: LiteOptions;
  readonly #connectBytes: Uint8Array;
  #conn: Connection | undefined;
  #decoder: ClientDecoder4 | undefined;
  #online = false;
  #ended = false;
  /** Failed attempts since the last successful connection: the backoff exponent. */
  #attempt = 0;
  /** Counts connection attempts; an attempt whose number is no longer current is abandoned. */
  #attemptId = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pinger: ReturnType<typeof setInterval> | undefined;
  /** Whether anything arrived since the last PINGREQ. */
  #heard = true;
  #lastId = 0;
  /** Outbound exchanges by packet identifier, in the order they started (a Map keeps insertion order). */
  readonly #pending = new Map<number, Pending>();
  /** QoS 0 messages published while offline, sent when the connection is back. */
  #queued: [bytes: Uint8Array, done: () => void][] = [];
  /**
   * Inbound QoS 1/2 ids the application holds (HELD) or has finished with:
   * QoS 2 between PUBREC and PUBREL (RELEASING), QoS 1 acked while offline
   * (OWED). A PUBLISH re-sent with such an id is the same message (a sender
   * may not reuse an id before its ack): it is never delivered again.
   */
  readonly #inbound = new Map<number, number>();
  /** Messages no subscription handler or listener took yet, oldest first (bounded); their acks wait. */
  #unclaimed: [message: LiteMessage, ack: () => void, at: number][] = [];
  #unclaimedTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the first connection came up (ms since the epoch). */
  #firstUp = 0;
  /** Granted subscriptions, to make again when the broker has lost the session. */
  readonly #filters = new Map<string, QoS>();
  #routes: [filter: string, onMessage: (m: LiteMessage) => unknown][] = [];
  readonly #listeners: { [K in keyof LiteEvents]?: ((value: LiteEvents[K]) => void)[] } = {};
  /** Settles the first connection attempt (`start()`). */
  #first: [resolve: () => void, reject: (e: Error) => void] | undefined;

  constructor(options: LiteOptions) {
    this.#options = options;
    this.clientId = options.clientId ?? `steadfast_${Math.random().toString(36).slice(2, 10)}`;
    const w = options.will;
    this.#connectBytes = encodeConnect4({
      clientId: this.clientId,
      clean: options.clean ?? false,
      keepalive: options.keepalive ?? 60,
      username: options.username,
      password: options.password === undefined ? undefined : utf8(options.password),
      will: w && { topic: w.topic, payload: utf8(w.payload), qos: w.qos ?? 0, retain: w.retain ?? false },
    });
  }

  /** Calls `listener` on every `event`; returns a function that stops it. A listener that throws does not stop the others. */
  on<K extends keyof LiteEvents>(event: K, listener: (value: LiteEvents[K]) => void): () => void {
    const list: ((value: LiteEvents[K]) => void)[] = this.#listeners[event] ?? [];
    this.#listeners[event] = list as never;
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  #emit<K extends keyof LiteEvents>(event: K, value: LiteEvents[K]): void {
    for (const listener of [...(this.#listeners[event] ?? [])]) deliver(listener, value);
  }

  /** Whether the client is connected right now. */
  get connected(): boolean {
    return this.#online;
  }

  /**
   * Connects. Resolves once the broker accepts; rejects (and ends the client)
   * when this first attempt fails, so a wrong URL or refused credentials show
   * at once. After that, outages are handled without the application.
   */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#first = [resolve, reject];
      this.#open();
    });
  }

  /**
   * Publishes. Resolves when the QoS flow completes (QoS 0: handed to the
   * link; 1: PUBACK; 2: PUBCOMP), across outages; messages published while
   * offline go out in order once connected. Rejects with CLIENT_CLOSED when
   * the client is ended first, and with INVALID_ARGUMENT or
   * TOPIC_NAME_INVALID for what MQTT cannot carry (nothing is sent).
   */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: { qos?: QoS; retain?: boolean } = {},
  ): Promise<void> {
    const qos = options.qos ?? 0;
    return this.#exchange(qos === 0 ? '' : qos === 1 ? 'puback' : 'pubrec', (packetId) =>
      encodePublish4(topic, utf8(payload), qos, options.retain ?? false, false, packetId),
    ).then(() => {});
  }

  /**
   * Subscribes to one or more topic filters at `qos` (default 0); `onMessage`,
   * if given, gets the messages whose topic matches. Resolves with the
   * granted QoS per filter (0x80 where the broker refused one); rejects with
   * REFUSED when the broker refused them all.
   */
  async subscribe(
    filters: string | string[],
    options: { qos?: QoS } = {},
    onMessage?: (message: LiteMessage) => unknown,
  ): Promise<number[]> {
    const list = typeof filters === 'string' ? [filters] : filters;
    const qos = options.qos ?? 0;
    const routes = onMessage === undefined ? [] : list.map((f): [string, typeof onMessage] => [f, onMessage]);
    // Routed before SUBACK (also before start()): retained messages may follow it in the same chunk,
    // and a resumed session's queued messages come right after CONNACK.
    this.#routes.push(...routes);
    if (routes.length > 0) this.#offerUnclaimed();
    try {
      const granted = await this.#exchange('suback', (packetId) => encodeSubscribe4(packetId, list, qos));
      list.forEach((f, i) => {
        if (granted[i] < 0x80) this.#filters.set(f, qos);
      });
      if (granted.every((code) => code >= 0x80)) {
        throw new MqttError('REFUSED', `the broker refused the subscription to ${list.join(', ')}`, {
          reasonCode: 0x80,
        });
      }
      return granted;
    } catch (error) {
      this.#routes = this.#routes.filter((r) => !routes.includes(r));
      throw error;
    }
  }

  /** Unsubscribes from topic filters, and drops their `onMessage` handlers. */
  async unsubscribe(filters: string | string[]): Promise<void> {
    const list = typeof filters === 'string' ? [filters] : filters;
    await this.#exchange('unsuback', (packetId) => encodeSubscribe4(packetId, list));
    for (const f of list) this.#filters.delete(f);
    this.#routes = this.#routes.filter(([filter]) => !list.includes(filter));
  }

  /**
   * Disconnects (DISCONNECT, so the broker discards the will) and stops
   * reconnecting. What is still in flight rejects with CLIENT_CLOSED; with
   * `clean: false` the broker keeps the session for the next client with
   * this identifier.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const conn = this.#conn;
    if (this.#online) conn?.write(DISCONNECT_4);
    this.#lost(closedError());
    conn?.close();
    for (const p of this.#pending.values()) p.fail(closedError());
    this.#pending.clear();
    this.#queued = [];
    clearTimeout(this.#unclaimedTimer);
    this.#first?.[1](closedError());
    this.#first = undefined;
  }

  /** Starts an exchange: encodes the packet with a fresh packet identifier (none for QoS 0) and sends it when online. */
  #exchange(expect: Ack, encode: (packetId: number) => Uint8Array): Promise<number[]> {
    if (this.#ended) return Promise.reject(closedError());
    let id = 0;
    if (expect) {
      if (this.#pending.size >= 0xffff) {
        return Promise.reject(new MqttError('QUEUE_FULL', 'all 65,535 packet identifiers are in use'));
      }
      id = this.#lastId;
      do id = (id % 0xffff) + 1;
      while (this.#pending.has(id));
      this.#lastId = id;
    }
    let bytes: Uint8Array;
    try {
      bytes = encode(id);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((done, fail) => {
      if (!expect) {
        if (this.#online) {
          this.#write(bytes);
          done([]);
        } else this.#queued.push([bytes, () => done([])]);
        return;
      }
      const p: Pending = { bytes, expect, done, fail };
      this.#pending.set(id, p);
      if (this.#online) this.#send(p);
    });
  }

  #send(p: Pending): void {
    let bytes = p.bytes;
    if (p.expect === 'puback' || p.expect === 'pubrec') {
      // A re-sent PUBLISH carries DUP [MQTT-3.3.1-1]; a copy, since the link may still hold the first one.
      if (p.sent) {
        bytes = bytes.slice();
        bytes[0] |= 0x08;
      }
      p.sent = true;
    }
    this.#write(bytes);
  }

  #write(bytes: Uint8Array): void {
    this.#conn?.write(bytes);
  }

  #open(): void {
    const o = this.#options;
    const attempt = ++this.#attemptId;
    const timeout = o.connectTimeout ?? 30_000;
    let conn: Connection | undefined;
    this.#timer = setTimeout(() => {
      if (attempt === this.#attemptId)
        this.#failed(this.#conn, new MqttError('TIMEOUT', `not connected after ${timeout} ms`));
    }, timeout);
    o.link
      .open({
        data: (chunk) => {
          if (conn !== undefined && conn === this.#conn) this.#receive(chunk);
        },
        close: (error) => {
          if (conn !== undefined)
            this.#failed(conn, error ?? new MqttError('CONNECTION_LOST', 'the link closed'));
        },
      })
      .then(
        (c) => {
          if (attempt !== this.#attemptId || this.#ended) return c.close();
          conn = this.#conn = c;
          this.#decoder = new ClientDecoder4(o.maximumPacketSize);
          c.write(this.#connectBytes);
        },
        (error: Error) => {
          if (attempt === this.#attemptId) this.#failed(undefined, error);
        },
      );
  }

  /** Bytes from the broker; a protocol violation takes the connection down. */
  #receive(chunk: Uint8Array): void {
    this.#heard = true;
    const decoder = this.#decoder!;
    decoder.push(chunk);
    try {
      for (let p = decoder.next(); p !== undefined && this.#decoder === decoder; p = decoder.next())
        this.#handle(p);
    } catch (error) {
      this.#failed(this.#conn, error as Error);
    }
  }

  #handle(p: ServerPacket4): void {
    switch (p.type) {
      case 'connack':
        return this.#accepted(p.sessionPresent, p.reasonCode);
      case 'publish': {
        const id = p.packetId!;
        const state = this.#inbound.get(id);
        if (p.qos > 0 && state !== undefined) {
          // A re-send: answer it if we are done with it, else the application's finish will.
          if (state !== HELD) this.#write(encodeAck4(state === OWED ? 'puback' : 'pubrec', id));
          if (state === OWED) this.#inbound.delete(id);
          return;
        }
        if (p.qos > 0) this.#inbound.set(id, HELD);
        const message = new LiteMessage(p);
        // Acknowledged once the application has taken it, never on arrival.
        const ack = () => {
          if (p.qos === 0 || this.#inbound.get(id) !== HELD) return;
          if (p.qos === 2) this.#inbound.set(id, RELEASING);
          else if (this.#online) this.#inbound.delete(id);
          else return void this.#inbound.set(id, OWED);
          if (this.#online) this.#write(encodeAck4(p.qos === 1 ? 'puback' : 'pubrec', id));
        };
        if (!this.#dispatch(message, ack)) this.#hold(message, ack);
        return;
      }
      case 'pubrel':
        this.#inbound.delete(p.packetId);
        return this.#write(encodeAck4('pubcomp', p.packetId));
      case 'pingresp':
        return;
      case 'pubrec': {
        // Also for an id we no longer know (completed before an outage): the broker waits for PUBREL.
        const pending = this.#pending.get(p.packetId);
        const pubrel = encodeAck4('pubrel', p.packetId);
        if (pending?.expect === 'pubrec') Object.assign(pending, { bytes: pubrel, expect: 'pubcomp' });
        return this.#write(pubrel);
      }
      default: {
        const pending = this.#pending.get(p.packetId);
        if (pending?.expect !== p.type) return;
        this.#pending.delete(p.packetId);
        pending.done(p.type === 'suback' ? p.reasonCodes : []);
      }
    }
  }

  /** Hands a message to its handlers and listeners; `ack` once they are all done. False when nobody takes it. */
  #dispatch(message: LiteMessage, ack: () => void): boolean {
    const handlers = new Set(this.#routes.filter(([f]) => topicMatches(f, message.topic)).map((r) => r[1]));
    const listeners = this.#listeners.message ?? [];
    if (handlers.size === 0 && listeners.length === 0) return false;
    let left = handlers.size + 1;
    const finish = () => --left || ack();
    for (const handler of handlers) deliver(handler, message, finish);
    this.#emit('message', message);
    finish();
    return true;
  }

  /** Keeps a message nobody takes yet for a subscription to come (bounded); after the wait it is acked and dropped. */
  #hold(message: LiteMessage, ack: () => void): void {
    // Held only in the first wait after the first connection (a resumed session's queue); later a
    // message nobody claims comes from a subscription the application no longer makes.
    if (
      this.#unclaimed.length >= MAX_UNCLAIMED ||
      Date.now() > this.#firstUp + (this.#options.unclaimedTimeout ?? 30_000)
    )
      return ack();
    this.#unclaimed.push([message, ack, Date.now()]);
    this.#expireUnclaimed();
  }

  #expireUnclaimed(): void {
    const wait = this.#options.unclaimedTimeout ?? 30_000;
    const due = () => (this.#unclaimed[0]?.[2] ?? Infinity) + wait - Date.now();
    while (due() <= 0) this.#unclaimed.shift()![1]();
    if (this.#unclaimedTimer || !this.#unclaimed.length) return;
    this.#unclaimedTimer = setTimeout(() => {
      this.#unclaimedTimer = undefined;
      this.#expireUnclaimed();
    }, due());
  }

  #offerUnclaimed(): void {
    const held = this.#unclaimed;
    this.#unclaimed = [];
    for (const [message, ack, at] of held) {
      if (!this.#dispatch(message, ack)) this.#unclaimed.push([message, ack, at]);
    }
  }

  #accepted(sessionPresent: boolean, code: number): void {
    if (code !== 0) {
      const reason = REFUSALS[code - 1] ?? `return code ${code}`;
      const error = new MqttError('CONNECTION_REFUSED', `the broker refused the connection: ${reason}`, {
        reasonCode: code,
        side: 'remote',
      });
      return this.#failed(this.#conn, error);
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#online = true;
    this.#firstUp ||= Date.now();
    this.#attempt = 0;
    // Unacknowledged PUBLISH and PUBREL packets again, in their original order [MQTT-4.4.0-1].
    for (const p of this.#pending.values()) this.#send(p);
    for (const [bytes, done] of this.#queued) {
      this.#write(bytes);
      done();
    }
    this.#queued = [];
    if (!sessionPresent) {
      // The broker has no session: its QoS 2 state and our subscriptions are gone with it.
      this.#inbound.clear();
      for (const [filter, qos] of this.#filters) {
        this.#exchange('suback', (id) => encodeSubscribe4(id, [filter], qos)).catch(() => {});
      }
    }
    const keepalive = this.#options.keepalive ?? 60;
    if (keepalive > 0) {
      this.#heard = true;
      this.#pinger = setInterval(() => {
        if (!this.#heard) {
          return this.#failed(
            this.#conn,
            new MqttError('TIMEOUT', `no answer to PINGREQ within ${keepalive * 750} ms`),
          );
        }
        this.#heard = false;
        this.#write(PINGREQ_4);
      }, keepalive * 750);
    }
    this.#first?.[0]();
    this.#first = undefined;
    this.#emit('up', { sessionPresent });
  }

  /** An attempt or a connection failed: take it down, then try again after a backoff (or give up on the first attempt). */
  #failed(conn: Connection | undefined, cause: Error): void {
    if (conn !== this.#conn || this.#ended) return;
    this.#lost(cause);
    conn?.close();
    const first = this.#first;
    if (first !== undefined) {
      this.#first = undefined;
      this.end();
      return first[1](cause);
    }
    const o = this.#options;
    const ceiling = Math.min(
      o.reconnectPeriodMax ?? 30_000,
      (o.reconnectPeriod ?? 1000) * 2 ** this.#attempt++,
    );
    this.#timer = setTimeout(() => this.#open(), Math.random() * ceiling);
  }

  /** Forgets the connection (and its timers); says `down` if it was up. */
  #lost(cause: Error): void {
    clearTimeout(this.#timer);
    clearInterval(this.#pinger);
    this.#attemptId++;
    this.#timer = this.#pinger = this.#conn = this.#decoder = undefined;
    if (this.#online) {
      this.#online = false;
      this.#emit('down', { cause });
    }
  }
}
