/**
 * Latency: the round trip publish -> Mosquitto -> subscriber at a steady
 * rate, for QoS 0, 1 and 2, ours vs MQTT.js (publisher and subscriber of the
 * same library, in this process, so both ends read the same clock).
 *
 * The publisher sends RATE messages per second, 16 bytes each, paced by a
 * 1 ms timer (every message due by then goes out); each payload carries its
 * sequence number, and the time is taken just before `publish()` is called.
 * The subscriber takes the time in its message callback. The two libraries
 * take turns (ours, mqtt.js, mqtt.js, ours, ...) and their samples are
 * pooled: p50 / p99 / max in milliseconds, lower is better (ratio = ours / mqtt.js).
 */

import { startBenchBroker } from './lib/broker.ts';
import { LIB_NAME, type Lib, openClient, type QoS } from './lib/contenders.ts';
import {
  type BenchCase,
  emitJson,
  parseNetArgs,
  printTable,
  quantile,
  ratio,
  round,
  sleep,
  waitFor,
} from './lib/report.ts';

const RATE = 1000;
const LIBS: Lib[] = ['ours', 'mqttjs'];

/** One library's publisher/subscriber pair on its own topic; `round` sends `count` messages and returns their latencies. */
async function pair(lib: Lib, url: string, qos: QoS) {
  const topic = `bench/latency/${qos}/${lib}`;
  const [pub, sub] = await Promise.all([openClient(lib, { url }), openClient(lib, { url })]);
  let sentAt = new Float64Array(0);
  let samples: number[] = [];
  await sub.subscribe(topic, qos, (_t, payload) => {
    const now = performance.now();
    const seq = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
    if (seq < sentAt.length) samples.push(now - sentAt[seq]);
  });
  const noop = () => {};
  return {
    async round(count: number): Promise<number[]> {
      sentAt = new Float64Array(count);
      samples = [];
      const payloads = Array.from({ length: count }, (_, i) => {
        const p = Buffer.alloc(16);
        p.writeUInt32BE(i, 0);
        return p;
      });
      const start = performance.now();
      let next = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          const due = Math.min(count, Math.floor(((performance.now() - start) * RATE) / 1000) + 1);
          for (; next < due; next++) {
            sentAt[next] = performance.now();
            pub.publish(topic, payloads[next], qos, noop);
          }
          if (next < count) setTimeout(tick, 1);
          else resolve();
        };
        tick();
      });
      await waitFor(
        () => samples.length >= count,
        30_000,
        `${LIB_NAME[lib]} qos${qos}: ${samples.length}/${count}`,
      );
      return samples;
    },
    end: () => Promise.all([pub.end(), sub.end()]),
  };
}

export async function run(args: string[]): Promise<void> {
  const { quick, filter } = parseNetArgs(args);
  const perRound = quick ? 100 : 1000;
  const rounds = quick ? 1 : 3;
  console.log(
    `latency: publish -> Mosquitto -> subscriber at ${RATE} msg/s, ${rounds * perRound} samples per side${quick ? ' (quick: rough numbers)' : ''}`,
  );
  const broker = await startBenchBroker();
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [['case', 'steadfast ms', 'mqtt.js ms', 'ours/mqtt.js']];
  try {
    for (const qos of [0, 1, 2] as const) {
      if (filter !== undefined && !`qos${qos}`.includes(filter)) continue;
      const pairs = new Map<Lib, Awaited<ReturnType<typeof pair>>>();
      for (const lib of LIBS) pairs.set(lib, await pair(lib, broker.url, qos));
      const samples = new Map<Lib, number[]>(LIBS.map((l) => [l, []]));
      try {
        for (const lib of LIBS) await pairs.get(lib)!.round(Math.min(100, perRound)); // warm-up
        for (let r = 0; r < rounds * 2; r++) {
          // ours, mqtt.js, mqtt.js, ours, ...: neither side always goes first.
          const lib = LIBS[(r + (r >> 1)) % 2];
          samples.get(lib)!.push(...(await pairs.get(lib)!.round(perRound)));
          await sleep(50);
        }
      } finally {
        for (const p of pairs.values()) await p.end();
      }
      const sorted = LIBS.map((l) => samples.get(l)!.sort((a, b) => a - b));
      for (const [label, q] of [
        ['p50', 0.5],
        ['p99', 0.99],
        ['max', 1],
      ] as const) {
        const [ours, ref] = sorted.map((s) => round(quantile(s, q), 3));
        const name = `qos${qos} ${label}`;
        cases.push({
          case: name,
          ours,
          ref,
          ref_name: 'mqtt.js',
          ratio: ratio(ours, ref),
          unit: 'ms',
          samples: sorted[0].length,
        });
        rows.push([name, ours, ref, `${ratio(ours, ref).toFixed(2)}x`]);
      }
    }
  } finally {
    await broker.stop();
  }
  printTable(rows);
  console.log('(lower is better)');
  emitJson('latency', cases, quick, { rate: RATE }, filter !== undefined);
}
