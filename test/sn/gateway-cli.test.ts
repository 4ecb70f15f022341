/**
 * `steadfast gateway --mqttsn-udp` as a real process, configured by Paho-format files, against a
 * real Mosquitto, with an SnClient over UDP on loopback: a listed device publishes to common and
 * per-client pre-defined ids, an unlisted one is refused, SIGTERM exits 0; a bad file is a usage
 * error naming the file and the line; one process serving a simulated radio (a steadfast node) and
 * MQTT-SN over UDP at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connectMedium } from '../../src/gateway.ts';
import { connect } from '../../src/node.ts';
import { radioLink } from '../../src/radio.ts';
import { SnClient } from '../../src/sn/client.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { background, shows, steadfast } from '../cli/run-cli.ts';
import { testKey, testKeysText } from '../gateway/keys.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';

const text = (s: string) => new TextEncoder().encode(s);
let broker: MosquittoBroker;
const dir = mkdtempSync(join(tmpdir(), 'sn-cli-'));

before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('steadfast gateway --mqttsn-udp with a topics file and a clients list', {
  timeout: 120_000,
}, async (t) => {
  const topics = join(dir, 'predefinedTopic.conf');
  const clients = join(dir, 'clients.conf');
  writeFileSync(topics, '# ClientId, TopicName, TopicId\n*,sn/cli/common,5\ncli-dev,sn/cli/own,6\n');
  writeFileSync(clients, 'cli-dev\n');
  const gw = background(t, 90_000, [
    'gateway',
    '--mqttsn-udp',
    '0',
    '--mqttsn-host',
    '127.0.0.1',
    '--mqttsn-topics',
    topics,
    '--mqttsn-clients',
    clients,
    '--broker',
    broker.url,
  ]);
  await shows(gw, /listening on udp 127\.0\.0\.1:\d+/, 'gateway start', 60_000);
  const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(gw.out())?.[1]);
  const watcher = await connect({ url: broker.url, clean: true });
  const got: string[] = [];
  await watcher.subscribe('sn/cli/#', { qos: 1, onMessage: (m) => void got.push(`${m.topic} ${m.text}`) });

  const d = new SnClient(await udpTransport({ port }), { clientId: 'cli-dev', retryInterval: 300 });
  await d.connect();
  await d.publish({ type: 'predefined', id: 5 }, text('c'), { qos: 1 });
  await d.publish({ type: 'predefined', id: 6 }, text('o'), { qos: 1 });
  const deadline = Date.now() + 10_000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got.sort(), ['sn/cli/common c', 'sn/cli/own o']);
  await d.disconnect();
  d.close();

  const stranger = new SnClient(await udpTransport({ port }), { clientId: 'stranger', retryInterval: 300 });
  await assert.rejects(stranger.connect(), /CONNACK return code 3/);
  stranger.close();
  await watcher.end();

  gw.child.kill('SIGTERM');
  const end = await gw.ended;
  assert.equal(end.code, 0, end.stderr);
});

test('steadfast gateway --mqttsn-topics with a bad line is a usage error naming file and line', async () => {
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, '*,ok/topic,1\n*,bad/topic\n');
  const r = await steadfast(['gateway', '--mqttsn-udp', '0', '--mqttsn-topics', bad, '--broker', broker.url]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /bad\.conf:2: expected "ClientId,TopicName,TopicId"/);
});

test('steadfast gateway runs a radio and MQTT-SN over UDP in one process', {
  timeout: 120_000,
}, async (t) => {
  const socket = join(dir, 'air.sock');
  const sim = background(t, 90_000, ['sim', '--socket', socket, '--profile', 'nrf24']);
  await shows(sim, /sim: serving nrf24 .* on /, 'sim start', 60_000);
  const keys = join(dir, 'nodes.keys');
  writeFileSync(keys, testKeysText([9]), { mode: 0o600 });
  const gw = background(t, 90_000, [
    'gateway',
    '--sim',
    socket,
    '--keys',
    keys,
    '--mqttsn-udp',
    '0',
    '--mqttsn-host',
    '127.0.0.1',
    '--broker',
    broker.url,
  ]);
  await shows(gw, /listening on udp 127\.0\.0\.1:\d+/, 'mqtt-sn start', 60_000);
  await shows(gw, /gateway: listening on sim gateway/, 'radio start', 60_000);
  const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(gw.out())?.[1]);
  const watcher = await connect({ url: broker.url, clean: true });
  const got: string[] = [];
  await watcher.subscribe('sn/both/#', { qos: 1, onMessage: (m) => void got.push(`${m.topic} ${m.text}`) });

  const radio = await connectMedium(socket, { name: 'node-9' });
  const link = radioLink({ radio, address: 9, key: testKey(9) });
  const node = await connect({ link, clientId: 'both-radio', connectTimeout: 20_000, readyTimeout: 60_000 });
  await node.publish('sn/both/radio', 'r', { qos: 1 });
  const d = new SnClient(await udpTransport({ port }), { clientId: 'both-sn', retryInterval: 300 });
  await d.connect();
  await d.publish('sn/both/udp', text('u'), { qos: 1 });
  const deadline = Date.now() + 10_000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got.sort(), ['sn/both/radio r', 'sn/both/udp u']);

  gw.child.kill('SIGUSR1');
  await shows(gw, /mqtt-sn gateway: 1 devices/, 'both status lines', 30_000);
  await d.disconnect();
  d.close();
  await node.end();
  await link.close();
  await watcher.end();
  gw.child.kill('SIGTERM');
  const end = await gw.ended;
  assert.equal(end.code, 0, end.stderr);
  sim.child.kill('SIGINT');
  await sim.ended;
});
