// Retained messages and wills through real brokers (Mosquitto, and ejabberd where it has the feature): retained delivery on
// subscribe, MQTT 5 retain handling and retain-as-published, the will when a
// client's link dies without DISCONNECT, will delay, and DISCONNECT 0x04.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  brokersWith,
  client,
  nextEvent,
  nothingBefore,
  broker as startBroker,
  TEST,
  take,
  testLink,
  uniqueTopic,
  VERSIONS,
} from './e2e.ts';

for (const version of VERSIONS) {
  describe(`MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
    for (const name of brokersWith('retain'))
      test(
        `${name}: a retained message is delivered on subscribe with retain set; live ones without`,
        TEST,
        async (t) => {
          const broker = await startBroker(t, name);
          const topic = uniqueTopic('retain');
          const pub = await client(t, broker.url, { protocolVersion: version });
          await pub.publish(`${topic}/a`, 'kept a', { qos: 1, retain: true });
          await pub.publish(`${topic}/b`, 'kept b', { qos: 2, retain: true });
          await pub.publish(`${topic}/c`, 'not kept', { qos: 1 });
          const sub = await client(t, broker.url, { protocolVersion: version });
          const subscription = await sub.subscribe(`${topic}/#`, { qos: 2 });
          const retained = await take(subscription, 2);
          assert.deepEqual(retained.map((m) => [m.topic, m.text, m.retain]).sort(), [
            [`${topic}/a`, 'kept a', true],
            [`${topic}/b`, 'kept b', true],
          ]);
          // A retained message published while subscribed is forwarded as a normal one (retain 0).
          await pub.publish(`${topic}/a`, 'live', { qos: 1, retain: true });
          const [live] = await take(subscription, 1);
          assert.deepEqual([live.text, live.retain], ['live', false]);
          // An empty retained message clears it: a new subscriber gets nothing.
          await pub.publish(`${topic}/a`, '', { qos: 1, retain: true });
          await pub.publish(`${topic}/b`, '', { qos: 1, retain: true });
          const late = await client(t, broker.url, { protocolVersion: version });
          const lateSub = await late.subscribe(`${topic}/#`, { qos: 1 });
          await nothingBefore(lateSub, pub, `${topic}/marker`);
        },
      );

    for (const name of brokersWith('will'))
      test(`${name}: the will is published when the link dies without DISCONNECT`, TEST, async (t) => {
        const broker = await startBroker(t, name);
        const topic = uniqueTopic('will');
        const watcher = await client(t, broker.url, { protocolVersion: version });
        const wills = await watcher.subscribe(`${topic}/#`, { qos: 1 });
        const link = testLink(broker.port, version);
        const dying = await client(t, link, {
          ...broker.auth,
          protocolVersion: version,
          will: { topic: `${topic}/status`, payload: 'gone', qos: 1 },
        });
        link.blocked = true;
        const down = nextEvent(dying, 'down');
        link.cut();
        assert.equal((await down).cause.code, 'CONNECTION_LOST');
        const [will] = await take(wills, 1);
        assert.deepEqual([will.topic, will.text, will.qos], [`${topic}/status`, 'gone', 1]);
      });

    for (const name of brokersWith('will'))
      test(`${name}: a normal end() does not publish the will`, TEST, async (t) => {
        const broker = await startBroker(t, name);
        const topic = uniqueTopic('will');
        const watcher = await client(t, broker.url, { protocolVersion: version });
        const wills = await watcher.subscribe(`${topic}/#`, { qos: 1 });
        const leaving = await client(t, broker.url, {
          protocolVersion: version,
          will: { topic: `${topic}/status`, payload: 'gone', qos: 1 },
        });
        await leaving.end();
        await nothingBefore(wills, watcher, `${topic}/marker`);
      });
  });
}

describe('MQTT 5.0 only', () => {
  for (const name of brokersWith('retainHandling'))
    test(
      `${name}: retainHandling 0 sends retained messages on every subscribe, 1 only on a new one, 2 never`,
      TEST,
      async (t) => {
        const broker = await startBroker(t, name);
        const topic = uniqueTopic('rh');
        const pub = await client(t, broker.url, { protocolVersion: 5 });
        await pub.publish(topic, 'retained', { qos: 1, retain: true });
        const marker = `${topic}/marker`;
        const sub = await client(t, broker.url, { protocolVersion: 5 });

        // 0: on the first subscribe and again when the same filter is subscribed again.
        for (let i = 0; i < 2; i++) {
          const s = await sub.subscribe([topic, marker], { qos: 1, retainHandling: 0 });
          const [m] = await take(s, 1);
          assert.deepEqual([m.text, m.retain], ['retained', true]);
          await nothingBefore(s, pub, marker);
        }
        await sub.unsubscribe([topic, marker]);

        // 1: on a new subscription only.
        const first = await sub.subscribe([topic, marker], { qos: 1, retainHandling: 1 });
        const [m] = await take(first, 1);
        assert.equal(m.text, 'retained');
        const again = await sub.subscribe([topic, marker], { qos: 1, retainHandling: 1 });
        await nothingBefore(again, pub, marker);
        await sub.unsubscribe([topic, marker]);

        // 2: never, not even on a new subscription.
        const never = await sub.subscribe([topic, marker], { qos: 1, retainHandling: 2 });
        await nothingBefore(never, pub, marker);
      },
    );

  for (const name of brokersWith('retainAsPublished'))
    test(`${name}: retainAsPublished keeps the retain flag on forwarded messages`, TEST, async (t) => {
      const broker = await startBroker(t, name);
      const topic = uniqueTopic('rap');
      const a = await client(t, broker.url, { protocolVersion: 5 });
      const b = await client(t, broker.url, { protocolVersion: 5 });
      const kept = await a.subscribe(topic, { qos: 1, retainAsPublished: true });
      const cleared = await b.subscribe(topic, { qos: 1, retainAsPublished: false });
      await a.publish(topic, 'r', { qos: 1, retain: true });
      await a.publish(topic, 'n', { qos: 1, retain: false });
      assert.deepEqual(
        (await take(kept, 2)).map((m) => [m.text, m.retain]),
        [
          ['r', true],
          ['n', false],
        ],
      );
      assert.deepEqual(
        (await take(cleared, 2)).map((m) => [m.text, m.retain]),
        [
          ['r', false],
          ['n', false],
        ],
      );
    });

  for (const name of brokersWith('willDelay'))
    test(`${name}: will delay: the will comes only after willDelayInterval`, TEST, async (t) => {
      const broker = await startBroker(t, name);
      const topic = uniqueTopic('will');
      const watcher = await client(t, broker.url, { protocolVersion: 5 });
      const wills = await watcher.subscribe(`${topic}/#`, { qos: 1 });
      const link = testLink(broker.port);
      const delay = 3;
      const dying = await client(t, link, {
        ...broker.auth,
        protocolVersion: 5,
        will: { topic: `${topic}/status`, payload: 'gone', qos: 1, properties: { willDelayInterval: delay } },
      });
      link.blocked = true; // it cannot come back
      const down = nextEvent(dying, 'down');
      const cutAt = Date.now();
      link.cut();
      await down;
      const [will] = await take(wills, 1, 30_000);
      const waited = Date.now() - cutAt;
      assert.equal(will.text, 'gone');
      // Mosquitto checks will delays about once a second: allow a second early, any amount late.
      assert.ok(
        waited >= (delay - 1) * 1000,
        `the will came after ${waited} ms, before the ${delay} s delay`,
      );
    });

  for (const name of brokersWith('willDelay'))
    test(`${name}: will delay: no will when the client reconnects within the delay`, TEST, async (t) => {
      const broker = await startBroker(t, name);
      const topic = uniqueTopic('will');
      const watcher = await client(t, broker.url, { protocolVersion: 5 });
      const wills = await watcher.subscribe(`${topic}/#`, { qos: 1 });
      const link = testLink(broker.port);
      const delay = 2;
      const flaky = await client(t, link, {
        ...broker.auth,
        protocolVersion: 5,
        will: { topic: `${topic}/status`, payload: 'gone', qos: 1, properties: { willDelayInterval: delay } },
      });
      const back = nextEvent(flaky, 'up');
      link.cut();
      const up = await back;
      assert.equal(up.sessionPresent, true);
      // Past the delay (with a wide margin for Mosquitto's once-a-second check): still no will.
      await new Promise((resolve) => setTimeout(resolve, (delay + 2) * 1000));
      await nothingBefore(wills, watcher, `${topic}/marker`);
    });

  for (const name of brokersWith('disconnectWithWill'))
    test(`${name}: end(0x04) disconnects with the will, and Mosquitto publishes it`, TEST, async (t) => {
      const broker = await startBroker(t, name);
      const topic = uniqueTopic('will');
      const watcher = await client(t, broker.url, { protocolVersion: 5 });
      const wills = await watcher.subscribe(`${topic}/#`, { qos: 1 });
      const leaving = await client(t, broker.url, {
        protocolVersion: 5,
        will: {
          topic: `${topic}/status`,
          payload: 'left on purpose',
          qos: 1,
          properties: { contentType: 'text/plain', userProperties: { why: 'test' } },
        },
      });
      await leaving.end(0x04);
      const [will] = await take(wills, 1);
      assert.equal(will.text, 'left on purpose');
      assert.equal(will.properties.contentType, 'text/plain');
      assert.deepEqual(will.properties.userProperties, { why: 'test' });
    });
});
