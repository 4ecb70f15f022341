/**
 * MQTT-SN over the project's radio link layer: an SnClient on `radioSnTransport` (nRF24-like medium,
 * 32-byte MTU, 10% frame loss, authenticated and encrypted frames) through the gateway's radio front
 * end to a real Mosquitto, while a UDP device uses the same gateway. Every QoS both ways (-1 with a
 * pre-defined id), counted per sequence number: no QoS 1 loss, no QoS 2 loss or duplicate, QoS 0 / -1
 * at most once; a client id the node's key does not cover is refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseKeys } from '../../src/gateway/keys-file.ts';
import { connect } from '../../src/node.ts';
import { nrf24, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { SnClient } from '../../src/sn/client.ts';
import { startSnGateway } from '../../src/sn/gateway/start.ts';
import { radioSnTransport } from '../../src/sn/radio.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { testKey } from '../gateway/keys.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';
import { prng } from '../helpers/prng.ts';

const N = 25;
const NODE = 3;
const PREDEFINED = 9;
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

let broker: MosquittoBroker;
before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  await broker.stop();
});

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tally(got: Map<string, number>, prefix: string): { lost: number[]; most: number } {
  const lost: number[] = [];
  let most = 0;
  for (let i = 0; i < N; i++) {
    const n = got.get(`${prefix} ${i}`) ?? 0;
    if (n === 0) lost.push(i);
    most = Math.max(most, n);
  }
  return { lost, most };
}

test('MQTT-SN through the simulated radio and the gateway to Mosquitto: every QoS both ways', {
  timeout: 120_000,
}, async (t) => {
  const medium = new SimulatedMedium({ seed: 16, profile: nrf24(), loss: 0.1 });
  const g = await startSnGateway({
    broker: broker.url,
    retryInterval: 300,
    predefinedTopics: new Map([[PREDEFINED, 'sn/radio/up/m1']]),
    udp: { port: 0 },
    radio: {
      radio: medium.attach({ name: 'gw' }),
      keys: parseKeys(`${NODE} ${testKey(NODE)} sn-radio-node\n4 ${testKey(4)} other-id`),
      random: prng(1),
      latencyMs: 2,
    },
  });
  const transport = radioSnTransport({
    radio: medium.attach({ name: 'node', position: { x: 10, y: 0 } }),
    address: NODE,
    key: testKey(NODE),
    random: prng(2),
    latencyMs: 2,
  });
  const node = new SnClient(transport, { clientId: 'sn-radio-node', retryInterval: 1_000, retries: 5 });
  const watcher = await connect({ url: broker.url, clean: true });
  const feeder = await connect({ url: broker.url, clean: true });
  const udpDevice = new SnClient(await udpTransport({ port: g.udpPort ?? 0 }), { clientId: 'sn-udp-beside' });
  t.after(async () => {
    node.close();
    udpDevice.close();
    await watcher.end();
    await feeder.end();
    await g.close();
    await medium.close();
  });

  const up = new Map<string, number>();
  await watcher.subscribe('sn/radio/up/#', {
    qos: 2,
    onMessage: (m) => void up.set(`${m.topic} ${m.text}`, (up.get(`${m.topic} ${m.text}`) ?? 0) + 1),
  });
  const down = new Map<string, number>();
  node.onMessage(
    (m) => void down.set(`${m.topic} ${decode(m.data)}`, (down.get(`${m.topic} ${decode(m.data)}`) ?? 0) + 1),
  );

  await node.connect();
  await udpDevice.connect();
  await node.subscribe('sn/radio/down/#', 2);
  for (let i = 0; i < N; i++) {
    await node.publish('sn/radio/up/q0', text(`${i}`), { qos: 0 });
    await node.publish('sn/radio/up/q1', text(`${i}`), { qos: 1 });
    await node.publish('sn/radio/up/q2', text(`${i}`), { qos: 2 });
    await feeder.publish('sn/radio/down/q0', `${i}`, { qos: 0 });
    await feeder.publish('sn/radio/down/q1', `${i}`, { qos: 1 });
    await feeder.publish('sn/radio/down/q2', `${i}`, { qos: 2 });
  }
  await udpDevice.publish('sn/radio/up/udp', text('beside'), { qos: 1 });
  await until('QoS 1 and 2 both ways', () =>
    [1, 2].every(
      (q) =>
        tally(up, `sn/radio/up/q${q}`).lost.length === 0 &&
        tally(down, `sn/radio/down/q${q}`).lost.length === 0,
    ),
  );
  // QoS -1: no connection, a pre-defined id; fire and forget, so sent until one arrives.
  const minusOne = new SnClient(
    radioSnTransport({
      radio: medium.attach({ name: 'm1', position: { x: 5, y: 5 } }),
      address: NODE,
      key: testKey(NODE),
      random: prng(3),
      latencyMs: 2,
    }),
    { clientId: 'unused' },
  );
  t.after(() => minusOne.close());
  node.close(); // one stream per node address: the QoS -1 sender takes the address over
  let m1 = 0;
  while (!up.has('sn/radio/up/m1 0') && m1 < 50) {
    await minusOne.publish({ type: 'predefined', id: PREDEFINED }, text('0'), { qos: -1 });
    m1++;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));

  for (const q of [1, 2]) {
    for (const [dir, got] of [
      ['up', up],
      ['down', down],
    ] as const) {
      const { lost, most } = tally(got, `sn/radio/${dir}/q${q}`);
      assert.deepEqual(lost, [], `${dir} QoS ${q}: lost ${lost}`);
      if (q === 2) assert.equal(most, 1, `${dir} QoS 2: a duplicate`);
    }
  }
  for (const dir of ['up', 'down'])
    assert.ok(tally(dir === 'up' ? up : down, `sn/radio/${dir}/q0`).most <= 1, `${dir} QoS 0 duplicated`);
  assert.equal(up.get('sn/radio/up/udp beside'), 1, 'the UDP device beside the radio one');
  assert.ok(up.has('sn/radio/up/m1 0'), 'QoS -1 over the radio');
  console.log(
    `MQTT-SN over radio: QoS 0 arrived ${N - tally(up, 'sn/radio/up/q0').lost.length}/${N} up, ${N - tally(down, 'sn/radio/down/q0').lost.length}/${N} down; frames dropped by the medium ${JSON.stringify(medium.stats)}`,
  );

  // Node 4's key covers "other-id" only.
  const impostor = new SnClient(
    radioSnTransport({
      radio: medium.attach({ name: 'n4', position: { x: 3, y: 0 } }),
      address: 4,
      key: testKey(4),
      random: prng(4),
      latencyMs: 2,
    }),
    { clientId: 'sn-radio-node', retryInterval: 1_000 },
  );
  t.after(() => impostor.close());
  await assert.rejects(impostor.connect(), /CONNACK return code 3/);
});
