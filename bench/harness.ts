/**
 * Shared benchmark utilities: argument parsing, an ours-vs-reference timer,
 * a streaming table for people and the final JSON line for machines.
 *
 * Method: each side is warmed up, then the two sides are timed in alternating
 * rounds (ours first on even rounds, reference first on odd ones) and the
 * median round is reported. Alternating spreads JIT tier-ups, GC pauses and
 * CPU frequency drift evenly over both sides instead of penalising whichever
 * runs second; the median discards the round a major GC happened to hit.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

/** One unit of work. Its return value is kept in a sink so V8 cannot drop the work as dead code. */
export type Op = () => unknown;

export interface Budget {
  /** Warm-up time per side before any measurement, in ms. */
  warmupMs: number;
  /** Measured time per side per round, in ms. */
  roundMs: number;
  /** Number of alternating rounds; the median is reported. */
  rounds: number;
  /** Each round runs at least this many ops even past roundMs, so slow ops still get a fair sample. */
  minIterations: number;
}

/**
 * Full budget: 2 x (300 ms warm-up + 5 x 200 ms) = 2.6 s per case, so ~30 cases
 * fit in ~80 s on a 2-core machine. Quick budget is for CI smoke runs only:
 * the numbers are noisy but every case and sanity check still runs.
 */
export const FULL_BUDGET: Budget = { warmupMs: 300, roundMs: 200, rounds: 5, minIterations: 5 };
export const QUICK_BUDGET: Budget = { warmupMs: 30, roundMs: 40, rounds: 3, minIterations: 2 };

export interface BenchArgs {
  quick: boolean;
  /** Only run cases whose name contains this substring. */
  filter: string | undefined;
  budget: Budget;
}

/** Parses the options every benchmark understands: `--quick`, `--filter <substring>`. */
export function parseBenchArgs(args: string[]): BenchArgs {
  const { values } = parseArgs({
    args,
    options: { quick: { type: 'boolean', default: false }, filter: { type: 'string' } },
    strict: true,
  });
  const quick = values.quick === true;
  return { quick, filter: values.filter, budget: quick ? QUICK_BUDGET : FULL_BUDGET };
}

// Written on every op; read once at the end so the writes are observable.
let sink: unknown;
export function sinkValue(): unknown {
  return sink;
}

/**
 * Runs `op` `n` times. Deliberately one shared, non-inlined loop for every
 * case and both sides: the call site goes megamorphic, so neither side gets a
 * luckier inlining decision than the other.
 */
function runBatch(op: Op, n: number): void {
  for (let i = 0; i < n; i++) sink = op();
}

const NS_PER_MS = 1_000_000n;
// Batches aim at ~2 ms so reading the clock costs nothing measurable but the round end is still precise.
const TARGET_BATCH_NS = 2_000_000;

/** Warms `op` up for `ms` and returns a batch size that takes roughly TARGET_BATCH_NS. */
function warmUp(op: Op, ms: number): number {
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * NS_PER_MS;
  let batch = 1;
  let iterations = 0;
  let now = start;
  // Double the batch until it is long enough to time; this also gives every code path its first calls.
  while (now < end) {
    runBatch(op, batch);
    iterations += batch;
    const t = process.hrtime.bigint();
    if (Number(t - now) < TARGET_BATCH_NS / 2) batch *= 2;
    now = t;
  }
  const nsPerOp = Number(now - start) / iterations;
  return Math.max(1, Math.floor(TARGET_BATCH_NS / nsPerOp));
}

/** One timed round: at least `roundMs` and at least `minIterations` ops. Returns ops/s. */
function measureRound(op: Op, batch: number, budget: Budget): number {
  const start = process.hrtime.bigint();
  const minNs = BigInt(budget.roundMs) * NS_PER_MS;
  let iterations = 0;
  let elapsed = 0n;
  do {
    runBatch(op, batch);
    iterations += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < minNs || iterations < budget.minIterations);
  return iterations / (Number(elapsed) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Relative spread (max - min) / median of the rounds, for judging noise. */
function spread(values: number[]): number {
  const m = median(values);
  return m === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / m;
}

export interface CaseResult {
  case: string;
  ours_ops: number;
  ref_ops: number;
  ratio: number;
  /** Round-to-round spread per side; shown in the table, left out of the JSON. */
  oursSpread: number;
  refSpread: number;
}

export interface Case {
  name: string;
  ours: Op;
  ref: Op;
}

/** Times one case: warms both sides, then alternates them for `budget.rounds` rounds. */
export function compare(c: Case, budget: Budget): CaseResult {
  const oursBatch = warmUp(c.ours, budget.warmupMs);
  const refBatch = warmUp(c.ref, budget.warmupMs);
  const ours: number[] = [];
  const ref: number[] = [];
  for (let r = 0; r < budget.rounds; r++) {
    if (r % 2 === 0) {
      ours.push(measureRound(c.ours, oursBatch, budget));
      ref.push(measureRound(c.ref, refBatch, budget));
    } else {
      ref.push(measureRound(c.ref, refBatch, budget));
      ours.push(measureRound(c.ours, oursBatch, budget));
    }
  }
  const oursOps = median(ours);
  const refOps = median(ref);
  return {
    case: c.name,
    ours_ops: Math.round(oursOps),
    ref_ops: Math.round(refOps),
    ratio: Math.round((oursOps / refOps) * 1000) / 1000,
    oursSpread: spread(ours),
    refSpread: spread(ref),
  };
}

const fmtInt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fmtPct = (x: number) => `±${Math.round((x * 100) / 2)}%`;

/**
 * A table printed one row at a time, so a long run shows progress. Column
 * widths are fixed up front from the case names, which are known before timing.
 */
export function createTable(caseNames: string[], refLabel: string): (r: CaseResult) => void {
  const w0 = Math.max(4, ...caseNames.map((n) => n.length));
  const head = [
    'case'.padEnd(w0),
    'ours ops/s'.padStart(14),
    `${refLabel} ops/s`.padStart(18),
    'ratio'.padStart(7),
  ];
  const line = `${head.join('  ')}  spread ours/ref`;
  console.log(line);
  console.log('-'.repeat(line.length));
  return (r) => {
    const flag = r.ratio < 1 ? '  <' : '';
    console.log(
      [
        r.case.padEnd(w0),
        fmtInt.format(r.ours_ops).padStart(14),
        fmtInt.format(r.ref_ops).padStart(18),
        `${r.ratio.toFixed(2)}x`.padStart(7),
        `${fmtPct(r.oursSpread)}/${fmtPct(r.refSpread)}`.padStart(15),
      ].join('  ') + flag,
    );
  };
}

/** The machine-readable result; must be the last line of stdout. */
export function printJsonLine(bench: string, results: CaseResult[]): void {
  const cases = results.map((r) => ({
    case: r.case,
    ours_ops: r.ours_ops,
    ref_ops: r.ref_ops,
    ratio: r.ratio,
  }));
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  console.log(JSON.stringify({ bench, node: process.version, cpu, cases }));
}

/** Throws with a readable message; used by sanity checks so a broken codec cannot look fast. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`sanity check failed: ${message}`);
}
