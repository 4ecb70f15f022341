// "No false wills when the gateway restarts", measured with real parts: a
// `steadfast sim` and a `steadfast gateway` process, a real Mosquitto, secure
// MQTT 5 nodes whose wills carry a will delay, and an independent observer
// subscribed to every will topic. The gateway is killed with SIGKILL and
// started again with the same keys file: the nodes that stayed in range
// resume (QoS 1 both before and after, nothing lost) and no will of theirs
// reaches the observer within the will delay plus a margin. The control: a
// node whose radio is gone for good (its medium connection closed while the
// gateway was down, as a node killed or carried away) does get its will once
// the delay has run, so the observer would have seen a false one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectMedium } from '../../src/gateway.ts';
import { type Client, connect, type NodeClientOptions } from '../../src/node.ts';
import { radioLink } from '../../src/radio.ts';
import { background, shows } from '../cli/run-cli.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { testKey, testKeysText } from './keys.ts';

const LONG = { timeout: 240_000 };
/** Generous: a shared, slow machine must not fail a correct run. */
const WAIT = 90_000;
/**
 * The will delay of every node, seconds: the grace the broker gives a node
 * whose connection dropped. It must cover the gateway's restart (a process
 * start on a loaded machine) plus the nodes' reconnect; docs/radio.md.
 */
const WILL_DELAY_S = 15;
/** The session outlives the will delay, so a resumed node finds its session. */
const SESSION_EXPIRY_S = 120;
/** How long past the will delay the observer keeps watching for a false will. */
const MARGIN_MS = 3_000;
/** How long the gateway stays dead before it is started again. */
const DEAD_MS = 500;
/** Nodes that stay in range, and the one that does not come back. */
const STAYING = [7, 8];
const LEAVING = 9;

const NODE_CLIENT: NodeClientOptions = {
  protocolVersion: 5,
  keepalive: 30,
  connectTimeout: 20_000,
  reconnectPeriod: 200,
  reconnectPeriodMax: 1000,
  quietPeriod: 100,
  readyTimeout: WAIT,
  properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
};

async function until(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `count` QoS 1 publishes from `from`, all at once; resolves when every PUBACK is in. */
async function publishQos1(from: Client, topic: string, tag: string, count: number): Promise<string[]> {
  const sent = Array.from({ length: count }, (_, i) => `${tag} ${i}`);
  await Promise.all(sent.map((text) => from.publish(topic, text, { qos: 1 })));
  return sent;
}

test(
  'gateway kill -9 and restart: nodes in range resume, no will; a node that stays away gets its will after the delay',
  LONG,
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-restart-wills-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'air.sock');
    const sim = background(t, LONG.timeout, ['sim', '--socket', socket, '--profile', 'nrf24', '--seed', '5']);
    await shows(sim, /sim: serving nrf24 /, 'sim start');
    const keysFile = join(dir, 'nodes.keys');
    writeFileSync(keysFile, testKeysText([...STAYING, LEAVING]), { mode: 0o600 });
    const gatewayArgs = ['gateway', '--sim', socket, '--keys', keysFile, '--broker', broker.url, '-v'];
    let gateway = background(t, LONG.timeout, gatewayArgs);
    await shows(gateway, /gateway: listening on sim gateway/, 'gateway start');

    const run = randomUUID().slice(0, 8);
    const willTopic = (address: number) => `will/${run}/${address}`;
    const observer = await connect({ ...NODE_CLIENT, url: broker.url, clientId: `observer-${run}` });
    t.after(() => observer.end());
    const wills: { address: number; at: number }[] = [];
    await observer.subscribe(`will/${run}/+`, {
      qos: 1,
      onMessage: (m) => {
        wills.push({ address: Number(m.topic.split('/').pop()), at: Date.now() });
      },
    });
    const atObserver: string[] = [];
    await observer.subscribe(`up/${run}/+`, { qos: 1, onMessage: (m) => void atObserver.push(m.text) });

    const nodes = new Map<number, { client: Client; radio: { close(): Promise<void> }; resumed: number }>();
    for (const address of [...STAYING, LEAVING]) {
      const radio = await connectMedium(socket, { name: `node-${address}` });
      const link = radioLink({ radio, address, key: testKey(address) });
      t.after(() => link.close());
      const client = await connect({
        ...NODE_CLIENT,
        link,
        clientId: `node${address}-${run}`,
        will: {
          topic: willTopic(address),
          payload: `node ${address} is gone`,
          qos: 1,
          properties: { willDelayInterval: WILL_DELAY_S },
        },
      });
      t.after(() => client.end());
      const entry = { client, radio, resumed: 0 };
      client.on('up', () => (entry.resumed = Date.now()));
      nodes.set(address, entry);
    }
    const sentBefore = (
      await Promise.all([...nodes].map(([a, n]) => publishQos1(n.client, `up/${run}/${a}`, `before ${a}`, 5)))
    ).flat();
    await until(() => sentBefore.every((p) => atObserver.includes(p)), 'QoS 1 before the kill');

    // The gateway dies without a word: the broker sees every node's TCP connection drop at once.
    gateway.child.kill('SIGKILL');
    assert.equal((await gateway.ended).code, null, 'killed by the signal');
    const killedAt = Date.now();
    // Node 9 is gone for good: its radio leaves the medium while the gateway is down.
    const leaving = nodes.get(LEAVING);
    assert.ok(leaving);
    await leaving.radio.close();
    await new Promise((r) => setTimeout(r, DEAD_MS));

    const restartedAt = Date.now();
    gateway = background(t, LONG.timeout, gatewayArgs);
    await shows(gateway, /gateway: listening on sim gateway/, 'gateway restart');
    const listeningAt = Date.now();
    // Every node that stayed resumes, and its QoS 1 traffic flows again.
    const sentAfter = (
      await Promise.all(
        STAYING.map((a) => publishQos1(nodes.get(a)!.client, `up/${run}/${a}`, `after ${a}`, 5)),
      )
    ).flat();
    await until(() => sentAfter.every((p) => atObserver.includes(p)), 'QoS 1 after the restart');
    const resumedAt = Math.max(...STAYING.map((a) => nodes.get(a)!.resumed));
    assert.ok(
      STAYING.every((a) => nodes.get(a)!.resumed > restartedAt),
      'every staying node reconnected after the restart',
    );
    const missing = [...sentBefore, ...sentAfter].filter((p) => !atObserver.includes(p));
    assert.deepEqual(missing, [], 'no QoS 1 message lost');

    // The control's will arrives once the delay has run; nobody else's does, even past delay + margin.
    await until(() => wills.some((w) => w.address === LEAVING), 'the will of the node that left');
    const willAfter = wills.find((w) => w.address === LEAVING)!.at - killedAt;
    const watchUntil = killedAt + WILL_DELAY_S * 1000 + MARGIN_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, watchUntil - Date.now())));
    assert.deepEqual(
      wills.filter((w) => w.address !== LEAVING),
      [],
      'no will for a node that stayed in range',
    );
    assert.ok(
      willAfter >= WILL_DELAY_S * 1000 - 1000,
      `the will came after the delay (${willAfter} ms after the kill)`,
    );
    t.diagnostic(
      `gateway process start ${listeningAt - restartedAt} ms; restart to every node resumed ` +
        `${resumedAt - restartedAt} ms; kill to every node resumed ${resumedAt - killedAt} ms; ` +
        `the leaving node's will ${willAfter} ms after the kill (will delay ${WILL_DELAY_S} s)`,
    );
    gateway.child.kill('SIGTERM');
    assert.equal((await gateway.ended).code, 0);
    sim.child.kill('SIGTERM');
    await sim.ended;
  },
);
