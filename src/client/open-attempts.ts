/**
 * Opening a link whose packets may be vanishing: a fresh attempt every
 * interval while earlier ones are still pending, the first to open wins.
 *
 * Why: a TCP connect whose SYN was lost is retried by the kernel after 1, 3,
 * 7, 15 s... so after a path heals the pending attempt may sit seconds
 * before its next SYN. A new socket sends its SYN at once, so with one
 * attempt a second the client is through within a second of the path
 * coming back. The older attempts stay open (a slow path may still answer
 * them), up to a few; the oldest is abandoned to make room.
 *
 * Only for links that declare `concurrentOpens` (one socket per call: TCP,
 * TLS, WebSocket); a serial port or a radio has one way out, opened once.
 */
import { MqttError } from '../errors.ts';
import type { Connection, Link, LinkHandlers } from '../links/types.ts';

/** The clock the attempts are timed on (the supervisor's, so tests can run it fake). */
export interface AttemptClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface OpenAttemptsOptions {
  /** Ms between fresh attempts while none has opened; 0 or Infinity for a single attempt. */
  interval: number;
  /** Attempts pending at once; the oldest is abandoned when a new one would exceed it. */
  maxPending: number;
}

/** At most this many attempts pending at once by default: the last few seconds of SYNs. */
export const DEFAULT_MAX_PENDING_OPENS = 3;

interface Attempt {
  abort: AbortController;
  /** Set once this attempt won: its connection's events go to the caller's handlers. */
  won: boolean;
}

/**
 * Opens `link`, starting another attempt every `interval` ms while none has
 * opened (when the link allows concurrent opens). Resolves with the first
 * connection to open; the others are abandoned (closed if they open later).
 * Rejects when any attempt fails (refused, unreachable: the path answered),
 * or when `signal` aborts.
 */
export function openAttempts(
  link: Link,
  handlers: LinkHandlers,
  signal: AbortSignal,
  clock: AttemptClock,
  options: OpenAttemptsOptions,
): Promise<Connection> {
  const repeat = link.concurrentOpens === true && options.interval > 0 && Number.isFinite(options.interval);
  if (!repeat) return link.open(handlers, signal);
  return new Promise<Connection>((resolve, reject) => {
    const pending: Attempt[] = [];
    let settled = false;
    let timer: unknown;

    const settle = () => {
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      signal.removeEventListener('abort', onAbort);
      for (const a of pending.splice(0)) if (!a.won) a.abort.abort();
    };
    function onAbort(): void {
      if (settled) return;
      settle();
      reject(new MqttError('ABORTED', `opening ${link.name} was abandoned`));
    }

    const start = () => {
      timer = undefined;
      if (settled) return;
      if (pending.length >= options.maxPending) pending.shift()?.abort.abort();
      const attempt: Attempt = { abort: new AbortController(), won: false };
      pending.push(attempt);
      // Events reach the caller only from the attempt that won; the others are never used.
      const routed: LinkHandlers = {
        data: (chunk) => attempt.won && handlers.data(chunk),
        close: (error) => attempt.won && handlers.close(error),
        drain: () => attempt.won && handlers.drain?.(),
      };
      link.open(routed, attempt.abort.signal).then(
        (connection) => {
          if (settled) return connection.close();
          attempt.won = true;
          settle();
          resolve(connection);
        },
        (error: unknown) => {
          // An abandoned attempt's rejection says nothing new. Any other failure is an answer
          // from the path (refused, unreachable, a TLS error): the older attempts would get the same.
          if (settled || !pending.includes(attempt)) return;
          settle();
          reject(error);
        },
      );
      timer = clock.setTimeout(start, options.interval);
    };

    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    start();
  });
}
