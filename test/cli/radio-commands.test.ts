// `steadfast sim` and `steadfast gateway` as real processes: a node in this
// process attaches to the sim's medium over its socket and runs the Client
// over radioLink, through the gateway process, to a real Mosquitto. QoS 1 and
// 2 both ways; then the gateway is killed with SIGKILL mid-traffic and
// started again, and nothing is lost or duplicated; status on SIGUSR1; clean
// exits on SIGTERM / SIGINT; one-line errors with the documented exit codes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectMedium } from '../../src/gateway.ts';
import { type Client, connect, type Message, type NodeClientOptions } from '../../src/node.ts';
import { radioLink } from '../../src/radio.ts';
import { nextEvent } from '../client/e2e.ts';
import { testKey, testKeysText } from '../gateway/keys.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { background, shows, steadfast } from './run-cli.ts';

const LONG = { timeout: 300_000 };
/** Generous: a shared, slow machine must not fail a correct run. */
const WAIT = 90_000;
const NODE_CLIENT: NodeClientOptions = {
  protocolVersion: 5,
  keepalive: 30,
  connectTimeout: 20_000,
  reconnectPeriod: 200,
  reconnectPeriodMax: 1000,
  quietPeriod: 100,
  readyTimeout: WAIT,
};

function record(into: string[]): (message: Message) => void {
  return (message) => {
    into.push(message.text);
  };
}

async function until(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every payload in `expected` arrived; QoS 2 ones exactly once. */
function assertDelivered(got: string[], expected: string[], what: string): void {
  const missing = expected.filter((p) => !got.includes(p));
  assert.deepEqual(missing, [], `${what}: ${missing.length} of ${expected.length} lost`);
  const qos2 = got.filter((p) => p.startsWith('q2 '));
  assert.equal(new Set(qos2).size, qos2.length, `${what}: a QoS 2 message arrived twice`);
}

/** Publishes `count` messages at QoS 1 and at QoS 2, all at once; resolves when every flow is complete. */
async function publishBoth(from: Client, topic: string, tag: string, count: number): Promise<string[]> {
  const sent: string[] = [];
  const flows: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    for (const qos of [1, 2] as const) {
      const text = `q${qos} ${tag} ${i}`;
      sent.push(text);
      flows.push(from.publish(topic, text, { qos }));
    }
  }
  await Promise.all(flows);
  return sent;
}

test(
  'sim + gateway processes: a node talks QoS 1 and 2 both ways, survives kill -9 of the gateway',
  LONG,
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-radio-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'air.sock');

    const sim = background(t, LONG.timeout, [
      'sim',
      '--socket',
      socket,
      '--profile',
      'nrf24',
      '--loss',
      '0.02',
      '--seed',
      '3',
    ]);
    await shows(sim, /sim: serving nrf24 1Mbps .* on /, 'sim start');
    const keysFile = join(dir, 'nodes.keys');
    writeFileSync(keysFile, testKeysText([7]), { mode: 0o600 });
    const gatewayArgs = ['gateway', '--sim', socket, '--keys', keysFile, '--broker', broker.url, '-v'];
    let gateway = background(t, LONG.timeout, gatewayArgs);
    await shows(gateway, /gateway: listening on sim gateway/, 'gateway start');

    const run = randomUUID().slice(0, 8);
    const radio = await connectMedium(socket, { name: 'node-7' });
    const link = radioLink({ radio, address: 7, key: testKey(7) });
    t.after(() => link.close());
    const node = await connect({ ...NODE_CLIENT, link, clientId: `node7-${run}` });
    t.after(() => node.end());
    const lan = await connect({ ...NODE_CLIENT, url: broker.url, clientId: `lan-${run}` });
    t.after(() => lan.end());
    const atLan: string[] = [];
    const atNode: string[] = [];
    await lan.subscribe(`up/${run}`, { qos: 2, onMessage: record(atLan) });
    await node.subscribe(`down/${run}`, { qos: 2, onMessage: record(atNode) });
    await shows(gateway, /node 7: broker connected/, 'the gateway logs the node');

    const [up1, down1] = await Promise.all([
      publishBoth(node, `up/${run}`, 'first', 5),
      publishBoth(lan, `down/${run}`, 'first', 5),
    ]);
    await until(
      () => up1.every((p) => atLan.includes(p)) && down1.every((p) => atNode.includes(p)),
      'first round',
    );

    // Status on demand, from both processes.
    gateway.child.kill('SIGUSR1');
    await shows(gateway, /node 7: open.*frames \d+ in \/ \d+ out/, 'gateway status table');
    sim.child.kill('SIGUSR1');
    await shows(
      sim,
      /sim: 2 radios connected .* [1-9]\d* frames sent, [1-9]\d* delivered/,
      'sim status line',
    );

    // The gateway dies mid-traffic, without a word to anyone; more is published while it is down; it comes back.
    const downs: string[] = [];
    node.on('down', ({ cause }) => downs.push(cause.message));
    const during = Promise.all([
      publishBoth(node, `up/${run}`, 'second', 5),
      publishBoth(lan, `down/${run}`, 'second', 5),
    ]);
    gateway.child.kill('SIGKILL');
    const killed = await gateway.ended;
    assert.equal(killed.code, null, 'killed by the signal');
    const whileDown = Promise.all([
      publishBoth(node, `up/${run}`, 'third', 5),
      publishBoth(lan, `down/${run}`, 'third', 5),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    gateway = background(t, LONG.timeout, gatewayArgs);
    await shows(gateway, /gateway: listening on sim gateway/, 'gateway restart');
    const [[upA, downA], [upB, downB]] = await Promise.all([during, whileDown]);
    const up2 = [...upA, ...upB];
    const down2 = [...downA, ...downB];
    await until(
      () => up2.every((p) => atLan.includes(p)) && down2.every((p) => atNode.includes(p)),
      'second round',
    );
    // A moment for a late duplicate to show.
    await new Promise((r) => setTimeout(r, 1000));
    assertDelivered(atLan, [...up1, ...up2], 'node -> broker');
    assertDelivered(atNode, [...down1, ...down2], 'broker -> node');
    assert.ok(downs.length > 0, 'the node saw the gateway outage');
    t.diagnostic(`node outages: ${downs.join('; ')}`);

    // SIGTERM: the gateway resets its node, which sees the outage at once, and exits 0.
    const reset = nextEvent(node, 'down', () => true, WAIT);
    gateway.child.kill('SIGTERM');
    const stopped = await gateway.ended;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match((await reset).cause.message, /the gateway is shutting down/, gateway.out().slice(-3000));
    assert.match(gateway.out(), /gateway: SIGTERM: stopping/);

    await link.close();
    sim.child.kill('SIGINT');
    const simEnd = await sim.ended;
    assert.equal(simEnd.code, 0, simEnd.stderr);
    assert.match(simEnd.stdout, /sim: SIGINT: stopping; .* frames sent/);
  },
);

test('gateway and sim errors: one line, documented exit codes', LONG, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-radio-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nobody.sock');

  const noMedium = await steadfast([
    'gateway',
    '--insecure-radio',
    '--sim',
    missing,
    '--broker',
    'mqtt://127.0.0.1:1883',
  ]);
  assert.equal(noMedium.code, 3, noMedium.stderr);
  assert.match(
    noMedium.stderr,
    /^steadfast gateway: no simulated medium at .*nobody\.sock \(start one with: steadfast sim/,
  );
  assert.equal(noMedium.stderr.trim().split('\n').length, 1, noMedium.stderr);

  const badUrl = await steadfast([
    'gateway',
    '--insecure-radio',
    '--sim',
    missing,
    '--broker',
    'foo://broker',
  ]);
  assert.equal(badUrl.code, 2, badUrl.stderr);
  assert.match(badUrl.stderr, /--broker: invalid broker URL "foo:\/\/broker"/);

  const websocket = await steadfast([
    'gateway',
    '--insecure-radio',
    '--sim',
    missing,
    '--broker',
    'ws://127.0.0.1:9001',
  ]);
  assert.equal(websocket.code, 2, websocket.stderr);
  assert.match(websocket.stderr, /--broker must be mqtt:\/\/ or mqtts:\/\//);

  const noRadio = await steadfast(['gateway', '--insecure-radio', '--broker', 'mqtt://127.0.0.1:1883']);
  assert.equal(noRadio.code, 2);
  assert.match(noRadio.stderr, /gateway needs a radio: --sim PATH or --uart DEVICE/);

  const noDevice = await steadfast([
    'gateway',
    '--insecure-radio',
    '--uart',
    join(dir, 'ttyNONE'),
    '--broker',
    'mqtt://127.0.0.1:1883',
  ]);
  assert.equal(noDevice.code, 3, noDevice.stderr);
  assert.match(noDevice.stderr, /^steadfast gateway: cannot open the radio: .*ttyNONE/);

  const noSocket = await steadfast(['sim']);
  assert.equal(noSocket.code, 2);
  assert.match(noSocket.stderr, /sim needs a socket path: --socket PATH/);

  const wrongFlag = await steadfast(['sim', '-s', join(dir, 'a.sock'), '--profile', 'nrf24', '--sf', '9']);
  assert.equal(wrongFlag.code, 2);
  assert.match(wrongFlag.stderr, /--sf is for --profile lora, not nrf24/);

  const badBurst = await steadfast(['sim', '-s', join(dir, 'a.sock'), '--burst', '100']);
  assert.equal(badBurst.code, 2);
  assert.match(badBurst.stderr, /--burst must be GOOD_MS:BAD_MS/);

  const badRate = await steadfast([
    'sim',
    '-s',
    join(dir, 'a.sock'),
    '--profile',
    'nrf24',
    '--rate',
    '500000',
  ]);
  assert.equal(badRate.code, 2);
  assert.match(badRate.stderr, /500000/);

  // A second sim on a live socket is refused; the first keeps serving.
  const socket = join(dir, 'live.sock');
  const first = background(t, LONG.timeout, ['sim', '-s', socket]);
  await shows(first, /sim: serving lora SF7/, 'sim start');
  const again = await steadfast(['sim', '-s', socket]);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /already served at/);
  first.child.kill('SIGTERM');
  assert.equal((await first.ended).code, 0);
});
