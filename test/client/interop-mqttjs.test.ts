// Interoperability with MQTT.js (npm `mqtt`, v5) as a peer on the same
// Mosquitto: our publisher → MQTT.js subscriber and MQTT.js publisher → our
// subscriber, QoS 0/1/2 on MQTT 3.1.1 and 5.0, MQTT 5 properties both ways,
// and binary payloads byte-exact.
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { client, mosquitto, TEST, take, uniqueTopic, VERSIONS, WAIT } from './e2e.ts';

/** An MQTT.js client (no automatic reconnect), ended when the test ends. */
async function mqttjs(t: TestContext, url: string, options: IClientOptions): Promise<MqttClient> {
  const peer = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: WAIT, ...options });
  t.after(() => peer.endAsync(true));
  return peer;
}

/** Collects what an MQTT.js client receives until `count` messages came; rejects after WAIT. */
function received(peer: MqttClient, count: number): Promise<IPublishPacket[]> {
  return new Promise((resolve, reject) => {
    const got: IPublishPacket[] = [];
    const timer = setTimeout(() => {
      peer.off('message', onMessage);
      reject(new Error(`MQTT.js got ${got.length} of ${count} messages within ${WAIT} ms`));
    }, WAIT);
    function onMessage(_topic: string, _payload: Buffer, packet: IPublishPacket) {
      got.push(packet);
      if (got.length < count) return;
      clearTimeout(timer);
      peer.off('message', onMessage);
      resolve(got);
    }
    peer.on('message', onMessage);
  });
}

/** Every byte value, then a pattern: a payload that no text decoding would survive. */
const BINARY = Uint8Array.from({ length: 1000 }, (_, i) => (i < 256 ? i : (i * 131) & 0xff));
const COUNT = 50;

for (const version of VERSIONS) {
  describe(`MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
    for (const qos of [0, 1, 2] as const) {
      test(
        `QoS ${qos}: ours → MQTT.js, ${COUNT} binary messages, byte-exact and in order`,
        TEST,
        async (t) => {
          const broker = await mosquitto(t);
          const topic = uniqueTopic('interop');
          const peer = await mqttjs(t, broker.url, { protocolVersion: version });
          await peer.subscribeAsync(topic, { qos: 2 });
          const arriving = received(peer, COUNT);
          const ours = await client(t, broker.url, { protocolVersion: version });
          await Promise.all(
            Array.from({ length: COUNT }, (_, i) =>
              ours.publish(topic, Uint8Array.of(i, ...BINARY), { qos }),
            ),
          );
          const packets = await arriving;
          for (const [i, p] of packets.entries()) {
            assert.equal(p.topic, topic);
            assert.equal(p.qos, qos);
            assert.ok(
              Buffer.from(p.payload).equals(Buffer.from([i, ...BINARY])),
              `message ${i} is byte-exact`,
            );
          }
        },
      );

      test(
        `QoS ${qos}: MQTT.js → ours, ${COUNT} binary messages, byte-exact and in order`,
        TEST,
        async (t) => {
          const broker = await mosquitto(t);
          const topic = uniqueTopic('interop');
          const ours = await client(t, broker.url, { protocolVersion: version });
          const subscription = await ours.subscribe(topic, { qos: 2 });
          const peer = await mqttjs(t, broker.url, { protocolVersion: version });
          for (let i = 0; i < COUNT; i++)
            await peer.publishAsync(topic, Buffer.from([i, ...BINARY]), { qos });
          const messages = await take(subscription, COUNT);
          for (const [i, m] of messages.entries()) {
            assert.equal(m.topic, topic);
            assert.equal(m.qos, qos);
            assert.ok(
              Buffer.from(m.payload).equals(Buffer.from([i, ...BINARY])),
              `message ${i} is byte-exact`,
            );
          }
        },
      );
    }

    test('retained messages and an empty payload, both ways', TEST, async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('interop');
      const ours = await client(t, broker.url, { protocolVersion: version });
      const peer = await mqttjs(t, broker.url, { protocolVersion: version });
      await ours.publish(`${topic}/ours`, 'from steadfast', { qos: 1, retain: true });
      await peer.publishAsync(`${topic}/theirs`, 'from mqtt.js', { qos: 1, retain: true });
      const subscription = await ours.subscribe(`${topic}/theirs`, { qos: 1 });
      const [m] = await take(subscription, 1);
      assert.deepEqual([m.text, m.retain], ['from mqtt.js', true]);
      const arriving = received(peer, 2);
      await peer.subscribeAsync(`${topic}/ours`, { qos: 1 });
      await ours.publish(`${topic}/ours`, new Uint8Array(0), { qos: 1 });
      const [kept, empty] = await arriving;
      assert.deepEqual([kept.payload.toString(), kept.retain], ['from steadfast', true]);
      assert.equal(empty.payload.length, 0);
    });
  });
}

describe('MQTT 5.0 properties', () => {
  const correlationData = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);

  test(
    'ours → MQTT.js: user properties (a repeated name too), content type, response topic, correlation data, expiry, format',
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('interop');
      const peer = await mqttjs(t, broker.url, { protocolVersion: 5 });
      await peer.subscribeAsync(topic, { qos: 1 });
      const arriving = received(peer, 1);
      const ours = await client(t, broker.url, { protocolVersion: 5 });
      await ours.publish(topic, 'héllo', {
        qos: 1,
        properties: {
          userProperties: { single: 'one', repeated: ['a', 'b', 'a'] },
          contentType: 'text/plain; charset=utf-8',
          responseTopic: `${topic}/reply`,
          correlationData,
          messageExpiryInterval: 3600,
          payloadFormatIndicator: true,
        },
      });
      const [p] = await arriving;
      assert.equal(p.payload.toString(), 'héllo');
      const props = p.properties ?? {};
      // MQTT.js makes user properties a null-prototype object: compare the entries.
      assert.deepEqual({ ...props.userProperties }, { single: 'one', repeated: ['a', 'b', 'a'] });
      assert.equal(props.contentType, 'text/plain; charset=utf-8');
      assert.equal(props.responseTopic, `${topic}/reply`);
      assert.ok(Buffer.from(props.correlationData ?? []).equals(correlationData));
      assert.ok(
        props.messageExpiryInterval !== undefined &&
          props.messageExpiryInterval <= 3600 &&
          props.messageExpiryInterval > 3500,
        `messageExpiryInterval ${props.messageExpiryInterval}`,
      );
      assert.equal(props.payloadFormatIndicator, true);
    },
  );

  test('MQTT.js → ours: the same properties', TEST, async (t) => {
    const broker = await mosquitto(t);
    const topic = uniqueTopic('interop');
    const ours = await client(t, broker.url, { protocolVersion: 5 });
    const subscription = await ours.subscribe(topic, { qos: 2 });
    const peer = await mqttjs(t, broker.url, { protocolVersion: 5 });
    await peer.publishAsync(topic, 'héllo', {
      qos: 2,
      properties: {
        userProperties: { single: 'one', repeated: ['a', 'b', 'a'] },
        contentType: 'text/plain; charset=utf-8',
        responseTopic: `${topic}/reply`,
        correlationData,
        messageExpiryInterval: 3600,
        payloadFormatIndicator: true,
      },
    });
    const [m] = await take(subscription, 1);
    assert.equal(m.text, 'héllo');
    const props = m.properties;
    assert.deepEqual(props.userProperties, { single: 'one', repeated: ['a', 'b', 'a'] });
    assert.equal(props.contentType, 'text/plain; charset=utf-8');
    assert.equal(props.responseTopic, `${topic}/reply`);
    assert.ok(Buffer.from(props.correlationData ?? []).equals(correlationData));
    const expiry = props.messageExpiryInterval;
    assert.ok(expiry !== undefined && expiry <= 3600 && expiry > 3500, `messageExpiryInterval ${expiry}`);
    assert.equal(props.payloadFormatIndicator, true);
  });

  test('request/response across libraries: MQTT.js answers our request()', TEST, async (t) => {
    const broker = await mosquitto(t);
    const service = uniqueTopic('svc');
    const peer = await mqttjs(t, broker.url, { protocolVersion: 5 });
    peer.on('message', (_topic, payload, packet) => {
      const { responseTopic, correlationData: data } = packet.properties ?? {};
      if (responseTopic === undefined) return;
      void peer.publishAsync(responseTopic, `re: ${payload}`, {
        qos: 1,
        properties: { correlationData: data },
      });
    });
    await peer.subscribeAsync(service, { qos: 1 });
    const ours = await client(t, broker.url, { protocolVersion: 5 });
    const answer = await ours.request(service, 'ping', { timeout: WAIT });
    assert.equal(answer.text, 're: ping');
  });
});
