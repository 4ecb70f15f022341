/**
 * The reconnect backoff of both clients (the full client's supervisor and
 * the lite engine): exponential with full jitter, capped.
 */

/**
 * Ms to wait before the next attempt after `failures` failed ones: a random
 * wait up to min(`max`, `period` × 2^failures), never below 10 ms so that a
 * loop of failures cannot spin. `random` gives a number in [0, 1).
 */
export function backoff(failures: number, period: number, max: number, random: () => number): number {
  return Math.max(10, random() * Math.min(max, period * 2 ** Math.min(failures, 20)));
}
