// QoS 0, 1 and 2 end to end through real brokers (Mosquitto and ejabberd),
// MQTT 3.1.1 and 5.0: our publisher → our subscriber, every message once and in order.
//
// MQTT 3.1.1 has no Receive Maximum, yet Mosquitto 2.0.11 drops a QoS 2
// PUBLISH beyond its max_inflight_messages (20) while still answering PUBREC:
// the 200 × QoS 2 test on 3.1.1 is what caught the client sending them all at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokersWith, client, broker as startBroker, TEST, take, uniqueTopic, VERSIONS } from './e2e.ts';

const COUNT = 200;

for (const name of brokersWith())
  for (const version of VERSIONS) {
    describe(`${name}, MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
      for (const qos of [0, 1, 2] as const) {
        test(`QoS ${qos}: ${COUNT} messages arrive once each, in order, at QoS ${qos}`, TEST, async (t) => {
          const broker = await startBroker(t, name);
          const topic = uniqueTopic('qos');
          const sub = await client(t, broker.url, { protocolVersion: version });
          const pub = await client(t, broker.url, { protocolVersion: version });
          const subscription = await sub.subscribe(`${topic}/#`, { qos: 2 });
          assert.deepEqual(subscription.granted, [2]);
          const arriving = take(subscription, COUNT);
          const results = await Promise.all(
            Array.from({ length: COUNT }, (_, i) => pub.publish(`${topic}/${i % 7}`, `m${i}`, { qos })),
          );
          for (const result of results) assert.equal(result.reasonCode, 0);
          const messages = await arriving;
          assert.deepEqual(
            messages.map((m) => m.text),
            Array.from({ length: COUNT }, (_, i) => `m${i}`),
          );
          for (const [i, m] of messages.entries()) {
            assert.equal(m.topic, `${topic}/${i % 7}`);
            assert.equal(m.qos, qos);
            assert.equal(m.retain, false);
          }
          // Nothing more comes after the last one (no duplicates).
          await pub.publish(`${topic}/end`, 'end', { qos: 1 });
          const [last] = await take(subscription, 1);
          assert.equal(last.text, 'end');
          assert.equal(subscription.pending, 0);
        });
      }

      test('the subscriber gets min(publish QoS, granted QoS)', TEST, async (t) => {
        const broker = await startBroker(t, name);
        const topic = uniqueTopic('qos');
        const sub = await client(t, broker.url, { protocolVersion: version });
        const pub = await client(t, broker.url, { protocolVersion: version });
        const subscription = await sub.subscribe(topic, { qos: 1 });
        assert.deepEqual(subscription.granted, [1]);
        for (const qos of [0, 1, 2] as const) await pub.publish(topic, `at ${qos}`, { qos });
        const messages = await take(subscription, 3);
        assert.deepEqual(
          messages.map((m) => [m.text, m.qos]),
          [
            ['at 0', 0],
            ['at 1', 1],
            ['at 2', 1],
          ],
        );
      });
    });
  }

describe('MQTT 5.0 publish results', () => {
  for (const name of brokersWith('noMatchingSubscribers'))
    test(
      `${name}: publish resolves with the reason code; 0x10 No matching subscribers is a success`,
      TEST,
      async (t) => {
        const broker = await startBroker(t, name);
        const topic = uniqueTopic('nobody');
        const pub = await client(t, broker.url, { protocolVersion: 5 });
        // Nobody subscribes to this topic: Mosquitto answers PUBACK 0x10. (For QoS 2, Mosquitto
        // 2.0.11 answers PUBREC 0x00 even without subscribers, so the flow just completes with 0.)
        assert.deepEqual(await pub.publish(topic, 'x', { qos: 0 }), { reasonCode: 0 });
        assert.equal((await pub.publish(topic, 'x', { qos: 1 })).reasonCode, 0x10);
        assert.equal((await pub.publish(topic, 'x', { qos: 2 })).reasonCode, 0);
        // With a subscriber: 0 Success.
        const sub = await client(t, broker.url, { protocolVersion: 5 });
        const subscription = await sub.subscribe(topic, { qos: 2 });
        assert.equal((await pub.publish(topic, 'y', { qos: 1 })).reasonCode, 0);
        assert.equal((await pub.publish(topic, 'y', { qos: 2 })).reasonCode, 0);
        assert.equal((await take(subscription, 2)).length, 2);
        assert.ok(pub.connected, 'the publisher is still connected');
      },
    );

  for (const name of brokersWith())
    test(`${name}: MQTT 3.1.1 acks carry no reason code: every publish resolves with 0`, TEST, async (t) => {
      const broker = await startBroker(t, name);
      const pub = await client(t, broker.url, { protocolVersion: 4 });
      for (const qos of [0, 1, 2] as const) {
        assert.equal((await pub.publish(uniqueTopic('nobody'), 'x', { qos })).reasonCode, 0);
      }
    });
});
