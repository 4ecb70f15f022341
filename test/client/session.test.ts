// Sessions end to end through a real Mosquitto: resuming a session (and
// receiving what was queued meanwhile), clean and cleanInit, a takeover by
// another client with the same id, and a broker restart with persistence.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '../../src/node.ts';
import {
  client,
  mosquitto,
  nextEvent,
  nothingBefore,
  started,
  TEST,
  take,
  testLink,
  uniqueTopic,
  until,
  VERSIONS,
} from './e2e.ts';

for (const version of VERSIONS) {
  const protocolVersion = version;
  describe(`MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
    test('a new client with the same id resumes the session and gets what was queued', TEST, async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('session');
      const clientId = `resume-${version}-${process.pid}`;
      const first = await client(t, broker.url, { protocolVersion, clientId });
      await first.subscribe(topic, { qos: 1 });
      await first.end();
      const pub = await client(t, broker.url, { protocolVersion });
      for (let i = 0; i < 5; i++) await pub.publish(topic, `queued ${i}`, { qos: 1 });
      const got: Message[] = [];
      const second = started(t, { protocolVersion, url: broker.url, clientId });
      second.on('message', (m) => got.push(m)); // queued messages follow CONNACK at once
      const up = await nextEvent(second, 'up');
      assert.equal(up.sessionPresent, true);
      await until(() => got.length >= 5, 'the queued messages');
      assert.deepEqual(
        got.map((m) => m.text),
        ['queued 0', 'queued 1', 'queued 2', 'queued 3', 'queued 4'],
      );
    });

    test(
      'after an outage the same Client resumes: its Subscription gets what was sent meanwhile',
      TEST,
      async (t) => {
        const broker = await mosquitto(t);
        const topic = uniqueTopic('session');
        const link = testLink(broker.port, version);
        const sub = await client(t, link, { protocolVersion });
        const subscription = await sub.subscribe(topic, { qos: 1 });
        const pub = await client(t, broker.url, { protocolVersion });
        link.blocked = true;
        const down = nextEvent(sub, 'down');
        link.cut();
        await down;
        for (let i = 0; i < 5; i++) await pub.publish(topic, `while down ${i}`, { qos: 1 });
        const up = nextEvent(sub, 'up');
        link.blocked = false;
        assert.equal((await up).sessionPresent, true);
        assert.deepEqual(
          (await take(subscription, 5)).map((m) => m.text),
          Array.from({ length: 5 }, (_, i) => `while down ${i}`),
        );
      },
    );

    test('clean: true starts without a session every time', TEST, async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('session');
      const clientId = `clean-${version}-${process.pid}`;
      const first = await client(t, broker.url, { protocolVersion, clientId });
      await first.subscribe(topic, { qos: 1 });
      await first.end();
      const pub = await client(t, broker.url, { protocolVersion });
      await pub.publish(topic, 'for the old session', { qos: 1 });
      const link = testLink(broker.port, version);
      const fresh = started(t, { protocolVersion, link, clientId, clean: true });
      const got: Message[] = [];
      fresh.on('message', (m) => got.push(m));
      assert.equal((await nextEvent(fresh, 'up')).sessionPresent, false);
      const subscription = await fresh.subscribe(topic, { qos: 1 });
      const again = nextEvent(fresh, 'up');
      link.cut();
      assert.equal((await again).sessionPresent, false);
      // Clean means the subscription was forgotten too, and the client made it again.
      await pub.publish(topic, 'after', { qos: 1 });
      assert.equal((await take(subscription, 1))[0].text, 'after');
      assert.deepEqual(
        got.map((m) => m.text),
        ['after'],
      );
    });

    test(
      'cleanInit: the first connect discards the old session, reconnects keep the new one',
      TEST,
      async (t) => {
        const broker = await mosquitto(t);
        const topic = uniqueTopic('session');
        const clientId = `cleaninit-${version}-${process.pid}`;
        const first = await client(t, broker.url, { protocolVersion, clientId });
        await first.subscribe(`${topic}/old`, { qos: 1 });
        await first.end();
        const pub = await client(t, broker.url, { protocolVersion });
        await pub.publish(`${topic}/old`, 'for the old session', { qos: 1 });
        const link = testLink(broker.port, version);
        const c = started(t, { protocolVersion, link, clientId, cleanInit: true });
        const got: Message[] = [];
        c.on('message', (m) => got.push(m));
        let downs = 0;
        c.on('down', () => downs++);
        assert.equal((await nextEvent(c, 'up')).sessionPresent, false);
        // 5.0: Clean Start with a session expiry. 3.1.1 has no expiry (a clean session ends
        // with its connection): connect clean, DISCONNECT, and reconnect keeping the session.
        const connects = link.sent.flatMap((p) => (p.type === 'connect' ? [p.clean] : []));
        assert.deepEqual(connects, version === 4 ? [true, false] : [true]);
        assert.equal(downs, 0, 'the clean connect of 3.1.1 is not an outage');
        const subscription = await c.subscribe(`${topic}/new`, { qos: 1 });
        const again = nextEvent(c, 'up');
        link.cut();
        assert.equal((await again).sessionPresent, true);
        await pub.publish(`${topic}/old`, 'old again', { qos: 1 });
        await nothingBefore(subscription, pub, `${topic}/new`);
        assert.equal(got.length, 1, 'only the marker: nothing from the old session');
      },
    );

    test(
      'broker restart with persistence: down, up again, and a QoS 1 publish in the gap completes',
      TEST,
      async (t) => {
        const broker = await mosquitto(t, { config: ['persistence true'] });
        const topic = uniqueTopic('restart');
        const sub = await client(t, broker.url, { protocolVersion });
        const subscription = await sub.subscribe(topic, { qos: 1 });
        const pub = await client(t, broker.url, { protocolVersion });
        const downs = [nextEvent(sub, 'down'), nextEvent(pub, 'down')];
        const ups = [nextEvent(sub, 'up', () => true, 30_000), nextEvent(pub, 'up', () => true, 30_000)];
        const restarting = broker.restart();
        await downs[1];
        assert.equal(pub.connected, false);
        const published = pub.publish(topic, 'in the gap', { qos: 1 });
        await restarting;
        await downs[0];
        const [subUp, pubUp] = await Promise.all(ups);
        assert.equal(subUp.sessionPresent, true, 'Mosquitto kept the session across the restart');
        assert.equal(pubUp.sessionPresent, true);
        await published;
        assert.equal((await take(subscription, 1))[0].text, 'in the gap');
      },
    );
  });
}

describe('server disconnects', () => {
  for (const version of VERSIONS) {
    test(
      `MQTT ${version}: a second client with the same id takes over; the first goes down and comes back`,
      TEST,
      async (t) => {
        const broker = await mosquitto(t);
        const clientId = `takeover-${version}-${process.pid}`;
        const link = testLink(broker.port, version);
        const a = await client(t, link, { protocolVersion: version, clientId, reconnectPeriod: 300 });
        const down = nextEvent(a, 'down');
        const b = await client(t, broker.url, { protocolVersion: version, clientId });
        const { cause, wasUp } = await down;
        assert.equal(wasUp, true);
        assert.equal(cause.code, 'CONNECTION_LOST');
        // MQTT 5 lets the server say why with DISCONNECT 0x8E Session taken over, but
        // Mosquitto 2.0.11 closes the old connection without sending it (on 3.1.1 there
        // is nothing to send): the client sees the link closed by the peer. A server
        // DISCONNECT with a reason code is covered by the next test.
        assert.equal(link.received.filter((p) => p.type === 'disconnect').length, 0);
        assert.match(cause.message, /closed by the peer/);
        // Two clients with one id would take it from each other forever: end one.
        await b.end();
        await until(() => a.connected, 'the first client to reconnect');
        await a.publish(uniqueTopic('takeover'), 'still works', { qos: 1 });
      },
    );
  }

  test(
    'MQTT 5: a server DISCONNECT with a reason code is the cause of the down event; the client reconnects',
    TEST,
    async (t) => {
      const broker = await mosquitto(t, { config: ['max_packet_size 100'] });
      const topic = uniqueTopic('disconnect');
      const link = testLink(broker.port);
      const c = await client(t, link, { protocolVersion: 5 });
      const subscription = await c.subscribe(topic, { qos: 1 });
      const down = nextEvent(c, 'down');
      const up = nextEvent(c, 'up');
      // Behind the client's back, a 204-byte PUBLISH: Mosquitto answers DISCONNECT 0x95 Packet too large.
      const body = [0, 1, 0x61, 0, ...new Array(200).fill(0x41)];
      link.inject(new Uint8Array([0x30, (body.length & 0x7f) | 0x80, body.length >> 7, ...body]));
      const { cause, wasUp } = await down;
      assert.equal(wasUp, true);
      assert.equal(cause.code, 'CONNECTION_LOST');
      assert.equal(cause.reasonCode, 0x95);
      assert.equal(cause.side, 'remote');
      assert.match(cause.message, /packet too large/i);
      assert.equal((await up).sessionPresent, true);
      await c.publish(topic, 'back', { qos: 1 });
      assert.equal((await take(subscription, 1))[0].text, 'back');
    },
  );
});
