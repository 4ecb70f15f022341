/**
 * A node's ranked list of the gateways it can hear, and the rule for when
 * to move: sans-IO and clock-free (times are passed in), so every case is a
 * few lines of test.
 *
 * Quality is the mean RSSI of the last `samples` authenticated frames heard
 * from a gateway (its answers to searches, the mean of the two directions,
 * and the frames of the node's own stream). A node moves early
 * only to a gateway whose mean beats the current one's by `hysteresisDb`,
 * on at least `minSamples` samples, and not within `minDwellMs` of its last
 * move: so a node between two gateways of similar quality stays where it
 * is, and even a node whose gateways really do alternate moves at most once
 * per dwell time. A gateway that fails to open a stream is put last until
 * it is heard again; one that misses `maxMisses` searches in a row is
 * forgotten. Portable.
 */

/** Tuning for the table; defaults in `roamingLink`. */
export interface GatewayTableOptions {
  /** RSSI samples averaged per gateway. */
  samples: number;
  /** Samples a gateway needs before the node moves to it early. */
  minSamples: number;
  /** How much better (dB of mean RSSI) a gateway must be to move early. */
  hysteresisDb: number;
  /** Least time between two early moves, ms. */
  minDwellMs: number;
  /** Searches in a row a gateway may miss before it is forgotten. */
  maxMisses: number;
}

/** One gateway as the node sees it. */
export interface RankedGateway {
  address: number;
  /** Mean RSSI of its recent samples, dBm (undefined when its radio reports none). */
  rssi: number | undefined;
  /** Samples behind `rssi`. */
  samples: number;
  /** When it was last heard, on the caller's clock. */
  lastHeardAt: number;
  /** Nodes it said it serves in its last answer. */
  load: number;
  /** True after a stream to it failed to open, until it is heard again. */
  failed: boolean;
  /** Searches in a row it has missed (0: it answered the last one, or is the current gateway). */
  misses: number;
}

interface Entry {
  address: number;
  rssi: number[];
  lastHeardAt: number;
  load: number;
  failed: boolean;
  misses: number;
  answeredSearch: boolean;
}

/** A node's ranked gateways and its rule for moving early (see the module comment). */
export class GatewayTable {
  private readonly entries = new Map<number, Entry>();
  private lastMoveAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: GatewayTableOptions) {}

  /** An authenticated frame from `gateway`, heard at `rssi` dBm (undefined: not known). */
  heard(gateway: number, rssi: number | undefined, now: number, load?: number): void {
    let entry = this.entries.get(gateway);
    if (entry === undefined) {
      entry = {
        address: gateway,
        rssi: [],
        lastHeardAt: now,
        load: 0,
        failed: false,
        misses: 0,
        answeredSearch: false,
      };
      this.entries.set(gateway, entry);
    }
    entry.lastHeardAt = now;
    entry.failed = false;
    entry.misses = 0;
    if (load !== undefined) {
      entry.load = load;
      entry.answeredSearch = true;
    }
    if (rssi !== undefined && Number.isFinite(rssi)) {
      entry.rssi.push(rssi);
      if (entry.rssi.length > this.options.samples) entry.rssi.shift();
    }
  }

  /** A search is starting: the answers that follow count who is still there. */
  searching(): void {
    for (const entry of this.entries.values()) entry.answeredSearch = false;
  }

  /** The search is over: gateways that did not answer missed it (all but `current`, heard on its stream). */
  searched(current: number | undefined): void {
    for (const entry of [...this.entries.values()]) {
      if (entry.answeredSearch || entry.address === current) continue;
      entry.misses++;
      // Its old samples no longer describe it: the next answer starts afresh.
      entry.rssi = entry.rssi.slice(-1);
      if (entry.misses >= this.options.maxMisses) this.entries.delete(entry.address);
    }
  }

  /** A stream to `gateway` did not open (or died of silence): last in the ranking until heard again. */
  failed(gateway: number): void {
    const entry = this.entries.get(gateway);
    if (entry !== undefined) {
      entry.failed = true;
      entry.rssi = [];
    }
  }

  /** Forgets a gateway. */
  forget(gateway: number): void {
    this.entries.delete(gateway);
  }

  /** True when `gateway` is in the table. */
  has(gateway: number): boolean {
    return this.entries.has(gateway);
  }

  /**
   * Every known gateway, best first: not failed, then fewer searches missed,
   * then higher mean RSSI, then fewer nodes, then lower address.
   */
  ranked(): RankedGateway[] {
    return [...this.entries.values()].map(view).sort(compare);
  }

  /** The best gateway, if any is known. */
  best(): RankedGateway | undefined {
    return this.ranked()[0];
  }

  /**
   * The gateway to move to early from `current`, if one is clearly better
   * (see the module comment), else undefined.
   */
  betterThan(current: number, now: number): RankedGateway | undefined {
    if (now - this.lastMoveAt < this.options.minDwellMs) return undefined;
    const here = this.entries.get(current);
    const hereRssi = here === undefined ? undefined : mean(here.rssi);
    if (hereRssi === undefined) return undefined;
    for (const candidate of this.ranked()) {
      if (candidate.address === current || candidate.failed || candidate.rssi === undefined) continue;
      if (candidate.samples < this.options.minSamples) continue;
      return candidate.rssi >= hereRssi + this.options.hysteresisDb ? candidate : undefined;
    }
    return undefined;
  }

  /** The node moved (or first attached) at `now`: the dwell time starts. */
  moved(now: number): void {
    this.lastMoveAt = now;
  }
}

function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function view(entry: Entry): RankedGateway {
  return {
    address: entry.address,
    rssi: mean(entry.rssi),
    samples: entry.rssi.length,
    lastHeardAt: entry.lastHeardAt,
    load: entry.load,
    failed: entry.failed,
    misses: entry.misses,
  };
}

function compare(a: RankedGateway, b: RankedGateway): number {
  if (a.failed !== b.failed) return a.failed ? 1 : -1;
  if (a.misses !== b.misses) return a.misses - b.misses;
  const ra = a.rssi ?? Number.NEGATIVE_INFINITY;
  const rb = b.rssi ?? Number.NEGATIVE_INFINITY;
  if (ra !== rb) return rb - ra;
  if (a.load !== b.load) return a.load - b.load;
  return a.address - b.address;
}
