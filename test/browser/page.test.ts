/**
 * The browser example (examples/browser/) in headless Chromium against
 * Mosquitto's websockets listener: the page connects over the platform
 * WebSocket, subscribes, publishes, receives from a Node client, and rides
 * out a broker restart (persistence on) with no QoS 1 message lost either way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bundleApp, type PageServer, servePage } from '../../examples/browser/serve.ts';
import { client, mosquitto, TEST, take, uniqueTopic, until, VERSIONS } from '../client/e2e.ts';
import { type Browser, launchChromium } from './chromium.ts';
import { ExamplePage, PAGE_WAIT } from './example-page.ts';

/** Messages each way in each phase of the restart test (before, during, after). */
const PER_PHASE = 10;
const SLOW = { timeout: 180_000 };

let browser: Browser;
let server: PageServer;

before(async () => {
  browser = await launchChromium();
  server = await servePage();
});
after(async () => {
  await server?.close();
  await browser?.close();
});

/** A new tab on the example page; closed when the test ends, failing it on an uncaught page error. */
async function examplePage(t: { after(fn: () => unknown): void }) {
  const { page, problems } = await browser.newPage();
  t.after(() => page.close());
  return { example: new ExamplePage(page), uncaught: () => problems.filter((p) => p.startsWith('uncaught')) };
}

test('the example bundles for browsers from the runtime-neutral entry, with nothing from Node', async () => {
  const { code, inputs } = await bundleApp();
  assert.ok(inputs.includes('src/index.ts'), `bundled from src/index.ts: ${inputs.join(', ')}`);
  assert.ok(inputs.includes('src/links/websocket.ts'), 'with the platform WebSocket link');
  const nodeOnly = inputs.filter((path) =>
    /^src\/node\.ts$|^src\/store\/|^src\/links\/(node|node-socket|tcp|tls|websocket-node)\.ts$|node_modules/.test(
      path,
    ),
  );
  assert.deepEqual(nodeOnly, [], 'no Node-only module in the browser bundle');
  assert.doesNotMatch(code, /from ["']node:|require\(/, 'no Node built-in import');
});

for (const version of VERSIONS) {
  describe(`MQTT ${version === 4 ? '3.1.1' : '5.0'} in Chromium`, () => {
    test(
      'the page connects, round-trips its own message and receives from a Node client',
      TEST,
      async (t) => {
        const broker = await mosquitto(t, { websockets: true });
        const topic = uniqueTopic('browser');
        const { example, uncaught } = await examplePage(t);
        await example.open(server.url, broker.wsUrl!, version);
        await example.waitForState('connected');
        await example.subscribe(`${topic}/#`, 1);

        // page -> broker -> page
        await example.publish(`${topic}/echo`, 'round trip from the page', 1);
        const echoed = await example.waitForMessages(`${topic}/echo`, 1);
        assert.deepEqual(echoed, [{ topic: `${topic}/echo`, payload: 'round trip from the page' }]);
        await example.waitForPublished(1);

        // Node (TCP) -> broker -> page
        const node = await client(t, broker.url, { protocolVersion: version });
        await node.publish(`${topic}/from-node`, 'hello from node', { qos: 1 });
        const fromNode = await example.waitForMessages(`${topic}/from-node`, 1);
        assert.equal(fromNode[0].payload, 'hello from node');

        // page -> broker -> Node
        const subscription = await node.subscribe(`${topic}/to-node`, { qos: 2 });
        await example.publish(`${topic}/to-node`, 'hello from the page', 2);
        const [received] = await take(subscription, 1, PAGE_WAIT);
        assert.equal(received.text, 'hello from the page');
        assert.equal(received.qos, 2);
        await example.waitForPublished(2);
        assert.equal(await example.counter('failed'), 0);
        assert.equal(await example.state(), 'connected');
        assert.deepEqual(uncaught(), []);
      },
    );

    test('a broker restart: the page goes down, recovers, and no QoS 1 message is lost', SLOW, async (t) => {
      const broker = await mosquitto(t, { websockets: true, config: ['persistence true'] });
      const topic = uniqueTopic('browser-restart');
      const toPage = `${topic}/to-page`;
      const fromPage = `${topic}/from-page`;
      const { example, uncaught } = await examplePage(t);
      await example.open(server.url, broker.wsUrl!, version);
      await example.waitForState('connected');
      await example.subscribe(toPage, 1);

      // Node side over TCP: a subscriber whose session the broker keeps, and a publisher.
      const nodeReceived: number[] = [];
      const subscriber = await client(t, broker.url, {
        protocolVersion: version,
        clientId: `browser-restart-sub-${version}-${process.pid}`,
      });
      await subscriber.subscribe(fromPage, {
        qos: 1,
        onMessage: (m) => nodeReceived.push(Number(m.text.replace('seq ', ''))),
      });
      const publisher = await client(t, broker.url, { protocolVersion: version });
      const nodePublished: Promise<unknown>[] = [];

      let seq = 0;
      const phase = async () => {
        for (let i = 0; i < PER_PHASE; i++) {
          seq++;
          nodePublished.push(publisher.publish(toPage, `seq ${seq}`, { qos: 1 }));
          await example.publish(fromPage, `seq ${seq}`, 1);
        }
      };

      await phase(); // before the restart
      const restarting = broker.restart(); // SIGTERM now: Mosquitto saves its sessions and exits
      await example.waitForState('down');
      await phase(); // while the broker is down or coming back: queued in the page and in Node
      await restarting;
      await example.waitForState('connected', 60_000);
      await phase(); // after the recovery

      const total = seq;
      const shown = await example.waitForMessages(toPage, total, 60_000);
      await example.waitForPublished(total, 60_000);
      await Promise.all(nodePublished);
      const everyone = Array.from({ length: total }, (_, i) => i + 1);
      await until(() => new Set(nodeReceived).size >= total, `node receiving ${total} messages`, 60_000);

      const pageSeqs = shown.map((m) => Number(m.payload.replace('seq ', '')));
      assert.deepEqual(
        [...new Set(pageSeqs)].sort((a, b) => a - b),
        everyone,
        'the page got every message',
      );
      assert.deepEqual(
        [...new Set(nodeReceived)].sort((a, b) => a - b),
        everyone,
        'node got every message',
      );
      assert.equal(await example.counter('failed'), 0);
      assert.ok((await example.counter('outages')) >= 1, 'the page counted the outage');
      const duplicates = pageSeqs.length - total + (nodeReceived.length - total);
      t.diagnostic(`${total} messages each way; QoS 1 re-deliveries (allowed): ${duplicates}`);
      assert.deepEqual(uncaught(), []);
    });
  });
}
