/**
 * The lite client: MQTT 3.1.1 only, for bundles where every kilobyte counts.
 * QoS 0, 1 and 2 both ways, keepalive with outage detection, a quiet period
 * and reconnect with exponential backoff and full jitter, and session
 * resume: the broker keeps the session (clean session false by default),
 * unacknowledged PUBLISH and PUBREL packets are re-sent in their original
 * order on every reconnect, and the subscriptions are made again when the
 * broker has lost the session.
 *
 * The protocol lives in a sans-IO engine (core.ts) that behaves as the full
 * engine does where they overlap; this file is its host: it opens the link,
 * feeds the engine bytes and the time, writes what it sends, keeps its one
 * timer, and hands messages to the application.
 *
 * What it leaves to the full client (`steadfast-mqtt`): MQTT 5, a persistent
 * session store, offline queue limits, write backpressure, server rotation,
 * link resets in the quiet period, request/response, manual acks.
 * Everything is in memory: a page reload loses the messages in flight, as
 * with any in-memory client.
 */

import { Emitter } from '../client/emitter.ts';
import { encodePublish4, utf8Bytes } from '../codec/client-v4.ts';
import { ReasonCode } from '../codec/reason-code.ts';
import { topicMatches } from '../codec/topic.ts';
import type { QoS } from '../codec/types.ts';
import { MqttError } from '../errors.ts';
import type { Connection } from '../links/types.ts';
import { LiteCore } from './core.ts';
import { type LiteEvents, LiteMessage, type LiteOptions } from './message.ts';

/** How a command's promise is settled. */
type Settle = [done: (codes: number[]) => void, fail: (error: Error) => void];

/** A payload or password as bytes: a string is sent as UTF-8, like the full client does (undefined stays so). */
function utf8<T extends string | Uint8Array | undefined>(s: T): Uint8Array | Exclude<T, string> {
  return typeof s === 'string' ? utf8Bytes(s) : (s as Exclude<T, string>);
}

/**
 * Calls an application handler, then `done` once it returned or the promise it
 * returned settled; its error is reported on the next turn instead of taking
 * the connection down.
 */
function deliver<T>(handler: (value: T) => unknown, value: T, done: () => unknown): void {
  const fail = (error: unknown) => {
    done();
    queueMicrotask(() => {
      throw error;
    });
  };
  try {
    const result = handler(value) as PromiseLike<unknown> | undefined;
    if (typeof result?.then === 'function') result.then(done, fail);
    else done();
  } catch (error) {
    fail(error);
  }
}

/** Messages held for a subscription to come; more QoS 0 ones are dropped, more QoS 1/2 ones acked and dropped. */
const MAX_UNCLAIMED = 100;

/**
 * The MQTT 3.1.1-only client: publish and subscribe at QoS 0, 1 and 2, with keepalive, reconnect with backoff and session resume.
 * Made by `connect()` from `steadfast-mqtt/lite`.
 */
export class LiteClient extends Emitter<LiteEvents> {
  /** The client identifier sent in CONNECT. */
  readonly clientId: string;
  readonly #options: LiteOptions;
  readonly #core: LiteCore<Settle>;
  #conn: Connection | undefined;
  /** Counts link opens: an open whose number is no longer current is abandoned. */
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Messages no subscription handler or listener took yet, oldest first (bounded); their acks wait. */
  #unclaimed: [message: LiteMessage, ack: () => void, at: number][] = [];
  #unclaimedTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the first connection came up (ms since the epoch). */
  #firstUp = 0;
  #routes: [filter: string, onMessage: (m: LiteMessage) => unknown][] = [];
  /** Settles the first connection attempt (`start()`). */
  #first: [resolve: () => void, reject: (e: Error) => void] | undefined;

  constructor(options: LiteOptions) {
    super();
    this.#options = options;
    const w = options.will;
    this.#core = new LiteCore({
      ...options,
      connect: {
        clientId: options.clientId,
        clean: options.clean ?? false,
        keepalive: options.keepalive ?? 60,
        username: options.username,
        password: utf8(options.password),
        will: w && { topic: w.topic, payload: utf8(w.payload), qos: w.qos ?? 0, retain: w.retain ?? false },
      },
      random: Math.random,
    });
    this.clientId = this.#core.clientId;
  }

  /** Whether the client is connected right now. */
  get connected(): boolean {
    return this.#core.phase === 'up';
  }

  /**
   * Connects. Resolves once the broker accepts; rejects (and ends the client)
   * when this first attempt fails, so a wrong URL or refused credentials show
   * at once. After that, outages are handled without the application.
   */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#first = [resolve, reject];
      this.#run((now) => this.#core.start(now));
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
    return this.#command((settle, now) => {
      // Packet id 1 stands in until the message leaves and takes its own.
      const bytes = encodePublish4(topic, utf8(payload), qos, options.retain ?? false, false, 1);
      this.#core.publish(bytes, qos, settle, now);
    }).then(() => {});
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
    const routes = onMessage === undefined ? [] : list.map((f): [string, typeof onMessage] => [f, onMessage]);
    // Routed before SUBACK (also before start()): retained messages may follow it in the same chunk,
    // and a resumed session's queued messages come right after CONNACK.
    this.#routes.push(...routes);
    if (routes.length > 0) this.#offerUnclaimed();
    try {
      const granted = await this.#command((settle, now) =>
        this.#core.subscribe(list, options.qos ?? 0, settle, now),
      );
      // 3.1.1's SUBACK Failure is 0x80, MQTT 5's first failure code.
      if (granted.every((code) => code >= ReasonCode.UnspecifiedError)) {
        throw new MqttError('REFUSED', `the broker refused the subscription to ${list.join(', ')}`, {
          reasonCode: ReasonCode.UnspecifiedError,
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
    await this.#command((settle, now) => this.#core.subscribe(list, undefined, settle, now));
    this.#routes = this.#routes.filter(([filter]) => !list.includes(filter));
  }

  /**
   * Disconnects (DISCONNECT, so the broker discards the will) and stops
   * reconnecting. What is still in flight rejects with CLIENT_CLOSED; with
   * `clean: false` the broker keeps the session for the next client with
   * this identifier.
   */
  end(): void {
    this.#run((now) => this.#core.end(now));
    clearTimeout(this.#unclaimedTimer);
  }

  /** A command whose promise the engine settles; what MQTT cannot carry rejects at once. */
  #command(start: (settle: Settle, now: number) => void): Promise<number[]> {
    return new Promise((done, fail) => {
      try {
        this.#run((now) => start([done, fail], now));
      } catch (error) {
        fail(error);
      }
    });
  }

  /** Gives the engine one input, then carries out everything it asked for, and re-arms the timer. */
  #run(input: (now: number) => void): void {
    input(Date.now());
    const core = this.#core;
    const [bytes, events] = core.drain();
    for (const b of bytes) this.#conn?.write(b);
    for (const e of events) {
      switch (e.type) {
        case 'open':
          this.#open();
          break;
        case 'close': {
          this.#attempt++;
          // Forgotten first: a link that reports its close from within close() is then not news.
          const conn = this.#conn;
          this.#conn = undefined;
          conn?.close();
          this.#lost(e.error);
          break;
        }
        case 'up':
          this.#firstUp ||= Date.now();
          this.#first?.[0]();
          this.#first = undefined;
          this.emit('up', { sessionPresent: e.sessionPresent });
          break;
        case 'down':
          this.emit('down', { cause: e.cause });
          break;
        case 'message': {
          const message = new LiteMessage(e.message);
          // Acknowledged once the application has taken it, never on arrival.
          const ack = () => {
            if (e.message.qos > 0) this.#run((now) => core.taken(e.message, e.epoch, now));
          };
          if (!this.#dispatch(message, ack)) this.#hold(message, ack);
          break;
        }
        case 'done':
          e.token[0](e.codes);
          break;
        case 'failed':
          e.token[1](e.error);
      }
    }
    clearTimeout(this.#timer);
    const wait = core.nextDeadline() - Date.now();
    if (wait < Infinity) this.#timer = setTimeout(() => this.#run((now) => core.tick(now)), wait);
  }

  /** The first attempt failed: the client ends, and `start()` rejects with why. */
  #lost(cause: Error): void {
    const first = this.#first;
    if (first === undefined) return;
    this.#first = undefined;
    this.end();
    first[1](cause);
  }

  #open(): void {
    const attempt = ++this.#attempt;
    const core = this.#core;
    let conn: Connection | undefined;
    const closed = (error: Error) => {
      this.#conn = undefined;
      this.#run((now) => core.closed(error as MqttError, now));
      this.#lost(error);
    };
    this.#options.link
      .open({
        data: (chunk) => {
          if (conn !== undefined && conn === this.#conn) this.#run((now) => core.received(chunk, now));
        },
        close: (error) => {
          if (conn !== undefined && conn === this.#conn)
            closed(error ?? new MqttError('CONNECTION_LOST', 'the link closed'));
        },
      })
      .then(
        (c) => {
          if (attempt !== this.#attempt) return c.close();
          conn = this.#conn = c;
          this.#run((now) => core.opened(now));
        },
        (error: Error) => {
          if (attempt === this.#attempt) closed(error);
        },
      );
  }

  /** Hands a message to its handlers and listeners; `ack` once they are all done. False when nobody takes it. */
  #dispatch(message: LiteMessage, ack: () => void): boolean {
    const handlers = new Set(this.#routes.filter(([f]) => topicMatches(f, message.topic)).map((r) => r[1]));
    if (handlers.size === 0 && this.listenerCount('message') === 0) return false;
    let left = handlers.size + 1;
    const finish = () => --left || ack();
    for (const handler of handlers) deliver(handler, message, finish);
    this.emit('message', message);
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
}
