/**
 * The MQTT-SN gateway killed (SIGKILL) and started again in the middle of QoS 1 and QoS 2 streams in
 * both directions: the gateway runs as a real `steadfast gateway --mqttsn-udp` process with a state
 * directory, the devices are SnClients over UDP (clean=0), the broker a real Mosquitto. The devices
 * notice the new gateway (its DISCONNECT to an unknown sender, or no answer), connect again, and
 * re-send what was in flight; counted per sequence number: no QoS 1 loss, no QoS 2 loss or duplicate.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { connect } from '../../src/node.ts';
import { SnClient } from '../../src/sn/client.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { background, shows } from '../cli/run-cli.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';

const N = 200;
const RETRY_MS = 200;
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let broker: MosquittoBroker;
const dir = mkdtempSync(join(tmpdir(), 'sn-restart-'));

before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A UDP port free a moment ago (bound to 0 and released), so the gateway can come back on it. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function count(into: Map<string, number>, key: string): void {
  into.set(key, (into.get(key) ?? 0) + 1);
}

/** Every sequence number arrived; at QoS 2 exactly once. */
function assertStream(got: Map<string, number>, prefix: string, qos: 1 | 2): void {
  const lost: number[] = [];
  const twice: number[] = [];
  for (let i = 0; i < N; i++) {
    const n = got.get(`${prefix} ${i}`) ?? 0;
    if (n === 0) lost.push(i);
    if (qos === 2 && n > 1) twice.push(i);
  }
  assert.deepEqual(lost, [], `${prefix}: ${lost.length} lost`);
  assert.deepEqual(twice, [], `${prefix}: ${twice.length} duplicated`);
}

function startGateway(t: TestContext, port: number, conf: string) {
  const gw = background(t, 120_000, [
    'gateway',
    '--mqttsn-udp',
    String(port),
    '--mqttsn-host',
    '127.0.0.1',
    '--mqttsn-conf',
    conf,
    '--mqttsn-state',
    join(dir, 'state'),
    '--broker',
    broker.url,
  ]);
  return gw;
}

test('the gateway killed and restarted mid-stream: QoS 1 and 2 both ways, nothing lost or duplicated', {
  timeout: 180_000,
}, async (t) => {
  const conf = join(dir, 'gateway.conf');
  writeFileSync(
    conf,
    `# Tretry / Nretry for the gateway's own requests, short for the test\nRetryInterval=${RETRY_MS}\nRetries=5\n`,
  );
  const port = await freeUdpPort();
  let gw = startGateway(t, port, conf);
  await shows(gw, /listening on udp/, 'gateway start', 60_000);

  const watcher = await connect({ url: broker.url, clean: true });
  const up = new Map<string, number>();
  await watcher.subscribe('sn/rs/up/#', { qos: 2, onMessage: (m) => count(up, `${m.topic} ${m.text}`) });
  const feeder = await connect({ url: broker.url, clean: true });

  const deviceOptions = { retryInterval: RETRY_MS, retries: 3, cleanSession: false };
  const sender = new SnClient(await udpTransport({ port }), {
    clientId: 'rs-up',
    keepalive: 30,
    ...deviceOptions,
  });
  // Keepalive 1 s: an idle receiver finds out about the new gateway through its PINGREQ.
  const receiver = new SnClient(await udpTransport({ port }), {
    clientId: 'rs-down',
    keepalive: 1,
    ...deviceOptions,
  });
  const down = new Map<string, number>();
  receiver.onMessage((m) => count(down, `${m.topic} ${decode(m.data)}`));
  await sender.connect();
  await receiver.connect();
  await receiver.subscribe('sn/rs/down/#', 2);

  t.after(async () => {
    sender.close();
    receiver.close();
    await watcher.end();
    await feeder.end();
  });
  let sent = 0;
  let killed = false;
  const upstream = (async () => {
    for (let i = 0; i < N; i++) {
      await sender.publish('sn/rs/up/1', text(`${i}`), { qos: 1 });
      await sender.publish('sn/rs/up/2', text(`${i}`), { qos: 2 });
      sent = i + 1;
      await sleep(2);
    }
  })();
  const downstream = (async () => {
    for (let i = 0; i < N; i++) {
      // Abreast of the upstream until the kill, so that both are mid-stream then; free after it
      // (the broker queues for the devices' sessions while the gateway is down).
      while (!killed && i > sent) await sleep(1);
      await feeder.publish('sn/rs/down/1', `${i}`, { qos: 1 });
      await feeder.publish('sn/rs/down/2', `${i}`, { qos: 2 });
      await sleep(2);
    }
  })();

  // Mid-stream in both directions.
  await until('a third of each stream', () => sent >= N / 3 && down.size >= (2 * N) / 3 - 20);
  gw.child.kill('SIGKILL');
  killed = true;
  await gw.ended;
  const atKill = { sent, received: down.size };
  await sleep(300);
  gw = startGateway(t, port, conf);
  await shows(gw, /listening on udp/, 'gateway restart', 60_000);

  await upstream;
  await downstream;
  await until('every message both ways', () => up.size >= 2 * N && down.size >= 2 * N);
  // A moment for late duplicates to show up.
  await sleep(500);
  assertStream(up, 'sn/rs/up/1', 1);
  assertStream(up, 'sn/rs/up/2', 2);
  assertStream(down, 'sn/rs/down/1', 1);
  assertStream(down, 'sn/rs/down/2', 2);
  assert.ok(
    atKill.sent < N && atKill.received < 2 * N,
    `the kill landed mid-stream: ${JSON.stringify(atKill)}`,
  );
  assert.ok(sender.reconnects >= 1 && receiver.reconnects >= 1, 'both devices connected again');
  console.log(
    `gateway SIGKILL at ${atKill.sent}/${N} up, ${atKill.received}/${2 * N} down; reconnects ${sender.reconnects} + ${receiver.reconnects}; QoS 1 copies up ${[...up].filter(([k, n]) => k.startsWith('sn/rs/up/1') && n > 1).length}, down ${[...down].filter(([k, n]) => k.startsWith('sn/rs/down/1') && n > 1).length}`,
  );

  await sender.disconnect();
  await receiver.disconnect();
  gw.child.kill('SIGTERM');
  assert.equal((await gw.ended).code, 0);
});
