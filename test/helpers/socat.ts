// A pair of real pseudo-terminals joined by an impaired "cable", for tests of
// serial drivers. Each end is a `socat pty,rawer,link=PATH STDIO` process:
// what a driver writes to the pty comes out of socat's stdout, and what is
// written to socat's stdin comes out of the pty. This process relays between
// the two socats and impairs the bytes on the way (drop, corrupt, delay,
// re-chunk, blackout), seeded so a run can be repeated. No TCP port is
// needed. Only the socat processes started here are ever signalled, by PID;
// their links and temp dir are removed on close and at process exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from './prng.ts';

/** What happens to bytes in one direction. Every field is optional; all default to no impairment. */
export interface Impairment {
  /** Probability that a byte is dropped. Default `0`. */
  dropRate?: number;
  /** Probability that a byte has one random bit flipped. Default `0`. */
  corruptRate?: number;
  /** Added latency per chunk, in ms. Bytes stay in order, as on a wire. Default `0`. */
  delayMs?: number;
  /** Extra random latency per chunk, 0..jitterMs ms (order is kept). Default `0`. */
  jitterMs?: number;
  /** Re-chunk into pieces of 1..maxChunk bytes, each delivered separately, as a modem does. Default: as read. */
  maxChunk?: number;
  /** Drop every byte (an outage of the line). Default `false`. */
  blackout?: boolean;
  /**
   * Insert this byte after every 0x00 (a frame delimiter), as a modem that
   * appends an RSSI byte after each packet does. Default: none.
   */
  rssiAfterDelimiter?: number;
}

/** Counters per direction. */
export interface DirectionStats {
  /** Bytes read from the sending pty. */
  bytesIn: number;
  /** Bytes written to the receiving pty (inserted RSSI bytes included). */
  bytesOut: number;
  dropped: number;
  corrupted: number;
}

export type Direction = 'a->b' | 'b->a';

/** A running pty pair from {@link startPtyPair}. */
export interface PtyPair {
  /** Path of end A (a symlink to a /dev/pts device), for a serial driver to open. */
  readonly a: string;
  /** Path of end B. */
  readonly b: string;
  /** PIDs of the two current socat processes (A, B). */
  readonly pids: readonly [number, number];
  readonly stats: Record<Direction, DirectionStats>;
  /** Replaces the impairment of one direction, or both. */
  impair(direction: Direction | 'both', impairment: Impairment): void;
  /** SIGKILLs the socat of one end: the driver on that pty sees its port vanish. */
  kill(end: 'a' | 'b'): Promise<void>;
  /** Kills one end (if alive) and starts a new pty at the same path: an adapter unplugged and plugged back. */
  restart(end: 'a' | 'b'): Promise<void>;
  /** Kills both socats and removes the links and the temp dir. Idempotent. */
  close(): Promise<void>;
}

/** Options for {@link startPtyPair}. */
export interface PtyPairOptions {
  /** Seed for the impairment's random choices. Default `1`. */
  seed?: number;
  /** Impairment for both directions from the start. Default none. */
  impairment?: Impairment;
  /** How long to wait for socat to create a pty, in ms. Default `10000`. */
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts two socat ptys and the impaired relay between them. */
export async function startPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-pty-'));
  dirs.add(dir);
  const random = prng(options.seed ?? 1);
  const timeout = options.readyTimeoutMs ?? 10_000;
  const paths = { a: join(dir, 'a'), b: join(dir, 'b') };
  // Every socat ever started for this pair (a restarted end adds one).
  const children: ChildProcess[] = [];
  const cleanup = async () => {
    await Promise.all(children.map((child) => stop(child)));
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };
  const ends = {} as Record<'a' | 'b', ChildProcess>;
  const stats: Record<Direction, DirectionStats> = {
    'a->b': { bytesIn: 0, bytesOut: 0, dropped: 0, corrupted: 0 },
    'b->a': { bytesIn: 0, bytesOut: 0, dropped: 0, corrupted: 0 },
  };
  const impairments: Record<Direction, Impairment> = {
    'a->b': { ...options.impairment },
    'b->a': { ...options.impairment },
  };
  const relays = {
    'a->b': relay(
      () => ends.b,
      () => impairments['a->b'],
      stats['a->b'],
      random,
    ),
    'b->a': relay(
      () => ends.a,
      () => impairments['b->a'],
      stats['b->a'],
      random,
    ),
  };
  const startEnd = async (end: 'a' | 'b') => {
    const child = await startSocat(paths[end], timeout, children);
    ends[end] = child;
    child.stdout?.on('data', relays[end === 'a' ? 'a->b' : 'b->a']);
  };
  try {
    await startEnd('a');
    await startEnd('b');
  } catch (err) {
    await cleanup();
    throw err;
  }

  let closed: Promise<void> | undefined;
  return {
    a: paths.a,
    b: paths.b,
    get pids() {
      return [ends.a.pid as number, ends.b.pid as number] as const;
    },
    stats,
    impair(direction, impairment) {
      if (direction === 'both' || direction === 'a->b') impairments['a->b'] = { ...impairment };
      if (direction === 'both' || direction === 'b->a') impairments['b->a'] = { ...impairment };
    },
    async kill(end) {
      await stop(ends[end], 'SIGKILL');
    },
    async restart(end) {
      await stop(ends[end], 'SIGKILL');
      rmSync(paths[end], { force: true });
      await startEnd(end);
    },
    close() {
      closed ??= cleanup();
      return closed;
    },
  };
}

/** Starts `socat pty,rawer,link=PATH STDIO` and waits until the link points at a pty. */
async function startSocat(link: string, timeoutMs: number, mine: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn('socat', [`pty,rawer,link=${link}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  mine.push(child);
  let stderr = '';
  let exited = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  // A write to a dead socat must not crash the test process.
  child.stdin?.on('error', () => {});
  child.once('error', (err) => {
    stderr += String(err);
  });
  const deadline = Date.now() + timeoutMs;
  while (!ptyReady(link)) {
    if (exited || Date.now() > deadline) {
      await stop(child);
      throw new Error(`socat did not create ${link} (${exited ? 'it exited' : 'timeout'}): ${stderr.trim()}`);
    }
    await sleep(10);
  }
  return child;
}

function ptyReady(link: string): boolean {
  try {
    lstatSync(link);
    return statSync(link).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Signals one of our socats by PID and waits for it to exit (SIGKILL after 3 s). */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * The relay for one direction: a `data` listener for the sending socat's
 * stdout that impairs the bytes and writes them to the receiving socat
 * (whichever is current: an end may be restarted), keeping their order.
 */
function relay(
  to: () => ChildProcess,
  impairment: () => Impairment,
  stats: DirectionStats,
  random: () => number,
): (chunk: Buffer) => void {
  // Pieces wait here in order; one timer delivers the head when its time comes.
  const queue: { at: number; bytes: Uint8Array }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && (queue[0] as { at: number }).at <= Date.now()) {
      const { bytes } = queue.shift() as { bytes: Uint8Array };
      const target = to();
      if (target.exitCode !== null || target.signalCode !== null || !target.stdin?.writable) continue;
      stats.bytesOut += bytes.length;
      target.stdin.write(bytes);
    }
    const head = queue[0];
    if (head !== undefined) timer = setTimeout(pump, Math.max(1, head.at - Date.now()));
  };
  return (chunk) => {
    stats.bytesIn += chunk.length;
    const spec = impairment();
    const out: number[] = [];
    for (const byte of chunk) {
      if (spec.blackout || random() < (spec.dropRate ?? 0)) {
        stats.dropped++;
        continue;
      }
      let value = byte;
      if (random() < (spec.corruptRate ?? 0)) {
        value ^= 1 << Math.floor(random() * 8);
        stats.corrupted++;
      }
      out.push(value);
      if (byte === 0 && spec.rssiAfterDelimiter !== undefined) out.push(spec.rssiAfterDelimiter);
    }
    let last = queue.at(-1)?.at ?? 0;
    for (const bytes of split(out, spec.maxChunk, random)) {
      // Never before the previous piece: a line does not reorder bytes.
      last = Math.max(Date.now() + (spec.delayMs ?? 0) + random() * (spec.jitterMs ?? 0), last);
      queue.push({ at: last, bytes });
    }
    if (timer === undefined) pump();
  };
}

function split(bytes: number[], maxChunk: number | undefined, random: () => number): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (maxChunk === undefined || maxChunk <= 0) return [Uint8Array.from(bytes)];
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    pieces.push(Uint8Array.from(bytes.slice(i, i + size)));
    i += size;
  }
  return pieces;
}
