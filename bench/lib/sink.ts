/**
 * The sink broker (bench/sink/sink.c): answers every packet, routes nothing,
 * costs almost nothing, so that a throughput run measures the client.
 *
 * Built with the system C compiler into a cache directory keyed by a hash of
 * the source (so an edit rebuilds it, and a second run does not). On a
 * machine with two or more cores the sink is pinned to the last core with
 * `taskset` and this process to the others, so the two never share one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const SOURCE = new URL('../sink/sink.c', import.meta.url).pathname;
const CACHE_DIR = join(tmpdir(), 'steadfast-bench-sink');
const START_TIMEOUT_MS = 10_000;

export interface SinkBroker {
  port: number;
  url: string;
  /** Cores the sink and this process run on ('unpinned' on one core, or without taskset). */
  pinning: string;
  stop(): Promise<void>;
}

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compiles sink.c once per source version; returns the binary's path. */
export function buildSink(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const binary = join(CACHE_DIR, `sink-${hash}`);
  if (existsSync(binary)) return binary;
  if (!hasTool('cc')) {
    throw new Error('the sink broker needs a C compiler (cc): apt-get install -y gcc');
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  // Built under a temporary name, then renamed: a concurrent run never sees half a binary.
  const partial = `${binary}.${process.pid}`;
  execFileSync('cc', ['-O2', '-Wall', '-o', partial, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync('mv', [partial, binary]);
  return binary;
}

/** Starts the sink on a free loopback port; pins it and this process apart when it can. */
export async function startSink(): Promise<SinkBroker> {
  const binary = buildSink();
  const cores = availableParallelism();
  const pin = cores >= 2 && hasTool('taskset');
  const sinkCore = cores - 1;
  const ownCores = `0-${cores - 2}`;
  const child = pin
    ? spawn('taskset', ['-c', String(sinkCore), binary], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sink broker did not start')), START_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the sink broker exited ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`the sink broker said: ${line}`));
    });
  });
  child.removeAllListeners('exit');
  // Every thread of this process (the main one, libuv's pool, V8's helpers) off the sink's core.
  let restore: string | undefined;
  if (pin) {
    restore = execFileSync('taskset', ['-p', '-c', String(process.pid)])
      .toString()
      .split(':')
      .pop()
      ?.trim();
    execFileSync('taskset', ['-a', '-p', '-c', ownCores, String(process.pid)], { stdio: 'ignore' });
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    pinning: pin ? `sink on core ${sinkCore}, clients on ${ownCores}` : 'unpinned',
    async stop() {
      if (restore !== undefined) {
        execFileSync('taskset', ['-a', '-p', '-c', restore, String(process.pid)], { stdio: 'ignore' });
      }
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Closing its stdin ends the sink (it exits on EOF); the taskset wrapper has exec'd into it.
      child.stdin!.end();
      await exited;
    },
  };
}
