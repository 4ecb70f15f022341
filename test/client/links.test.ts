// Our client over every Node link against a real broker: TLS (server
// verification, SNI name, mutual TLS, an untrusted CA) and WebSocket against
// Mosquitto, and plain TCP against a second broker implementation, Aedes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Client, MqttError } from '../../src/node.ts';
import { makeCerts } from '../helpers/certs.ts';
import { aedes, client, mosquitto, mqttError, TEST, take, uniqueTopic, VERSIONS } from './e2e.ts';

/** Publishes one message at each QoS from `pub` and checks `sub` gets them, in order, at that QoS. */
async function pubSub(sub: Client, pub: Client): Promise<void> {
  const topic = uniqueTopic('link');
  const subscription = await sub.subscribe(topic, { qos: 2 });
  for (const qos of [0, 1, 2] as const) await pub.publish(topic, `qos ${qos}`, { qos });
  const messages = await take(subscription, 3);
  assert.deepEqual(
    messages.map((m) => [m.text, m.qos]),
    [
      ['qos 0', 0],
      ['qos 1', 1],
      ['qos 2', 2],
    ],
  );
}

describe('TLS (mqtts://)', () => {
  for (const version of VERSIONS) {
    test(
      `MQTT ${version}: the server certificate is verified against our CA, by SNI name`,
      TEST,
      async (t) => {
        const broker = await mosquitto(t, { tls: true });
        const certs = await makeCerts();
        const options = { protocolVersion: version, ca: certs.ca, servername: 'localhost' };
        const sub = await client(t, broker.tlsUrl!, options);
        const pub = await client(t, broker.tlsUrl!, options);
        await pubSub(sub, pub);
      },
    );
  }

  test('mutual TLS: with our client certificate the broker lets us in', TEST, async (t) => {
    const broker = await mosquitto(t, { requireClientCert: true });
    const certs = await makeCerts();
    const options = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const sub = await client(t, broker.tlsUrl!, options);
    const pub = await client(t, broker.tlsUrl!, options);
    await pubSub(sub, pub);
  });

  test('mutual TLS: without a client certificate we never get in', TEST, async (t) => {
    const broker = await mosquitto(t, { requireClientCert: true });
    const certs = await makeCerts();
    const error = await client(t, broker.tlsUrl!, { ca: certs.ca, readyTimeout: 1500 }).then(
      () => assert.fail('connected without a client certificate'),
      (e: unknown) => e,
    );
    assert.ok(mqttError('TIMEOUT')(error));
    const cause = (error as MqttError).cause;
    assert.ok(cause instanceof MqttError, `the cause is the last connection error: ${String(cause)}`);
    assert.ok(['LINK_ERROR', 'CONNECTION_LOST'].includes(cause.code), cause.message);
  });

  test('an untrusted CA fails with LINK_ERROR, reported through ready(timeout)', TEST, async (t) => {
    const broker = await mosquitto(t, { tls: true });
    const certs = await makeCerts();
    await assert.rejects(client(t, broker.tlsUrl!, { ca: certs.otherCa, readyTimeout: 1500 }), (error) => {
      assert.ok(mqttError('TIMEOUT')(error));
      const cause = (error as MqttError).cause;
      assert.ok(cause instanceof MqttError && cause.code === 'LINK_ERROR', String(cause));
      assert.match((error as Error).message, /certificate/i);
      return true;
    });
  });

  test('a certificate for another name fails, even with the right CA', TEST, async (t) => {
    const broker = await mosquitto(t, { tls: true });
    const certs = await makeCerts();
    await assert.rejects(
      client(t, broker.tlsUrl!, { ca: certs.ca, servername: 'not-the-broker.example', readyTimeout: 1500 }),
      (error) => {
        assert.ok(mqttError('TIMEOUT')(error));
        assert.equal(((error as MqttError).cause as MqttError).code, 'LINK_ERROR');
        return true;
      },
    );
  });
});

describe('WebSocket (ws://)', () => {
  for (const version of VERSIONS) {
    test(`MQTT ${version}: publish and subscribe at QoS 0, 1 and 2`, TEST, async (t) => {
      const broker = await mosquitto(t, { websockets: true });
      const sub = await client(t, broker.wsUrl!, { protocolVersion: version });
      const pub = await client(t, broker.wsUrl!, { protocolVersion: version });
      await pubSub(sub, pub);
      // Mixed links on one broker: a TCP publisher reaches the WebSocket subscriber.
      const tcp = await client(t, broker.url, { protocolVersion: version });
      await pubSub(sub, tcp);
    });
  }

  test('many messages and large payloads cross the WebSocket intact, both ways', TEST, async (t) => {
    // Mosquitto 2.0.11 (libwebsockets) sends to a WebSocket client only about 4 KB per
    // 100 ms (MQTT.js sees the same), so large payloads go broker-bound over WebSocket
    // (fast) and the WebSocket subscriber gets a moderate one.
    const broker = await mosquitto(t, { websockets: true });
    const topic = uniqueTopic('ws');
    const wsSub = await client(t, broker.wsUrl!);
    const tcpSub = await client(t, broker.url);
    const pub = await client(t, broker.wsUrl!);
    const toWs = await wsSub.subscribe(`${topic}/small`, { qos: 1 });
    const toTcp = await tcpSub.subscribe(`${topic}/big`, { qos: 1 });
    const pattern = (size: number) => new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
    const big = pattern(1_000_000);
    const medium = pattern(20_000);
    await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => pub.publish(`${topic}/small`, `m${i}`, { qos: 1 })),
      pub.publish(`${topic}/small`, medium, { qos: 1 }),
      pub.publish(`${topic}/big`, big, { qos: 1 }),
    ]);
    const messages = await take(toWs, 101);
    assert.deepEqual(
      messages.slice(0, 100).map((m) => m.text),
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    assert.ok(Buffer.from(messages[100].payload).equals(medium), 'the 20 kB payload is byte-exact');
    const [large] = await take(toTcp, 1);
    assert.ok(Buffer.from(large.payload).equals(big), 'the 1 MB payload is byte-exact');
  });
});

describe('Aedes (MQTT 3.1.1)', () => {
  test('publish and subscribe at QoS 0, 1 and 2', TEST, async (t) => {
    const broker = await aedes(t);
    const sub = await client(t, broker.url, { protocolVersion: 4 });
    const pub = await client(t, broker.url, { protocolVersion: 4 });
    await pubSub(sub, pub);
  });

  test('100 messages per QoS, in order; retained messages', TEST, async (t) => {
    const broker = await aedes(t);
    const topic = uniqueTopic('aedes');
    const sub = await client(t, broker.url, { protocolVersion: 4 });
    const pub = await client(t, broker.url, { protocolVersion: 4 });
    const subscription = await sub.subscribe(`${topic}/#`, { qos: 2 });
    for (const qos of [0, 1, 2] as const) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => pub.publish(`${topic}/${qos}`, `${i}`, { qos })),
      );
      const messages = await take(subscription, 100);
      assert.deepEqual(
        messages.map((m) => [m.text, m.qos]),
        Array.from({ length: 100 }, (_, i) => [`${i}`, qos]),
      );
    }
    await pub.publish(`${topic}/kept`, 'retained', { qos: 1, retain: true });
    await take(subscription, 1);
    const late = await client(t, broker.url, { protocolVersion: 4 });
    const lateSub = await late.subscribe(`${topic}/kept`, { qos: 1 });
    const [m] = await take(lateSub, 1);
    assert.deepEqual([m.text, m.retain], ['retained', true]);
  });

  test('MQTT 5 to Aedes (3.1.1 only) is refused at once with 0x84, not retried', TEST, async (t) => {
    // Aedes answers a 5.0 CONNECT with the 3.1.1 CONNACK 20 02 00 01 (unacceptable protocol
    // version); the session reads it as that refusal, and a permanent refusal is not retried.
    const broker = await aedes(t);
    const started = Date.now();
    await assert.rejects(client(t, broker.url, { protocolVersion: 5, readyTimeout: 20_000 }), (error) => {
      assert.ok(error instanceof MqttError, String(error));
      assert.equal(error.code, 'CONNECTION_REFUSED');
      assert.equal(error.reasonCode, 0x84);
      return true;
    });
    assert.ok(Date.now() - started < 15_000, 'failed on the refusal, not on readyTimeout');
  });
});
