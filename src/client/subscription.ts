/**
 * A subscription: an async iterator of its messages (`for await`), or a
 * callback, and a way to unsubscribe.
 */

import { topicMatches } from '../codec/topic.ts';
import type { MqttError } from '../errors.ts';
import type { Message } from './message.ts';

interface Waiter {
  resolve(result: IteratorResult<Message>): void;
  reject(error: unknown): void;
}

/** One `subscribe()` call's filters: iterate it (`for await`) for their messages, `unsubscribe()` to stop. */
export class Subscription implements AsyncIterable<Message> {
  /** The topic filters of this subscription. */
  readonly filters: string[];
  /** One per filter: the QoS granted (0, 1, 2) or a failure reason code (>= 0x80). */
  readonly granted: number[];
  /** @internal the MQTT 5 subscription identifier, when the broker supports them. */
  readonly identifier: number | undefined;
  readonly #buffer: Message[] = [];
  readonly #waiters: Waiter[] = [];
  #ended: MqttError | undefined;
  readonly #onMessage: ((message: Message) => void) | undefined;
  readonly #doUnsubscribe: (s: Subscription) => Promise<void>;
  #closed = false;

  /** @internal */
  constructor(
    filters: string[],
    granted: number[],
    identifier: number | undefined,
    onMessage: ((message: Message) => void) | undefined,
    unsubscribe: (s: Subscription) => Promise<void>,
  ) {
    this.filters = filters;
    this.granted = granted;
    this.identifier = identifier;
    this.#onMessage = onMessage;
    this.#doUnsubscribe = unsubscribe;
  }

  /**
   * @internal Whether a message belongs here: by the identifier the broker now
   * holds for each of our filters (`current`) when it sent any, else by topic.
   */
  matches(message: Message, identifiers: number[], current: ReadonlyMap<string, number>): boolean {
    // A plain loop: this runs for every message and every subscription.
    const filters = this.filters;
    for (let i = 0; i < filters.length; i++) {
      if (this.granted[i] >= 0x80) continue;
      const filter = filters[i];
      const id = identifiers.length > 0 ? current.get(filter) : undefined;
      if (id !== undefined ? identifiers.includes(id) : topicMatches(filter, message.topic)) return true;
    }
    return false;
  }

  /** @internal */
  deliver(message: Message): void {
    if (this.#closed) return;
    if (this.#onMessage !== undefined) {
      this.#onMessage(message);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value: message, done: false });
    else this.#buffer.push(message);
  }

  /** @internal Ends iteration: normally on unsubscribe, with an error when the client closed. */
  end(error?: MqttError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = error;
    for (const waiter of this.#waiters.splice(0)) {
      if (error && this.#buffer.length === 0) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  /** Messages received and not yet taken by the iterator. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Unsubscribes from the broker and ends the iteration. */
  async unsubscribe(): Promise<void> {
    if (this.#closed) return;
    this.end();
    await this.#doUnsubscribe(this);
  }

  /** `for await (const message of subscription)`; leaving the loop early unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        const message = this.#buffer.shift();
        if (message !== undefined) return Promise.resolve({ value: message, done: false });
        if (this.#closed) {
          return this.#ended
            ? Promise.reject(this.#ended)
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      },
      // `break` out of a for-await loop unsubscribes.
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }
}
