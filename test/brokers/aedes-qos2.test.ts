/**
 * A broker quirk, pinned: Aedes 1.x (default in-memory persistence,
 * aedes-persistence 11) re-sends a QoS 2 PUBLISH to a persistent-session
 * subscriber at its next reconnect although the message's flow completed,
 * PUBREL and PUBCOMP included. [MQTT-4.3.3-1]: once the sender has sent
 * PUBREL it MUST NOT re-send the PUBLISH. No client can tell that copy from
 * a new message, so the subscriber delivers it twice.
 *
 * The trigger is two QoS 2 messages in flight to the subscriber, with the
 * second's PUBREC arriving before the first's PUBCOMP: legitimate (PUBRECs
 * go in the order of the PUBLISHes [MQTT-4.6.0-3], nothing orders a PUBREC
 * after an earlier flow's PUBCOMP) and common after a reconnect or a stall.
 * Aedes stores the PUBREL as a bare record, and the memory store files it
 * over the earlier PUBREL still waiting for its PUBCOMP instead of over the
 * PUBLISH (see src/cli/demo/aedes-pubrel.ts for the source walk-through).
 *
 * The same byte sequences run against Mosquitto, which behaves, and against
 * the demo's embedded Aedes, which carries the demo's correction. The
 * "client" is scripted packet by packet (test/brokers/raw-mqtt.ts) so no
 * client library's choices are involved.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { startAedes as startDemoAedes } from '../../src/cli/demo/brokers.ts';
import { startAedes } from '../helpers/aedes.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { publishQos2, RawSession, text } from './raw-mqtt.ts';

interface Target {
  name: string;
  start(): Promise<{ port: number; stop(): Promise<void> }>;
}

const stockAedes: Target = {
  name: 'Aedes (stock)',
  async start() {
    const broker = await startAedes();
    return { port: broker.port, stop: () => broker.stop() };
  },
};

const mosquitto: Target = {
  name: 'Mosquitto',
  async start() {
    const broker = await startMosquitto();
    return { port: broker.port, stop: () => broker.stop() };
  },
};

const demoAedes: Target = {
  name: 'Aedes as the demo runs it',
  async start() {
    const broker = await startDemoAedes();
    return { port: broker.port, stop: () => broker.close() };
  },
};

type Scenario = Awaited<ReturnType<typeof scenario>>;

/**
 * A persistent-session subscriber at QoS 2, and a fresh id and topic.
 * Everything is closed by `t.after`.
 */
async function scenario(t: { after(fn: () => Promise<void> | void): void }, target: Target) {
  const broker = await target.start();
  const open: RawSession[] = [];
  t.after(async () => {
    for (const session of open) session.destroy();
    await broker.stop();
  });
  const tag = randomBytes(4).toString('hex');
  const clientId = `qos2-sub-${tag}`;
  const topic = `qos2-quirk/${tag}`;
  const connect = async () => {
    const { session, sessionPresent } = await RawSession.connect(broker.port, clientId, false);
    open.push(session);
    return { session, sessionPresent };
  };
  const { session: first } = await connect();
  first.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topic, qos: 2 }] });
  const suback = await first.expect('suback');
  assert.deepEqual(suback.reasonCodes, [2]);
  return { port: broker.port, topic, first, connect };
}

/** Publishes "a" and "b" at QoS 2 and returns the subscriber's two PUBLISH packets. */
async function twoInFlight(s: Scenario) {
  await publishQos2(s.port, s.topic, ['a', 'b']);
  const a = await s.first.expect('publish', (p) => text(p) === 'a');
  const b = await s.first.expect('publish', (p) => text(p) === 'b');
  assert.equal(a.qos, 2);
  assert.equal(b.qos, 2);
  return { a: a.packetId as number, b: b.packetId as number };
}

/** Releases `id`: PUBREC, then waits for the broker's PUBREL. */
async function receive(session: RawSession, id: number): Promise<void> {
  session.send({ type: 'pubrec', packetId: id });
  await session.expect('pubrel', (p) => p.packetId === id);
}

/**
 * Reconnects, publishes a marker "c" and waits for it: any re-send the
 * broker makes on reconnect comes before it. Returns the payloads of every
 * PUBLISH on the new connection, and the session.
 */
async function reconnectAndMark(s: Scenario) {
  const { session, sessionPresent } = await s.connect();
  assert.equal(sessionPresent, true, 'the session was kept');
  await publishQos2(s.port, s.topic, ['c']);
  await session.expect('publish', (p) => text(p) === 'c');
  await session.ping();
  return { session, payloads: session.publishes().map(text) };
}

/** The quirk's trigger: b's PUBREC before a's PUBCOMP, then both flows complete. */
async function overlappingFlows(s: Scenario) {
  const ids = await twoInFlight(s);
  await receive(s.first, ids.a);
  await receive(s.first, ids.b);
  s.first.send({ type: 'pubcomp', packetId: ids.a });
  s.first.send({ type: 'pubcomp', packetId: ids.b });
  await s.first.ping();
  await s.first.disconnect();
  return ids;
}

describe('Aedes 1.x quirk: QoS 2 PUBLISH re-sent after its PUBREL', () => {
  test('stock Aedes re-sends "b" after overlapping flows completed (fails the day Aedes fixes it)', async (t) => {
    const s = await scenario(t, stockAedes);
    const ids = await overlappingFlows(s);
    const { session, payloads } = await reconnectAndMark(s);
    assert.deepEqual(
      payloads,
      ['b', 'c'],
      'Aedes no longer re-sends a completed QoS 2 message: the quirk is fixed; update docs/limitations.md and drop src/cli/demo/aedes-pubrel.ts',
    );
    const resent = session.publishes()[0];
    assert.equal(resent.packetId, ids.b, 'the old packet id');
    assert.equal(resent.dup, false, 'and not even marked DUP');
  });

  test('stock Aedes re-sends nothing when the flows do not overlap', async (t) => {
    const s = await scenario(t, stockAedes);
    const ids = await twoInFlight(s);
    for (const id of [ids.a, ids.b]) {
      await receive(s.first, id);
      s.first.send({ type: 'pubcomp', packetId: id });
    }
    await s.first.ping();
    await s.first.disconnect();
    const { payloads } = await reconnectAndMark(s);
    assert.deepEqual(payloads, ['c']);
  });
});

for (const target of [mosquitto, demoAedes]) {
  describe(`${target.name}: the same sequences, per MQTT 3.1.1`, () => {
    test('overlapping flows completed: nothing re-sent on reconnect [MQTT-4.3.3-1]', async (t) => {
      const s = await scenario(t, target);
      await overlappingFlows(s);
      const { payloads } = await reconnectAndMark(s);
      assert.deepEqual(payloads, ['c']);
    });

    test('a PUBREL left unanswered is re-sent as PUBREL, never as PUBLISH [MQTT-4.4.0-1]', async (t) => {
      const s = await scenario(t, target);
      const ids = await twoInFlight(s);
      await receive(s.first, ids.a);
      await receive(s.first, ids.b);
      // Only a completes; b's PUBCOMP is "lost" with the connection.
      s.first.send({ type: 'pubcomp', packetId: ids.a });
      await s.first.ping();
      await s.first.disconnect();

      const { session: second, sessionPresent } = await s.connect();
      assert.equal(sessionPresent, true);
      await second.expect('pubrel', (p) => p.packetId === ids.b);
      second.send({ type: 'pubcomp', packetId: ids.b });
      await second.ping();
      assert.deepEqual(second.publishes().map(text), [], 'no PUBLISH re-sent');
      await second.disconnect();

      // Completed now: the next reconnect owes nothing.
      const { payloads } = await reconnectAndMark(s);
      assert.deepEqual(payloads, ['c']);
    });
  });
}

test('Aedes as the demo runs it still drops a client that sends PUBREC for a packet id it never sent', async (t) => {
  const s = await scenario(t, demoAedes);
  const ids = await twoInFlight(s);
  await receive(s.first, ids.a);
  // An id the broker has no PUBLISH for: the correction must not paper over a client's mistake.
  let unknown = 1;
  while (unknown === ids.a || unknown === ids.b) unknown++;
  s.first.send({ type: 'pubrec', packetId: unknown });
  await s.first.closedByPeer();
  assert.deepEqual(
    s.first.received.filter((p) => p.type === 'pubrel').map((p) => (p.type === 'pubrel' ? p.packetId : 0)),
    [ids.a],
    'no PUBREL for the unknown id',
  );
});
