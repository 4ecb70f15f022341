/**
 * Throughput: one client publishes N messages to a real Mosquitto on
 * loopback, one client (of the same kind) subscribed at the same QoS receives
 * them. Contenders: steadfast-mqtt, MQTT.js, and the raw writer/reader
 * (bench/lib/raw.ts: pre-encoded packets, no library; the practical ceiling).
 *
 * How a run goes: the publisher calls `publish()` for all N messages, 100 per
 * turn of the event loop (as a producer would, so I/O interleaves), without
 * waiting for each. The clock starts before the first call and stops when
 * BOTH the subscriber has received every one of the N messages (counted by
 * the sequence number in the payload, so a duplicate cannot end a run
 * early) AND the publisher has seen every publication complete (QoS 0:
 * handed to the socket; QoS 1: PUBACK; QoS 2: PUBCOMP). msg/s = N / time.
 *
 * Each contender keeps its two connections for the whole case; one warm-up
 * run each, then rounds in rotating order (ours/mqtt.js/raw, mqtt.js/raw/ours,
 * ...), and the median round is reported. MQTT 5, clean sessions, Mosquitto
 * with its default in-flight limit (20: it announces Receive Maximum 20) and
 * no queue limit (bench/lib/broker.ts says why).
 *
 * That is the end-to-end mode, where the broker is the limit. The
 * client-bound mode (`--broker sink`, bench/throughput-sink.ts) publishes to
 * a sink that answers and routes nothing; `--broker both` (the default) runs
 * the two in turn and prints a table and a JSON line for each.
 *
 * Also reported: this process's CPU time per message (user + system, both
 * clients together, from process.cpuUsage). On a machine where the broker
 * is the bottleneck (all three contenders at about the same msg/s), that is
 * what still tells the clients apart.
 */

import { startThroughputBroker } from './lib/broker.ts';
import { type BenchClient, LIB_NAME, type Lib, openClient, type QoS } from './lib/contenders.ts';
import { RawPublisher, rawSubscriber } from './lib/raw.ts';
import { type BenchCase, emitJson, median, parseNetArgs, printTable, ratio, round } from './lib/report.ts';

type Contender = Lib | 'raw';
const CONTENDERS: Contender[] = ['ours', 'mqttjs', 'raw'];
export const SIZES: [label: string, bytes: number][] = [
  ['16B', 16],
  ['1KiB', 1024],
];
/** Publications per turn of the event loop. */
export const SLICE = 100;
const RUN_TIMEOUT_MS = 120_000;

/** N per QoS: each run takes roughly a second for the slowest contender. */
function countFor(qos: QoS, quick: boolean): number {
  if (quick) return 300;
  return qos === 0 ? 30_000 : qos === 1 ? 10_000 : 5_000;
}

/** Payloads carry their sequence number in the first 4 bytes. Made before timing; shared by all contenders. */
export function makePayloads(n: number, size: number): Buffer[] {
  const pool = Buffer.alloc(n * size);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = pool.subarray(i * size, (i + 1) * size);
    for (let j = 4; j < size; j++) p[j] = (i + j) & 0xff;
    p.writeUInt32BE(i, 0);
    out.push(p);
  }
  return out;
}

/** Counts distinct sequence numbers below n. */
class Tally {
  private seen: Uint8Array;
  count = 0;
  constructor(private readonly n: number) {
    this.seen = new Uint8Array(n);
  }
  reset(): void {
    this.seen.fill(0);
    this.count = 0;
  }
  /** The first few sequence numbers not seen, for error messages. */
  missing(): string {
    const out: number[] = [];
    for (let i = 0; i < this.n && out.length < 10; i++) if (this.seen[i] === 0) out.push(i);
    return out.join(',');
  }
  add(seq: number): void {
    if (seq < this.n && this.seen[seq] === 0) {
      this.seen[seq] = 1;
      this.count++;
    }
  }
}

/** One run: messages per second, and this process's CPU time per message (both clients together), in µs. */
export interface RunResult {
  rate: number;
  cpuUs: number;
  /** Messages the subscriber never received (the broker dropped them; see STALL_MS). */
  lost?: number;
}

/**
 * A run whose publisher has seen every publication complete but whose
 * subscriber has received nothing new for this long has lost messages: with
 * Mosquitto's default in-flight limit (20), a client that ignores the
 * announced Receive Maximum (MQTT.js) has QoS 2 messages beyond it
 * PUBREC'd and dropped. Such a run is reported with what arrived (its rate
 * up to the last arrival) and the count lost, instead of never ending.
 */
export const STALL_MS = 1_000;

/**
 * When a run has stalled: the sender is done and nothing new has arrived for
 * STALL_MS. Keeps the time and CPU of the last arrival, so that a run with
 * losses is reported at its rate up to then, without the polled wait.
 */
export class StallWatch {
  readonly #tally: { readonly count: number };
  readonly #clock: () => number;
  readonly #cpu: NodeJS.CpuUsage;
  readonly #start: number;
  #lastCount = 0;
  #lastProgress: number;
  #cpuAtProgress: NodeJS.CpuUsage;

  constructor(tally: { readonly count: number }, clock: () => number = () => performance.now()) {
    this.#tally = tally;
    this.#clock = clock;
    this.#cpu = process.cpuUsage();
    this.#start = clock();
    this.#lastProgress = this.#start;
    this.#cpuAtProgress = process.cpuUsage(this.#cpu);
  }

  /** True once `senderDone` and no new arrival for STALL_MS; call it while polling. */
  stalled(senderDone: boolean): boolean {
    const count = this.#tally.count;
    if (count !== this.#lastCount) {
      this.#lastCount = count;
      this.#lastProgress = this.#clock();
      this.#cpuAtProgress = process.cpuUsage(this.#cpu);
    }
    return senderDone && this.#clock() - this.#lastProgress > STALL_MS;
  }

  /** The run's result: all `n` arrived, or the rate up to the last arrival and the count lost. */
  result(n: number): RunResult {
    const count = this.#tally.count;
    if (count === n) {
      const used = process.cpuUsage(this.#cpu);
      return { rate: n / ((this.#clock() - this.#start) / 1000), cpuUs: (used.user + used.system) / n };
    }
    const cpu = this.#cpuAtProgress;
    return {
      rate: count / ((this.#lastProgress - this.#start) / 1000),
      cpuUs: (cpu.user + cpu.system) / Math.max(1, count),
      lost: n - count,
    };
  }
}

/** One contender's side of a case: set up once, run many times. */
interface Runner {
  run(): Promise<RunResult>;
  close(): Promise<void>;
}

async function libRunner(
  lib: Lib,
  url: string,
  topic: string,
  qos: QoS,
  payloads: Buffer[],
): Promise<Runner> {
  const n = payloads.length;
  const tally = new Tally(n);
  const [pub, sub]: BenchClient[] = await Promise.all([openClient(lib, { url }), openClient(lib, { url })]);
  await sub.subscribe(topic, qos, (_t, payload) => {
    tally.add(((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0);
  });
  return {
    async run() {
      tally.reset();
      let completed = 0;
      const done = () => {
        completed++;
      };
      const watch = new StallWatch(tally);
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
        () => (tally.count === n && completed === n) || watch.stalled(completed === n),
        () =>
          `${LIB_NAME[lib]}: ${tally.count}/${n} received, ${completed}/${n} completed, missing ${tally.missing()}`,
      );
      return watch.result(n);
    },
    async close() {
      await Promise.all([pub.end(), sub.end()]);
    },
  };
}

async function rawRunner(port: number, topic: string, qos: QoS, payloads: Buffer[]): Promise<Runner> {
  const n = payloads.length;
  const tally = new Tally(n);
  const id = Math.random().toString(16).slice(2, 10);
  const sub = await rawSubscriber(port, `raw-sub-${id}`, topic, qos, (body) => {
    // topic, packet id (QoS > 0), properties (a varint length), payload.
    let i = 2 + body.readUInt16BE(0) + (qos > 0 ? 2 : 0);
    let len = 0;
    let mul = 1;
    for (;;) {
      const b = body[i++];
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    tally.add(body.readUInt32BE(i + len));
  });
  const pub = await RawPublisher.open(port, `raw-pub-${id}`);
  const packets = pub.prepare(topic, payloads, qos);
  return {
    async run() {
      tally.reset();
      let written = false;
      const watch = new StallWatch(tally);
      let failed: unknown;
      pub.run(packets, qos).then(
        () => {
          written = true;
        },
        (error: unknown) => {
          failed = error;
        },
      );
      // The raw writer meets the same broker as the clients: QoS 0 may be dropped (Mosquitto does
      // under load), so it too ends on a stall, reporting what was lost, rather than at the timeout.
      await waitUntil(
        () => {
          if (failed !== undefined) throw failed;
          return (tally.count === n && written) || watch.stalled(written);
        },
        () => `raw: ${tally.count}/${n} received, missing ${tally.missing()}`,
      );
      return watch.result(n);
    },
    async close() {
      pub.close();
      sub.close();
    },
  };
}

export function result(n: number, start: number, cpu: NodeJS.CpuUsage): RunResult {
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { rate: n / (elapsed / 1000), cpuUs: (used.user + used.system) / n };
}

/**
 * Waits for a run to finish. Polling with setImmediate adds at most one turn
 * of the event loop (microseconds) to a run, the same for every contender.
 */
export function waitUntil(finished: () => boolean, status: () => string): Promise<void> {
  const deadline = performance.now() + RUN_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const check = () => {
      try {
        if (finished()) return resolve();
      } catch (error) {
        return reject(error);
      }
      if (performance.now() > deadline) return reject(new Error(`throughput run timed out: ${status()}`));
      setImmediate(check);
    };
    check();
  });
}

/** `--broker mosquitto|sink|both` (default both, Mosquitto first); `--inflight`: the in-flight cap sweep instead. */
function parseThroughputArgs(args: string[]): { broker: string; inflight: boolean; rest: string[] } {
  const rest: string[] = [];
  let broker = 'both';
  let inflight = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--broker') broker = args[++i] ?? '';
    else if (args[i] === '--inflight') inflight = true;
    else rest.push(args[i]);
  }
  if (!['mosquitto', 'sink', 'both'].includes(broker)) {
    throw new Error(`throughput: --broker must be mosquitto, sink or both, not '${broker}'`);
  }
  return { broker, inflight, rest };
}

export async function run(args: string[]): Promise<void> {
  const { broker, inflight, rest } = parseThroughputArgs(args);
  const { quick, filter } = parseNetArgs(rest);
  // Loaded only when asked for: it builds the sink with the C compiler.
  if (inflight) return (await import('./throughput-sink.ts')).runInflightSweep(quick, filter);
  if (broker !== 'sink') await runMosquitto(quick, filter);
  if (broker !== 'mosquitto') await (await import('./throughput-sink.ts')).runSink(quick, filter);
}

/** The end-to-end mode: publisher -> Mosquitto (default in-flight settings) -> subscriber. */
async function runMosquitto(quick: boolean, filter: string | undefined): Promise<void> {
  const rounds = quick ? 1 : 5;
  const broker = await startThroughputBroker();
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
    ],
  ];
  console.log(
    `throughput (end to end): publish N messages -> Mosquitto (default in-flight limit) -> subscriber, median of ${rounds} round(s)${quick ? ' (quick: rough numbers)' : ''}`,
  );
  try {
    for (const [label, size] of SIZES) {
      for (const qos of [0, 1, 2] as const) {
        const name = `qos${qos} ${label}`;
        if (filter !== undefined && !name.includes(filter)) continue;
        const n = countFor(qos, quick);
        const payloads = makePayloads(n, size);
        const runners = new Map<Contender, Runner>();
        for (const c of CONTENDERS) {
          const topic = `bench/throughput/${qos}/${label}/${c}`;
          runners.set(
            c,
            c === 'raw'
              ? await rawRunner(broker.port, topic, qos, payloads)
              : await libRunner(c, broker.url, topic, qos, payloads),
          );
        }
        const results = new Map<Contender, RunResult[]>(CONTENDERS.map((c) => [c, []]));
        try {
          for (const c of CONTENDERS) await runners.get(c)!.run(); // warm-up
          for (let r = 0; r < rounds; r++) {
            for (let k = 0; k < CONTENDERS.length; k++) {
              const c = CONTENDERS[(r + k) % CONTENDERS.length];
              results.get(c)!.push(await runners.get(c)!.run());
            }
          }
        } finally {
          for (const runner of runners.values()) await runner.close();
        }
        const [ours, ref, raw] = CONTENDERS.map((c) => round(median(results.get(c)!.map((x) => x.rate))));
        // The most messages any round of a contender lost (0 for a compliant client).
        const [oursLost, refLost, rawLost] = CONTENDERS.map((c) =>
          Math.max(0, ...results.get(c)!.map((x) => x.lost ?? 0)),
        );
        const [oursCpu, refCpu, rawCpu] = CONTENDERS.map((c) =>
          round(median(results.get(c)!.map((x) => x.cpuUs)), 1),
        );
        cases.push({
          case: name,
          ours,
          ref,
          ref_name: 'mqtt.js',
          ratio: ratio(ours, ref),
          unit: 'msg/s',
          raw,
          ratio_raw: ratio(ours, raw),
          n,
          ours_cpu_us: oursCpu,
          ref_cpu_us: refCpu,
          raw_cpu_us: rawCpu,
          ours_lost: oursLost,
          ref_lost: refLost,
          raw_lost: rawLost,
        });
        const lostNote = (lost: number) => (lost > 0 ? ` (lost ${lost})` : '');
        rows.push([
          name,
          n,
          `${ours.toLocaleString('en-US')}${lostNote(oursLost)}`,
          `${ref.toLocaleString('en-US')}${lostNote(refLost)}`,
          `${raw.toLocaleString('en-US')}${lostNote(rawLost)}`,
          `${ratio(ours, ref).toFixed(2)}x`,
          `${ratio(ours, raw).toFixed(2)}x`,
          `${oursCpu} / ${refCpu} / ${rawCpu}`,
        ]);
      }
    }
  } finally {
    await broker.stop();
  }
  printTable(rows);
  emitJson('throughput', cases, quick, { broker: 'mosquitto' }, filter !== undefined);
}
