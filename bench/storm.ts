/**
 * Reconnect storm (issue 12, "a backoff a fleet can live with"): what a
 * broker sees when a whole fleet comes back, ours vs MQTT.js.
 *
 * 1. Restart: `--clients` idle clients (default 5,000) in `--processes` child
 *    processes (bench/storm/fleet.ts) connect to one real Mosquitto through a
 *    counting front door (bench/storm/door.ts; Mosquitto's log has whole
 *    seconds only). Once the door and the broker's log both count every
 *    client up, the broker is killed and the door stops listening (clients
 *    get connection refused) for OUTAGE_MS; then the broker starts again on
 *    the same port and the door opens. Measured from that instant: the peak
 *    of CONNECTs per 100 ms and per second, the time until every client has
 *    its CONNACK again, and TCP connection attempts per client. Each library
 *    gets a fresh broker and the same fleet size, one after the other.
 * 2. Accept-then-drop: a smaller fleet against a fake broker that CONNACKs
 *    and closes at once, for DROP_SECONDS: connection attempts per client per
 *    minute over time. Ours counts a connection the other end closes before
 *    `resetBackoffAfter` as a failure, so its wait keeps doubling toward
 *    `reconnectPeriodMax`; MQTT.js retries every `reconnectPeriod`.
 *
 * Client settings: each library's defaults (MQTT 5, clean start, reconnect
 * period 1 s; ours also quietPeriod 1 s, full jitter up to
 * reconnectPeriodMax 30 s, resetBackoffAfter 10 s) except a keepalive of
 * KEEPALIVE_S, so that 5,000 idle clients on 2 cores send no PINGREQs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type MosquittoBroker, startMosquitto } from '../test/helpers/mosquitto.ts';
import { LIB_NAME, type Lib } from './lib/contenders.ts';
import { type BenchCase, emitJson, printTable, ratio, round, sleep, waitFor } from './lib/report.ts';
import { Dropper, FrontDoor } from './storm/door.ts';
import type { FleetJob } from './storm/fleet.ts';

const LIBS: Lib[] = ['ours', 'mqttjs'];
const FLEET_FILE = fileURLToPath(new URL('./storm/fleet.ts', import.meta.url));
const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
/** Shell prefix raising the open-file limit to the hard limit (Mosquitto would otherwise keep 1,024 when run by a service manager). */
const RAISE_NOFILE = 'ulimit -n "$(ulimit -Hn)"';
const KEEPALIVE_S = 600;
const WINDOW_MS = 100;
const SECOND_MS = 1000;
/** Longest wait for a fleet to come up (first connect, or after the restart). */
const UP_TIMEOUT_MS = 180_000;

interface Plan {
  quick: boolean;
  clients: number;
  processes: number;
  outageMs: number;
  dropClients: number;
  dropSeconds: number;
  /** Width of the accept-then-drop report's time bins. */
  dropBinS: number;
}

function plan(args: string[]): Plan {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      processes: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const int = (v: string | undefined, fallback: number, name: string) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`storm: --${name} must be a positive integer, got ${v}`);
    return n;
  };
  return {
    quick,
    clients: int(values.clients, quick ? 200 : 5000, 'clients'),
    processes: int(values.processes, quick ? 2 : 4, 'processes'),
    outageMs: quick ? 500 : 2000,
    dropClients: quick ? 40 : 200,
    dropSeconds: quick ? 6 : 20,
    dropBinS: quick ? 2 : 4,
  };
}

/** The open-file limit of this process (it holds both ends of every proxied connection) and the hard limit. */
function fileLimits(): { soft: number; hard: number } {
  const [soft, hard] = execFileSync('sh', ['-c', 'ulimit -n; ulimit -Hn']).toString().trim().split('\n');
  const n = (v: string) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: n(soft), hard: n(hard) };
}

/** A wrapper that starts Mosquitto with the hard open-file limit (exec: the PID stays the broker's). */
function mosquittoWrapper(dir: string): string {
  const file = join(dir, 'mosquitto-nofile.sh');
  writeFileSync(file, `#!/bin/sh\n${RAISE_NOFILE}\nexec ${MOSQUITTO} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Starts the fleet processes, `count` clients in all, and resolves once every client was created. */
async function startFleet(lib: Lib, url: string, count: number, processes: number): Promise<ChildProcess[]> {
  const node = [process.execPath, '--import', 'tsx', FLEET_FILE];
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let p = 0; p < processes; p++) {
    const share = Math.floor(count / processes) + (p < count % processes ? 1 : 0);
    // Through sh for the file limit; exec keeps the IPC channel (an inherited fd).
    const child = spawn('sh', ['-c', `${RAISE_NOFILE}; exec "$0" "$@"`, ...node], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    ready.push(
      new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) =>
          reject(new Error(`storm fleet ${p} exited ${code} before it was ready`)),
        );
      }),
    );
    const job: FleetJob = {
      cmd: 'start',
      lib,
      url,
      count: share,
      idPrefix: `storm-${lib}-${p}-`,
      keepalive: KEEPALIVE_S,
    };
    child.send(job);
  }
  await Promise.all(ready);
  return children;
}

async function endFleet(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.send({ cmd: 'end' });
        }),
    ),
  );
}

/** Counts per bin of `width` ms from `t0` (timestamps before t0 ignored). */
function bins(times: number[], t0: number, width: number, until = Number.NEGATIVE_INFINITY): number[] {
  const out: number[] = [];
  const last = Math.max(until, ...times);
  for (let i = 0; i <= Math.floor((last - t0) / width); i++) out.push(0);
  for (const t of times) if (t >= t0) out[Math.floor((t - t0) / width)]++;
  return out;
}

interface StormResult {
  peak100: number;
  peakSecond: number;
  allUpMs: number;
  attemptsPerClient: number;
  connectsPerClient: number;
  outageMs: number;
  upBefore: number;
  brokerSawBefore: number;
  perSecond: number[];
}

/** "New client connected from ... as <id>" lines in the broker's log. */
function brokerConnectedCount(broker: MosquittoBroker): number {
  return broker.log().match(/New client connected from /g)?.length ?? 0;
}

async function storm(lib: Lib, p: Plan, wrapper: string): Promise<StormResult> {
  const broker = await startMosquitto({
    binary: wrapper,
    config: ['connection_messages true'],
    listenerConfig: ['max_connections -1'],
  });
  const door = await FrontDoor.start(broker.port);
  let fleet: ChildProcess[] = [];
  try {
    door.watch(p.clients);
    fleet = await startFleet(lib, `mqtt://127.0.0.1:${door.port}`, p.clients, p.processes);
    await waitFor(
      () => door.allUpAt !== undefined,
      UP_TIMEOUT_MS,
      `${lib}: ${door.up}/${p.clients} clients up`,
    );
    await sleep(SECOND_MS);
    const upBefore = door.up;
    const brokerSawBefore = brokerConnectedCount(broker);
    if (brokerSawBefore < p.clients)
      throw new Error(`storm ${lib}: the broker logged ${brokerSawBefore} clients`);
    const down = performance.now();
    await door.close();
    await broker.kill();
    await sleep(p.outageMs);
    await broker.restart();
    door.watch(p.clients);
    await door.open();
    const t0 = performance.now();
    await waitFor(
      () => door.allUpAt !== undefined,
      UP_TIMEOUT_MS,
      `${lib}: ${door.up}/${p.clients} clients back after the restart`,
    );
    const allUpMs = door.allUpAt! - t0;
    const connects = door.connects.filter((t) => t >= t0);
    return {
      peak100: Math.max(...bins(connects, t0, WINDOW_MS)),
      peakSecond: Math.max(...bins(connects, t0, SECOND_MS)),
      allUpMs,
      attemptsPerClient: door.accepts.filter((t) => t >= t0).length / p.clients,
      connectsPerClient: connects.length / p.clients,
      outageMs: t0 - down,
      upBefore,
      brokerSawBefore,
      perSecond: bins(connects, t0, SECOND_MS),
    };
  } finally {
    await endFleet(fleet);
    await door.close();
    await broker.stop();
  }
}

/** Connection attempts per client per minute, per bin of `dropBinS` seconds. */
async function dropStorm(lib: Lib, p: Plan): Promise<number[]> {
  const dropper = await Dropper.start();
  let fleet: ChildProcess[] = [];
  try {
    fleet = await startFleet(
      lib,
      `mqtt://127.0.0.1:${dropper.port}`,
      p.dropClients,
      Math.min(2, p.processes),
    );
    // From when every client exists: starting the processes is not the clients' doing.
    const t0 = performance.now();
    await sleep(p.dropSeconds * SECOND_MS);
    const end = t0 + p.dropSeconds * SECOND_MS;
    const perBin = bins(
      dropper.connects.filter((t) => t < end),
      t0,
      p.dropBinS * SECOND_MS,
      end - 1,
    );
    return perBin.map((n) => round((n / p.dropClients) * (60 / p.dropBinS), 1));
  } finally {
    await endFleet(fleet);
    await dropper.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const p = plan(args);
  const limits = fileLimits();
  const need = 2 * p.clients + 100;
  if (limits.soft < need || limits.hard < need) {
    throw new Error(
      `storm: open-file limit ${limits.soft} (hard ${limits.hard}); the front door and the broker need ${need}: run under \`ulimit -n ${need}\` (as root) or use fewer --clients`,
    );
  }
  console.log(
    `storm: ${p.clients} clients in ${p.processes} processes, broker restart with a ${p.outageMs} ms outage; accept-then-drop: ${p.dropClients} clients for ${p.dropSeconds} s${p.quick ? ' (quick)' : ''}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-storm-'));
  const results = new Map<Lib, StormResult>();
  const drops = new Map<Lib, number[]>();
  try {
    const wrapper = mosquittoWrapper(dir);
    for (const lib of LIBS) results.set(lib, await storm(lib, p, wrapper));
    for (const lib of LIBS) drops.set(lib, await dropStorm(lib, p));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ours = results.get('ours')!;
  const ref = results.get('mqttjs')!;
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [['case', 'steadfast', 'mqtt.js', 'ours/mqtt.js']];
  const add = (name: string, a: number, b: number, unit: string) => {
    cases.push({ case: name, ours: a, ref: b, ref_name: 'mqtt.js', ratio: ratio(a, b), unit });
    rows.push([`${name} (${unit})`, a, b, `${ratio(a, b).toFixed(2)}x`]);
  };
  add('restart peak connects', ours.peak100, ref.peak100, 'per 100 ms');
  add('restart peak connects/s', ours.peakSecond, ref.peakSecond, 'per s');
  add('restart all up', round(ours.allUpMs), round(ref.allUpMs), 'ms');
  add('restart attempts', round(ours.attemptsPerClient, 2), round(ref.attemptsPerClient, 2), 'per client');
  const [dOurs, dRef] = LIBS.map((l) => drops.get(l)!);
  add('drop attempts first bin', dOurs[0], dRef[0], 'per client per min');
  add('drop attempts last bin', dOurs[dOurs.length - 1], dRef[dRef.length - 1], 'per client per min');
  printTable(rows);
  for (const lib of LIBS) {
    const r = results.get(lib)!;
    console.log(
      `${LIB_NAME[lib]}: ${r.upBefore} up at the door and ${r.brokerSawBefore} in the broker's log before the restart; outage ${round(r.outageMs)} ms; CONNECTs per second after: ${r.perSecond.join(' ')}`,
    );
    console.log(
      `${LIB_NAME[lib]} accept-then-drop, attempts/client/min per ${p.dropBinS} s: ${drops.get(lib)!.join(' ')}`,
    );
  }
  emitJson('storm', cases, p.quick, {
    clients: p.clients,
    processes: p.processes,
    keepalive_s: KEEPALIVE_S,
    restart: Object.fromEntries(
      LIBS.map((l) => {
        const r = results.get(l)!;
        return [
          l,
          {
            up_before_door: r.upBefore,
            up_before_broker_log: r.brokerSawBefore,
            outage_ms: round(r.outageMs),
            connects_per_client: round(r.connectsPerClient, 3),
            connects_per_second: r.perSecond,
          },
        ];
      }),
    ),
    drop: {
      clients: p.dropClients,
      seconds: p.dropSeconds,
      bin_s: p.dropBinS,
      per_client_per_min: Object.fromEntries(drops),
    },
  });
}
