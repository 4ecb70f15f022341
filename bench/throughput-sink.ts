/**
 * Throughput, client-bound (`npm run bench -- throughput --broker sink`):
 * one client publishes N messages to the sink broker (bench/sink/sink.c),
 * which answers every packet and routes nothing, so the client is the limit
 * instead of Mosquitto. Sink and clients run on separate cores (taskset)
 * when there are two or more.
 *
 * A run is as in the Mosquitto mode (bench/throughput.ts) without the
 * subscriber: publish() 100 per turn of the event loop, the clock stops when
 * every publication is complete (QoS 0 handed to the socket, QoS 1 PUBACK,
 * QoS 2 PUBCOMP). Reported per contender: msg/s, and CPU µs per message of
 * this process (process.cpuUsage; only the publisher runs in it).
 *
 * Receiving (cases `receive qos<q> <size>`): the client subscribes to
 * `sink/blast/<N>/<size>/<run>` and the sink publishes N messages on it at
 * that QoS as fast as the client takes them (QoS 1/2 within the client's
 * Receive Maximum); the clock runs from subscribe() to the N-th message,
 * and the CPU column is per received message.
 *
 * `--inflight`: the sweep that chose DEFAULT_MAX_INFLIGHT. Ours alone, QoS 1
 * and 2, 16 B, with maxInflight at each value of INFLIGHT_CAPS, against the
 * sink and against Mosquitto with no in-flight limit (so it announces no
 * Receive Maximum, the case the cap is for).
 */
import type { MosquittoBroker } from './lib/broker.ts';
import { startBenchBroker } from './lib/broker.ts';
import { type BenchClient, LIB_NAME, type Lib, openClient, type QoS } from './lib/contenders.ts';
import { RawPublisher, rawSubscriber } from './lib/raw.ts';
import { type BenchCase, emitJson, median, printTable, ratio, round } from './lib/report.ts';
import { type SinkBroker, startSink } from './lib/sink.ts';
import { makePayloads, type RunResult, result, SIZES, SLICE, waitUntil } from './throughput.ts';

type Contender = Lib | 'raw';
const CONTENDERS: Contender[] = ['ours', 'mqttjs', 'raw'];
/** maxInflight values of the sweep; 65,535 is "unbounded" (the most packet ids there are). */
export const INFLIGHT_CAPS = [16, 32, 64, 100, 200, 1000, 65_535];

/** N per QoS: against the sink a run takes well under a second. */
function countFor(qos: QoS, quick: boolean): number {
  if (quick) return 300;
  return qos === 0 ? 60_000 : qos === 1 ? 30_000 : 20_000;
}

interface Runner {
  run(): Promise<RunResult>;
  close(): Promise<void>;
}

async function libPublisher(
  lib: Lib,
  url: string,
  topic: string,
  qos: QoS,
  payloads: Buffer[],
  maxInflight?: number,
): Promise<Runner> {
  const n = payloads.length;
  const pub: BenchClient = await openClient(lib, maxInflight === undefined ? { url } : { url, maxInflight });
  return {
    async run() {
      let completed = 0;
      const done = () => {
        completed++;
      };
      const cpu = process.cpuUsage();
      const start = performance.now();
      let next = 0;
      await new Promise<void>((resolve) => {
        const slice = () => {
          const end = Math.min(n, next + SLICE);
          for (; next < end; next++) pub.publish(topic, payloads[next], qos, done);
          if (next < n) setImmediate(slice);
          else resolve();
        };
        slice();
      });
      await waitUntil(
        () => completed === n,
        () => `${LIB_NAME[lib]}: ${completed}/${n} completed`,
      );
      return result(n, start, cpu);
    },
    close: () => pub.end(),
  };
}

async function rawPublisher(port: number, topic: string, qos: QoS, payloads: Buffer[]): Promise<Runner> {
  const pub = await RawPublisher.open(port, `raw-pub-${Math.random().toString(16).slice(2, 10)}`);
  const packets = pub.prepare(topic, payloads, qos);
  return {
    async run() {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await pub.run(packets, qos);
      return result(payloads.length, start, cpu);
    },
    async close() {
      pub.close();
    },
  };
}

/** The sequence number in a blast payload's first 4 bytes. */
function seqOf(payload: Uint8Array): number {
  return ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
}

/** A subscriber the sink blasts N messages at, once per run (a fresh topic each time). */
async function libReceiver(lib: Lib, url: string, qos: QoS, n: number, size: number): Promise<Runner> {
  const sub: BenchClient = await openClient(lib, { url });
  let runs = 0;
  return {
    async run() {
      const seen = new Uint8Array(n);
      let count = 0;
      const topic = `sink/blast/${n}/${size}/r${String(runs++).padStart(4, '0')}`;
      const cpu = process.cpuUsage();
      const start = performance.now();
      await sub.subscribe(topic, qos, (_t, payload) => {
        const seq = seqOf(payload);
        if (seq < n && seen[seq] === 0) {
          seen[seq] = 1;
          count++;
        }
      });
      await waitUntil(
        () => count === n,
        () => `${LIB_NAME[lib]}: ${count}/${n} received`,
      );
      return result(n, start, cpu);
    },
    close: () => sub.end(),
  };
}

async function rawReceiver(port: number, qos: QoS, n: number, size: number): Promise<Runner> {
  let runs = 0;
  return {
    async run() {
      let count = 0;
      const topic = `sink/blast/${n}/${size}/r${String(runs++).padStart(4, '0')}`;
      const cpu = process.cpuUsage();
      const start = performance.now();
      // topic, packet id (QoS > 0), properties (empty: one byte), payload.
      const c = await rawSubscriber(port, `raw-sub-${runs}`, topic, qos, () => {
        count++;
      });
      await waitUntil(
        () => count === n,
        () => `raw: ${count}/${n} received`,
      );
      const r = result(n, start, cpu);
      c.close();
      return r;
    },
    async close() {},
  };
}

/** Warm-up, then `rounds` rounds in rotating order; the median of each contender. */
async function measure<K>(
  keys: K[],
  open: (k: K) => Promise<Runner>,
  rounds: number,
): Promise<Map<K, { rate: number; cpuUs: number }>> {
  const runners = new Map<K, Runner>();
  const results = new Map<K, RunResult[]>(keys.map((k) => [k, []]));
  try {
    for (const k of keys) runners.set(k, await open(k));
    for (const k of keys) await runners.get(k)!.run();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[(r + i) % keys.length];
        results.get(k)!.push(await runners.get(k)!.run());
      }
    }
  } finally {
    for (const runner of runners.values()) await runner.close();
  }
  return new Map(
    keys.map((k) => {
      const rs = results.get(k)!;
      return [
        k,
        { rate: round(median(rs.map((x) => x.rate))), cpuUs: round(median(rs.map((x) => x.cpuUs)), 2) },
      ];
    }),
  );
}

/** The client-bound mode: ours, MQTT.js and the raw writer against the sink. */
export async function runSink(quick: boolean, filter: string | undefined): Promise<void> {
  const rounds = quick ? 1 : 5;
  const sink = await startSink();
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [
    [
      'case',
      'N',
      'steadfast msg/s',
      'mqtt.js msg/s',
      'raw msg/s',
      'ours/mqtt.js',
      'ours/raw',
      'CPU µs/msg ours/mqtt.js/raw',
      'CPU ours/mqtt.js',
    ],
  ];
  console.log(
    `throughput (client-bound): publish N messages -> sink broker (${sink.pinning}), median of ${rounds} round(s)${quick ? ' (quick: rough numbers)' : ''}`,
  );
  try {
    /** One case: its JSON line entry and its table row, ours against MQTT.js and the raw writer. */
    const record = (
      name: string,
      n: number,
      m: Map<(typeof CONTENDERS)[number], { rate: number; cpuUs: number }>,
    ) => {
      const [ours, ref, raw] = CONTENDERS.map((c) => m.get(c)!);
      cases.push({
        case: name,
        ours: ours.rate,
        ref: ref.rate,
        ref_name: 'mqtt.js',
        ratio: ratio(ours.rate, ref.rate),
        unit: 'msg/s',
        raw: raw.rate,
        ratio_raw: ratio(ours.rate, raw.rate),
        n,
        ours_cpu_us: ours.cpuUs,
        ref_cpu_us: ref.cpuUs,
        raw_cpu_us: raw.cpuUs,
        cpu_ratio: ratio(ours.cpuUs, ref.cpuUs),
      });
      rows.push([
        name,
        n,
        ours.rate,
        ref.rate,
        raw.rate,
        `${ratio(ours.rate, ref.rate).toFixed(2)}x`,
        `${ratio(ours.rate, raw.rate).toFixed(2)}x`,
        `${ours.cpuUs} / ${ref.cpuUs} / ${raw.cpuUs}`,
        `${ratio(ours.cpuUs, ref.cpuUs).toFixed(2)}x`,
      ]);
    };
    for (const [label, size] of SIZES) {
      for (const qos of [0, 1, 2] as const) {
        const name = `qos${qos} ${label}`;
        if (filter !== undefined && !name.includes(filter)) continue;
        const n = countFor(qos, quick);
        const payloads = makePayloads(n, size);
        const topic = `bench/sink/${qos}/${label}`;
        const m = await measure(
          CONTENDERS,
          (c) =>
            c === 'raw'
              ? rawPublisher(sink.port, topic, qos, payloads)
              : libPublisher(c, sink.url, topic, qos, payloads),
          rounds,
        );
        record(name, n, m);
      }
    }
    for (const [label, size] of SIZES) {
      for (const qos of [0, 1, 2] as const) {
        const name = `receive qos${qos} ${label}`;
        if (filter !== undefined && !name.includes(filter)) continue;
        const n = countFor(qos, quick);
        const m = await measure(
          CONTENDERS,
          (c) =>
            c === 'raw' ? rawReceiver(sink.port, qos, n, size) : libReceiver(c, sink.url, qos, n, size),
          rounds,
        );
        record(name, n, m);
      }
    }
  } finally {
    await sink.stop();
  }
  printTable(rows);
  emitJson('throughput-sink', cases, quick, { broker: 'sink', pinning: sink.pinning }, filter !== undefined);
}

/** The in-flight sweep: ours at each cap, QoS 1 and 2, 16 B, against the sink and Mosquitto. */
export async function runInflightSweep(quick: boolean, filter: string | undefined): Promise<void> {
  const rounds = quick ? 1 : 3;
  const caps = quick ? [16, 100, 65_535] : INFLIGHT_CAPS;
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [
    ['broker', 'case', ...caps.map((c) => (c === 65_535 ? 'unbounded' : `cap ${c}`))],
  ];
  console.log(
    `throughput by in-flight cap (ours, msg/s, median of ${rounds} round(s))${quick ? ' (quick)' : ''}`,
  );
  for (const brokerName of ['sink', 'mosquitto'] as const) {
    const broker: SinkBroker | MosquittoBroker =
      brokerName === 'sink' ? await startSink() : await startBenchBroker();
    try {
      for (const qos of [1, 2] as const) {
        const name = `${brokerName} qos${qos} 16B`;
        if (filter !== undefined && !name.includes(filter)) continue;
        // Against Mosquitto a run is routed and stored: fewer messages keep it near a second.
        const n = quick ? 300 : brokerName === 'sink' ? countFor(qos, false) : qos === 1 ? 10_000 : 5_000;
        const payloads = makePayloads(n, 16);
        const topic = `bench/inflight/${qos}`;
        const m = await measure(
          caps,
          (cap) => libPublisher('ours', broker.url, topic, qos, payloads, cap),
          rounds,
        );
        const best = Math.max(...caps.map((c) => m.get(c)!.rate));
        for (const cap of caps) {
          const { rate, cpuUs } = m.get(cap)!;
          // ref: the unbounded window, the behaviour before the cap.
          const unbounded = m.get(caps[caps.length - 1])!.rate;
          cases.push({
            case: `${name} cap ${cap === 65_535 ? 'unbounded' : cap}`,
            ours: rate,
            ref: unbounded,
            ref_name: 'unbounded',
            ratio: ratio(rate, unbounded),
            unit: 'msg/s',
            of_best: ratio(rate, best),
            ours_cpu_us: cpuUs,
            n,
          });
        }
        rows.push([brokerName, `qos${qos} 16B`, ...caps.map((c) => m.get(c)!.rate)]);
      }
    } finally {
      await broker.stop();
    }
  }
  printTable(rows);
  emitJson('throughput-inflight', cases, quick, {}, filter !== undefined);
}
