/**
 * The MQTT-SN gateway end to end: SnClient over UDP on loopback, the gateway, a real Mosquitto.
 * Every QoS incl. -1, every topic id type, the will dialogue and the will on keepalive loss,
 * wildcard subscriptions (REGISTER before PUBLISH), a broker that is down (CONNACK congestion),
 * malformed datagrams, long-lived mixed QoS 1/2, sleeping clients; counted per sequence number.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../../src/client/client.ts';
import { connect } from '../../src/node.ts';
import { SnClient, type SnClientOptions, type SnReceived } from '../../src/sn/client.ts';
import { encodeSn, SnReturnCode } from '../../src/sn/codec/index.ts';
import { type SnUdpGateway, udpSnGateway } from '../../src/sn/gateway/index.ts';
import type { SnGatewayOptions } from '../../src/sn/gateway/options.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';
import { freePorts } from '../helpers/ports.ts';

const RETRY_MS = 200;
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const PREDEFINED_ID = 7;
const PREDEFINED_NAME = 'sn/predefined/reading';

let broker: MosquittoBroker;
const gateways: SnUdpGateway[] = [];
const devices: SnClient[] = [];
const watchers: Client[] = [];

async function gateway(extra: Partial<SnGatewayOptions> = {}): Promise<SnUdpGateway> {
  const g = await udpSnGateway({
    broker: broker.url,
    predefinedTopics: new Map([[PREDEFINED_ID, PREDEFINED_NAME]]),
    retryInterval: RETRY_MS,
    ...extra,
  });
  gateways.push(g);
  return g;
}

async function device(
  g: SnUdpGateway,
  options: Partial<SnClientOptions> & { clientId: string },
): Promise<SnClient> {
  const c = new SnClient(await udpTransport({ port: g.port }), {
    retryInterval: RETRY_MS,
    retries: 5,
    predefinedTopics: new Map([[PREDEFINED_ID, PREDEFINED_NAME]]),
    ...options,
  });
  devices.push(c);
  return c;
}

/** A plain MQTT subscriber on the broker that collects payloads per topic. */
async function watcher(filter: string): Promise<{ got: string[]; client: Client }> {
  const client = await connect({ url: broker.url, clean: true });
  watchers.push(client);
  const got: string[] = [];
  await client.subscribe(filter, { qos: 2, onMessage: (m) => void got.push(`${m.topic} ${m.text}`) });
  return { got, client };
}

async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  for (const d of devices) d.close();
  for (const w of watchers) await w.end();
  for (const g of gateways) await g.close();
  await broker.stop();
});

describe('MQTT-SN gateway, end to end with Mosquitto', () => {
  it('publishes at QoS 0, 1 and 2 with normal, pre-defined and short topic ids', async () => {
    const g = await gateway();
    const w = await watcher('#');
    const d = await device(g, { clientId: 'pub-all' });
    const t0 = performance.now();
    await d.connect();
    const connectMs = performance.now() - t0;
    assert.ok(connectMs < 200, `connect took ${connectMs} ms`);
    for (const qos of [0, 1, 2] as const) {
      await d.publish('sn/normal', text(`n${qos}`), { qos });
      await d.publish({ type: 'predefined', id: PREDEFINED_ID }, text(`p${qos}`), { qos });
      await d.publish({ type: 'short', name: 'ab' }, text(`s${qos}`), { qos });
    }
    await until('9 messages', () => w.got.filter((x) => !x.startsWith('$')).length >= 9);
    assert.deepEqual(
      w.got.sort(),
      [
        'ab s0',
        'ab s1',
        'ab s2',
        'sn/normal n0',
        'sn/normal n1',
        'sn/normal n2',
        `${PREDEFINED_NAME} p0`,
        `${PREDEFINED_NAME} p1`,
        `${PREDEFINED_NAME} p2`,
      ].sort(),
    );
    await assert.rejects(d.publish({ type: 'predefined', id: 99 }, text('x'), { qos: 1 }), /return code 2/);
    await d.disconnect();
  });

  it('publishes at QoS -1 without a connection, from a configured address', async () => {
    const [port] = await freePorts(1);
    const g = await gateway({ qosMinusOneDevices: [{ address: `127.0.0.1:${port}`, clientId: 'qm1-dev' }] });
    const w = await watcher(`${PREDEFINED_NAME}`);
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
    const pub = (seq: number) =>
      s.send(
        encodeSn({
          type: 'publish',
          dup: false,
          qos: -1,
          retain: false,
          msgId: 0,
          topic: { type: 'predefined', id: PREDEFINED_ID },
          data: text(`m${seq}`),
        }),
        g.port,
        '127.0.0.1',
      );
    // The first one opens the broker connection; resend until the watcher sees one (QoS -1 is fire and forget).
    let seq = 0;
    while (w.got.length === 0 && seq < 100) {
      pub(seq++);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(w.got.length > 0);
    s.close();
  });

  it('subscribes by name, wildcard, pre-defined id and short name; REGISTERs before forwarding', async () => {
    const g = await gateway();
    const d = await device(g, { clientId: 'sub-all' });
    const got: SnReceived[] = [];
    d.onMessage((m) => void got.push(m));
    await d.connect();
    const byName = await d.subscribe('sn/exact', 1);
    assert.ok(byName.topicId > 0);
    assert.equal((await d.subscribe('sn/wild/+', 2)).topicId, 0);
    assert.equal((await d.subscribe({ type: 'predefined', id: PREDEFINED_ID }, 1)).topicId, PREDEFINED_ID);
    await d.subscribe({ type: 'short', name: 'zz' }, 0);
    const pub = await connect({ url: broker.url, clean: true });
    watchers.push(pub);
    await pub.publish('sn/exact', 'e', { qos: 1 });
    await pub.publish('sn/wild/one', 'w1', { qos: 2 });
    await pub.publish('sn/wild/two', 'w2', { qos: 1 });
    await pub.publish(PREDEFINED_NAME, 'p', { qos: 1 });
    await pub.publish('zz', 'z', { qos: 0 });
    await until('5 deliveries', () => got.length >= 5);
    assert.deepEqual(
      got.map((m) => `${m.topic} ${decode(m.data)} ${m.topicRef.type}`).sort(),
      [
        'sn/exact e normal',
        'sn/wild/one w1 normal',
        'sn/wild/two w2 normal',
        `${PREDEFINED_NAME} p predefined`,
        'zz z short',
      ].sort(),
    );
    await d.unsubscribe('sn/wild/+');
    await pub.publish('sn/wild/three', 'w3', { qos: 1 });
    await d.ping();
    assert.equal(got.length, 5);
    await d.disconnect();
  });

  it('runs the will dialogue once across retransmitted CONNECTs and publishes the will on keepalive loss', async () => {
    const g = await gateway();
    const w = await watcher('sn/will/#');
    const d = await device(g, {
      clientId: 'will-dev',
      keepalive: 1,
      retryInterval: 150,
      will: { topic: 'sn/will/dev', payload: text('gone'), qos: 1 },
    });
    await d.connect();
    await d.updateWillMessage(text('gone for good'));
    // Silence: no PINGREQ from now on (close stops the client's timers and its socket).
    d.close();
    await until('the will', () => w.got.length > 0, 4_000);
    assert.deepEqual(w.got, ['sn/will/dev gone for good']);
  });

  it('answers CONNACK congestion at once when the broker is unreachable', async () => {
    const [dead] = await freePorts(1);
    const g = await gateway({ broker: `mqtt://127.0.0.1:${dead}` });
    const d = await device(g, { clientId: 'no-broker' });
    const t0 = performance.now();
    await assert.rejects(
      d.connect(),
      (e: { reasonCode?: number }) => e.reasonCode === SnReturnCode.RejectedCongestion,
    );
    assert.ok(performance.now() - t0 < 1_000);
  });

  it('drops and counts malformed datagrams, and keeps serving', async () => {
    const g = await gateway();
    const s = createSocket('udp4');
    for (const bad of [[0x02, 0x99], [0x05], [0x01, 0x00], [0xff, 0x04, 0x01]])
      s.send(Uint8Array.from(bad), g.port, '127.0.0.1');
    await until('4 malformed', () => g.gateway.stats.malformed >= 4);
    s.close();
    const d = await device(g, { clientId: 'after-bad' });
    await d.connect();
    await d.ping();
    await d.disconnect();
  });

  it('carries long-lived mixed QoS 1/2 both ways on one connection: no loss, no QoS 2 duplicate', async () => {
    const g = await gateway();
    const d = await device(g, { clientId: 'mixed' });
    const got = new Map<string, number>();
    d.onMessage((m) => void got.set(decode(m.data), (got.get(decode(m.data)) ?? 0) + 1));
    await d.connect();
    await d.subscribe('sn/mixed/down', 2);
    const w = await watcher('sn/mixed/up');
    const pub = await connect({ url: broker.url, clean: true });
    watchers.push(pub);
    const N = 300;
    const down = [];
    for (let i = 0; i < N; i++)
      down.push(pub.publish('sn/mixed/down', `d${i}`, { qos: i % 2 === 0 ? 1 : 2 }));
    for (let i = 0; i < N; i++) await d.publish('sn/mixed/up', text(`u${i}`), { qos: i % 2 === 0 ? 1 : 2 });
    await Promise.all(down);
    await until('all down', () => got.size >= N, 15_000);
    await until('all up', () => w.got.length >= N);
    for (let i = 0; i < N; i++) assert.ok(got.has(`d${i}`), `d${i} lost`);
    for (let i = 1; i < N; i += 2) assert.equal(got.get(`d${i}`), 1, `QoS 2 d${i} duplicated`);
    const up = new Set(w.got);
    for (let i = 0; i < N; i++) assert.ok(up.has(`sn/mixed/up u${i}`), `u${i} lost`);
    const upCount = new Map<string, number>();
    for (const x of w.got) upCount.set(x, (upCount.get(x) ?? 0) + 1);
    for (let i = 1; i < N; i += 2)
      assert.equal(upCount.get(`sn/mixed/up u${i}`), 1, `QoS 2 u${i} duplicated`);
    await d.disconnect();
  });

  it('buffers 60 QoS 1 messages for a sleeping device and delivers them in order on PINGREQ, then PINGRESP', async () => {
    const g = await gateway({ brokerKeepalive: 1 });
    const d = await device(g, { clientId: 'sleeper', keepalive: 1, cleanSession: false });
    const got: string[] = [];
    d.onMessage((m) => void got.push(decode(m.data)));
    await d.connect();
    await d.subscribe('sn/sleep', 1);
    await d.sleep(3);
    assert.equal(g.gateway.deviceState('sleeper'), 'asleep');
    const pub = await connect({ url: broker.url, clean: true });
    watchers.push(pub);
    const N = 60;
    for (let i = 0; i < N; i++) await pub.publish('sn/sleep', `${i}`, { qos: 1 });
    // Asleep past the broker keepalive: the gateway keeps the broker connection up.
    await new Promise((r) => setTimeout(r, 1_600));
    assert.equal(got.length, 0);
    await d.awake();
    assert.deepEqual(
      got,
      Array.from({ length: N }, (_, i) => `${i}`),
    );
    assert.equal(g.gateway.deviceState('sleeper'), 'asleep');
    await d.connect();
    await d.disconnect();
  });
});
