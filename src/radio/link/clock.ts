/** The link layer's time source. Portable: the platform's timers, or any injected clock. */

/** Time for the link layer, injectable so that a simulated medium can run it on modelled time. */
export interface LinkClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `callback` once after `ms`; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer `setTimeout` returned. */
  clearTimeout(handle: unknown): void;
}

/** The platform's clock: `performance.now()` and `setTimeout`. */
export const realClock: LinkClock = {
  now: () => globalThis.performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
