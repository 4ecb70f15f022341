/**
 * The supervisor's clock and its write timing: real time by default,
 * injectable so that tests run the supervisor on a fake clock.
 */

/** Time and chance, injectable so that tests can run the supervisor on a fake clock. */
export interface SupervisorClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1): the jitter. */
  random(): number;
}

/**
 * When batched writes go out: at the end of this turn of the event loop
 * (setImmediate, where there is one), after every I/O callback of the turn
 * has run. With a microtask, each chunk read from the socket would end in a
 * write of its own; per turn, the acks for everything read in the turn share
 * one write. Where there is no setImmediate, a microtask.
 */
export const deferFlush: (flush: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (flush) => void globalThis.setImmediate(flush)
    : queueMicrotask;

export const realClock: SupervisorClock = {
  now: () => globalThis.performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: Math.random,
};

/** Resolves after `ms` on `clock`, or as soon as `signal` aborts. */
export function sleep(clock: SupervisorClock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
