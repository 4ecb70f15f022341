/**
 * The MQTT-SN gateway across outages and at scale, against a real Mosquitto with persistence:
 * a clean=0 subscriber across a broker restart (Mosquitto restarted by the test), and 100 devices
 * at once, each with its own broker session. Counted per sequence number.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../../src/client/client.ts';
import { connect } from '../../src/node.ts';
import { SnClient } from '../../src/sn/client.ts';
import { type SnUdpGateway, udpSnGateway } from '../../src/sn/gateway/index.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';

const RETRY_MS = 200;
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

let broker: MosquittoBroker;
let g: SnUdpGateway;
const devices: SnClient[] = [];
const clients: Client[] = [];

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  broker = await startMosquitto({ config: ['persistence true', 'autosave_interval 1'] });
  g = await udpSnGateway({ broker: broker.url, retryInterval: RETRY_MS });
});
after(async () => {
  for (const d of devices) d.close();
  for (const c of clients) await c.end();
  await g.close();
  await broker.stop();
});

describe('MQTT-SN gateway: outages and scale', () => {
  it('keeps a clean=0 subscriber whole across a broker restart', async () => {
    const d = new SnClient(await udpTransport({ port: g.port }), {
      clientId: 'restart-sub',
      cleanSession: false,
      retryInterval: RETRY_MS,
    });
    devices.push(d);
    const got = new Map<string, number>();
    d.onMessage((m) => void got.set(decode(m.data), (got.get(decode(m.data)) ?? 0) + 1));
    await d.connect();
    await d.subscribe('sn/restart', 1);
    const pub = await connect({ url: broker.url, clean: true, reconnectPeriod: 100, quietPeriod: 100 });
    clients.push(pub);
    const N = 100;
    for (let i = 0; i < N / 2; i++) await pub.publish('sn/restart', `${i}`, { qos: 1 });
    await until('first half', () => got.size >= N / 2);
    await broker.restart();
    for (let i = N / 2; i < N; i++) await pub.publish('sn/restart', `${i}`, { qos: 1 });
    await until('second half', () => got.size >= N);
    for (let i = 0; i < N; i++) assert.ok(got.has(`${i}`), `${i} lost`);
    await d.disconnect();
  });

  it('serves 100 devices at once, each with its own broker session', async () => {
    const N = 100;
    const watcher = await connect({ url: broker.url, clean: true });
    clients.push(watcher);
    const got = new Set<string>();
    await watcher.subscribe('sn/many/#', { qos: 1, onMessage: (m) => void got.add(`${m.topic} ${m.text}`) });
    const many = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const d = new SnClient(await udpTransport({ port: g.port }), {
          clientId: `many-${i}`,
          retryInterval: 1_000,
        });
        devices.push(d);
        return d;
      }),
    );
    const t0 = performance.now();
    await Promise.all(many.map((d) => d.connect()));
    const connectAllMs = performance.now() - t0;
    await Promise.all(many.map((d, i) => d.publish(`sn/many/${i}`, text(`hello ${i}`), { qos: 1 })));
    await until('100 messages', () => got.size >= N);
    for (let i = 0; i < N; i++) assert.ok(got.has(`sn/many/${i} hello ${i}`));
    assert.ok(g.gateway.devices >= N);
    console.log(`100 MQTT-SN devices connected through the gateway in ${Math.round(connectAllMs)} ms`);
    await Promise.all(many.map((d) => d.disconnect()));
  });
});
