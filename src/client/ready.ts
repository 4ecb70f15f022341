/**
 * `client.ready()`'s waiters: promises that resolve at the next `up`, reject
 * when the client closes, or after their own timeout with the last
 * connection error as the cause.
 */
import { MqttError } from '../errors.ts';
import { type Deferred, deferred } from './api.ts';

/** Subscribes to the client's `down` events; returns the unsubscribe. */
type OnDown = (listener: (down: { cause: MqttError }) => void) => () => void;

export class ReadyWaiters {
  #waiters: Deferred<void>[] = [];

  /** A promise for the next `up`; with `timeout`, rejected with TIMEOUT after that many ms. */
  wait(timeout: number | undefined, onDown: OnDown): Promise<void> {
    const waiter = deferred<void>();
    this.#waiters.push(waiter);
    if (timeout === undefined) return waiter.promise;
    let lastCause: MqttError | undefined;
    const offDown = onDown(({ cause }) => {
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
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    });
  }

  /** The client is up: every waiter resolves. */
  resolve(): void {
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  /** The client closed: every waiter rejects with `error`. */
  reject(error: MqttError): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}
