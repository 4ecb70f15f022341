// The fault proxy and its MQTT framer, in-process on loopback against a fake
// broker that records bytes: no root, no namespaces, fast.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { type TestContext, test } from 'node:test';
import { HandoffTracker } from './handoff.ts';
import { MqttFramer } from './mqtt-frames.ts';
import { FaultProxy, type ProxyEvent } from './proxy.ts';

const UNIT = { timeout: 10_000 };
const str = (s: string) => [s.length >> 8, s.length & 0xff, ...Buffer.from(s, 'latin1')];
const packet = (first: number, body: number[]) => Buffer.from([first, body.length, ...body]);

/** MQTT 5 CONNECT for client id `id`, no properties. */
const connect5 = (id: string) => packet(0x10, [...str('MQTT'), 5, 0x02, 0, 60, 0, ...str(id)]);
/** MQTT 5 QoS 2 PUBLISH with a topic alias property (alias set when `topic` is given, used when empty). */
const publish5 = (topic: string, alias: number, id: number, payload: string) =>
  packet(0x34, [...str(topic), id >> 8, id & 0xff, 3, 0x23, 0, alias, ...Buffer.from(payload)]);
const ack = (type: number, id: number) => packet((type << 4) | (type === 6 ? 2 : 0), [id >> 8, id & 0xff]);

test('framer: packet boundaries, client id, topic aliases and payloads, fed byte by byte', () => {
  const stream = Buffer.concat([
    connect5('dev'),
    publish5('up/q2', 1, 7, '12'),
    publish5('', 1, 8, '13...'),
    ack(5, 7),
  ]);
  const framer = new MqttFramer();
  const frames = [];
  for (let i = 0; i < stream.length; i++) {
    for (const f of framer.push(stream.subarray(i, i + 1))) frames.push({ ...f, at: i + 1 });
  }
  assert.deepEqual(
    frames.map((f) => [f.type, f.packetId, f.topic, f.payloadHead, f.clientId]),
    [
      ['CONNECT', undefined, undefined, undefined, 'dev'],
      ['PUBLISH', 7, 'up/q2', '12', undefined],
      ['PUBLISH', 8, 'up/q2', '13...', undefined],
      ['PUBREC', 7, undefined, undefined, undefined],
    ],
  );
  // Each packet completes at its last byte: `end` is relative to the one-byte chunk.
  assert.ok(frames.every((f) => f.end === 1));
  assert.equal(frames.at(-1)?.at, stream.length);
});

test('framer split: whole packets only, the rest kept until complete or flushed', () => {
  const framer = new MqttFramer();
  const stream = Buffer.concat([ack(4, 1), ack(5, 2), ack(7, 3)]);
  const first = framer.split(stream.subarray(0, 6)); // PUBACK and half a PUBREC
  assert.deepEqual(first.bytes, ack(4, 1));
  assert.deepEqual(
    first.frames.map((f) => [f.type, f.start, f.end]),
    [['PUBACK', 0, 4]],
  );
  const second = framer.split(stream.subarray(6, 11)); // the PUBREC's end, most of a PUBCOMP
  assert.deepEqual(second.bytes, ack(5, 2));
  assert.deepEqual(
    second.frames.map((f) => [f.type, f.start, f.end, f.packetId]),
    [['PUBREC', 0, 4, 2]],
  );
  assert.deepEqual(framer.flush(), stream.subarray(8, 11));
});

interface FakeBroker {
  port: number;
  received: () => Buffer;
  sockets: Socket[];
}

async function fakeBroker(t: TestContext): Promise<FakeBroker> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    received: () => Buffer.concat(chunks),
    sockets,
  };
}

async function proxyTo(t: TestContext, port: number): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ targetPort: port, listenHost: '127.0.0.1' });
  t.after(() => proxy.close());
  return proxy;
}

async function clientOf(t: TestContext, proxy: FaultProxy): Promise<{ socket: Socket; data: () => Buffer }> {
  const socket = tcpConnect({ port: proxy.port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  await once(socket, 'connect');
  t.after(() => socket.destroy());
  return { socket, data: () => Buffer.concat(chunks) };
}

function nextEvent(proxy: FaultProxy, ev: ProxyEvent['ev']): Promise<ProxyEvent> {
  return new Promise((resolve) => {
    const off = proxy.onEvent((e) => {
      if (e.ev !== ev) return;
      off();
      resolve(e);
    });
  });
}

test('cutAfter: forwards up to the trigger packet, then nothing either way', UNIT, async (t) => {
  const broker = await fakeBroker(t);
  const proxy = await proxyTo(t, broker.port);
  const client = await clientOf(t, proxy);
  await until(() => broker.sockets.length === 1);
  proxy.cutAfter({ type: 'PUBREC', direction: 'toClient' });
  const cut = nextEvent(proxy, 'cut');
  const clientEnded = once(client.socket, 'end');
  const brokerEnded = once(broker.sockets[0], 'end');
  // PUBREC and a PUBACK behind it in the same chunk: only the PUBREC may pass.
  broker.sockets[0].write(Buffer.concat([ack(5, 3), ack(4, 4)]));
  const event = (await cut) as ProxyEvent & { ev: 'cut' };
  assert.deepEqual(
    [event.reason, event.type, event.direction, event.packetId],
    ['trigger', 'PUBREC', 'toClient', 3],
  );
  await clientEnded;
  assert.deepEqual(client.data(), ack(5, 3));
  await brokerEnded;
  // The client's answer is read and thrown away, until the connection is gone.
  const closed = nextEvent(proxy, 'closed');
  client.socket.end(ack(6, 3));
  await closed;
  assert.equal(broker.received().length, 0);
});

test('cutAfter before: forwards what precedes the packet, not the packet', UNIT, async (t) => {
  const broker = await fakeBroker(t);
  const proxy = await proxyTo(t, broker.port);
  const client = await clientOf(t, proxy);
  await until(() => broker.sockets.length === 1);
  proxy.cutAfter({ type: 'PUBREC', direction: 'toBroker', when: 'before' });
  const brokerEnded = once(broker.sockets[0], 'end');
  // A PUBACK, then a PUBREC split over two writes: the PUBACK passes, the PUBREC never does.
  client.socket.write(Buffer.concat([ack(4, 1), ack(5, 2).subarray(0, 2)]));
  await until(() => broker.received().length === 4);
  client.socket.write(ack(5, 2).subarray(2));
  await brokerEnded;
  assert.deepEqual(broker.received(), ack(4, 1));
});

test('delay with jitter keeps the byte order; stall holds everything until it ends', UNIT, async (t) => {
  const broker = await fakeBroker(t);
  const proxy = await proxyTo(t, broker.port);
  const client = await clientOf(t, proxy);
  proxy.delay(40, 30);
  const started = Date.now();
  // PUBACKs numbered 0..19, written one by one: they must arrive in that order.
  for (let i = 0; i < 20; i++) {
    client.socket.write(ack(4, i));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await until(() => broker.received().length === 80);
  assert.ok(Date.now() - started >= 40);
  assert.deepEqual(broker.received(), Buffer.concat(Array.from({ length: 20 }, (_, i) => ack(4, i))));

  proxy.delay(0);
  proxy.stall(300);
  const stalledAt = Date.now();
  client.socket.write(ack(4, 99));
  await until(() => broker.received().length === 84);
  assert.ok(Date.now() - stalledAt >= 280, 'held for the stall');
});

test('handoff tracker: PUBREC to the publisher, PUBREL to the subscriber, by client id', () => {
  const tracker = new HandoffTracker();
  const base = { ev: 'packet', t: 5, conn: 1, client: 'dev' } as const;
  const out = [
    tracker.feed({
      ...base,
      direction: 'toBroker',
      type: 'PUBLISH',
      packetId: 7,
      qos: 2,
      topic: 'up/q2',
      payloadHead: '12',
    }),
    tracker.feed({ ...base, direction: 'toClient', type: 'PUBREC', packetId: 7 }),
    tracker.feed({
      ...base,
      direction: 'toClient',
      type: 'PUBLISH',
      packetId: 7,
      qos: 2,
      topic: 'down/q2',
      payloadHead: '3',
    }),
    tracker.feed({ ...base, direction: 'toBroker', type: 'PUBREC', packetId: 7 }),
    // The PUBREL comes on a later connection of the same client.
    tracker.feed({ ...base, conn: 2, t: 9, direction: 'toClient', type: 'PUBREL', packetId: 7 }),
    tracker.feed({ ...base, conn: 2, t: 9, direction: 'toBroker', type: 'PUBCOMP', packetId: 7 }),
    // QoS 1 to a subscriber: its PUBACK.
    tracker.feed({
      ...base,
      direction: 'toClient',
      type: 'PUBLISH',
      packetId: 8,
      qos: 1,
      topic: 'down/q1',
      payloadHead: '4',
    }),
    tracker.feed({ ...base, t: 11, direction: 'toBroker', type: 'PUBACK', packetId: 8 }),
  ];
  assert.deepEqual(out, [
    undefined,
    { ev: 'handoff', t: 5, topic: 'up/q2', seq: 12 },
    undefined,
    undefined,
    { ev: 'delivered', t: 9, topic: 'down/q2', seq: 3 },
    undefined,
    undefined,
    { ev: 'delivered', t: 11, topic: 'down/q1', seq: 4 },
  ]);
});

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
