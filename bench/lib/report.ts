/**
 * Results of the network benchmarks (throughput, latency, memory, fanin,
 * recovery): statistics, the table for people, and the final JSON line for
 * machines, in the shape
 *
 *   {"bench":"<name>","cases":[{"case":"qos1 16B","ours":..,"ref":..,"ref_name":"mqtt.js","ratio":..,"unit":"msg/s"}]}
 *
 * A full run (not `--quick`) also saves its line under bench/results/ for the chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchCase {
  case: string;
  ours: number;
  ref: number;
  ref_name: string;
  /** ours / ref; for "lower is better" units (ms, bytes) read it the other way round. */
  ratio: number;
  unit: string;
  /** Anything else worth keeping (ours/raw, p99, rounds...). */
  [extra: string]: unknown;
}

/** Where full runs leave their JSON lines, for bench/chart.ts. */
export const RESULTS_DIR = new URL('../results/', import.meta.url).pathname;

export interface NetArgs {
  quick: boolean;
  filter: string | undefined;
}

/** `--quick` (CI smoke run: small counts, rough numbers) and `--filter <substring>` (case names). */
export function parseNetArgs(args: string[]): NetArgs {
  const { values } = parseArgs({
    args,
    options: { quick: { type: 'boolean', default: false }, filter: { type: 'string' } },
    strict: true,
  });
  return { quick: values.quick === true, filter: values.filter };
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A ratio to three decimals; NaN (a side that produced nothing) becomes 0. */
export function ratio(ours: number, ref: number): number {
  const r = ours / ref;
  return Number.isFinite(r) ? round(r, 3) : 0;
}

/** Prints rows as an aligned table; the first row is the header. */
export function printTable(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(cells[0]));
  console.log('-'.repeat(line(cells[0]).length));
  for (const r of cells.slice(1)) console.log(line(r));
}

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const smallFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? intFormat.format(x) : smallFormat.format(x);
}

/** The machine, for the record. */
export function machine(): { node: string; cpu: string; nproc: number } {
  const list = cpus();
  return { node: process.version, cpu: list[0]?.model.trim() ?? 'unknown', nproc: list.length };
}

/**
 * Prints the JSON line (last line of stdout) and, for full runs of this tree
 * as built (not a --filter'd run, not BENCH_OURS=src or BENCH_OURS_ROOT), saves
 * it as bench/results/<bench>.json for the chart.
 */
export function emitJson(
  bench: string,
  cases: BenchCase[],
  quick: boolean,
  extra: object = {},
  filtered = false,
): void {
  const line = JSON.stringify({ bench, cases, ...machine(), quick, ...extra });
  const otherBuild = process.env.BENCH_OURS !== undefined || process.env.BENCH_OURS_ROOT !== undefined;
  if (!quick && !filtered && !otherBuild) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `${bench}.json`), `${line}\n`);
  }
  console.log(line);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `predicate` holds (polled), rejects with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
}
