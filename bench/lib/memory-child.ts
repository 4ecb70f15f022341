/**
 * One side of the memory benchmark, alone in its own process (started by
 * bench/memory.ts with --expose-gc), so the other library's heap, JIT code
 * and garbage cannot blur the numbers.
 *
 *   node --expose-gc --import tsx bench/lib/memory-child.ts <ours|mqttjs> <idle|queued> <url> <count>
 *
 * idle: `count` clients connected and idle (batches of 50 connect at once).
 * queued: one client whose broker is unreachable, with `count` QoS 1
 * messages published while offline (16-byte payload, one Buffer shared by
 * all, so only what the library itself keeps per message is counted).
 *
 * Prints one JSON line: memory after loading the library and after the
 * scenario, each after full garbage collections.
 */
import { type BenchClient, type Lib, openClient } from './contenders.ts';

const [lib, scenario, url, countArg] = process.argv.slice(2) as [Lib, 'idle' | 'queued', string, string];
const count = Number(countArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

async function settle(): Promise<{ heap: number; rss: number; heapUsed: number; arrayBuffers: number }> {
  // Let timers and sockets settle, then collect until nothing more goes (weak refs, finalizers).
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return {
    heap: m.heapUsed + m.arrayBuffers,
    rss: m.rss,
    heapUsed: m.heapUsed,
    arrayBuffers: m.arrayBuffers,
  };
}

const keep: BenchClient[] = [];
// Make one client first and drop it, so code paths are compiled and lazy module state exists before the baseline.
if (scenario === 'idle') {
  const warm = await openClient(lib, { url });
  await warm.end();
}
const before = await settle();
if (scenario === 'idle') {
  for (let i = 0; i < count; i += 50) {
    const batch = Math.min(50, count - i);
    keep.push(...(await Promise.all(Array.from({ length: batch }, () => openClient(lib, { url })))));
  }
} else {
  // Nobody listens on this port: the client keeps trying, and queues meanwhile.
  const client = await openClient(lib, { url, reconnectPeriod: 60_000 }, false);
  keep.push(client);
  const payload = Buffer.alloc(16, 7);
  const noop = () => {};
  for (let i = 0; i < count; i++) client.publish('bench/memory/queued', payload, 1, noop);
}
const after = await settle();
console.log(JSON.stringify({ lib, scenario, count, before, after, clients: keep.length }));
process.exit(0);
