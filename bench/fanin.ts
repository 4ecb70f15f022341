/**
 * Fan-in: many clients publishing at once from one process, as a load
 * generator would; total messages per second, ours vs MQTT.js.
 *
 * CLIENTS clients of each library stay connected to Mosquitto for the whole
 * run (each on its own topic, nobody subscribed). In a round, every client of
 * one library publishes PER_CLIENT messages (16 bytes), all issued in one
 * go, without waiting. The clock stops when every publication is complete:
 * at QoS 1 when every PUBACK is in; at QoS 0 each client ends its burst with
 * one QoS 1 marker, whose PUBACK proves the broker has read everything
 * before it (TCP keeps the order), and the clock stops at the last marker's
 * PUBACK (markers are not counted as messages). The libraries alternate
 * (ours, mqtt.js, mqtt.js, ours, ...) and the median round is reported.
 */

import { startBenchBroker } from './lib/broker.ts';
import { type BenchClient, LIB_NAME, type Lib, openClient, type QoS } from './lib/contenders.ts';
import {
  type BenchCase,
  emitJson,
  median,
  parseNetArgs,
  printTable,
  ratio,
  round,
  waitFor,
} from './lib/report.ts';

const LIBS: Lib[] = ['ours', 'mqttjs'];

async function connectAll(lib: Lib, url: string, count: number): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Math.min(50, count - i);
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => openClient(lib, { url })))));
  }
  return clients;
}

/** One round: returns messages per second over all clients. */
async function burst(
  lib: Lib,
  clients: BenchClient[],
  perClient: number,
  qos: QoS,
  payload: Buffer,
): Promise<number> {
  const expected = qos === 0 ? clients.length : clients.length * perClient;
  let completed = 0;
  const done = () => {
    completed++;
  };
  const noop = () => {};
  const start = performance.now();
  clients.forEach((client, c) => {
    const topic = `bench/fanin/${lib}/${c}`;
    for (let i = 0; i < perClient; i++) client.publish(topic, payload, qos, qos === 0 ? noop : done);
    if (qos === 0) client.publish(topic, payload, 1, done); // the marker
  });
  await waitFor(
    () => completed === expected,
    120_000,
    `${LIB_NAME[lib]} fan-in qos${qos}: ${completed}/${expected}`,
  );
  return (clients.length * perClient) / ((performance.now() - start) / 1000);
}

export async function run(args: string[]): Promise<void> {
  const { quick, filter } = parseNetArgs(args);
  const clientCount = quick ? 100 : 1000;
  const perClient = quick ? 10 : 20;
  const rounds = quick ? 1 : 5;
  console.log(
    `fanin: ${clientCount} clients x ${perClient} messages each, one process, median of ${rounds} round(s)${quick ? ' (quick)' : ''}`,
  );
  const broker = await startBenchBroker();
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [['case', 'steadfast msg/s', 'mqtt.js msg/s', 'ours/mqtt.js']];
  const payload = Buffer.alloc(16, 1);
  const clients = new Map<Lib, BenchClient[]>();
  try {
    for (const lib of LIBS) clients.set(lib, await connectAll(lib, broker.url, clientCount));
    for (const qos of [0, 1] as const) {
      const name = `qos${qos} ${clientCount} clients`;
      if (filter !== undefined && !name.includes(filter)) continue;
      const results = new Map<Lib, number[]>(LIBS.map((l) => [l, []]));
      for (const lib of LIBS) await burst(lib, clients.get(lib)!, perClient, qos, payload); // warm-up
      for (let r = 0; r < rounds * 2; r++) {
        const lib = LIBS[(r + (r >> 1)) % 2];
        results.get(lib)!.push(await burst(lib, clients.get(lib)!, perClient, qos, payload));
      }
      const [ours, ref] = LIBS.map((l) => round(median(results.get(l)!)));
      cases.push({
        case: name,
        ours,
        ref,
        ref_name: 'mqtt.js',
        ratio: ratio(ours, ref),
        unit: 'msg/s',
        clients: clientCount,
        per_client: perClient,
      });
      rows.push([name, ours, ref, `${ratio(ours, ref).toFixed(2)}x`]);
    }
  } finally {
    for (const list of clients.values()) await Promise.all(list.map((c) => c.end()));
    await broker.stop();
  }
  printTable(rows);
  emitJson('fanin', cases, quick, {}, filter !== undefined);
}
