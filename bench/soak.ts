/**
 * The soak: one seeded schedule of faults of every kind, applied to
 * steadfast-mqtt and MQTT.js at the same time (both clients share the faulty
 * link, the broker and the proxy), while each publishes QoS 1 and QoS 2
 * streams in both directions. Prints a table, then one JSON line:
 *
 *   {"bench":"soak","seed":..,"faults":N,"ours":{"qos1":{"sent","lost","dup","broker_lost"},"qos2":{..},
 *    "recovery_ms_p50":..,"recovery_ms_max":..},"mqttjs":{..}}
 *
 * Recovery: from the moment a fault is removed to the first message that
 * library delivers after it. Needs root (network namespaces); see
 * test/fault/ for the harness. Exit code 1 when ours lost or duplicated.
 *
 *   npm run soak -- [--json] [--seed N | --seeds 1-10 | --seeds 1,2,5 | --seeds N] [--faults N]
 *                   [--rate MSG_PER_S] [--version 4|5 | --versions 4,5]
 *
 * With several seeds, each seed runs as one soak does (its own namespaces,
 * broker and clients, the same length), one after the other; the protocol
 * version alternates over `--versions` (default 5,4: odd seeds MQTT 5, even
 * 3.1.1). A summary table has a row per seed and client, and the final JSON
 * line aggregates all seeds in the same shape (`faults` the total, `ours` /
 * `mqttjs` counts summed; recovery p50 is the median of the seeds' p50s,
 * max the largest), with `seeds` and `protocols` listing what ran.
 * `--seeds N` means seeds 1..N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NsBroker } from '../test/fault/broker.ts';
import { DeliveryChecker, type DeliveryCounts } from '../test/fault/checker.ts';
import { HandoffTracker } from '../test/fault/handoff.ts';
import { FaultNet, faultNetUnsupported } from '../test/fault/netns.ts';
import type { ProxyEvent } from '../test/fault/proxy.ts';
import { ProxyProcess } from '../test/fault/proxy-process.ts';
import { Worker } from '../test/fault/worker.ts';
import type { WorkerLib } from '../test/fault/worker-protocol.ts';
import { prng } from '../test/helpers/prng.ts';
import { type AppliedFault, applyFault, FAULT_KINDS, schedule } from './soak/faults.ts';

interface Args {
  json: boolean;
  seed: number;
  faults: number;
  rate: number;
  version: 4 | 5;
  /** Every seed to run (`--seeds`); default just `seed`. */
  seeds: number[];
  /** Versions to alternate over, when `--versions` was given. */
  versions?: (4 | 5)[];
}

/** `1-10`, `1,2,5` or `N` (= 1..N). */
function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  for (const part of spec.split(',')) {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (range) {
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      if (hi < lo) fail(`--seeds ${spec}: ${part} is an empty range`);
      for (let s = lo; s <= hi; s++) seeds.push(s);
    } else if (/^\d+$/.test(part.trim())) seeds.push(Number(part));
    else fail(`--seeds ${spec}: expected N, A-B or a comma-separated list`);
  }
  if (!spec.includes(',') && !spec.includes('-')) return Array.from({ length: seeds[0] }, (_, i) => i + 1);
  return seeds;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, seed: 1, faults: 50, rate: 10, version: 5, seeds: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) fail(`${flag} needs a number`);
      return v;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--seed') args.seed = value();
    else if (flag === '--faults') args.faults = value();
    else if (flag === '--rate') args.rate = value();
    else if (flag === '--version') args.version = value() === 4 ? 4 : 5;
    else if (flag === '--seeds') args.seeds = parseSeeds(argv[++i] ?? '');
    else if (flag === '--versions') {
      args.versions = (argv[++i] ?? '')
        .split(',')
        .map((v) => (v.trim() === '4' ? 4 : v.trim() === '5' ? 5 : fail(`--versions: ${v} is not 4 or 5`)));
    } else
      fail(
        `unknown option ${flag} (expected --json, --seed N, --seeds SPEC, --faults N, --rate N, --version 4|5, --versions 4,5)`,
      );
  }
  if (args.seeds.length === 0) args.seeds = [args.seed];
  return args;
}

function fail(message: string): never {
  process.stderr.write(`soak: ${message}\n`);
  process.exit(2);
}

/** Client timing, the same for both libraries: outages are seen in seconds, reconnects are quick. */
const TIMING = { keepalive: 2, reconnectPeriod: 250, connectTimeout: 3000 };

/** The peers' tracing proxy listens here, in the broker's namespace (the faulty one has 1884). */
const PEER_PROXY_PORT = 1885;

/** One library's pair of clients: the device behind the faulty link, the peer beside the broker. */
interface Side {
  lib: WorkerLib;
  device: Worker;
  peer: Worker;
  checker: DeliveryChecker;
  /** Next sequence number per stream. */
  next: number;
  deviceDead: boolean;
  peerDead: boolean;
  /** Its client processes that exited with no fault killing them. */
  crashes: number;
}

const LABEL: Record<WorkerLib, string> = { steadfast: 'ours', mqttjs: 'mqtt.js' };

/** One seed's outcome: its JSON line (today's shape) and the summaries behind it. */
interface SeedResult {
  line: { seed: number; faults: number; fault_kinds: Record<string, number>; protocol: string } & Record<
    'ours' | 'mqttjs',
    Summary['json']
  >;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const unsupported = faultNetUnsupported();
  if (unsupported) fail(`cannot run here: ${unsupported}`);
  const versions = args.versions ?? (args.seeds.length > 1 ? [5, 4] : [args.version]);
  const results: SeedResult[] = [];
  let exitCode = 0;
  for (const [i, seed] of args.seeds.entries()) {
    const run = { ...args, seed, version: versions[i % versions.length] };
    const result = await runSeedRetrying(run);
    results.push(result);
    const ours = result.line.ours;
    if (ours.qos1.lost > 0 || ours.qos2.lost > 0 || ours.qos2.dup > 0) exitCode = 1;
  }
  if (results.length > 1) {
    printSeedTable(results);
    process.stdout.write(`${JSON.stringify(aggregate(results, args.rate))}\n`);
  }
  process.exitCode = exitCode;
}

/**
 * A seed whose harness failed (a broker that did not come up, a namespace that
 * could not be made) has no result for either client: it runs once more from
 * scratch, said on stderr, rather than ending a many-seed run. A second
 * failure ends it.
 */
async function runSeedRetrying(args: Args): Promise<SeedResult> {
  try {
    return await runSeed(args);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    process.stderr.write(`soak: seed ${args.seed}: the harness failed (${why}); running the seed again\n`);
    return await runSeed(args);
  }
}

async function runSeed(args: Args): Promise<SeedResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const net = await FaultNet.create();
  const storeDir = mkdtempSync(join(tmpdir(), 'sfm-soak-'));
  const cleanups: Array<() => Promise<void>> = [
    async () => rmSync(storeDir, { recursive: true, force: true }),
  ];
  let seedResult: SeedResult | undefined;
  try {
    const broker = await NsBroker.start({ net });
    cleanups.unshift(() => broker.destroy());
    const proxy = await ProxyProcess.start({ net, targetPort: broker.port });
    cleanups.unshift(() => proxy.close());
    // The peers reach the broker through a proxy of their own that only traces (no fault acts
    // on it): without it a message the broker PUBRECs to a peer and loses at a kill -9 could not
    // be told from one a client lost.
    const peerProxy = await ProxyProcess.start({
      net,
      targetPort: broker.port,
      listenPort: PEER_PROXY_PORT,
      name: 'peer-proxy',
    });
    cleanups.unshift(() => peerProxy.close());
    // The packet trace tells the checkers when the broker took or completed a message, so a
    // loss or duplicate caused by a broker kill -9 is blamed on the broker (handoff.ts).
    const traced = [proxy, peerProxy];
    for (const p of traced) await p.trace(true);
    const deviceUrl = `mqtt://${net.ip.broker}:${proxy.port}`;
    const peerUrl = `mqtt://127.0.0.1:${peerProxy.port}`;
    const sides: Side[] = [];
    for (const lib of ['steadfast', 'mqttjs'] as const) {
      const common = { lib, version: args.version, ...TIMING };
      const [device, peer] = await Promise.all([
        Worker.start({
          ...common,
          name: `${lib}-device`,
          net,
          side: 'client',
          url: deviceUrl,
          clientId: `soak-${lib}-device`,
          // Ours keeps its session in a file so that a kill -9 of the process loses nothing;
          // MQTT.js keeps its default (in-memory) store.
          ...(lib === 'steadfast'
            ? { store: join(storeDir, 'device.store'), options: { quietPeriod: 300 } }
            : {}),
        }),
        Worker.start({
          ...common,
          name: `${lib}-peer`,
          net,
          side: 'broker',
          url: peerUrl,
          clientId: `soak-${lib}-peer`,
          // The peer is killed too (subscriber-kill): ours keeps its session in a file as well.
          ...(lib === 'steadfast'
            ? { store: join(storeDir, 'peer.store'), options: { quietPeriod: 300 } }
            : {}),
        }),
      ]);
      cleanups.unshift(async () => {
        for (const w of [device, peer]) await w.end().catch(() => w.kill9());
      });
      const checker = new DeliveryChecker();
      for (const w of [device, peer]) w.on((e) => checker.record(e));
      for (const p of traced) {
        const handoffs = new HandoffTracker();
        p.child.on((e) => {
          const derived = handoffs.feed(e as ProxyEvent);
          if (derived?.topic.startsWith(`${lib}/`)) checker.record(derived);
        });
      }
      await Promise.all([
        device.subscribe(`${lib}/down/q1`, 1),
        device.subscribe(`${lib}/down/q2`, 2),
        peer.subscribe(`${lib}/up/q1`, 1),
        peer.subscribe(`${lib}/up/q2`, 2),
      ]);
      sides.push({ lib, device, peer, checker, next: 0, deviceDead: false, peerDead: false, crashes: 0 });
    }
    log(
      `soak: seed ${args.seed}, ${args.faults} faults, ${args.rate} msg/s per stream, MQTT ${args.version === 5 ? '5' : '3.1.1'}`,
    );

    // Publishing runs in chunks, so it stops when the faults stop.
    const chunkMs = 2000;
    const perChunk = Math.max(1, Math.round((args.rate * chunkMs) / 1000));
    const interval = Math.floor(chunkMs / perChunk);
    const publishChunk = () => {
      for (const s of sides) {
        for (const which of ['device', 'peer'] as const) noteIfCrashed(s, which);
        const from = s.next;
        s.next += perChunk;
        const series = { count: perChunk, from, interval };
        if (!s.deviceDead) {
          s.device.publish({ topic: `${s.lib}/up/q1`, qos: 1, ...series });
          s.device.publish({ topic: `${s.lib}/up/q2`, qos: 2, ...series });
        }
        if (!s.peerDead) {
          s.peer.publish({ topic: `${s.lib}/down/q1`, qos: 1, ...series });
          s.peer.publish({ topic: `${s.lib}/down/q2`, qos: 2, ...series });
        }
      }
    };
    publishChunk();
    const publisher = setInterval(publishChunk, chunkMs);

    const random = prng(args.seed);
    const kinds = schedule(args.faults, random);
    const applied: AppliedFault[] = [];
    const targets = {
      net,
      broker,
      proxy,
      brokerKilled: (t: number) => {
        for (const s of sides) s.checker.brokerKilled(t);
      },
      // A restarted process publishes from a fresh range: what the dead one had in hand is its
      // store's business (or lost, for a client without one). It does not subscribe again: its
      // session at the broker has the subscriptions, and what arrives goes to its 'message' listener.
      killClients: (ms: number) => killAndRestart(sides, 'device', ms),
      killSubscribers: (ms: number) => killAndRestart(sides, 'peer', ms),
    };
    const started = Date.now();
    for (const [i, kind] of kinds.entries()) {
      const fault = await applyFault(kind, random, targets);
      applied.push(fault);
      const elapsed = ((Date.now() - started) / 1000).toFixed(0);
      log(`soak: ${elapsed}s fault ${i + 1}/${kinds.length}: ${fault.detail}`);
      // A moment of calm, so each outage is recovered from (and measured) before the next.
      await new Promise((resolve) => setTimeout(resolve, 500 + random() * 700));
    }
    clearInterval(publisher);
    await net.clearAll();

    log('soak: faults over; waiting for every message to settle');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && sides.some((s) => s.checker.missing() > 0 || s.checker.unacked() > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000)); // late duplicates, if any, show up here
    for (const s of sides) await Promise.all([s.device.end(), s.peer.end()]);

    const result = sides.map((s) => summarize(s, applied));
    for (const s of sides) explainFailures(s, applied, log, traced);
    for (const s of sides) explainSlowRecoveries(s, applied, log);
    printTable(result, applied);
    const line = {
      bench: 'soak',
      seed: args.seed,
      faults: applied.length,
      fault_kinds: Object.fromEntries(
        FAULT_KINDS.map((k) => [k, applied.filter((f) => f.kind === k).length]),
      ),
      rate_per_stream: args.rate,
      protocol: args.version === 5 ? '5' : '3.1.1',
      ours: result[0].json,
      mqttjs: result[1].json,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    seedResult = { line };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    await net.destroy();
  }
  if (seedResult === undefined) throw new Error(`seed ${args.seed}: no result`);
  return seedResult;
}

/**
 * A client process that exited when no fault killed it crashed: that is a
 * finding about its library, not the end of the soak. Counted and its stderr
 * logged; it stays down (what it had not delivered counts as lost).
 */
function noteIfCrashed(s: Side, which: 'device' | 'peer'): void {
  const dead = which === 'device' ? 'deviceDead' : 'peerDead';
  const worker = s[which];
  if (s[dead] || worker.running) return;
  s.crashes++;
  s[dead] = true;
  process.stderr.write(
    `soak: ${worker.name} exited with no fault killing it; it stays down\n${worker.logTail(1500)}\n`,
  );
}

/** kill -9 every side's device (or peer) process, and start them again after `ms`. */
async function killAndRestart(sides: Side[], which: 'device' | 'peer', ms: number): Promise<void> {
  const dead = which === 'device' ? 'deviceDead' : 'peerDead';
  for (const s of sides) s[dead] = true;
  await Promise.all(sides.map((s) => s[which].kill9()));
  await new Promise((resolve) => setTimeout(resolve, ms));
  await Promise.all(sides.map((s) => s[which].restart()));
  for (const s of sides) {
    s.next += 1000;
    s[dead] = false;
  }
}

/** One row per seed and client, then the totals. */
function printSeedTable(results: SeedResult[]): void {
  const rows = [
    [
      'seed',
      'MQTT',
      'faults',
      'client',
      'QoS 1 sent',
      'lost',
      'dup',
      'QoS 2 sent',
      'lost',
      'dup',
      'broker lost',
    ],
  ];
  const row = (seed: string, protocol: string, faults: number, label: string, r: Summary['json']) => [
    seed,
    protocol,
    String(faults),
    label,
    String(r.qos1.sent),
    String(r.qos1.lost),
    String(r.qos1.dup),
    String(r.qos2.sent),
    String(r.qos2.lost),
    String(r.qos2.dup),
    String(r.qos1.broker_lost + r.qos2.broker_lost),
  ];
  for (const { line } of results) {
    rows.push(row(String(line.seed), line.protocol, line.faults, 'ours', line.ours));
    rows.push(row(String(line.seed), line.protocol, line.faults, 'mqtt.js', line.mqttjs));
  }
  const total = aggregate(results, 0);
  rows.push(row('all', total.protocol, total.faults, 'ours', total.ours));
  rows.push(row('all', total.protocol, total.faults, 'mqtt.js', total.mqttjs));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(`\nall seeds:\n`);
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padStart(widths[i])).join('  ')}\n`);
}

/** The seeds' lines folded into one of the same shape: counts summed, recovery as documented above. */
function aggregate(results: SeedResult[], rate: number) {
  const lines = results.map((r) => r.line);
  const sum = (lib: 'ours' | 'mqttjs'): Summary['json'] => {
    const all = lines.map((l) => l[lib]);
    const counts = (q: 'qos1' | 'qos2') => ({
      sent: all.reduce((n, r) => n + r[q].sent, 0),
      lost: all.reduce((n, r) => n + r[q].lost, 0),
      dup: all.reduce((n, r) => n + r[q].dup, 0),
      broker_lost: all.reduce((n, r) => n + r[q].broker_lost, 0),
    });
    const p50s = all
      .map((r) => r.recovery_ms_p50)
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    const maxes = all.map((r) => r.recovery_ms_max).filter((v): v is number => v !== null);
    return {
      qos1: counts('qos1'),
      qos2: counts('qos2'),
      recovery_ms_p50: p50s.length ? p50s[Math.floor(p50s.length / 2)] : null,
      recovery_ms_max: maxes.length ? Math.max(...maxes) : null,
      unrecovered: all.reduce((n, r) => n + r.unrecovered, 0),
      crashes: all.reduce((n, r) => n + r.crashes, 0),
    };
  };
  const kinds: Record<string, number> = {};
  for (const l of lines) for (const [k, n] of Object.entries(l.fault_kinds)) kinds[k] = (kinds[k] ?? 0) + n;
  return {
    bench: 'soak',
    seeds: lines.map((l) => l.seed),
    faults: lines.reduce((n, l) => n + l.faults, 0),
    fault_kinds: kinds,
    rate_per_stream: rate,
    protocol: [...new Set(lines.map((l) => l.protocol))].join('+'),
    protocols: Object.fromEntries(
      [...new Set(lines.map((l) => l.protocol))].map((p) => [
        p,
        lines.filter((l) => l.protocol === p).length,
      ]),
    ),
    ours: sum('ours'),
    mqttjs: sum('mqttjs'),
  };
}

interface Summary {
  label: string;
  json: {
    qos1: { sent: number; lost: number; dup: number; broker_lost: number };
    qos2: { sent: number; lost: number; dup: number; broker_lost: number };
    recovery_ms_p50: number | null;
    recovery_ms_max: number | null;
    unrecovered: number;
    /** Client processes that exited with no fault killing them (restarted). */
    crashes: number;
  };
}

function summarize(side: Side, faults: AppliedFault[]): Summary {
  const report = side.checker.report();
  const counts = (c: DeliveryCounts) => ({
    sent: c.sent,
    lost: c.lost,
    dup: c.dup,
    broker_lost: c.brokerLost + c.brokerDup,
  });
  // The first delivery (either direction) after each fault was removed.
  const receptions = [...side.device.events, ...side.peer.events]
    .filter((e) => e.ev === 'recv')
    .map((e) => e.t)
    .sort((a, b) => a - b);
  const recoveries: number[] = [];
  let unrecovered = 0;
  for (const f of faults) {
    const first = receptions.find((t) => t > f.restoredAt);
    if (first === undefined) unrecovered++;
    else recoveries.push(first - f.restoredAt);
  }
  recoveries.sort((a, b) => a - b);
  return {
    label: LABEL[side.lib],
    json: {
      qos1: counts(report.byQos[1]),
      qos2: counts(report.byQos[2]),
      recovery_ms_p50: recoveries.length ? recoveries[Math.floor(recoveries.length / 2)] : null,
      recovery_ms_max: recoveries.length ? recoveries[recoveries.length - 1] : null,
      unrecovered,
      crashes: side.crashes,
    },
  };
}

/** On stderr: for each QoS 2 duplicate and each loss, the fault that came last before it. */
function explainFailures(
  side: Side,
  faults: AppliedFault[],
  log: (line: string) => void,
  proxies: ProxyProcess[],
): void {
  const packets = proxies.flatMap((p) =>
    p.events
      .filter((e): e is ProxyEvent & { ev: 'packet' } => e.ev === 'packet')
      .map((e) => ({ ...e, via: p.child.options.name })),
  );
  const carrying = (topic: string, seq: number) =>
    packets.filter((p) => p.topic === topic && Number.parseInt(p.payloadHead ?? '', 10) === seq);
  const report = side.checker.report();
  const receptions = new Map<string, number[]>();
  for (const e of [...side.device.events, ...side.peer.events]) {
    if (e.ev !== 'recv' || e.seq === null) continue;
    const key = `${e.topic}#${e.seq}`;
    receptions.set(key, [...(receptions.get(key) ?? []), e.t]);
  }
  const before = (t: number) => faults.filter((f) => f.startedAt <= t).at(-1);
  for (const st of report.streams) {
    const bad = [
      ...(st.qos === 2 ? st.dupSeqs.map((seq) => ['dup', seq] as const) : []),
      ...st.lostSeqs.map((seq) => ['lost', seq] as const),
    ];
    const kinds = new Map<string, number>();
    for (const [what, seq] of bad) {
      const times = receptions.get(`${st.topic}#${seq}`) ?? [];
      const pub = [...side.device.events, ...side.peer.events].find(
        (e) => e.ev === 'pub' && e.topic === st.topic && e.seq === seq,
      );
      const at = what === 'dup' ? times[1] : pub && 't' in pub ? pub.t : 0;
      const key = `${what} after ${before(at)?.kind ?? 'no fault'}`;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    if (kinds.size > 0) {
      log(`soak: ${LABEL[side.lib]} ${st.topic}: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    }
    // The PUBLISH packets that carried the first QoS 2 duplicates and losses, as the proxy saw them
    // (a lost one the broker never sent down the device's connection was lost before it).
    const traced = st.qos === 2 ? [...st.dupSeqs.slice(0, 3), ...st.lostSeqs.slice(0, 3)] : [];
    for (const seq of st.lostSeqs.slice(0, 3)) {
      const acked = [...side.device.events, ...side.peer.events].find(
        (e) => e.ev === 'acked' && e.topic === st.topic && e.seq === seq,
      );
      const sentOver = carrying(st.topic, seq).length > 0;
      const ackedAt = acked && 't' in acked ? acked.t : undefined;
      const nearest = ackedAt === undefined ? undefined : before(ackedAt);
      log(
        `soak:   lost #${seq}: acked to its publisher at ${ackedAt ?? 'never'} (last fault before: ${nearest?.kind ?? 'none'}); ${sentOver ? 'seen on a traced connection' : 'never seen on a traced connection'}`,
      );
    }
    for (const seq of traced) {
      for (const p of carrying(st.topic, seq)) {
        log(
          `soak:   #${seq} ${p.t} ${p.via} conn ${p.conn} ${p.direction} PUBLISH id=${p.packetId} dup=${p.dup}`,
        );
      }
    }
  }
}

/** Recoveries slower than this are told on stderr, with what each client went through meanwhile. */
const SLOW_RECOVERY_MS = 5000;

/**
 * On stderr: each recovery slower than {@link SLOW_RECOVERY_MS}, with the fault
 * and the up/down events of both clients from the fault's start to the first
 * delivery after it (which wait made it slow: a backoff, a broker still
 * loading, a path still dark).
 */
function explainSlowRecoveries(side: Side, faults: AppliedFault[], log: (line: string) => void): void {
  const events = [
    ...side.device.events.map((e) => ({ ...e, who: 'device' })),
    ...side.peer.events.map((e) => ({ ...e, who: 'peer' })),
  ]
    .filter((e): e is typeof e & { t: number } => 't' in e && typeof e.t === 'number')
    .sort((a, b) => a.t - b.t);
  for (const f of faults) {
    const first = events.find((e) => e.ev === 'recv' && e.t > f.restoredAt);
    const took = first === undefined ? undefined : first.t - f.restoredAt;
    if (took !== undefined && took < SLOW_RECOVERY_MS) continue;
    log(`soak: ${LABEL[side.lib]} slow recovery ${took ?? 'never'} ms after ${f.detail}`);
    const until = first?.t ?? Number.POSITIVE_INFINITY;
    for (const e of events) {
      if (e.t < f.startedAt || e.t > until || (e.ev !== 'up' && e.ev !== 'down')) continue;
      const what = e.ev === 'down' && 'cause' in e ? `down ${e.cause}` : e.ev;
      log(`soak:   ${e.t - f.restoredAt} ms ${e.who} ${what}`);
    }
  }
}

function printTable(results: Summary[], faults: AppliedFault[]): void {
  const rows = [
    [
      'client',
      'QoS 1 sent',
      'lost',
      'dup',
      'QoS 2 sent',
      'lost',
      'dup',
      'broker lost',
      'recovery p50',
      'max',
    ],
    ...results.map(({ label, json: r }) => [
      label,
      String(r.qos1.sent),
      String(r.qos1.lost),
      String(r.qos1.dup),
      String(r.qos2.sent),
      String(r.qos2.lost),
      String(r.qos2.dup),
      String(r.qos1.broker_lost + r.qos2.broker_lost),
      r.recovery_ms_p50 === null ? '-' : `${r.recovery_ms_p50} ms`,
      r.recovery_ms_max === null ? '-' : `${r.recovery_ms_max} ms`,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const kinds = FAULT_KINDS.map((k) => `${k} ${faults.filter((f) => f.kind === k).length}`).join(', ');
  process.stdout.write(`faults: ${faults.length} (${kinds})\n`);
  for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padStart(widths[i])).join('  ')}\n`);
}

main().catch((error) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
