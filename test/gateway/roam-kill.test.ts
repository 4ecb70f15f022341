// A gateway killed while its nodes can hear another: `steadfast sim` (nRF24)
// and two `steadfast gateway` processes (address 1 at x = 0, address 2 at
// x = 40) on one real Mosquitto; two roaming nodes at x = 8 and x = 10 open
// through gateway 1, the nearer. Gateway 1 is killed with SIGKILL (no RESET
// reaches the nodes): their links time out, they search, open through
// gateway 2 and resume their sessions. Everything published both ways before,
// during and after arrives, QoS 2 exactly once, and no will (MQTT 5, delayed)
// is published.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectMedium } from '../../src/gateway.ts';
import { type Client, connect, type Message } from '../../src/node.ts';
import { roamingLink } from '../../src/radio.ts';
import { background, shows } from '../cli/run-cli.ts';
import { until } from '../client/e2e.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { testKey, testKeysText } from './keys.ts';
import { ROAM_CLIENT, ROAM_TIMING } from './roam-site.ts';

const LONG = { timeout: 180_000 };
const WAIT = 60_000;

test('a gateway killed while its nodes hear another: they move over and resume', LONG, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-roam-kill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'air.sock');
  const sim = background(t, LONG.timeout, ['sim', '-s', socket, '--profile', 'nrf24', '--seed', '3']);
  await shows(sim, /sim: serving nrf24/, 'the sim');
  const keysFile = join(dir, 'nodes.keys');
  writeFileSync(keysFile, testKeysText([7, 8]), { mode: 0o600 });
  const gateway = (address: number, x: number) =>
    background(t, LONG.timeout, [
      'gateway',
      '--sim',
      socket,
      '--name',
      `gw-${address}`,
      '--address',
      String(address),
      '--position',
      `${x},0`,
      '--advertise-interval',
      '1',
      '--keys',
      keysFile,
      '--broker',
      broker.url,
    ]);
  const gw1 = gateway(1, 0);
  const gw2 = gateway(2, 40);
  await shows(gw1, /listening on .* as 1/, 'gateway 1');
  await shows(gw2, /listening on .* as 2/, 'gateway 2');

  const run = randomUUID().slice(0, 8);
  const lan = await connect({ ...ROAM_CLIENT, url: broker.url, clientId: `lan-${run}` });
  t.after(() => lan.end());
  const atLan: string[] = [];
  let wills = 0;
  await lan.subscribe(`up/${run}/#`, {
    qos: 2,
    onMessage: (m: Message) => atLan.push(`${m.topic} ${m.text}`),
  });
  await lan.subscribe(`will/${run}/#`, { qos: 1, onMessage: () => wills++ });

  interface RoamingNode {
    id: string;
    client: Client;
    link: ReturnType<typeof roamingLink>;
    got: string[];
  }
  const nodes: RoamingNode[] = [];
  for (const [address, x] of [
    [7, 8],
    [8, 10],
  ] as const) {
    const radio = await connectMedium(socket, { name: `node-${address}`, position: { x, y: 0 } });
    const link = roamingLink({
      radio,
      address,
      key: testKey(address),
      searchIntervalMs: 2000,
      ...ROAM_TIMING,
    });
    t.after(() => link.close());
    const id = `n${address}-${run}`;
    const got: string[] = [];
    const client = await connect({
      ...ROAM_CLIENT,
      link,
      clientId: id,
      will: { topic: `will/${run}/${id}`, payload: 'gone', qos: 1, properties: { willDelayInterval: 15 } },
    });
    t.after(() => client.end().catch(() => {}));
    await client.subscribe(`down/${run}/${id}`, { qos: 2, onMessage: (m: Message) => got.push(m.text) });
    nodes.push({ id, client, link, got });
  }
  // A search answered by gateway 2 only (gateway 1 busy sending to the other node, half-duplex) opens there
  // first; the next searches move it to the nearer one (13 dB better).
  await until(() => nodes.every((n) => n.link.gateway === 1), 'both nodes on the nearer gateway', WAIT);

  async function round(tag: string): Promise<void> {
    await Promise.all(
      nodes.flatMap((n) =>
        [1, 2].flatMap((qos) => [
          n.client.publish(`up/${run}/${n.id}`, `q${qos} ${tag}`, { qos: qos as 1 | 2 }),
          lan.publish(`down/${run}/${n.id}`, `q${qos} ${tag}`, { qos: qos as 1 | 2 }),
        ]),
      ),
    );
  }
  await round('before');
  const killedAt = Date.now();
  gw1.child.kill('SIGKILL');
  const during = round('during');
  await until(() => nodes.every((n) => n.link.gateway === 2), 'both nodes on gateway 2', WAIT);
  const movedMs = Date.now() - killedAt;
  await during;
  await round('after');
  const expected = ['before', 'during', 'after'].flatMap((tag) => [`q1 ${tag}`, `q2 ${tag}`]);
  await until(
    () =>
      nodes.every(
        (n) =>
          expected.every((p) => n.got.includes(p)) &&
          expected.every((p) => atLan.includes(`up/${run}/${n.id} ${p}`)),
      ),
    'every message both ways',
    WAIT,
  );
  await shows(gw2, /node 7: broker connected/, 'gateway 2 relays node 7');
  await new Promise((r) => setTimeout(r, 500));
  for (const n of nodes) {
    for (const tag of ['before', 'during', 'after']) {
      assert.equal(n.got.filter((p) => p === `q2 ${tag}`).length, 1, `${n.id} got q2 ${tag} once`);
      assert.equal(
        atLan.filter((p) => p === `up/${run}/${n.id} q2 ${tag}`).length,
        1,
        `q2 ${tag} from ${n.id} once`,
      );
    }
  }
  assert.equal(wills, 0, 'no will');
  t.diagnostic(`kill to both nodes on gateway 2: ${movedMs} ms`);
});
