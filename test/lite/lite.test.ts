/**
 * The lite client (steadfast-mqtt/lite, MQTT 3.1.1 only) end to end against
 * real brokers, Aedes and Mosquitto: QoS 0/1/2 both ways, session resume
 * through link cuts (in-flight PUBLISH and PUBREL re-sent, nothing lost,
 * QoS 2 never duplicated), resubscription when the broker has no session,
 * keepalive outage detection, refusals and local errors, and the WebSocket
 * entry point against Mosquitto's websockets listener.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import type { Link } from '../../src/links/types.ts';
import { connect, LiteClient, type LiteMessage, type LiteOptions } from '../../src/lite.ts';
import { mqttError, TEST, type TestLink, testLink, uniqueTopic, until, WAIT } from '../client/e2e.ts';
import { startAedes } from '../helpers/aedes.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';

interface Broker {
  port: number;
}

const BROKERS: [name: string, start: (t: TestContext) => Promise<Broker>][] = [
  [
    'aedes',
    async (t) => {
      const b = await startAedes();
      t.after(() => b.stop());
      return b;
    },
  ],
  [
    'mosquitto',
    async (t) => {
      const b = await startMosquitto();
      t.after(() => b.stop());
      return b;
    },
  ],
];

/** A started lite client with quick reconnects; ended when the test ends. */
async function lite(t: TestContext, link: Link, options: Partial<LiteOptions> = {}): Promise<LiteClient> {
  const c = new LiteClient({
    link,
    reconnectPeriod: 100,
    reconnectPeriodMax: 500,
    quietPeriod: 100,
    ...options,
  });
  t.after(() => c.end());
  await c.start();
  return c;
}

/** Subscribes and collects the text of every message on `filter`. */
async function collect(c: LiteClient, filter: string, qos: 0 | 1 | 2): Promise<LiteMessage[]> {
  const got: LiteMessage[] = [];
  const granted = await c.subscribe(filter, { qos }, (m) => got.push(m));
  assert.deepEqual(granted, [qos]);
  return got;
}

function once<T>(c: LiteClient, event: 'up' | 'down'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${WAIT} ms`)), WAIT);
    const off = c.on(event, (value) => {
      clearTimeout(timer);
      off();
      resolve(value as T);
    });
  });
}

/** A link that drops the client's first packet of `type` (its type number) and cuts the connection instead. */
function cutAtFirst(inner: TestLink, type: number): TestLink & { fired: boolean } {
  const link = Object.create(inner) as TestLink & { fired: boolean };
  link.fired = false;
  link.open = async (handlers, signal) => {
    const conn = await inner.open(handlers, signal);
    return {
      write(bytes) {
        if (!link.fired && bytes[0] >> 4 === type) {
          link.fired = true;
          conn.close();
          return true;
        }
        return conn.write(bytes);
      },
      get bufferedAmount() {
        return conn.bufferedAmount;
      },
      close: () => conn.close(),
    };
  };
  return link;
}

const texts = (messages: LiteMessage[]) => messages.map((m) => m.text).sort();

for (const [brokerName, start] of BROKERS) {
  describe(`lite client against ${brokerName}`, () => {
    it('publishes and receives at QoS 0, 1 and 2', TEST, async (t) => {
      const broker = await start(t);
      const topic = uniqueTopic('lite');
      const sub = await lite(t, testLink(broker.port, 4));
      const pub = await lite(t, testLink(broker.port, 4));
      const got = await collect(sub, `${topic}/#`, 2);
      for (const qos of [0, 1, 2] as const) {
        await pub.publish(`${topic}/q${qos}`, `m${qos}`, { qos });
      }
      await until(() => got.length >= 3, 'three messages');
      assert.deepEqual(
        got.map((m) => [m.topic, m.text, m.qos]),
        [
          [`${topic}/q0`, 'm0', 0],
          [`${topic}/q1`, 'm1', 1],
          [`${topic}/q2`, 'm2', 2],
        ],
      );
      // Binary payloads arrive unchanged.
      await pub.publish(`${topic}/bin`, Uint8Array.of(0, 255, 7), { qos: 1 });
      await until(() => got.length >= 4, 'the binary message');
      assert.deepEqual([...got[3].payload], [0, 255, 7]);
    });

    it('resumes the session after a link cut: nothing published meanwhile is lost', TEST, async (t) => {
      const broker = await start(t);
      const topic = uniqueTopic('lite');
      const subLink = testLink(broker.port, 4);
      const sub = await lite(t, subLink, { clientId: `lite-sub-${Date.now()}` });
      const got = await collect(sub, `${topic}/#`, 2);
      const pub = await lite(t, testLink(broker.port, 4));

      const down = once(sub, 'down');
      subLink.blocked = true;
      subLink.cut();
      await down;
      for (let i = 0; i < 10; i++)
        await pub.publish(`${topic}/${i % 2 ? 'q1' : 'q2'}`, `m${i}`, { qos: i % 2 ? 1 : 2 });
      const up = once<{ sessionPresent: boolean }>(sub, 'up');
      subLink.blocked = false;
      assert.equal((await up).sessionPresent, true);
      await until(() => got.length >= 10, 'the ten messages queued by the broker');
      assert.deepEqual(texts(got), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    });

    it('publishes while offline and re-sends an unacknowledged PUBLISH with DUP', TEST, async (t) => {
      const broker = await start(t);
      const topic = uniqueTopic('lite');
      const sub = await lite(t, testLink(broker.port, 4));
      const got = await collect(sub, `${topic}/#`, 2);
      // The first PUBLISH never reaches the broker: the link dies as it is written.
      const pubLink = cutAtFirst(testLink(broker.port, 4), 3);
      const pub = await lite(t, pubLink);
      const results = await Promise.all([
        pub.publish(`${topic}/a`, 'first', { qos: 1 }),
        pub.publish(`${topic}/b`, 'second', { qos: 2 }),
      ]);
      assert.equal(results.length, 2);
      assert.equal(pubLink.fired, true);
      await until(() => got.length >= 2, 'both messages');
      assert.deepEqual(texts(got), ['first', 'second']);
      const resent = pubLink.sent.filter((p) => p.type === 'publish' && p.topic === `${topic}/a`);
      const last = resent.at(-1);
      assert.equal(last?.type === 'publish' && last.dup, true, 'the re-sent PUBLISH has DUP');
    });

    it(
      'after a cut between PUBREC and PUBREL, re-sends PUBREL only to a broker that kept the session: QoS 2 delivered exactly once',
      TEST,
      async (t) => {
        const broker = await start(t);
        const topic = uniqueTopic('lite');
        const sub = await lite(t, testLink(broker.port, 4));
        const got = await collect(sub, topic, 2);
        const pubLink = cutAtFirst(testLink(broker.port, 4), 6);
        const pub = await lite(t, pubLink, { clientId: `lite-pub-${Date.now()}` });
        const ups: boolean[] = [];
        pub.on('up', (e) => ups.push(e.sessionPresent));
        await pub.publish(topic, 'once', { qos: 2 });
        assert.equal(pubLink.fired, true, 'the first PUBREL was dropped');
        // Mosquitto keeps the session; Aedes says no session for a client without subscriptions. A broker
        // without the session owns the message since PUBREC [MQTT-4.3.3-2]: the flow completes with no
        // PUBREL, as in the full engine.
        assert.equal(ups.length, 1);
        assert.equal(ups[0], brokerName === 'mosquitto');
        assert.equal(
          pubLink.sent.some((p) => p.type === 'pubrel'),
          ups[0],
          'PUBREL sent again only when the broker kept the session',
        );
        // A marker after it: by the time it arrives, a duplicate would have too.
        await pub.publish(topic, 'marker', { qos: 1 });
        await until(() => got.length >= 2, 'the message and the marker');
        assert.deepEqual(
          got.map((m) => m.text),
          ['once', 'marker'],
        );
      },
    );

    it('subscribes again when the broker has no session (clean session)', TEST, async (t) => {
      const broker = await start(t);
      const topic = uniqueTopic('lite');
      const subLink = testLink(broker.port, 4);
      const sub = await lite(t, subLink, { clean: true });
      const got = await collect(sub, topic, 1);
      const up = once<{ sessionPresent: boolean }>(sub, 'up');
      subLink.cut();
      assert.equal((await up).sessionPresent, false);
      await until(
        () => subLink.sent.filter((p) => p.type === 'subscribe').length >= 2,
        'the SUBSCRIBE made again',
      );
      const pub = await lite(t, testLink(broker.port, 4));
      // The new SUBSCRIBE may still be in flight: publish until one arrives.
      await until(() => {
        pub.publish(topic, 'after', { qos: 1 }).catch(() => {});
        return got.length > 0;
      }, 'a message on the resubscribed filter');
      assert.equal(got[0].text, 'after');
    });

    it('reports refusals and bad input with typed errors', TEST, async (t) => {
      const broker = await start(t);
      const c = await lite(t, testLink(broker.port, 4));
      await assert.rejects(c.publish('a/+', 'x'), mqttError('TOPIC_NAME_INVALID'));
      await assert.rejects(c.subscribe('a/#/b'), mqttError('TOPIC_FILTER_INVALID'));
      await assert.rejects(c.publish('a', 'x', { qos: 3 as 0 }), mqttError('INVALID_ARGUMENT'));
      // A password without a user name: MQTT 3.1.1 cannot carry it, so the client is not even built.
      assert.throws(
        () => new LiteClient({ link: testLink(broker.port, 4), password: 'secret' }),
        mqttError('INVALID_ARGUMENT'),
      );
      // Ending rejects what is in flight, and later calls, with CLIENT_CLOSED.
      const offline = testLink(broker.port, 4);
      const d = await lite(t, offline);
      offline.blocked = true;
      offline.cut();
      const pending = d.publish('a', 'x', { qos: 1 });
      d.end();
      await assert.rejects(pending, mqttError('CLIENT_CLOSED'));
      await assert.rejects(d.publish('a', 'x'), mqttError('CLIENT_CLOSED'));
    });
  });
}

describe('lite client: broker-specific behaviour', () => {
  it(
    'a refused first connection rejects start() with CONNECTION_REFUSED (aedes, bad credentials)',
    TEST,
    async (t) => {
      const broker = await startAedes();
      t.after(() => broker.stop());
      broker.aedes.authenticate = (_client, username, _password, done) => {
        const error = Object.assign(new Error('bad'), { returnCode: 4 });
        done(username === 'good' ? null : (error as never), username === 'good');
      };
      const c = new LiteClient({ link: testLink(broker.port, 4), username: 'bad', password: 'x' });
      t.after(() => c.end());
      await assert.rejects(c.start(), mqttError('CONNECTION_REFUSED', 4));
      await assert.rejects(c.publish('a', 'x'), mqttError('CLIENT_CLOSED'));
    },
  );

  it(
    'detects a broker that stops answering (keepalive) and recovers when it answers again',
    TEST,
    async (t) => {
      const broker = await startMosquitto();
      t.after(() => broker.stop());
      const topic = uniqueTopic('lite');
      const c = await lite(t, testLink(broker.port, 4), { keepalive: 1, connectTimeout: 2000 });
      const got = await collect(c, topic, 1);
      const down = once<{ cause: Error }>(c, 'down');
      broker.pause();
      const { cause } = await down;
      assert.ok(cause instanceof Error && (cause as { code?: string }).code === 'TIMEOUT', String(cause));
      const up = once(c, 'up');
      broker.resume();
      await up;
      await c.publish(topic, 'back', { qos: 1 });
      await until(() => got.length > 0, 'a message after the outage');
    },
  );

  it('connects over WebSocket with the lite entry point (mosquitto websockets listener)', TEST, async (t) => {
    const broker = await startMosquitto({ websockets: true });
    t.after(() => broker.stop());
    const topic = uniqueTopic('lite');
    const options = { WebSocket: WebSocket as never, reconnectPeriod: 100 };
    const sub = await connect(broker.wsUrl!, options);
    t.after(() => sub.end());
    const pub = await connect(broker.wsUrl!, options);
    t.after(() => pub.end());
    const got = await collect(sub, topic, 2);
    await pub.publish(topic, 'over websocket', { qos: 2 });
    await until(() => got.length > 0, 'the message');
    assert.equal(got[0].text, 'over websocket');
    await assert.rejects(
      connect('ws://127.0.0.1:1/', { WebSocket: WebSocket as never }),
      mqttError('LINK_ERROR'),
    );
  });
});
