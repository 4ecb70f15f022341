// End to end over real pseudo-terminals: a Client on a node, over the radio
// link layer on a UartModem (pty A) -> an impaired line (socat relay) ->
// a UartModem (pty B) owned by the gateway -> Mosquitto, and a second client
// on TCP at the broker. QoS 1 and QoS 2 both ways with the impairment on:
// nothing lost, no QoS 2 duplicate (secure frames: every frame sealed, every damaged one refused by its tag). The same again with serialLink() on the
// node (a wired UART to the gateway).
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway } from '../../src/gateway/index.ts';
import type { Link } from '../../src/links/types.ts';
import type { Client, Subscription } from '../../src/node.ts';
import { radioLink } from '../../src/radio/link/index.ts';
import { UartModem, type UartModemOptions } from '../../src/radio/uart-modem.ts';
import { serialLink, serialModemOptions } from '../../src/serial.ts';
import { client, mosquitto, uniqueTopic } from '../client/e2e.ts';
import { testKey, testKeys } from '../gateway/keys.ts';
import { type Impairment, startPtyPair } from '../helpers/socat.ts';

const TEST = { timeout: 240_000 };
/** Messages per QoS per direction. */
const COUNT = 15;
/** Long enough for a slow, shared machine and a lossy line; a correct run takes a fraction. */
const DELIVERY_WAIT = 150_000;

/** An EBYTE E32-sized modem (58-byte packets), with a faster air rate than the factory 2,400 bit/s to keep the test short. */
const E32ISH: Partial<UartModemOptions> = { baudRate: 115200, packetSize: 58, airRate: 19200 };

interface Setup {
  name: string;
  /** What the line does to bytes once the clients are connected. */
  impairment: Impairment;
  /** The gateway's radio on `path`. */
  gatewayRadio(path: string): UartModem;
  /** The node's link on `path`, and the driver under it. */
  nodeLink(path: string): { link: Link & { close(): Promise<void> }; modem: () => UartModem };
}

const setups: Setup[] = [
  {
    name: 'radioLink on a UartModem (58-byte packets)',
    // 3 bytes in 1,000 dropped and 2 in 1,000 flipped, re-chunked and jittered: a quarter of 58-byte frames damaged.
    impairment: { dropRate: 0.003, corruptRate: 0.002, maxChunk: 12, jitterMs: 2 },
    gatewayRadio: (path) => new UartModem({ path, ...E32ISH }),
    nodeLink: (path) => {
      const modem = new UartModem({ path, ...E32ISH });
      return { link: radioLink({ radio: modem, address: 7, key: testKey(7) }), modem: () => modem };
    },
  },
  {
    name: 'serialLink (a wired UART at 115200)',
    // 1 byte in 1,000 dropped and 1 in 2,000 flipped: a third of 256-byte frames damaged.
    impairment: { dropRate: 0.001, corruptRate: 0.0005, maxChunk: 12, jitterMs: 2 },
    gatewayRadio: (path) => new UartModem(serialModemOptions({ path })),
    nodeLink: (path) => {
      const link = serialLink({ path, address: 7, key: testKey(7) });
      return { link, modem: () => link.modem };
    },
  },
];

/**
 * Reads `subscription` until every expected payload has come (QoS 1 may
 * repeat one, so a count is not enough), then a little longer to catch a late
 * duplicate; fails after `ms`.
 */
async function collect(subscription: Subscription, expected: string[], ms: number): Promise<string[]> {
  const texts: string[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  const missing = new Set(expected);
  let deadline = Date.now() + ms;
  let settling = false;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    const next = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (next === 'timeout') {
      if (settling) return texts;
      assert.fail(`${missing.size} of ${expected.length} messages missing, e.g. ${[...missing].slice(0, 3)}`);
    }
    if (next.done) assert.fail('the subscription ended');
    texts.push(next.value.text);
    missing.delete(next.value.text);
    if (missing.size === 0 && !settling) {
      settling = true;
      deadline = Date.now() + 1000;
    }
  }
}

/** No QoS 2 payload twice. */
function checkNoQos2Duplicate(texts: string[], what: string): void {
  const qos2 = texts.filter((text) => text.startsWith('q2 '));
  assert.equal(new Set(qos2).size, qos2.length, `${what}: a QoS 2 message was delivered twice`);
}

async function publishAll(from: Client, topic: string): Promise<string[]> {
  const sent: string[] = [];
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < COUNT; i++) {
    for (const qos of [1, 2] as const) {
      // Padded, so each message spans frames and the line carries enough bytes to be damaged.
      const text = `q${qos} ${i} ${'x'.repeat(40)}`;
      sent.push(text);
      pending.push(from.publish(topic, text, { qos }));
    }
  }
  await Promise.all(pending);
  return sent;
}

describe('Client -> UartModem -> impaired pty pair -> UartModem -> gateway -> Mosquitto', () => {
  for (const setup of setups) {
    test(
      `${setup.name}: QoS 1 and 2 both ways through byte drops and bit flips`,
      TEST,
      async (t: TestContext) => {
        const broker = await mosquitto(t);
        const pair = await startPtyPair({ seed: 5 });
        t.after(() => pair.close());
        const radio = setup.gatewayRadio(pair.b);
        const gateway = await startGateway({ radio, broker: broker.url, keys: testKeys([7]) });
        t.after(() => gateway.close());
        const { link, modem } = setup.nodeLink(pair.a);
        t.after(() => link.close());

        const up = uniqueTopic('serial-up');
        const down = uniqueTopic('serial-down');
        const node = await client(t, link, { protocolVersion: 5, connectTimeout: 60_000 });
        const lan = await client(t, broker.url, { protocolVersion: 5 });
        const atLan = await lan.subscribe(up, { qos: 2 });
        const atNode = await node.subscribe(down, { qos: 2 });

        pair.impair('both', setup.impairment);
        const [upSent, downSent] = await Promise.all([publishAll(node, up), publishAll(lan, down)]);
        const [upGot, downGot] = await Promise.all([
          collect(atLan, upSent, DELIVERY_WAIT),
          collect(atNode, downSent, DELIVERY_WAIT),
        ]);
        checkNoQos2Duplicate(upGot, 'node -> broker');
        checkNoQos2Duplicate(downGot, 'broker -> node');

        const damage = pair.stats['a->b'].dropped + pair.stats['a->b'].corrupted;
        const back = pair.stats['b->a'].dropped + pair.stats['b->a'].corrupted;
        t.diagnostic(
          `line damage ${damage} bytes a->b, ${back} b->a; UART framing rejected ${radio.stats.framesRejected} ` +
            `frames at the gateway, ${modem().stats.framesRejected} at the node`,
        );
        assert.ok(damage + back > 0, 'the impairment did something');
        assert.ok(
          radio.stats.framesRejected + modem().stats.framesRejected > 0,
          'damaged frames were caught',
        );
      },
    );
  }

  test(
    'serialLink: the port vanishes mid-stream and comes back; the Client resumes, nothing lost, no QoS 2 duplicate',
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const pair = await startPtyPair({ seed: 9 });
      t.after(() => pair.close());
      const gateway = await startGateway({
        radio: new UartModem(serialModemOptions({ path: pair.b })),
        broker: broker.url,
        keys: testKeys([7]),
      });
      t.after(() => gateway.close());
      const link = serialLink({ path: pair.a, address: 7, key: testKey(7) });
      t.after(() => link.close());
      const node = await client(t, link, { protocolVersion: 5, connectTimeout: 60_000 });
      const lan = await client(t, broker.url, { protocolVersion: 5 });
      const up = uniqueTopic('serial-vanish');
      const atLan = await lan.subscribe(up, { qos: 2 });
      const downs: string[] = [];
      node.on('down', ({ cause }) => downs.push(cause.message));

      const sending = publishAll(node, up);
      // Pull the adapter while messages are in flight, and plug it back in.
      await sleep(150);
      await pair.kill('a');
      await sleep(500);
      await pair.restart('a');
      const sent = await sending;
      const got = await collect(atLan, sent, DELIVERY_WAIT);
      checkNoQos2Duplicate(got, 'node -> broker');
      t.diagnostic(`outages seen by the client: ${downs.join('; ')}`);
      assert.ok(downs.length > 0, 'the client saw the outage');
    },
  );
});
