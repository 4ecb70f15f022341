// Roaming scenarios on a simulated nRF24 site with in-process gateways and a
// real Mosquitto, shared by test/gateway/roaming.test.ts and bench/roam.ts:
// - walk: gateways along a line, a node following a path past them publishing
//   QoS 1 and QoS 2 readings (one of each per `periodMs`, numbered), with an
//   MQTT 5 will (delay) watched by an observer; what arrived is counted per
//   sequence number;
// - between: a node standing midway between two gateways of equal quality,
//   with shadowing, counting its moves.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Gateway, startGateway } from '../../src/gateway/index.ts';
import { type Client, connect, type Message, type NodeClientOptions } from '../../src/node.ts';
import { type RoamEvent, type RoamingLink, roamingLink } from '../../src/radio/link/index.ts';
import { nrf24, SimulatedMedium, type Waypoint } from '../../src/radio/medium/index.ts';
import type { MosquittoBroker } from '../helpers/mosquitto.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

/** Fast link supervision, as in the other gateway tests: heartbeat 0.5 s, outage after 3 s of silence. */
export const ROAM_TIMING = { heartbeatMs: 500, linkTimeoutMs: 3000 };
/** The node's MQTT 5 client: a will with a delay longer than any handover, a session that outlives it. */
export const ROAM_CLIENT: NodeClientOptions = {
  protocolVersion: 5,
  keepalive: 30,
  connectTimeout: 15_000,
  reconnectPeriod: 100,
  reconnectPeriodMax: 500,
  quietPeriod: 100,
  readyTimeout: 60_000,
  properties: { sessionExpiryInterval: 300 },
};
const NODE = 7;
const WILL_DELAY_S = 10;

interface Site {
  medium: SimulatedMedium;
  gateways: Gateway[];
  close(): Promise<void>;
}

async function site(
  broker: MosquittoBroker,
  xs: number[],
  seed: number,
  shadowingSigmaDb = 0,
): Promise<Site> {
  const medium = new SimulatedMedium({
    seed,
    profile: nrf24(),
    pathLoss: { exponent: 2.7, shadowingSigmaDb },
  });
  const gateways: Gateway[] = [];
  for (const [i, x] of xs.entries())
    gateways.push(
      await startGateway({
        radio: medium.attach({ name: `gw-${i + 1}`, position: { x, y: 0 } }),
        address: i + 1,
        keys: testKeys([NODE]),
        broker: broker.url,
        random: prng(seed * 10 + i),
        advertiseIntervalMs: 1000,
        ...ROAM_TIMING,
      }),
    );
  return {
    medium,
    gateways,
    async close() {
      await Promise.all(gateways.map((g) => g.close()));
      await medium.close();
    },
  };
}

/** What a walk measured. */
export interface WalkResult {
  /** Gateways the node opened through, in order. */
  path: number[];
  handovers: number;
  earlyMoves: number;
  /** Client outage before each reconnection (ms). */
  outagesMs: number[];
  sent: number;
  qos1Lost: number;
  qos2Lost: number;
  qos2Dup: number;
  /** Wills the observer saw (the node was always within some gateway's range). */
  wills: number;
  durationMs: number;
}

/**
 * The node walks `route` (x in metres, at modelled ms = wall ms on nRF24) past gateways at `xs`,
 * publishing a QoS 1 and a QoS 2 reading every `periodMs`.
 */
export async function walk(
  broker: MosquittoBroker,
  options: { xs: number[]; route: Waypoint[]; periodMs: number; seed: number },
): Promise<WalkResult> {
  const s = await site(broker, options.xs, options.seed);
  const run = randomUUID().slice(0, 8);
  const clientId = `walker-${run}`;
  const observer = await connect({ url: broker.url, protocolVersion: 5, clientId: `observer-${run}` });
  const up = new Map<number, number[]>([
    [1, []],
    [2, []],
  ]);
  let wills = 0;
  await observer.subscribe(`walk/${run}/#`, {
    qos: 2,
    onMessage: (m: Message) => {
      const [, , qos, seq] = m.topic.split('/');
      up.get(Number(qos))?.push(Number(seq));
    },
  });
  await observer.subscribe(`will/${run}`, { qos: 1, onMessage: () => wills++ });
  const radio = s.medium.attach({ name: 'walker', path: options.route });
  const path: number[] = [];
  const link = roamingLink({
    radio,
    address: NODE,
    key: testKey(NODE),
    random: prng(options.seed + 1),
    searchIntervalMs: 700,
    minDwellMs: 2000,
    onRoam: (e: RoamEvent) => {
      if (e.type === 'open') path.push(e.gateway);
    },
    ...ROAM_TIMING,
  });
  const outagesMs: number[] = [];
  const started = Date.now();
  const node = await connect({
    ...ROAM_CLIENT,
    link,
    clientId,
    will: {
      topic: `will/${run}`,
      payload: 'gone',
      qos: 1,
      properties: { willDelayInterval: WILL_DELAY_S },
    },
  });
  node.on('up', (e) => {
    if (e.outageMs !== undefined) outagesMs.push(e.outageMs);
  });
  const last = options.route[options.route.length - 1] as Waypoint;
  const publishes: Promise<unknown>[] = [];
  let sent = 0;
  while (Date.now() - started < last.atMs) {
    publishes.push(node.publish(`walk/${run}/1/${sent}`, 'r', { qos: 1 }));
    publishes.push(node.publish(`walk/${run}/2/${sent}`, 'r', { qos: 2 }));
    sent++;
    await sleep(options.periodMs);
  }
  await Promise.all(publishes);
  // Everything acknowledged has reached the observer, or will within a moment.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ((up.get(1)?.length ?? 0) < sent || (up.get(2)?.length ?? 0) < sent))
    await sleep(50);
  await sleep(300);
  const durationMs = Date.now() - started;
  const result = {
    path,
    handovers: link.roamStats.handovers,
    earlyMoves: link.roamStats.moves,
    outagesMs,
    sent,
    ...count(up, sent),
    wills,
    durationMs,
  };
  await closeNode(node, link);
  await observer.end();
  await s.close();
  return result;
}

function count(up: Map<number, number[]>, sent: number) {
  const q1 = new Set(up.get(1));
  const q2 = up.get(2) ?? [];
  const q2Set = new Set(q2);
  let qos1Lost = 0;
  let qos2Lost = 0;
  for (let i = 0; i < sent; i++) {
    if (!q1.has(i)) qos1Lost++;
    if (!q2Set.has(i)) qos2Lost++;
  }
  return { qos1Lost, qos2Lost, qos2Dup: q2.length - q2Set.size };
}

async function closeNode(node: Client, link: RoamingLink): Promise<void> {
  await node.end().catch(() => {});
  await link.close();
}

/** What a node between two similar gateways did. */
export interface BetweenResult {
  moves: number;
  searches: number;
  durationMs: number;
  switchesPerHour: number;
}

/** A node midway between two gateways `spacing` m apart, with shadowing, for `durationMs`. */
export async function between(
  broker: MosquittoBroker,
  options: {
    spacing: number;
    durationMs: number;
    seed: number;
    searchIntervalMs: number;
    minDwellMs: number;
    /** Default the link's (6 dB). */
    hysteresisDb?: number;
    /** RSSI samples averaged per gateway; default the link's (8). */
    samples?: number;
  },
): Promise<BetweenResult> {
  const s = await site(broker, [0, options.spacing], options.seed, 4);
  const radio = s.medium.attach({ name: 'between', position: { x: options.spacing / 2, y: 0 } });
  const link = roamingLink({
    radio,
    address: NODE,
    key: testKey(NODE),
    random: prng(options.seed + 1),
    searchIntervalMs: options.searchIntervalMs,
    minDwellMs: options.minDwellMs,
    hysteresisDb: options.hysteresisDb,
    samples: options.samples,
    minSamples: options.samples === undefined ? undefined : 1,
    ...ROAM_TIMING,
  });
  const node = await connect({ ...ROAM_CLIENT, link, clientId: `between-${randomUUID().slice(0, 8)}` });
  const started = Date.now();
  await sleep(options.durationMs);
  const durationMs = Date.now() - started;
  const result = {
    moves: link.roamStats.handovers,
    searches: link.roamStats.searches,
    durationMs,
    switchesPerHour: (link.roamStats.handovers * 3_600_000) / durationMs,
  };
  await closeNode(node, link);
  await s.close();
  return result;
}
