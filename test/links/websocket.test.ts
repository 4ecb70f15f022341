import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, beforeEach, describe, it, type TestContext, test } from 'node:test';
import { Aedes } from 'aedes';
import { build } from 'esbuild';
import { createWebSocketStream, WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { MqttError } from '../../src/errors.ts';
import { websocketLink } from '../../src/links/websocket.ts';
import { nodeWebsocketLink } from '../../src/links/websocket-node.ts';
import { makeCerts } from '../helpers/certs.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { runLinkConformance } from './link.case.ts';
import { concat, connectPacket, publishPacket, Recorder, socketsTo, subscribePacket } from './mqtt-bytes.ts';

const certs = await makeCerts();
// The harness's websockets listener is plain ws://; a wss:// listener goes in
// through `config` (lines before the harness's own listener, so they form a
// listener section of their own).
const wssPort = await freePort();
const wssListener = [
  `listener ${wssPort} lo`,
  'protocol websockets',
  `cafile ${certs.caFile}`,
  `certfile ${certs.certFile}`,
  `keyfile ${certs.keyFile}`,
];

// Mosquitto 2.0.11 (Debian 12) sends a large message over websockets only a
// few KiB each time its main loop wakes, about 40 KB/s on loopback
// (eclipse-mosquitto/mosquitto#1390, #2252): a 1 MiB echo would take ~25 s.
// So the Mosquitto suites use 32 KiB, and the 1 MiB round trip runs against
// Aedes behind a ws server below.
const LARGE = 32 * 1024 + 333;

runLinkConformance({
  name: 'websocket (ws://, ws package)',
  brokerOptions: { websockets: true },
  port: (broker) => broker.wsPort!,
  makeLink: (port, { connectTimeout }) =>
    nodeWebsocketLink({ url: `ws://127.0.0.1:${port}/mqtt`, connectTimeout }),
  handshake: true,
  largePayload: LARGE,
});

runLinkConformance({
  name: 'websocket (wss://, ws package)',
  brokerOptions: { config: wssListener },
  port: () => wssPort,
  makeLink: (port, { connectTimeout }) =>
    nodeWebsocketLink({ url: `wss://localhost:${port}/mqtt`, ca: certs.ca, connectTimeout }),
  handshake: true,
  largePayload: LARGE,
});

test('websocket: wss:// with a certificate from another CA rejects with LINK_ERROR', {
  timeout: 30_000,
}, async (t) => {
  const broker = await startMosquitto({ config: wssListener });
  t.after(() => broker.stop());
  const link = nodeWebsocketLink({ url: `wss://localhost:${wssPort}/`, ca: certs.otherCa });
  await assert.rejects(link.open(new Recorder()), (err) => {
    assert.ok(err instanceof MqttError && err.code === 'LINK_ERROR', String(err));
    assert.ok(err.cause instanceof Error);
    return true;
  });
});

test('websocket: close() with the broker not answering ends within closeTimeout', {
  timeout: 30_000,
}, async (t) => {
  const broker = await startMosquitto({ websockets: true });
  t.after(() => broker.stop());
  const rec = new Recorder();
  const connection = await nodeWebsocketLink({
    url: `ws://127.0.0.1:${broker.wsPort}/`,
    closeTimeout: 300,
  }).open(rec);
  broker.pause();
  t.after(() => broker.resume());
  const started = Date.now();
  connection.close();
  await rec.until('close handler', () => rec.closes.length > 0, 5000);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  assert.deepEqual(rec.closes, [undefined]);
  assert.equal(socketsTo(broker.wsPort!), 0);
});

describe('websocket link against Aedes behind an in-process ws server', () => {
  const TEST = { timeout: 30_000 };
  let server: WebSocketServer;
  let aedes: Aedes;
  let url: string;
  /** What the server does with a new connection; default: hand it to Aedes. */
  let onConnection: (peer: WsSocket) => void;
  before(async () => {
    aedes = await Aedes.createBroker();
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (peer) => onConnection(peer));
    await once(server, 'listening');
    url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  beforeEach(() => {
    onConnection = (peer) => aedes.handle(createWebSocketStream(peer));
  });
  after(async () => {
    for (const peer of server.clients) peer.terminate();
    await new Promise((resolve) => server.close(resolve));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });

  async function subscribed(t: TestContext, highWaterMark?: number) {
    const rec = new Recorder();
    const connection = await nodeWebsocketLink({ url, highWaterMark }).open(rec);
    t.after(() => connection.close());
    const topic = `ws/${randomUUID()}`;
    connection.write(concat([connectPacket(`ws-${randomUUID()}`), subscribePacket(1, topic)]));
    assert.deepEqual([...(await rec.take(9))], [0x20, 2, 0, 0, 0x90, 3, 0, 1, 0]);
    return { connection, rec, topic };
  }

  it('round-trips a 1 MiB PUBLISH, in one write and split across writes', TEST, async (t) => {
    const { connection, rec, topic } = await subscribed(t);
    const payload = new Uint8Array(1024 * 1024 + 333).map((_, i) => (i * 31 + (i >>> 11)) & 0xff);
    const publish = publishPacket(topic, payload);
    connection.write(publish);
    assert.deepEqual(await rec.take(publish.length), publish);
    const piece = Math.ceil(publish.length / 7) + 3;
    for (let at = 0; at < publish.length; at += piece) connection.write(publish.subarray(at, at + piece));
    assert.deepEqual(await rec.take(publish.length), publish);
  });

  it('write() returns false above highWaterMark, and drain follows once', TEST, async (t) => {
    const { connection, rec, topic } = await subscribed(t, 1024);
    const publish = publishPacket(topic, new Uint8Array(4 * 1024 * 1024));
    assert.equal(connection.write(publish), false);
    assert.ok(connection.bufferedAmount > 1024);
    await rec.until('drain', () => rec.drains === 1);
    assert.ok(connection.bufferedAmount <= 1024);
    assert.deepEqual(await rec.take(publish.length), publish);
    assert.equal(rec.drains, 1);
  });

  it('a text message closes the link with an error (MQTT-6.0.0-1)', TEST, async () => {
    onConnection = (peer) => peer.send('not mqtt');
    const rec = new Recorder();
    await nodeWebsocketLink({ url }).open(rec);
    await rec.until('close', () => rec.closes.length > 0);
    assert.equal(rec.closes.length, 1);
    assert.match(String(rec.closes[0]?.message), /text message/);
  });

  it('offers the mqtt subprotocol by default, and sends extra headers', TEST, async (t) => {
    const request = new Promise<IncomingMessage>((resolve) =>
      server.once('headers', (_, req) => resolve(req)),
    );
    const link = nodeWebsocketLink({ url, headers: { authorization: 'Bearer token' } });
    const connection = await link.open(new Recorder());
    t.after(() => connection.close());
    const { headers } = await request;
    assert.equal(headers['sec-websocket-protocol'], 'mqtt');
    assert.equal(headers.authorization, 'Bearer token');
  });
});

test('websocketLink rejects a URL that is not ws:// or wss://', () => {
  const WebSocket = class {} as never;
  for (const url of ['http://h/', 'mqtt://h', 'not a url']) {
    assert.throws(
      () => websocketLink({ url, WebSocket }),
      (err) => err instanceof MqttError && err.code === 'INVALID_URL',
    );
  }
});

test('websocketLink without a WebSocket class in the runtime says so', {
  skip: 'WebSocket' in globalThis,
}, () => {
  assert.throws(
    () => websocketLink({ url: 'ws://h/' }),
    (err) => err instanceof MqttError && err.code === 'INVALID_ARGUMENT',
  );
});

test('the runtime-neutral links entry bundles for the browser with nothing from Node', async () => {
  const result = await build({
    entryPoints: ['src/links/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(
    inputs.filter((path) => !/^src\/links\/|^src\/errors\.ts$/.test(path)),
    [],
  );
  // `\b` so that ArrayBuffer does not count as Buffer.
  for (const nodeism of [/node:/, /\brequire\(/, /\bBuffer\b/, /\bprocess\./, /from ["']ws["']/]) {
    assert.doesNotMatch(result.outputFiles[0].text, nodeism);
  }
});
