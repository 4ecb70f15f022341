// End to end: simulated radio nodes (an nRF24-sized MTU of 32 bytes and a
// LoRa-sized 255) -> gateway -> a real Mosquitto with persistence, QoS 1 and
// QoS 2 both ways, through a short fade, a node moving out of range and back,
// a gateway restart and a broker restart: no QoS 1 message lost, no QoS 2
// message lost or duplicated. Modelled time runs 20 times faster than the
// wall clock (LoRa SF7 airtime), so the suite takes tens of seconds.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Gateway, type GatewayLogEntry, startGateway } from '../../src/gateway/index.ts';
import type { Client, Message, NodeClientOptions } from '../../src/node.ts';
import { type RadioLink, radioLink } from '../../src/radio/link/index.ts';
import { lora, SimulatedMedium, type SimulatedRadio } from '../../src/radio/medium/index.ts';
import { client, mosquitto, nextEvent, started, until } from '../client/e2e.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

/** Every address the tests use, keyed. */
const KEYS = testKeys(Array.from({ length: 20 }, (_, i) => i + 1));

const LONG = { timeout: 300_000 };
const WAIT = 60_000;
const FAR = { x: 1_000_000, y: 0 };
/** Fast link supervision for tests: heartbeat 0.5 s, outage after 3 s of silence. */
const TIMING = { heartbeatMs: 500, linkTimeoutMs: 3000 };
/** Client options for nodes on a radio: the quick reconnects of test/client/e2e.ts, room for slow opens. */
const NODE_CLIENT: NodeClientOptions = {
  protocolVersion: 5,
  keepalive: 30,
  connectTimeout: 15_000,
  reconnectPeriod: 200,
  reconnectPeriodMax: 1000,
  quietPeriod: 100,
  readyTimeout: WAIT,
};

interface Node {
  id: string;
  address: number;
  radio: SimulatedRadio;
  link: RadioLink;
  client: Client;
  /** Payloads received from the broker, per topic. */
  got: Map<string, string[]>;
  downs: number;
}

function record(into: Map<string, string[]>, message: Message): void {
  const list = into.get(message.topic) ?? [];
  list.push(message.text);
  into.set(message.topic, list);
}

/** Every expected payload arrived: exactly once when `exactly`, at least once otherwise. */
function assertDelivered(
  got: string[] | undefined,
  expected: string[],
  exactly: boolean,
  what: string,
): void {
  const list = got ?? [];
  const counts = new Map<string, number>();
  for (const p of list) counts.set(p, (counts.get(p) ?? 0) + 1);
  const missing = expected.filter((p) => !counts.has(p));
  assert.deepEqual(missing, [], `${what}: lost ${missing.length} of ${expected.length}`);
  if (exactly) {
    const twice = [...counts].filter(([, n]) => n > 1).map(([p]) => p);
    assert.deepEqual(twice, [], `${what}: duplicated`);
    assert.equal(list.length, expected.length, `${what}: unexpected extra messages`);
  }
}

describe('gateway: radio nodes to Mosquitto', () => {
  it(
    'QoS 1 and 2 both ways survive a fade, out of range, a gateway restart and a broker restart',
    LONG,
    async (t) => {
      const broker = await mosquitto(t, { config: ['persistence true', 'autosave_interval 1'] });
      const medium = new SimulatedMedium({
        seed: 21,
        profile: lora({ dutyCycle: 1 }),
        loss: 0.05,
        timeScale: 20,
      });
      t.after(() => medium.close());
      const logs: GatewayLogEntry[] = [];
      let gatewayRadio = medium.attach({ name: 'gw' });
      const gatewayOptions = () => ({
        keys: KEYS,
        radio: gatewayRadio,
        broker: broker.url,
        logger: (entry: GatewayLogEntry) => logs.push(entry),
        random: prng(3),
        ...TIMING,
      });
      let gateway: Gateway = await startGateway(gatewayOptions());
      t.after(() => gateway.close());

      const run = randomUUID().slice(0, 8);
      const checker = await client(t, broker.url, { protocolVersion: 5, clientId: `checker-${run}` });
      const up = new Map<string, string[]>();
      const wills: string[] = [];
      const upSub = await checker.subscribe(`up/${run}/#`, { qos: 2 });
      const willSub = await checker.subscribe(`will/${run}/#`, { qos: 1 });
      void (async () => {
        for await (const m of upSub) record(up, m);
      })();
      void (async () => {
        for await (const m of willSub) wills.push(m.topic);
      })();

      const nodes: Node[] = [];
      for (const [address, mtu] of [
        [1, 32],
        [2, 255],
      ] as const) {
        const id = `n${address}-${run}`;
        const radio = medium.attach({
          name: `node${address}`,
          profile: lora({ dutyCycle: 1, mtu }),
          position: { x: 50 * address, y: 0 },
        });
        const link = radioLink({ radio, address, random: prng(address), key: testKey(address), ...TIMING });
        t.after(() => link.close());
        const c = started(t, {
          ...NODE_CLIENT,
          link,
          clientId: id,
          will: { topic: `will/${run}/${id}`, payload: 'gone', qos: 1 },
        });
        const node: Node = { id, address, radio, link, client: c, got: new Map(), downs: 0 };
        c.on('down', () => node.downs++);
        await nextEvent(c, 'up', () => true, WAIT);
        const sub = await c.subscribe(`down/${run}/${id}/#`, { qos: 2 });
        void (async () => {
          for await (const m of sub) record(node.got, m);
        })();
        nodes.push(node);
      }
      const [small, large] = nodes;

      // Sequence-numbered traffic, four streams per node (up and down, QoS 1 and 2).
      const expected = new Map<string, string[]>();
      const pending: Promise<unknown>[] = [];
      let seq = 0;
      function burst(count: number): void {
        for (let i = 0; i < count; i++, seq++) {
          for (const node of nodes) {
            for (const qos of [1, 2] as const) {
              const upTopic = `up/${run}/${node.id}/q${qos}`;
              const downTopic = `down/${run}/${node.id}/q${qos}`;
              const payload = `${node.id} ${qos} ${seq}`;
              for (const topic of [upTopic, downTopic]) {
                const list = expected.get(topic) ?? [];
                list.push(payload);
                expected.set(topic, list);
              }
              pending.push(node.client.publish(upTopic, payload, { qos }));
              pending.push(checker.publish(downTopic, payload, { qos }));
            }
          }
        }
      }
      const delivered = () =>
        nodes.every((node) =>
          [1, 2].every((qos) => {
            const upTopic = `up/${run}/${node.id}/q${qos}`;
            const downTopic = `down/${run}/${node.id}/q${qos}`;
            const want = (topic: string) => new Set(expected.get(topic));
            const has = (list: string[] | undefined, topic: string) =>
              want(topic).size === new Set(list).size;
            return has(up.get(upTopic), upTopic) && has(node.got.get(downTopic), downTopic);
          }),
        );

      burst(5);
      await until(delivered, 'the first burst', WAIT);

      // A short fade (under the link timeout) is masked: the MQTT connection stays up.
      const downsBefore = large.downs;
      large.radio.moveTo(FAR);
      burst(3);
      await sleep(1000);
      large.radio.moveTo({ x: 100, y: 0 });
      await until(delivered, 'the burst sent through the fade', WAIT);
      assert.equal(large.downs, downsBefore, 'a short fade must not cut the connection');

      // The small node goes out of range for longer than the link timeout: an outage at both
      // ends, the broker publishes its will, it comes back and resumes its session.
      small.radio.moveTo(FAR);
      burst(3);
      await until(() => small.downs > 0, 'the node to see the outage', WAIT);
      await until(() => wills.includes(`will/${run}/${small.id}`), 'the will of the node out of range', WAIT);
      const resumed = nextEvent(small.client, 'up', () => true, WAIT);
      small.radio.moveTo({ x: 50, y: 0 });
      assert.equal((await resumed).sessionPresent, true);
      await until(delivered, 'the burst sent while out of range', WAIT);

      // The gateway restarts: every node sees an outage and resumes from the broker.
      const downsBeforeRestart = nodes.map((n) => n.downs);
      await gateway.close();
      burst(3);
      await sleep(500);
      gatewayRadio = medium.attach({ name: 'gw' });
      gateway = await startGateway(gatewayOptions());
      await until(
        () => nodes.every((n, i) => n.downs > downsBeforeRestart[i]),
        'nodes to see the gateway restart',
        WAIT,
      );
      await until(delivered, 'the burst sent across the gateway restart', WAIT);

      // The broker restarts: the gateway resets the streams, refuses new ones while it is
      // down, and the nodes resume when it is back.
      const downsBeforeBroker = nodes.map((n) => n.downs);
      await broker.restart();
      burst(3);
      await until(
        () => nodes.every((n, i) => n.downs > downsBeforeBroker[i]),
        'nodes to see the broker restart',
        WAIT,
      );
      await until(delivered, 'the burst sent across the broker restart', WAIT);

      await Promise.all(pending);
      // Let late duplicates, if any, arrive before counting.
      await sleep(1000);
      for (const node of nodes) {
        for (const qos of [1, 2]) {
          const upTopic = `up/${run}/${node.id}/q${qos}`;
          const downTopic = `down/${run}/${node.id}/q${qos}`;
          assertDelivered(up.get(upTopic), expected.get(upTopic)!, qos === 2, `${upTopic} (node -> broker)`);
          assertDelivered(
            node.got.get(downTopic),
            expected.get(downTopic)!,
            qos === 2,
            `${downTopic} (broker -> node)`,
          );
        }
      }

      const status = gateway.status();
      assert.deepEqual(
        status.nodes.map((n) => n.node),
        [1, 2],
      );
      assert.ok(status.nodes.every((n) => n.state === 'open' && n.framesIn > 0 && n.bytesUp > 0));
      assert.ok(
        logs.some((e) => e.node === 1 && e.level === 'debug' && e.message.startsWith('<')),
        'frames logged per node',
      );
      assert.ok(
        logs.some((e) => /broker unreachable|broker closed/.test(e.message)),
        'the broker restart was logged',
      );
    },
  );

  it(
    'a node silent past its link timeout: the gateway drops its broker connection and the will is published',
    LONG,
    async (t) => {
      const broker = await mosquitto(t);
      const medium = new SimulatedMedium({
        seed: 5,
        profile: lora({ dutyCycle: 1, mtu: 58 }),
        timeScale: 20,
      });
      t.after(() => medium.close());
      const gateway = await startGateway({
        keys: KEYS,
        radio: medium.attach({ name: 'gw' }),
        broker: broker.url,
        ...TIMING,
      });
      t.after(() => gateway.close());
      const run = randomUUID().slice(0, 8);
      const checker = await client(t, broker.url, { protocolVersion: 5, clientId: `checker-${run}` });
      const wills = await checker.subscribe(`will/${run}`, { qos: 1 });
      const radio = medium.attach({ name: 'node', position: { x: 10, y: 0 } });
      const link = radioLink({ radio, address: 9, key: testKey(9), ...TIMING });
      t.after(() => link.close());
      const node = started(t, {
        ...NODE_CLIENT,
        link,
        clientId: `n-${run}`,
        will: { topic: `will/${run}`, payload: 'gone' },
      });
      await nextEvent(node, 'up', () => true, WAIT);
      assert.equal(gateway.status().nodes[0].state, 'open');
      // The node drops out of range without a word (no RESET, no DISCONNECT reaches the gateway).
      const silentSince = Date.now();
      radio.moveTo(FAR);
      const iterator = wills[Symbol.asyncIterator]();
      const will = await Promise.race([iterator.next(), sleep(WAIT).then(() => assert.fail('no will'))]);
      assert.equal(will.done, false);
      assert.ok(Date.now() - silentSince >= 2000, 'not before the link timeout');
      await until(() => gateway.status().nodes[0].state === 'down', 'the gateway to mark the node down');
      assert.match(String(gateway.status().nodes[0].lastEnd), /silent/);
    },
  );

  it(
    'gateway close(): each node is reset at once (not after its link timeout) and resumes on a new gateway',
    LONG,
    async (t) => {
      const broker = await mosquitto(t);
      const medium = new SimulatedMedium({
        seed: 8,
        profile: lora({ dutyCycle: 1, mtu: 64 }),
        timeScale: 20,
      });
      t.after(() => medium.close());
      // Supervision so slow that only the RESET can tell the nodes before the test's wait is over.
      const slow = { heartbeatMs: 120_000, linkTimeoutMs: 600_000 };
      const first = await startGateway({
        keys: KEYS,
        radio: medium.attach({ name: 'gw' }),
        broker: broker.url,
        ...slow,
      });
      t.after(() => first.close());
      const run = randomUUID().slice(0, 8);
      const nodes = [3, 4].map((address) => {
        const link = radioLink({
          radio: medium.attach({ name: `node${address}`, position: { x: 20 * address, y: 0 } }),
          address,
          key: testKey(address),
          random: prng(address),
          ...slow,
        });
        t.after(() => link.close());
        return started(t, { ...NODE_CLIENT, keepalive: 600, link, clientId: `n${address}-${run}` });
      });
      await Promise.all(nodes.map((node) => nextEvent(node, 'up', () => true, WAIT)));
      const downs = nodes.map((node) => nextEvent(node, 'down', () => true, WAIT));
      await first.close();
      for (const down of await Promise.all(downs)) {
        assert.equal(down.cause.code, 'CONNECTION_LOST', down.cause.message);
        assert.match(down.cause.message, /reset by the peer \(the gateway is shutting down\)/);
      }
      // A new gateway on a new radio: both nodes come back and publish.
      const ups = nodes.map((node) => nextEvent(node, 'up', () => true, WAIT));
      const second = await startGateway({
        keys: KEYS,
        radio: medium.attach({ name: 'gw2' }),
        broker: broker.url,
        ...slow,
      });
      t.after(() => second.close());
      await Promise.all(ups);
      await Promise.all(nodes.map((node, i) => node.publish(`x/${run}/${i}`, 'back', { qos: 1 })));
    },
  );

  it('broker unreachable: the node sees an outage and connects once the broker is there', LONG, async (t) => {
    const broker = await mosquitto(t);
    await broker.kill();
    const medium = new SimulatedMedium({ seed: 6, profile: lora({ dutyCycle: 1, mtu: 32 }), timeScale: 20 });
    t.after(() => medium.close());
    const gateway = await startGateway({
      keys: KEYS,
      radio: medium.attach({ name: 'gw' }),
      broker: broker.url,
      ...TIMING,
    });
    t.after(() => gateway.close());
    const link = radioLink({
      radio: medium.attach({ name: 'node' }),
      address: 4,
      key: testKey(4),
      ...TIMING,
    });
    t.after(() => link.close());
    const node = started(t, { ...NODE_CLIENT, link, clientId: `n-${randomUUID()}` });
    const down = await nextEvent(node, 'down', () => true, WAIT);
    assert.match(
      String((down.cause.cause as Error | undefined)?.message ?? down.cause.message),
      /refused|broker/,
    );
    const up = nextEvent(node, 'up', () => true, WAIT);
    await broker.restart();
    await up;
    await node.publish('x/y', 'after', { qos: 1 });
  });
});
