/**
 * A subscription: an async iterator of its messages (`for await`), or a
 * callback, and a way to unsubscribe. It exists from the moment `subscribe()`
 * is called, before the broker has granted it, so that messages a resumed
 * session delivers right after CONNACK find it.
 *
 * A message counts as taken by the application (and is then acknowledged,
 * see delivery.ts) when the callback has returned, or the promise it returned
 * has settled, or when the `for await` body comes back for the next message
 * (or leaves the loop). Callbacks get one message at a time, in order.
 */

import { isFailure } from '../codec/reason-codes.ts';
import { topicMatches } from '../codec/topic.ts';
import type { MqttError } from '../errors.ts';
import type { Delivered } from './delivery.ts';
import type { Message } from './message.ts';

interface Waiter {
  resolve(result: IteratorResult<Message>): void;
  reject(error: unknown): void;
}

/** What a Subscription needs from its client. */
export interface SubscriptionHost {
  /** Unsubscribes its filters from the broker (those no other subscription uses). */
  unsubscribe(subscription: Subscription): Promise<void>;
  /** A callback threw or its promise rejected: the message still counts as taken. */
  handlerFailed(error: unknown, message: Message): void;
}

/** One `subscribe()` call's filters: iterate it (`for await`) for their messages, `unsubscribe()` to stop. */
export class Subscription implements AsyncIterable<Message> {
  /** The topic filters of this subscription. */
  readonly filters: string[];
  /**
   * One per filter: the QoS granted (0, 1, 2) or a failure reason code (>= 0x80).
   * Empty until the broker has answered (SUBACK).
   */
  granted: number[] = [];
  /** @internal the MQTT 5 subscription identifier, when one is sent. */
  readonly identifier: number | undefined;
  readonly #buffer: Delivered[] = [];
  readonly #waiters: Waiter[] = [];
  /** Iterator: the message the loop body is working on, taken when it asks for the next. */
  #current: Delivered | undefined;
  /** Callback: a handler's promise has not settled yet. */
  #busy = false;
  #ended: MqttError | undefined;
  readonly #onMessage: ((message: Message) => unknown) | undefined;
  readonly #host: SubscriptionHost;
  #closed = false;

  /** @internal */
  constructor(
    filters: string[],
    identifier: number | undefined,
    onMessage: ((message: Message) => unknown) | undefined,
    host: SubscriptionHost,
  ) {
    this.filters = filters;
    this.identifier = identifier;
    this.#onMessage = onMessage;
    this.#host = host;
  }

  /**
   * @internal Whether a message belongs here. By identifier when the message
   * carries one the client gave (`current`: the identifier the broker now holds
   * for each filter); by topic when it carries none of ours (none at all, or
   * identifiers of an earlier process's subscriptions).
   */
  matches(
    message: Message,
    identifiers: number[],
    current: ReadonlyMap<string, number>,
    ours: boolean,
  ): boolean {
    // A plain loop: this runs for every message and every subscription.
    const filters = this.filters;
    for (let i = 0; i < filters.length; i++) {
      if (isFailure(this.granted[i])) continue;
      const filter = filters[i];
      if (ours) {
        const id = current.get(filter);
        if (id !== undefined && identifiers.includes(id)) return true;
      } else if (topicMatches(filter, message.topic)) {
        return true;
      }
    }
    return false;
  }

  /** @internal Takes a message (already claimed for this subscription). */
  deliver(item: Delivered): void {
    if (this.#closed) {
      item.discard();
      return;
    }
    if (this.#onMessage !== undefined) {
      this.#buffer.push(item);
      this.#pump();
      if (this.#buffer.includes(item)) item.message.compact();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      item.message.compact();
      this.#buffer.push(item);
      return;
    }
    this.#current = item;
    waiter.resolve({ value: item.message, done: false });
  }

  /** Callbacks: one message at a time, the next once the previous one's handler is done. */
  #pump(): void {
    const handler = this.#onMessage!;
    while (!this.#busy && !this.#closed && this.#buffer.length > 0) {
      const item = this.#buffer.shift()!;
      let result: unknown;
      try {
        result = handler(item.message);
      } catch (error) {
        this.#host.handlerFailed(error, item.message);
        item.take();
        continue;
      }
      if (!isThenable(result)) {
        item.take();
        continue;
      }
      this.#busy = true;
      const done = () => {
        this.#busy = false;
        item.take();
        this.#pump();
      };
      result.then(done, (error: unknown) => {
        this.#host.handlerFailed(error, item.message);
        done();
      });
    }
  }

  /**
   * @internal Ends the subscription. Messages not yet handed to the application
   * are discarded (acknowledged: it no longer wants them) on unsubscribe, and
   * abandoned (not acknowledged: the broker delivers them again) when the client
   * closed, `error` set unless it closed normally.
   */
  end(error?: MqttError, closing = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = error;
    for (const item of this.#buffer.splice(0)) {
      if (closing) item.abandon();
      else item.discard();
    }
    if (closing && this.#current !== undefined) {
      this.#current.abandon();
      this.#current = undefined;
    }
    for (const waiter of this.#waiters.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  /** Messages received and not yet taken by the iterator or callback. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Unsubscribes from the broker and ends the iteration. */
  async unsubscribe(): Promise<void> {
    if (this.#closed) return;
    this.end();
    await this.#host.unsubscribe(this);
  }

  /** The loop body is done with the message it had. */
  #takeCurrent(): void {
    const current = this.#current;
    this.#current = undefined;
    current?.take();
  }

  /** `for await (const message of subscription)`; leaving the loop early unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        this.#takeCurrent();
        const item = this.#buffer.shift();
        if (item !== undefined) {
          this.#current = item;
          return Promise.resolve({ value: item.message, done: false });
        }
        if (this.#closed) {
          return this.#ended
            ? Promise.reject(this.#ended)
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      },
      // `break` out of a for-await loop (or a throw in its body) takes the message and unsubscribes.
      return: async () => {
        this.#takeCurrent();
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
