/**
 * Ours alone against the sink broker, for profiling the hot paths:
 * `node --import tsx bench/profile.mts [publish|receive] [qos] [size] [rounds]`,
 * optionally under `node --cpu-prof` or `--heap-prof`. Not a benchmark of
 * record (that is `npm run bench -- throughput --broker sink`); it prints per
 * round the CPU µs per message (process.cpuUsage), msg/s and the bytes the
 * JS heap allocated per message (the heap's growth between garbage
 * collections, summed with v8.GCProfiler), then the median of the rounds.
 *
 * Same loop as the throughput benchmark: 100 publish() per turn of the event
 * loop, the clock stops when every publication is complete.
 */
import { GCProfiler } from 'node:v8';
import { loadOurs } from './lib/contenders.ts';
import { median, round } from './lib/report.ts';
import { startSink } from './lib/sink.ts';
import { makePayloads, SLICE, waitUntil } from './throughput.ts';

const [mode = 'publish', qosArg = '1', sizeArg = '16', roundsArg = '7'] = process.argv.slice(2);
const qos = Number(qosArg) as 0 | 1 | 2;
const size = Number(sizeArg);
const rounds = Number(roundsArg);
const n = qos === 0 ? 60_000 : 30_000;

/** Bytes allocated on the JS heap while `body` runs (sum of the heap's growth between collections). */
async function allocated<T>(body: () => Promise<T>): Promise<[T, number]> {
  const profiler = new GCProfiler();
  const v8 = await import('node:v8');
  const before = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  const value = await body();
  const after = v8.getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  let total = 0;
  let base = before;
  for (const s of statistics) {
    total += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - base);
    base = s.afterGC.heapStatistics.usedHeapSize;
  }
  total += Math.max(0, after - base);
  return [value, total];
}

const ours = await loadOurs();
const sink = await startSink();
const client = ours.createClient({ url: sink.url, protocolVersion: 5, clean: true, keepalive: 60 });
await new Promise<void>((resolve) => {
  client.on('up', () => resolve());
  client.start();
});
const payloads = makePayloads(n, size);
const topic = `bench/profile/${qos}/${size}`;

async function publishRound(): Promise<void> {
  let completed = 0;
  const done = () => {
    completed++;
  };
  let next = 0;
  await new Promise<void>((resolve) => {
    const slice = () => {
      const end = Math.min(n, next + SLICE);
      for (; next < end; next++) client.publish(topic, payloads[next], { qos }).then(done);
      if (next < n) setImmediate(slice);
      else resolve();
    };
    slice();
  });
  await waitUntil(
    () => completed === n,
    () => `${completed}/${n} completed`,
  );
}

let runs = 0;
async function receiveRound(): Promise<void> {
  let count = 0;
  const blast = `sink/blast/${n}/${size}/p${String(runs++).padStart(4, '0')}`;
  const sub = await client.subscribe(blast, {
    qos,
    onMessage: () => {
      count++;
    },
  });
  await waitUntil(
    () => count >= n,
    () => `${count}/${n} received`,
  );
  await sub.unsubscribe();
}

const round1 = mode === 'receive' ? receiveRound : publishRound;

/*
 * PROFILE_ALLOC=<file>: a sampling heap profile of what the rounds allocate,
 * collected objects included (--heap-prof keeps only what is still live).
 */
const allocFile = process.env.PROFILE_ALLOC;
const inspector = allocFile === undefined ? undefined : new (await import('node:inspector')).Session();
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    inspector!.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
const cpus: number[] = [];
const rates: number[] = [];
const bytes: number[] = [];
await round1(); // warm-up
if (inspector !== undefined) {
  inspector.connect();
  await post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
for (let r = 0; r < rounds; r++) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const [, alloc] = await allocated(round1);
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  cpus.push((used.user + used.system) / n);
  rates.push(n / (elapsed / 1000));
  bytes.push(alloc / n);
  console.log(
    `round ${r}: ${round(cpus[r], 2)} µs/msg, ${round(rates[r])} msg/s, ${round(bytes[r])} B allocated/msg`,
  );
}
if (inspector !== undefined) {
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
  (await import('node:fs')).writeFileSync(allocFile!, JSON.stringify(profile));
}
console.log(
  `${mode} qos${qos} ${size}B (${sink.pinning}), median of ${rounds}: ${round(median(cpus), 2)} µs/msg CPU, ${round(median(rates))} msg/s, ${round(median(bytes))} B allocated/msg`,
);
await client.end();
await sink.stop();
