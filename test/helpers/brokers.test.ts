// Proves the real-broker harness works, using MQTT.js as the client.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import { connect, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { startAedes } from './aedes.ts';
import { makeCerts } from './certs.ts';
import { type MosquittoBroker, type MosquittoOptions, startMosquitto } from './mosquitto.ts';
import { freePort } from './ports.ts';

const TIMEOUT = 30_000;

/** Connects with MQTT.js (no automatic reconnect); the client is ended when the test ends. */
function open(
  t: TestContext,
  url: string,
  opts: IClientOptions = {},
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  t.after(() => client.endAsync(true));
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => {
      client.off('error', reject);
      resolve({ client, connack });
    });
    client.once('error', reject);
    client.once('close', () => reject(new Error(`connection to ${url} closed before CONNACK`)));
  });
}

/** Resolves with the next message on `topic`, or rejects after `ms`. */
function nextMessage(client: MqttClient, topic: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${ms} ms`));
    }, ms);
    function onMessage(received: string, payload: Buffer) {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload.toString());
    }
    client.on('message', onMessage);
  });
}

/** Subscribes and publishes to a fresh topic on one connection and checks the echo. */
async function roundTrip(t: TestContext, url: string, opts: IClientOptions = {}): Promise<void> {
  const { client } = await open(t, url, opts);
  const topic = `harness/${randomUUID()}`;
  await client.subscribeAsync(topic, { qos: 1 });
  const received = nextMessage(client, topic);
  await client.publishAsync(topic, `hello ${opts.protocolVersion ?? 4}`, { qos: 1 });
  assert.equal(await received, `hello ${opts.protocolVersion ?? 4}`);
  await client.endAsync();
}

async function broker(t: TestContext, options?: MosquittoOptions): Promise<MosquittoBroker> {
  const started = await startMosquitto(options);
  t.after(() => started.stop());
  return started;
}

test('freePort returns distinct usable ports', async () => {
  const a = await freePort();
  const b = await freePort();
  assert.ok(a > 0 && a < 65536);
  assert.ok(b > 0 && b < 65536);
});

test('makeCerts is cached per process and directory', async () => {
  const a = await makeCerts();
  const b = await makeCerts();
  assert.equal(a, b);
  assert.match(a.ca, /BEGIN CERTIFICATE/);
  assert.match(a.clientKey, /PRIVATE KEY/);
});

test('mosquitto: MQTT 3.1.1 and 5.0 round trip over TCP', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t);
  assert.equal(b.url, `mqtt://127.0.0.1:${b.port}`);
  await roundTrip(t, b.url, { protocolVersion: 4 });
  await roundTrip(t, b.url, { protocolVersion: 5 });
});

test('mosquitto: TLS with CA verification', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t, { tls: true });
  const certs = await makeCerts();
  assert.ok(b.tlsUrl && b.tlsPort && b.tlsPort !== b.port);
  const tls = { ca: certs.ca, servername: 'localhost', rejectUnauthorized: true };
  await roundTrip(t, b.tlsUrl, { protocolVersion: 4, ...tls });
  await roundTrip(t, b.tlsUrl, { protocolVersion: 5, ...tls });
  await assert.rejects(open(t, b.tlsUrl, { ...tls, ca: certs.otherCa }), /certificate/i);
  // The plain listener still works next to the TLS one.
  await roundTrip(t, b.url);
});

test('mosquitto: mutual TLS', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t, { requireClientCert: true });
  const certs = await makeCerts();
  assert.ok(b.tlsUrl);
  const tls = { ca: certs.ca, servername: 'localhost', rejectUnauthorized: true };
  await roundTrip(t, b.tlsUrl, { ...tls, cert: certs.clientCert, key: certs.clientKey, protocolVersion: 5 });
  await roundTrip(t, b.tlsUrl, { ...tls, cert: certs.clientCert, key: certs.clientKey, protocolVersion: 4 });
  // Without a client certificate the broker refuses the handshake.
  await assert.rejects(open(t, b.tlsUrl, tls));
});

test('mosquitto: websockets', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t, { websockets: true });
  assert.ok(b.wsUrl && b.wsPort && b.wsPort !== b.port);
  assert.equal(b.wsUrl, `ws://127.0.0.1:${b.wsPort}`);
  await roundTrip(t, b.wsUrl, { protocolVersion: 4 });
  await roundTrip(t, b.wsUrl, { protocolVersion: 5 });
});

test('mosquitto: restart keeps a persistent session', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t, { config: ['persistence true', 'autosave_interval 1'] });
  const clientId = `harness-${randomUUID().slice(0, 8)}`;
  const topic = `harness/persist/${clientId}`;
  const session = { clientId, clean: false, protocolVersion: 4 as const };

  const first = await open(t, b.url, session);
  await first.client.subscribeAsync(topic, { qos: 1 });
  await first.client.endAsync();

  const publisher = await open(t, b.url);
  await publisher.client.publishAsync(topic, 'queued while offline', { qos: 1 });
  await publisher.client.endAsync();

  const pidBefore = b.pid;
  await b.restart();
  assert.notEqual(b.pid, pidBefore);
  assert.ok(b.running);

  const again = connect(b.url, { reconnectPeriod: 0, ...session });
  t.after(() => again.endAsync(true));
  const queued = nextMessage(again, topic);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    again.once('connect', resolve);
    again.once('error', reject);
  });
  assert.equal(connack.sessionPresent, true);
  assert.equal(await queued, 'queued while offline');

  const live = nextMessage(again, topic);
  const publisher2 = await open(t, b.url, { protocolVersion: 5 });
  await publisher2.client.publishAsync(topic, 'after restart', { qos: 1 });
  assert.equal(await live, 'after restart');
});

test('mosquitto: kill() then restart()', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t);
  await roundTrip(t, b.url);
  const pid = b.pid;
  await b.kill();
  assert.equal(b.running, false);
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  await assert.rejects(open(t, b.url));
  await b.restart();
  assert.ok(b.running);
  await roundTrip(t, b.url, { protocolVersion: 5 });
});

test('mosquitto: two brokers at once get different ports', { timeout: TIMEOUT }, async (t) => {
  const [a, b] = await Promise.all([broker(t), broker(t)]);
  assert.notEqual(a.port, b.port);
  assert.notEqual(a.pid, b.pid);
  assert.notEqual(a.dataDir, b.dataDir);
  await Promise.all([roundTrip(t, a.url), roundTrip(t, b.url, { protocolVersion: 5 })]);
});

test('mosquitto: max_inflight_messages and a bad config fail clearly', { timeout: TIMEOUT }, async (t) => {
  const b = await broker(t, { config: ['max_inflight_messages 2', 'max_packet_size 1024'] });
  await roundTrip(t, b.url);
  await assert.rejects(
    startMosquitto({ config: ['no_such_option 1'], readyTimeoutMs: 3000 }),
    /no_such_option[\s\S]*--- log ---/,
  );
});

test('mosquitto: stop() removes the data dir and ends the process', { timeout: TIMEOUT }, async () => {
  const { existsSync } = await import('node:fs');
  const b = await startMosquitto();
  const pid = b.pid;
  await b.stop();
  await b.stop();
  assert.equal(existsSync(b.dataDir), false);
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  await assert.rejects(b.restart(), /after stop/);
});

test('aedes: MQTT 3.1.1 round trip', { timeout: TIMEOUT }, async (t) => {
  const a = await startAedes();
  t.after(() => a.stop());
  assert.equal(a.url, `mqtt://127.0.0.1:${a.port}`);
  await roundTrip(t, a.url, { protocolVersion: 4 });
  // stop() also drops connected clients.
  const { client } = await open(t, a.url);
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  await a.stop();
  await closed;
});
