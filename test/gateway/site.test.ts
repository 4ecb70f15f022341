// A site with several radios and several gateways, all real processes: an
// nRF24 medium and a LoRa medium (two `steadfast sim`), gateway 0 owning a
// radio on each (`--sim` twice), gateway 1 on the LoRa medium only, both
// relaying to one real Mosquitto with no coordination between them. A node on
// each radio of gateway 0 and one on gateway 1 talk QoS 1 and 2 both ways.
// Then the LoRa node of gateway 0 goes silent there and comes up through
// gateway 1 with the same client id (as a node carried to the other gateway
// does): the broker's session takeover closes gateway 0's broker connection
// for it (gateway 0 logs it before its own link timeout would have), the
// session resumes, and what was published to it meanwhile arrives, QoS 2 once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectMedium } from '../../src/gateway.ts';
import { type Client, connect, type Message, type NodeClientOptions } from '../../src/node.ts';
import { radioLink } from '../../src/radio.ts';
import { background, shows } from '../cli/run-cli.ts';
import { nextEvent, started } from '../client/e2e.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { testKey, testKeysText } from './keys.ts';

const LONG = { timeout: 180_000 };
/** Generous: a shared, slow machine must not fail a correct run. */
const WAIT = 60_000;
/** Fast link supervision: heartbeat 0.5 s, outage after 4 s of silence (the gateways use their defaults). */
const TIMING = { heartbeatMs: 500, linkTimeoutMs: 4000 };
const NODE_CLIENT: NodeClientOptions = {
  protocolVersion: 5,
  keepalive: 30,
  connectTimeout: 20_000,
  reconnectPeriod: 200,
  reconnectPeriodMax: 1000,
  quietPeriod: 100,
  readyTimeout: WAIT,
  properties: { sessionExpiryInterval: 300 },
};

async function until(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  'two gateways, three radios, one broker: nodes on each, a node moves gateways by takeover',
  LONG,
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-site-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const nrfSocket = join(dir, 'nrf24.sock');
    const loraSocket = join(dir, 'lora.sock');
    const nrfSim = background(t, LONG.timeout, ['sim', '-s', nrfSocket, '--profile', 'nrf24', '--seed', '1']);
    const loraSim = background(t, LONG.timeout, [
      'sim',
      '-s',
      loraSocket,
      '--profile',
      'lora',
      '--duty-cycle',
      '1',
      '--time-scale',
      '20',
      '--seed',
      '2',
    ]);
    await shows(nrfSim, /sim: serving nrf24/, 'the nRF24 sim');
    await shows(loraSim, /sim: serving lora/, 'the LoRa sim');
    const keysFile = join(dir, 'nodes.keys');
    writeFileSync(keysFile, testKeysText([1, 2, 3]), { mode: 0o600 });
    const common = ['--keys', keysFile, '--broker', broker.url];
    const gw0 = background(t, LONG.timeout, ['gateway', '--sim', nrfSocket, '--sim', loraSocket, ...common]);
    const gw1 = background(t, LONG.timeout, [
      'gateway',
      '--sim',
      loraSocket,
      '--name',
      'gateway-1',
      '--address',
      '1',
      ...common,
    ]);
    await shows(gw0, /gateway: listening on sim gateway .*, sim gateway .* as 0/, 'gateway 0 on two radios');
    await shows(gw1, /gateway: listening on sim gateway-1 .* as 1/, 'gateway 1');

    const run = randomUUID().slice(0, 8);
    const lan = await connect({ ...NODE_CLIENT, url: broker.url, clientId: `lan-${run}` });
    t.after(() => lan.end());
    const atLan = new Map<string, string[]>();
    await lan.subscribe(`up/${run}/#`, {
      qos: 2,
      onMessage: (m: Message) => atLan.set(m.topic, [...(atLan.get(m.topic) ?? []), m.text]),
    });

    /** A node on `socket`, speaking to `gateway`; `received` collects what reaches it. */
    async function node(address: number, socket: string, gateway: number, id: string, received: string[]) {
      const radio = await connectMedium(socket, {
        name: `node-${address}-${gateway}`,
        position: { x: 5, y: 0 },
      });
      const link = radioLink({ radio, address, gateway, key: testKey(address), ...TIMING });
      t.after(() => link.close());
      const client = await connect({ ...NODE_CLIENT, link, clientId: id });
      t.after(() => client.end().catch(() => {}));
      await client.subscribe(`down/${run}/${id}`, {
        qos: 2,
        onMessage: (m: Message) => received.push(m.text),
      });
      return { radio, link, client };
    }
    const ids = [1, 2, 3].map((a) => `n${a}-${run}`);
    const received = ids.map(() => [] as string[]);
    const nodes: { client: Client; radio: { close(): Promise<void> } }[] = [
      await node(1, nrfSocket, 0, ids[0] as string, received[0] as string[]),
      await node(2, loraSocket, 0, ids[1] as string, received[1] as string[]),
      await node(3, loraSocket, 1, ids[2] as string, received[2] as string[]),
    ];

    async function round(tag: string, which: number[]): Promise<void> {
      await Promise.all(
        which.flatMap((i) =>
          [1, 2].flatMap((qos) => [
            (nodes[i] as { client: Client }).client.publish(`up/${run}/${ids[i]}`, `q${qos} ${tag}`, {
              qos: qos as 1 | 2,
            }),
            lan.publish(`down/${run}/${ids[i]}`, `q${qos} ${tag}`, { qos: qos as 1 | 2 }),
          ]),
        ),
      );
    }
    await round('first', [0, 1, 2]);
    await until(
      () =>
        [0, 1, 2].every(
          (i) => (received[i] as string[]).length === 2 && atLan.get(`up/${run}/${ids[i]}`)?.length === 2,
        ),
      'the first round through every radio',
    );
    await shows(gw0, /node 1: OPEN on sim gateway/, 'gateway 0 names the radio node 1 opened on');

    // Node 2 goes silent at gateway 0 (its radio gone, no RESET) and comes up through gateway 1.
    const old = nodes[1] as { client: Client; radio: { close(): Promise<void> } };
    await old.radio.close();
    const missed = [
      lan.publish(`down/${run}/${ids[1]}`, 'q1 moved', { qos: 1 }),
      lan.publish(`down/${run}/${ids[1]}`, 'q2 moved', { qos: 2 }),
    ];
    await Promise.all(missed);
    const moved = received[1] as string[];
    const radio = await connectMedium(loraSocket, { name: 'node-2-1', position: { x: 5, y: 0 } });
    const link = radioLink({ radio, address: 2, gateway: 1, key: testKey(2), ...TIMING });
    t.after(() => link.close());
    const again = started(t, { ...NODE_CLIENT, link, clientId: ids[1] as string });
    const up = nextEvent(again, 'up', () => true, WAIT);
    // Claimed before the first CONNECT: the resumed session's queued messages arrive right after CONNACK.
    const resubscribed = again.subscribe(`down/${run}/${ids[1]}`, {
      qos: 2,
      onMessage: (m: Message) => moved.push(m.text),
    });
    assert.equal((await up).sessionPresent, true, 'the session resumed');
    await resubscribed;
    await shows(gw0, /node 2: broker closed the connection/, 'gateway 0 closed by the takeover');
    await shows(gw1, /node 2: broker connected/, 'gateway 1 relays node 2');
    await until(
      () => moved.includes('q1 moved') && moved.includes('q2 moved'),
      'what was sent while it moved',
    );
    await again.publish(`up/${run}/${ids[1]}`, 'q2 after', { qos: 2 });
    await until(
      () => atLan.get(`up/${run}/${ids[1]}`)?.includes('q2 after') === true,
      'its publish after the move',
    );
    await old.client.end().catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(moved.filter((p) => p === 'q2 moved').length, 1, 'QoS 2 exactly once across the move');
  },
);
