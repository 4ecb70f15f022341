/**
 * The client's outage counters (part of `client.stats`): outages, reconnects,
 * failed attempts and the time spent down, on the supervisor's clock.
 */

/** The counters as `client.stats` reports them. */
export interface OutageStats {
  outages: number;
  reconnects: number;
  failedAttempts: number;
  downtimeMs: number;
}

export class OutageCounters {
  readonly #counts: OutageStats = { outages: 0, reconnects: 0, failedAttempts: 0, downtimeMs: 0 };
  /** When the current outage began; undefined while up or before the first up. */
  #downSince: number | undefined;

  /** A connection ended (`wasUp`: it had reached CONNACK) or an attempt failed, at `now`. */
  down(wasUp: boolean, now: number): void {
    if (wasUp) {
      this.#counts.outages++;
      this.#downSince = now;
    } else {
      this.#counts.failedAttempts++;
    }
  }

  /**
   * Connection number `established` is up at `now`; returns how long the
   * outage it ends lasted, in ms (undefined for the first connection).
   */
  up(established: number, now: number): number | undefined {
    if (established > 1) this.#counts.reconnects++;
    if (this.#downSince === undefined) return undefined;
    const outageMs = Math.round(now - this.#downSince);
    this.#counts.downtimeMs += outageMs;
    this.#downSince = undefined;
    return outageMs;
  }

  /** The counters at `now`, the outage under way included in the time down. */
  stats(now: number): OutageStats {
    const down = this.#downSince === undefined ? 0 : now - this.#downSince;
    return { ...this.#counts, downtimeMs: Math.round(this.#counts.downtimeMs + down) };
  }
}
