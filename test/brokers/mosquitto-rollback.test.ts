/**
 * The soak's QoS 2 duplicate, pinned: Mosquitto 2.0.11 with persistence saves
 * its database on "changes" (subscriptions, persistent connects, a completed
 * flow), not when a QoS 2 flow to a subscriber moves from "PUBLISH sent" to
 * "PUBREL sent". Killed (kill -9, a power cut) after it sent PUBREL and before
 * it read the subscriber's PUBCOMP, it restarts from a save in which the
 * message is still unacknowledged and re-sends the PUBLISH, DUP set, although
 * [MQTT-4.3.3] forbids a PUBLISH after PUBREL. The subscriber released the id
 * at PUBREL (method B), so it cannot tell that copy from a new message.
 *
 * Found in the soak (seed 1, MQTT 5, on the code of 2026-11-22): the
 * broker-side subscriber received #4024 at 102.475 s, the broker was killed at
 * 102.48 s, and after the restart the same message came again with DUP set.
 *
 * First the broker alone, scripted packet by packet (raw-mqtt.ts). Then our
 * Client as the subscriber, with a proxy that holds back its PUBCOMP: with
 * the rollback guard (the default) the copy is acknowledged and not delivered;
 * with `qos2RollbackGuard: 0` it is delivered twice.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PublishPacket } from '../../src/codec/types.ts';
import { createClient, type Message } from '../../src/node.ts';
import { mosquitto, uniqueTopic, until, WAIT } from '../client/e2e.ts';
import { FaultProxy } from '../fault/proxy.ts';
import type { MosquittoBroker } from '../helpers/mosquitto.ts';
import { publishQos2, RawSession, text } from './raw-mqtt.ts';

/** Save on every change, as the soak's broker does: the least a kill -9 can lose. */
const PERSIST = { config: ['persistence true', 'autosave_on_changes true', 'autosave_interval 1'] };

/** A persistent session connects: a "change", so Mosquitto saves its database now. */
async function forceSave(port: number): Promise<void> {
  const { session } = await RawSession.connect(port, `saver-${randomUUID()}`, false);
  await session.ping();
  session.destroy();
  await sleep(100);
}

/** What the broker sends a resumed session in its first second, as text. */
async function afterRestart(broker: MosquittoBroker, clientId: string): Promise<string[]> {
  await broker.kill();
  await broker.restart();
  const { session } = await RawSession.connect(broker.port, clientId, false);
  await session.ping();
  await sleep(500);
  session.destroy();
  return session.received
    .filter((p) => p.type !== 'connack' && p.type !== 'pingresp')
    .map((p) =>
      p.type === 'publish'
        ? `PUBLISH #${p.packetId} dup=${p.dup} ${text(p)}`
        : `${p.type} #${'packetId' in p ? p.packetId : ''}`,
    );
}

describe('Mosquitto kill -9 rolls a QoS 2 flow back', { timeout: 60_000 }, () => {
  async function subscriberWithMessageInFlight(t: TestContext) {
    const broker = await mosquitto(t, PERSIST);
    const clientId = `sub-${randomUUID()}`;
    const { session } = await RawSession.connect(broker.port, clientId, false);
    t.after(() => session.destroy());
    session.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topic: 't', qos: 2 }] });
    await session.expect('suback');
    await publishQos2(broker.port, 't', ['m1']);
    const publish = (await session.expect('publish')) as PublishPacket;
    await forceSave(broker.port);
    return { broker, clientId, session, id: publish.packetId! };
  }

  it('after PUBREL, before PUBCOMP: the broker re-sends the PUBLISH (DUP set)', async (t) => {
    const { broker, clientId, session, id } = await subscriberWithMessageInFlight(t);
    session.send({ type: 'pubrec', packetId: id });
    await session.expect('pubrel');
    await session.ping(); // the broker has read everything; the PUBCOMP is never sent
    assert.deepEqual(await afterRestart(broker, clientId), [`PUBLISH #${id} dup=true m1`]);
  });

  it('after PUBCOMP: nothing comes back (completing the flow is a change: saved)', async (t) => {
    const { broker, clientId, session, id } = await subscriberWithMessageInFlight(t);
    session.send({ type: 'pubrec', packetId: id });
    await session.expect('pubrel');
    session.send({ type: 'pubcomp', packetId: id });
    await session.ping();
    assert.deepEqual(await afterRestart(broker, clientId), []);
  });
});

describe('the Client delivers the rolled-back message once', () => {
  for (const version of [4, 5] as const) {
    for (const guard of [true, false]) {
      it(`MQTT ${version === 5 ? '5' : '3.1.1'}, ${guard ? 'rollback guard on (default): once' : 'qos2RollbackGuard 0: twice'}`, {
        timeout: 40_000,
      }, async (t) => {
        const broker = await mosquitto(t, PERSIST);
        const proxy = await FaultProxy.start({ targetPort: broker.port, listenHost: '127.0.0.1' });
        t.after(() => proxy.close());
        const topic = uniqueTopic('rollback');
        const received: Message[] = [];
        let saved = false;
        const subscriber = createClient({
          url: `mqtt://127.0.0.1:${proxy.port}`,
          clientId: `sub-${randomUUID()}`,
          protocolVersion: version,
          keepalive: 5,
          reconnectPeriod: 50,
          reconnectPeriodMax: 200,
          quietPeriod: 0,
          ...(guard ? {} : { qos2RollbackGuard: 0 }),
        });
        t.after(() => subscriber.end());
        const subscribed = subscriber.subscribe(topic, {
          qos: 2,
          onMessage: async (m) => {
            received.push(m);
            if (!saved) {
              saved = true;
              // The message is in flight to us: make Mosquitto save that state before we acknowledge.
              await forceSave(broker.port);
            }
          },
        });
        subscriber.start();
        await subscribed;

        // Our PUBCOMP never reaches the broker; no new connection gets through until the broker was killed.
        proxy.cutAfter({ type: 'PUBCOMP', direction: 'toBroker', when: 'before' });
        let cutSeen = false;
        const stop = proxy.onEvent((e) => {
          if (e.ev === 'cut' && e.reason === 'trigger') {
            proxy.refuse(true);
            stop();
            cutSeen = true;
          }
        });
        await publishQos2(broker.port, topic, ['m1']);
        await until(() => cutSeen, 'the subscriber sent its PUBCOMP through the proxy', WAIT);
        await broker.kill();
        await broker.restart();
        proxy.refuse(false);

        await until(() => subscriber.stats.reconnects >= 1, 'the subscriber reconnected', WAIT);
        // The re-sent copy, if any, comes first on the resumed session; a marker after it shows it was processed.
        await publishQos2(broker.port, topic, ['marker']);
        await until(() => received.some((m) => m.text === 'marker'), 'the marker arrived', WAIT);
        const m1 = received.filter((m) => m.text === 'm1');
        if (guard) {
          assert.equal(m1.length, 1, 'the rolled-back copy was not delivered');
          assert.equal(subscriber.stats.qos2RollbackCopies, 1);
        } else {
          assert.equal(
            m1.length,
            2,
            'without the guard the copy is delivered again: the broker did roll back',
          );
          assert.equal(m1[1].dup, true);
        }
      });
    }
  }
});
