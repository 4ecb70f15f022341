// One gateway, two radios: an nRF24 (32-byte frames, 1 Mbit/s) and a LoRa
// modem (SF7) on the same simulated medium (different channels, so they never
// hear each other), one node on each, a real Mosquitto. QoS 1 and QoS 2 go both
// ways through each radio; then the nRF24 node's radio is carried out of range
// past its link timeout and brought back: it resumes on the same radio, nothing
// lost or duplicated. The status reports each radio's own counters and which
// radio every node speaks through.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatStatus, Gateway, startGateway } from '../../src/gateway/index.ts';
import type { Client, Message, NodeClientOptions } from '../../src/node.ts';
import { radioLink } from '../../src/radio/link/index.ts';
import { lora, nrf24, SimulatedMedium, type SimulatedRadio } from '../../src/radio/medium/index.ts';
import { client, mosquitto, nextEvent, started, until } from '../client/e2e.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

const LONG = { timeout: 180_000 };
const WAIT = 60_000;
/** Fast link supervision for tests: heartbeat 0.5 s, outage after 3 s of silence. */
const TIMING = { heartbeatMs: 500, linkTimeoutMs: 3000 };
const FAR = { x: 1_000_000, y: 0 };
const NODE_CLIENT: NodeClientOptions = {
  protocolVersion: 5,
  keepalive: 30,
  connectTimeout: 15_000,
  reconnectPeriod: 200,
  reconnectPeriodMax: 1000,
  quietPeriod: 100,
  readyTimeout: WAIT,
  properties: { sessionExpiryInterval: 300 },
};

test('a gateway with an nRF24 and a LoRa radio serves a node on each', LONG, async (t) => {
  const broker = await mosquitto(t);
  const medium = new SimulatedMedium({
    seed: 14,
    profile: lora({ dutyCycle: 1 }),
    loss: 0.02,
    timeScale: 20,
  });
  t.after(() => medium.close());
  const profiles = { nrf: nrf24(), lora: lora({ dutyCycle: 1 }) };
  const gatewayRadios = [
    medium.attach({ name: 'gw-nrf', profile: profiles.nrf }),
    medium.attach({ name: 'gw-lora', profile: profiles.lora }),
  ];
  const gateway = await startGateway({
    radio: gatewayRadios,
    keys: testKeys([1, 2]),
    broker: broker.url,
    random: prng(5),
    ...TIMING,
  });
  t.after(() => gateway.close());
  assert.equal(gateway.timings.length, 2);

  const run = randomUUID().slice(0, 8);
  const checker = await client(t, broker.url, { protocolVersion: 5, clientId: `checker-${run}` });
  const up = new Map<string, string[]>();
  const record = (into: Map<string, string[]>, m: Message) =>
    into.set(m.topic, [...(into.get(m.topic) ?? []), m.text]);
  const upSub = await checker.subscribe(`up/${run}/#`, { qos: 2 });
  void (async () => {
    for await (const m of upSub) record(up, m);
  })();

  interface Node {
    id: string;
    radio: SimulatedRadio;
    client: Client;
    got: Map<string, string[]>;
    downs: () => number;
  }
  const nodes: Node[] = [];
  for (const [address, kind] of [
    [1, 'nrf'],
    [2, 'lora'],
  ] as const) {
    const radio = medium.attach({ name: `node-${kind}`, profile: profiles[kind], position: { x: 5, y: 0 } });
    const link = radioLink({ radio, address, key: testKey(address), random: prng(address), ...TIMING });
    t.after(() => link.close());
    const id = `${kind}-${run}`;
    const c = started(t, { ...NODE_CLIENT, link, clientId: id });
    let downs = 0;
    c.on('down', () => downs++);
    await nextEvent(c, 'up', () => true, WAIT);
    const got = new Map<string, string[]>();
    const sub = await c.subscribe(`down/${run}/${id}/#`, { qos: 2 });
    void (async () => {
      for await (const m of sub) record(got, m);
    })();
    nodes.push({ id, radio, client: c, got, downs: () => downs });
  }

  const expected = new Map<string, string[]>();
  const pending: Promise<unknown>[] = [];
  let seq = 0;
  const burst = (count: number) => {
    for (let i = 0; i < count; i++, seq++)
      for (const node of nodes)
        for (const qos of [1, 2] as const)
          for (const [dir, from] of [
            ['up', node.client],
            ['down', checker],
          ] as const) {
            const topic = `${dir}/${run}/${node.id}/q${qos}`;
            const payload = `${node.id} ${qos} ${seq}`;
            expected.set(topic, [...(expected.get(topic) ?? []), payload]);
            pending.push(from.publish(topic, payload, { qos }));
          }
  };
  const receivedOf = (topic: string) =>
    topic.startsWith('up/') ? up.get(topic) : nodes.find((n) => topic.includes(n.id))?.got.get(topic);
  const delivered = () =>
    [...expected].every(([topic, want]) => new Set(receivedOf(topic)).size === new Set(want).size);

  burst(4);
  await until(delivered, 'traffic through both radios', WAIT);

  // The nRF24 node goes out of range past its link timeout and comes back: an outage on that radio only.
  const [nrfNode, loraNode] = nodes as [Node, Node];
  const loraDowns = loraNode.downs();
  nrfNode.radio.moveTo(FAR);
  burst(3);
  await until(() => nrfNode.downs() > 0, 'the nRF24 node to see its outage', WAIT);
  const resumed = nextEvent(nrfNode.client, 'up', () => true, WAIT);
  nrfNode.radio.moveTo({ x: 5, y: 0 });
  assert.equal((await resumed).sessionPresent, true);
  await until(delivered, 'the traffic sent while the nRF24 node was away', WAIT);
  await Promise.all(pending);
  await sleep(500);
  assert.equal(loraNode.downs(), loraDowns, 'the LoRa node saw no outage');

  for (const [topic, want] of expected) {
    const got = receivedOf(topic) ?? [];
    const missing = want.filter((p) => !got.includes(p));
    assert.deepEqual(missing, [], `${topic}: lost`);
    if (topic.endsWith('q2')) assert.equal(got.length, want.length, `${topic}: duplicated`);
  }

  const status = gateway.status();
  assert.deepEqual(
    status.radios.map((r) => r.name),
    gatewayRadios.map((r) => r.name),
  );
  assert.ok(status.radios.every((r) => r.radioStats.framesReceived > 0 && r.radioStats.framesSent > 0));
  assert.equal(
    status.radioStats.framesSent,
    status.radios.reduce((sum, r) => sum + r.radioStats.framesSent, 0),
  );
  assert.deepEqual(
    status.nodes.map((n) => [n.node, n.radio]),
    [
      [1, gatewayRadios[0]!.name],
      [2, gatewayRadios[1]!.name],
    ],
  );
  const text = formatStatus(status);
  assert.match(text, new RegExp(`radio ${gatewayRadios[0]!.name}: `));
  assert.match(text, new RegExp(`node 1: open on ${gatewayRadios[0]!.name}`));
});

test('a gateway refuses no radio and the same radio twice', async () => {
  const medium = new SimulatedMedium({ seed: 1 });
  try {
    const radio = medium.attach({ name: 'gw' });
    const base = { keys: testKeys([1]), broker: 'mqtt://127.0.0.1:1' };
    assert.throws(() => new Gateway({ ...base, radio: [] }), {
      code: 'INVALID_ARGUMENT',
    });
    assert.throws(() => new Gateway({ ...base, radio: [radio, radio] }), { code: 'INVALID_ARGUMENT' });
  } finally {
    await medium.close();
  }
});
