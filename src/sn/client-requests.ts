/**
 * The client's requests in flight: each sent again every `retryInterval` (Tretry) up to `retries`
 * (Nretry) times, then rejected with TIMEOUT; a reply settles the first request it matches (by
 * message type and MsgId, section 6.13 of the specification).
 */
import { localError } from '../errors.ts';
import type { SnMessage } from './codec/index.ts';

interface Waiter {
  match: (m: SnMessage) => boolean;
  resolve: (m: SnMessage) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class SnRequests {
  private waiters: Waiter[] = [];

  constructor(
    private readonly send: (message: SnMessage) => void,
    private readonly timing: { readonly retryInterval: number; readonly retries: number },
  ) {}

  /**
   * Sends `msg` and waits for the reply `match` accepts, sending `retry` (default `msg`) again
   * every retryInterval. `interim` sees other messages while waiting (the will dialogue); when it
   * returns true the retransmission clock restarts, since the gateway is answering.
   */
  request(
    msg: SnMessage,
    match: (m: SnMessage) => boolean,
    retry: SnMessage = msg,
    interim?: (m: SnMessage) => boolean,
  ): Promise<SnMessage> {
    return new Promise((resolve, reject) => {
      let tries = 0;
      const waiter: Waiter = {
        match: (m) => {
          if (match(m)) return true;
          if (interim?.(m)) arm();
          return false;
        },
        resolve,
        reject,
        timer: undefined,
      };
      const arm = () => {
        clearTimeout(waiter.timer);
        waiter.timer = setTimeout(() => {
          if (++tries > this.timing.retries) {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            reject(
              localError('TIMEOUT', `no answer to MQTT-SN ${msg.type} after ${this.timing.retries} retries`),
            );
            return;
          }
          this.send(retry);
          arm();
        }, this.timing.retryInterval);
      };
      this.waiters.push(waiter);
      this.send(msg);
      arm();
    });
  }

  /** A message from the gateway: settles the first request it answers; false when none. */
  answer(msg: SnMessage): boolean {
    for (const w of this.waiters) {
      if (w.match(msg)) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(msg);
        return true;
      }
    }
    return false;
  }

  /** Rejects every request in flight with `error`. */
  failAll(error: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  /** Forgets every request in flight without settling it (their callers have given up). */
  forget(): void {
    for (const w of this.waiters.splice(0)) clearTimeout(w.timer);
  }
}
