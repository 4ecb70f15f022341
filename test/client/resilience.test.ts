/**
 * Resilience features of the Client against a real Mosquitto: bounding a
 * publication's wait with an AbortSignal (withdrawn before it is sent, flow
 * completed after), the offline queue's bounds, the status counters, and MQTT
 * 5 server references (from a scripted peer: Mosquitto never sends one).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Client } from '../../src/node.ts';
import {
  client,
  mosquitto,
  mqttError,
  nextEvent,
  nothingBefore,
  started,
  TEST,
  type TestLink,
  take,
  testLink,
  uniqueTopic,
  until,
} from './e2e.ts';

/** Cuts the client's link and keeps it from reconnecting (until `link.blocked = false`). */
async function goOffline(c: Client, link: TestLink): Promise<void> {
  link.blocked = true;
  const down = nextEvent(c, 'down');
  link.cut();
  await down;
}

describe('publish with an AbortSignal', () => {
  test('aborted while queued offline: withdrawn, never sent', TEST, async (t) => {
    const broker = await mosquitto(t);
    const topic = uniqueTopic('abort');
    const sub = await client(t, broker.url);
    const subscription = await sub.subscribe(`${topic}/#`, { qos: 1 });
    const link = testLink(broker.port);
    const c = await client(t, link);
    await goOffline(c, link);
    const controller = new AbortController();
    const withdrawn = c.publish(`${topic}/a`, 'never', { qos: 1, signal: controller.signal });
    const kept = c.publish(`${topic}/a`, 'kept', { qos: 1 });
    controller.abort();
    await assert.rejects(withdrawn, mqttError('ABORTED'));
    assert.equal(c.stats.queued, 1);
    link.blocked = false;
    await kept;
    assert.deepEqual(
      (await take(subscription, 1)).map((m) => m.text),
      ['kept'],
    );
    await nothingBefore(subscription, c, `${topic}/marker`);
  });

  test('already aborted: rejects at once, nothing queued', TEST, async (t) => {
    const broker = await mosquitto(t);
    const c = await client(t, broker.url);
    await assert.rejects(
      c.publish(uniqueTopic('abort'), 'x', { qos: 1, signal: AbortSignal.abort() }),
      mqttError('ABORTED'),
    );
    assert.equal(c.stats.queued + c.stats.inflight, 0);
  });

  test(
    'aborted after its PUBLISH went out: the wait ends, the QoS 2 flow still completes once',
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('abort');
      const sub = await client(t, broker.url);
      const subscription = await sub.subscribe(topic, { qos: 2 });
      const link = testLink(broker.port);
      const c = await client(t, link);
      broker.pause(); // the PUBLISH goes out, no PUBREC comes back
      t.after(() => broker.resume());
      const controller = new AbortController();
      const pending = c.publish(topic, 'in flight', { qos: 2, signal: controller.signal });
      await until(() => link.sent.some((p) => p.type === 'publish'), 'the PUBLISH is sent');
      controller.abort();
      await assert.rejects(pending, mqttError('ABORTED'));
      assert.equal(c.stats.inflight, 1);
      broker.resume();
      assert.deepEqual(
        (await take(subscription, 1)).map((m) => m.text),
        ['in flight'],
      );
      await until(() => c.stats.inflight === 0, 'the flow completes');
      await nothingBefore(subscription, c, topic);
    },
  );
});

describe('the offline queue', () => {
  test(
    "queueFullPolicy 'reject': what does not fit rejects with QUEUE_FULL; the rest is delivered",
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('queue');
      const sub = await client(t, broker.url);
      const subscription = await sub.subscribe(topic, { qos: 1 });
      const link = testLink(broker.port);
      const c = await client(t, link, { maxQueuedMessages: 2, queueFullPolicy: 'reject' });
      await goOffline(c, link);
      const accepted = [c.publish(topic, '1', { qos: 1 }), c.publish(topic, '2', { qos: 2 })];
      await assert.rejects(c.publish(topic, '3', { qos: 1 }), mqttError('QUEUE_FULL'));
      link.blocked = false;
      await Promise.all(accepted);
      assert.deepEqual(
        (await take(subscription, 2)).map((m) => m.text),
        ['1', '2'],
      );
    },
  );

  test(
    "queueFullPolicy 'wait': publish() waits for room and everything arrives in order",
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('queue');
      const sub = await client(t, broker.url);
      const subscription = await sub.subscribe(topic, { qos: 1 });
      const link = testLink(broker.port);
      const c = await client(t, link, { maxQueuedMessages: 3 });
      await goOffline(c, link);
      const all = Array.from({ length: 10 }, (_, i) => c.publish(topic, String(i), { qos: 1 }));
      assert.equal(c.stats.queued, 3);
      assert.equal(c.stats.waiting, 7);
      link.blocked = false;
      await Promise.all(all);
      assert.deepEqual(
        (await take(subscription, 10)).map((m) => m.text),
        ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      );
    },
  );
});

describe('status', () => {
  test('counters and the outage length after a cut', TEST, async (t) => {
    const broker = await mosquitto(t);
    const link = testLink(broker.port);
    const c = await client(t, link, { quietPeriod: 300 });
    assert.deepEqual([c.stats.outages, c.stats.reconnects, c.stats.downtimeMs], [0, 0, 0]);
    const up = nextEvent(c, 'up');
    link.cut();
    const event = await up;
    assert.ok(event.outageMs !== undefined && event.outageMs >= 300, `outage ${event.outageMs} ms`);
    assert.equal(c.stats.outages, 1);
    assert.equal(c.stats.reconnects, 1);
    assert.ok(c.stats.downtimeMs >= 300);
  });
});

/** A scripted MQTT 5 peer: answers CONNECT with `reply(connect bytes)` packets; counts connections. */
async function scriptedPeer(t: import('node:test').TestContext, reply: () => Uint8Array[]) {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    const decoder = new PacketDecoder({ protocolVersion: 5 });
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let p = decoder.next(); p !== undefined; p = decoder.next()) {
        if (p.type === 'connect') for (const bytes of reply()) socket.write(bytes);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
  };
}

describe('MQTT 5 server references', () => {
  test('CONNACK 0x9C Use another server: the client goes where it is told', TEST, async (t) => {
    const broker = await mosquitto(t);
    const peer = await scriptedPeer(t, () => [
      encode(
        {
          type: 'connack',
          sessionPresent: false,
          reasonCode: 0x9c,
          properties: { serverReference: `127.0.0.1:${broker.port}` },
        },
        5,
      ),
    ]);
    const c = started(t, { url: peer.url, quietPeriod: 50 });
    const down = await nextEvent(c, 'down');
    assert.equal(down.cause.code, 'CONNECTION_REFUSED');
    assert.equal(down.cause.reasonCode, 0x9c);
    await c.ready(10_000);
    await c.publish(uniqueTopic('ref'), 'at the referenced server', { qos: 1 });
  });

  test('DISCONNECT 0x9D Server moved: the move is permanent', TEST, async (t) => {
    const broker = await mosquitto(t);
    const peer = await scriptedPeer(t, () => [
      encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 5),
      encode(
        { type: 'disconnect', reasonCode: 0x9d, properties: { serverReference: `127.0.0.1:${broker.port}` } },
        5,
      ),
    ]);
    const c = started(t, { url: peer.url, quietPeriod: 50 });
    await nextEvent(c, 'up');
    const moved = await nextEvent(c, 'up');
    assert.equal(moved.server.keepalive > 0, true);
    assert.equal(peer.connections, 1);
    // After an outage at the new server, the client reconnects there, not to the old one.
    const again = nextEvent(c, 'up');
    await broker.kill();
    await broker.restart();
    await again;
    assert.equal(peer.connections, 1);
  });
});
