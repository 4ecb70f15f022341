// A sleeping node beside an always-awake one, shared by test/gateway/sleep.test.ts
// and bench/roam.ts: a simulated nRF24 medium run `timeScale` times faster than
// the wall clock, one in-process gateway, a real Mosquitto. Both nodes publish a
// QoS 1 reading every `periodMin` modelled minutes; the sleeping one sleeps
// between (its receiver off, no heartbeat), the awake one keeps its link up
// with heartbeats. A LAN client sends the sleeping node a QoS 1 command at
// random times; the gateway holds them and delivers at the next wake. Both
// have an MQTT 5 will without delay, so any broker connection the gateway
// dropped would show as a will. The awake node gets the same commands.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway } from '../../src/gateway/index.ts';
import { type Client, connect, type Message } from '../../src/node.ts';
import { radioLink } from '../../src/radio/link/index.ts';
import { nrf24, SimulatedMedium, type SimulatedRadio } from '../../src/radio/medium/index.ts';
import type { MosquittoBroker } from '../helpers/mosquitto.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

/** What the run measured, in modelled time unless named wall. */
export interface SleepResult {
  readings: number;
  readingsLost: number;
  commandsSent: number;
  commandsLost: number;
  /** Wall ms from a command's publish to its arrival at the node, worst case. */
  commandDelayMaxWallMs: number;
  modelledHours: number;
  sleepRadioOnMs: number;
  awakeRadioOnMs: number;
  /** The awake node's radio-on time over the sleeping node's. */
  radioOnRatio: number;
  sleepFramesPerHour: number;
  awakeFramesPerHour: number;
  sleeps: number;
  wills: number;
  downs: number;
}

/** Wall-clock link timing for both nodes and the gateway (the medium runs `timeScale` times faster). */
const TIMING = { heartbeatMs: 500, linkTimeoutMs: 3000, latencyMs: 2 };

export async function sleepingSite(
  broker: MosquittoBroker,
  options: { timeScale: number; periodMin: number; readings: number; seed: number },
): Promise<SleepResult> {
  const medium = new SimulatedMedium({ seed: options.seed, profile: nrf24(), timeScale: options.timeScale });
  const gateway = await startGateway({
    radio: medium.attach({ name: 'gw', position: { x: 0, y: 0 } }),
    keys: testKeys([7, 8]),
    broker: broker.url,
    random: prng(options.seed),
    advertiseIntervalMs: 0,
    ...TIMING,
  });
  const run = randomUUID().slice(0, 8);
  const lan = await connect({ url: broker.url, protocolVersion: 5, clientId: `lan-${run}` });
  const readings = new Map<string, Set<number>>();
  let wills = 0;
  await lan.subscribe(`reading/${run}/#`, {
    qos: 1,
    onMessage: (m: Message) => {
      const [, , who, seq] = m.topic.split('/');
      const set = readings.get(who as string) ?? new Set<number>();
      set.add(Number(seq));
      readings.set(who as string, set);
    },
  });
  await lan.subscribe(`will/${run}/#`, { qos: 1, onMessage: () => wills++ });

  const periodWallMs = (options.periodMin * 60_000) / options.timeScale;
  let downs = 0;
  async function node(address: number, who: string) {
    const radio = medium.attach({ name: who, position: { x: 5 + address, y: 0 } });
    const link = radioLink({ radio, address, key: testKey(address), ...TIMING });
    const client = await connect({
      link,
      clientId: `${who}-${run}`,
      protocolVersion: 5,
      // Covers the sleep (a period, in wall seconds) with room to spare.
      keepalive: Math.ceil((3 * periodWallMs) / 1000),
      reconnectPeriod: 100,
      quietPeriod: 100,
      connectTimeout: 15_000,
      properties: { sessionExpiryInterval: 300 },
      will: { topic: `will/${run}/${who}`, payload: 'gone', qos: 1 },
    });
    client.on('down', () => downs++);
    return { radio, link, client };
  }
  const sleeper = await node(7, 'sleeper');
  const awake = await node(8, 'awake');
  const commands = new Map<number, number>();
  const delays: number[] = [];
  await sleeper.client.subscribe(`cmd/${run}`, {
    qos: 1,
    onMessage: (m: Message) => {
      const k = Number(m.text);
      const sentAt = commands.get(k);
      if (sentAt !== undefined && !delays[k]) delays[k] = Date.now() - sentAt;
    },
  });
  // The awake node gets the same commands, so the frame counts compare like with like.
  await awake.client.subscribe(`cmd/${run}`, { qos: 1, onMessage: () => {} });

  const startModel = medium.now();
  const startStandby = sleeper.radio.standbyMsNow;
  const frames = (r: SimulatedRadio) => r.stats.framesSent;
  const startFrames = [frames(sleeper.radio), frames(awake.radio)];
  const started = Date.now();
  const random = prng(options.seed + 1);
  let stop = false;
  // Commands at random times, about two per period.
  const sender = (async () => {
    let k = 0;
    while (!stop) {
      await sleep(random() * periodWallMs);
      if (stop) break;
      commands.set(k, Date.now());
      await lan.publish(`cmd/${run}`, String(k), { qos: 1 });
      k++;
    }
  })();
  const loop = async (
    n: { client: Client; link: ReturnType<typeof radioLink> },
    who: string,
    sleeps: boolean,
  ) => {
    for (let i = 0; i < options.readings; i++) {
      await n.client.publish(`reading/${run}/${who}/${i}`, String(i), { qos: 1 });
      const wakeAt = started + (i + 1) * periodWallMs;
      if (sleeps && wakeAt - Date.now() > 20) await n.link.sleep(wakeAt - Date.now()).catch(() => {});
      await sleep(Math.max(0, wakeAt - Date.now()));
    }
  };
  await Promise.all([loop(sleeper, 'sleeper', true), loop(awake, 'awake', false)]);
  stop = true;
  await sender;
  // The last commands reach the node at its last wake: stay up for them.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && delays.filter((d) => d !== undefined).length < commands.size)
    await sleep(20);
  const modelMs = medium.now() - startModel;
  const sleepOn = modelMs - (sleeper.radio.standbyMsNow - startStandby);
  const hours = modelMs / 3_600_000;
  const lost = (who: string) => {
    const got = readings.get(who) ?? new Set();
    let missing = 0;
    for (let i = 0; i < options.readings; i++) if (!got.has(i)) missing++;
    return missing;
  };
  const result: SleepResult = {
    readings: options.readings,
    readingsLost: lost('sleeper') + lost('awake'),
    commandsSent: commands.size,
    commandsLost: commands.size - delays.filter((d) => d !== undefined).length,
    commandDelayMaxWallMs: Math.max(0, ...delays.filter((d) => d !== undefined)),
    modelledHours: hours,
    sleepRadioOnMs: sleepOn,
    awakeRadioOnMs: modelMs,
    radioOnRatio: modelMs / sleepOn,
    sleepFramesPerHour: (frames(sleeper.radio) - (startFrames[0] as number)) / hours,
    awakeFramesPerHour: (frames(awake.radio) - (startFrames[1] as number)) / hours,
    sleeps: sleeper.link.streamStats?.sleeps ?? 0,
    wills,
    downs,
  };
  for (const n of [sleeper, awake]) {
    await n.client.end().catch(() => {});
    await n.link.close();
  }
  await lan.end();
  await gateway.close();
  await medium.close();
  return result;
}
