/**
 * Recovery: how soon after a link comes back does a client deliver again?
 * Ours vs MQTT.js, side by side through the same userspace TCP proxy
 * (test/fault/proxy.ts) to Mosquitto, over OUTAGES outages.
 *
 * Each library has a "device" client behind the proxy publishing a QoS 1
 * message every 5 ms, and an observer (one steadfast client, connected to the
 * broker directly) subscribed to both devices' topics. An outage: the proxy
 * cuts both connections and refuses new ones (accept, then close) for
 * 300-800 ms (seeded); then it lets connections through again: "restored".
 * Recovery = restored -> the first message from that device reaching the
 * observer. Both devices see the same outage and the same restore instant.
 *
 * Options, as equal as the two allow: keepalive 60 s (the cut is seen at
 * once as a closed socket, so it plays no part), reconnect period 500 ms.
 * MQTT.js waits exactly reconnectPeriod after each failed attempt; ours waits
 * quietPeriod + a random time up to min(reconnectPeriodMax, period x 2^failures)
 * (full jitter), so ours runs with quietPeriod 0 and reconnectPeriodMax =
 * reconnectPeriod = 500: at most 500 ms, like MQTT.js. The bound each
 * recovery is checked against: that configured backoff plus 2 round trips
 * through the proxy (TCP connect + CONNECT/CONNACK; the PUBLISH rides with
 * them), the round trip measured before the outages.
 */
import { FaultProxy } from '../test/fault/proxy.ts';
import { prng } from '../test/helpers/prng.ts';
import { startBenchBroker } from './lib/broker.ts';
import { type BenchClient, LIB_NAME, type Lib, openClient } from './lib/contenders.ts';
import {
  type BenchCase,
  emitJson,
  median,
  parseNetArgs,
  printTable,
  quantile,
  ratio,
  round,
  sleep,
  waitFor,
} from './lib/report.ts';

const LIBS: Lib[] = ['ours', 'mqttjs'];
const RECONNECT_PERIOD = 500;
const PUBLISH_EVERY_MS = 5;

/** Median round trip (QoS 1 PUBLISH -> PUBACK) through the proxy, in ms. */
async function roundTrip(client: BenchClient): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => client.publish('bench/recovery/rtt', Buffer.alloc(1), 1, resolve));
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function run(args: string[]): Promise<void> {
  const { quick } = parseNetArgs(args);
  const outages = quick ? 3 : 20;
  const random = prng(7);
  const broker = await startBenchBroker();
  const proxy = await FaultProxy.start({ targetPort: broker.port, listenHost: '127.0.0.1' });
  const viaProxy = `mqtt://127.0.0.1:${proxy.port}`;
  const settings = { keepalive: 60, reconnectPeriod: RECONNECT_PERIOD };
  const devices = new Map<Lib, BenchClient>();
  const timers: ReturnType<typeof setInterval>[] = [];
  let observer: BenchClient | undefined;
  const recoveries = new Map<Lib, number[]>(LIBS.map((l) => [l, []]));
  const bound = { rtt: 0, ms: 0 };
  try {
    devices.set(
      'ours',
      await openClient('ours', {
        url: viaProxy,
        ...settings,
        quietPeriod: 0,
        reconnectPeriodMax: RECONNECT_PERIOD,
      }),
    );
    devices.set('mqttjs', await openClient('mqttjs', { url: viaProxy, ...settings }));
    bound.rtt = await roundTrip(devices.get('ours')!);
    bound.ms = RECONNECT_PERIOD + 2 * bound.rtt;
    console.log(
      `recovery: ${outages} outages of 300-800 ms through a TCP proxy; reconnect period ${RECONNECT_PERIOD} ms, round trip ${bound.rtt.toFixed(2)} ms; bound ${bound.ms.toFixed(1)} ms${quick ? ' (quick)' : ''}`,
    );
    // When the first message from each device reached the observer after the link was restored.
    let restored = Number.POSITIVE_INFINITY;
    const firstAfter = new Map<Lib, number>();
    observer = await openClient('ours', { url: broker.url });
    await observer.subscribe('bench/recovery/device/#', 1, (topic) => {
      const now = performance.now();
      const lib = topic.slice(topic.lastIndexOf('/') + 1) as Lib;
      if (now > restored && !firstAfter.has(lib)) firstAfter.set(lib, now);
    });
    for (const [lib, device] of devices) {
      const payload = Buffer.alloc(16);
      const noop = () => {};
      timers.push(
        setInterval(() => device.publish(`bench/recovery/device/${lib}`, payload, 1, noop), PUBLISH_EVERY_MS),
      );
    }
    await sleep(200);
    for (let i = 0; i < outages; i++) {
      proxy.refuse(true);
      proxy.cut();
      await sleep(300 + Math.floor(random() * 500));
      firstAfter.clear();
      restored = performance.now();
      proxy.refuse(false);
      await waitFor(
        () => firstAfter.size === LIBS.length,
        60_000,
        `outage ${i + 1}: no message from ${LIBS.filter((l) => !firstAfter.has(l))
          .map((l) => LIB_NAME[l])
          .join(', ')}`,
      );
      for (const lib of LIBS) recoveries.get(lib)!.push(firstAfter.get(lib)! - restored);
      restored = Number.POSITIVE_INFINITY;
      await sleep(200);
    }
  } finally {
    for (const t of timers) clearInterval(t);
    for (const d of devices.values()) await d.end();
    await observer?.end();
    // The proxy's close waits for half-closed sockets the broker's exit ends anyway.
    await Promise.race([proxy.close(), sleep(1000)]);
    await broker.stop();
  }
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [['case', 'steadfast ms', 'mqtt.js ms', 'ours/mqtt.js']];
  const sorted = LIBS.map((l) => recoveries.get(l)!.sort((a, b) => a - b));
  for (const [label, q] of [
    ['p50', 0.5],
    ['p90', 0.9],
    ['max', 1],
  ] as const) {
    const [ours, ref] = sorted.map((s) => round(quantile(s, q), 1));
    cases.push({
      case: `recovery ${label}`,
      ours,
      ref,
      ref_name: 'mqtt.js',
      ratio: ratio(ours, ref),
      unit: 'ms',
    });
    rows.push([`recovery ${label}`, ours, ref, `${ratio(ours, ref).toFixed(2)}x`]);
  }
  const within = sorted.map((s) => s.filter((x) => x <= bound.ms).length);
  cases.push({
    case: 'within bound',
    ours: within[0],
    ref: within[1],
    ref_name: 'mqtt.js',
    ratio: ratio(within[0], within[1]),
    unit: `of ${outages}`,
    bound_ms: round(bound.ms, 1),
  });
  rows.push([`within ${bound.ms.toFixed(0)} ms`, `${within[0]}/${outages}`, `${within[1]}/${outages}`, '']);
  printTable(rows);
  console.log('(ms from restore to first delivery; lower is better)');
  emitJson('recovery', cases, quick, {
    outages,
    reconnect_period_ms: RECONNECT_PERIOD,
    rtt_ms: round(bound.rtt, 3),
    bound_ms: round(bound.ms, 1),
  });
}
