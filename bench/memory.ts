/**
 * Memory: what a client costs, ours vs MQTT.js.
 *
 * - idle client: 1,000 clients connected to Mosquitto and idle, in one process;
 *   bytes per client.
 * - queued message: one client, offline (its broker unreachable), with 10,000
 *   QoS 1 messages published and queued; bytes per message.
 *
 * Each measurement runs in a child process of its own (bench/lib/memory-child.ts,
 * --expose-gc): baseline after loading the library and connecting one client,
 * then the scenario, each after full GCs. "heap" is V8's heapUsed plus
 * ArrayBuffer memory (payload and packet bytes live there); "rss" is the
 * process's resident set (sockets and everything native too). The two
 * libraries alternate (ours, mqtt.js, mqtt.js, ours) and the mean of the two
 * runs each is reported. Lower is better (ratio = ours / mqtt.js).
 *
 * Needs file descriptors for 1,000 sockets here and at the broker: checked
 * against `ulimit -n` before starting.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/ports.ts';
import { startBenchBroker } from './lib/broker.ts';
import type { Lib } from './lib/contenders.ts';
import { type BenchCase, emitJson, parseNetArgs, printTable, ratio, round } from './lib/report.ts';

const CHILD = fileURLToPath(new URL('./lib/memory-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBS: Lib[] = ['ours', 'mqttjs'];

interface Sample {
  heap: number;
  rss: number;
}
interface ChildResult {
  before: Sample;
  after: Sample;
}

function runChild(lib: Lib, scenario: 'idle' | 'queued', url: string, count: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', CHILD, lib, scenario, url, String(count)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: ROOT,
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        return reject(new Error(`memory child ${lib} ${scenario} exited ${code}: ${out}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

/** The soft limit on open files of a shell started from here (what the children get). */
function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  } catch {
    return Number.NaN;
  }
}

export async function run(args: string[]): Promise<void> {
  const { quick, filter } = parseNetArgs(args);
  const clients = quick ? 100 : 1000;
  const messages = quick ? 1000 : 10_000;
  const runs = quick ? 1 : 2;
  const limit = openFileLimit();
  // Each client is one socket here and one at the broker, plus some headroom.
  if (Number.isFinite(limit) && limit < clients + 100) {
    throw new Error(`ulimit -n is ${limit}: raise it above ${clients + 100} for ${clients} clients`);
  }
  console.log(
    `memory: ${clients} idle clients, ${messages} queued QoS 1 messages; each side in its own process${quick ? ' (quick)' : ''}; ulimit -n ${limit}`,
  );
  const broker = await startBenchBroker();
  const unreachable = `mqtt://127.0.0.1:${await freePort()}`;
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [['case', 'steadfast', 'mqtt.js', 'ours/mqtt.js']];
  try {
    for (const scenario of ['idle', 'queued'] as const) {
      const label = scenario === 'idle' ? 'idle client' : 'queued message';
      if (filter !== undefined && !label.includes(filter)) continue;
      const count = scenario === 'idle' ? clients : messages;
      const url = scenario === 'idle' ? broker.url : unreachable;
      const per = new Map<Lib, { heap: number[]; rss: number[] }>(
        LIBS.map((l) => [l, { heap: [], rss: [] }]),
      );
      for (let r = 0; r < runs * 2; r++) {
        const lib = LIBS[(r + (r >> 1)) % 2];
        const result = await runChild(lib, scenario, url, count);
        per.get(lib)!.heap.push((result.after.heap - result.before.heap) / count);
        per.get(lib)!.rss.push((result.after.rss - result.before.rss) / count);
      }
      for (const metric of ['heap', 'rss'] as const) {
        const [ours, ref] = LIBS.map((l) => {
          const v = per.get(l)![metric];
          return round(v.reduce((a, b) => a + b, 0) / v.length);
        });
        const name = `${label} ${metric}`;
        cases.push({
          case: name,
          ours,
          ref,
          ref_name: 'mqtt.js',
          ratio: ratio(ours, ref),
          unit: scenario === 'idle' ? 'B/client' : 'B/msg',
          count,
        });
        rows.push([name, ours, ref, `${ratio(ours, ref).toFixed(2)}x`]);
      }
    }
  } finally {
    await broker.stop();
  }
  printTable(rows);
  console.log('(bytes; lower is better)');
  emitJson('memory', cases, quick, {}, filter !== undefined);
}
