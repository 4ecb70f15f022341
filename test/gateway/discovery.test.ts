// Discovery and choice: two real gateways (addresses 1 and 2) on one simulated
// nRF24 medium and one real Mosquitto; a node with no gateway address searches,
// ranks what answered by RSSI and opens through the nearer one. A fake
// gateway (address 3) stands right next to the node, louder than both, and
// advertises and answers searches, but holds another key for the node: its
// answers fail their tag, it never enters the ranking, the node never opens
// to it. A replayer records every discovery frame on the air and plays it
// back a second later from beside the node. A forger answers every search at once,
// loudly, under a wrong key: a recorded answer names an old
// search and is refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseKeys, startGateway } from '../../src/gateway/index.ts';
import { connect, type Message } from '../../src/node.ts';
import {
  DiscoveryCodec,
  DiscoveryType,
  isDiscoveryFrame,
  NodeKey,
  parseKey,
  roamingLink,
} from '../../src/radio/link/index.ts';
import { nrf24, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { client, mosquitto, until } from '../client/e2e.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

const LONG = { timeout: 120_000 };
const TIMING = { heartbeatMs: 500, linkTimeoutMs: 3000 };
/** A key for node 7 that is not node 7's: what a fake gateway has. */
const WRONG_KEY = 'ff'.repeat(16);

test(
  'a node finds the gateways, ranks them, opens to the best; a fake gateway is never chosen',
  LONG,
  async (t) => {
    const broker = await mosquitto(t);
    const medium = new SimulatedMedium({ seed: 7, profile: nrf24() });
    t.after(() => medium.close());
    const keys = testKeys([7]);
    const near = await startGateway({
      radio: medium.attach({ name: 'gw-1', position: { x: 0, y: 0 } }),
      address: 1,
      keys,
      broker: broker.url,
      random: prng(1),
      advertiseIntervalMs: 300,
      ...TIMING,
    });
    t.after(() => near.close());
    const far = await startGateway({
      radio: medium.attach({ name: 'gw-2', position: { x: 30, y: 0 } }),
      address: 2,
      keys,
      broker: broker.url,
      random: prng(2),
      advertiseIntervalMs: 300,
      ...TIMING,
    });
    t.after(() => far.close());
    const fake = await startGateway({
      radio: medium.attach({ name: 'gw-fake', position: { x: 9, y: 0 } }),
      address: 3,
      keys: parseKeys(`7 ${WRONG_KEY} *`),
      broker: broker.url,
      random: prng(3),
      advertiseIntervalMs: 100,
      ...TIMING,
    });
    t.after(() => fake.close());

    // The forger: answers every search it hears at once, loud, sealed under the wrong key for node 7.
    const forgerCodec = new DiscoveryCodec(
      3,
      () => new NodeKey(parseKey(WRONG_KEY)),
      (b) => b.fill(9),
    );
    const forger = medium.attach({ name: 'forger', position: { x: 10, y: 2 } });
    let forged = 0;
    await forger.open({
      receive: (frame) => {
        if (!isDiscoveryFrame(frame) || ((frame[2] as number) & 0x0f) !== DiscoveryType.SEARCH) return;
        const answer = forgerCodec.gwinfo(frame[1] as number, frame.slice(4, 12), -20, 0);
        if (answer !== undefined)
          forger.send(answer).then(
            () => forged++,
            () => {},
          );
      },
    });

    // The replayer: hears everything, plays discovery frames back 1 s later, from beside the node.
    const replayer = medium.attach({ name: 'replayer', position: { x: 10, y: 1 } });
    let replayed = 0;
    await replayer.open({
      receive: (frame) => {
        if (!isDiscoveryFrame(frame)) return;
        const copy = frame.slice();
        setTimeout(() => {
          replayer.send(copy).then(
            () => replayed++,
            () => {},
          );
        }, 1000);
      },
    });

    const radio = medium.attach({ name: 'node-7', position: { x: 10, y: 0 } });
    const roams: string[] = [];
    const link = roamingLink({
      radio,
      address: 7,
      key: testKey(7),
      random: prng(7),
      searchIntervalMs: 400,
      onRoam: (e) => roams.push(e.type === 'open' ? `open ${e.gateway}` : e.type),
      ...TIMING,
    });
    t.after(() => link.close());
    const run = randomUUID().slice(0, 8);
    const checker = await client(t, broker.url, { protocolVersion: 5, clientId: `checker-${run}` });
    const got: string[] = [];
    await checker.subscribe(`up/${run}`, { qos: 1, onMessage: (m: Message) => got.push(m.text) });
    const node = await connect({
      link,
      clientId: `node-7-${run}`,
      protocolVersion: 5,
      keepalive: 30,
      reconnectPeriod: 200,
      quietPeriod: 100,
      connectTimeout: 15_000,
      properties: { sessionExpiryInterval: 300 },
    });
    t.after(() => node.end().catch(() => {}));
    assert.equal(link.gateway, 1, 'opened through the nearer real gateway');
    const ranked = link.gateways();
    assert.deepEqual(
      ranked.map((g) => g.address),
      [1, 2],
      'both real gateways ranked, nearer first, the fake absent',
    );
    assert.ok((ranked[0]?.rssi ?? 0) > (ranked[1]?.rssi ?? 0), 'ranked by RSSI');
    for (let i = 0; i < 5; i++) await node.publish(`up/${run}`, `r${i}`, { qos: 1 });
    // Searches go on while it runs: the fake and the replayer get several chances.
    await sleep(3000);
    await until(() => got.length === 5, 'the readings');
    assert.ok(replayed > 0, 'the replayer played frames back');
    assert.equal(fake.discoveryStats()[0]?.answers, 0, 'the fake gateway cannot even open a search');
    assert.ok(forged > 0, 'the forger answered searches');
    assert.ok(!link.gateways().some((g) => g.address === 3), 'the fake gateway never entered the ranking');
    assert.ok(!roams.includes('open 3'), 'never opened to the fake');
    assert.equal(link.gateway, 1, 'still on gateway 1');
    assert.ok(link.stats.authFailed > 0, `the fake's answers failed their tag (${link.stats.authFailed})`);
    assert.ok(link.stats.replayed > 0, `recorded answers refused as replays (${link.stats.replayed})`);
    assert.equal(fake.status().nodes.length, 0, 'the fake gateway never heard a stream of the node');
    assert.ok(link.roamStats.searches >= 3, `searched again while connected (${link.roamStats.searches})`);
  },
);
