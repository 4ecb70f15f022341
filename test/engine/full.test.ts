/** The full engine (src/session Session, as the Client drives it: manual acks) against the engine conformance suite. */
import type { QoS } from '../../src/codec/types.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/types.ts';
import {
  advanceClock,
  type EngineSettings,
  type EngineUnderTest,
  Recorded,
  runEngineConformance,
} from './engine.case.ts';

const text = new TextEncoder();

function fullEngine(settings: EngineSettings): EngineUnderTest {
  let now = 1_000_000;
  const seen = new Recorded();
  let held: { packetId: number; qos: 1 | 2; generation: number }[] = [];
  const session: Session = new Session({
    protocolVersion: settings.version,
    clientId: 'engine',
    keepalive: settings.keepalive,
    responseTimeout: settings.responseTimeout,
    connectTimeout: settings.connectTimeout,
    manualAck: true,
    // Topic aliases are MQTT 5's; the suite compares topics as written.
    outboundTopicAliases: false,
  });
  /** Takes the outbox after every input, as the Client's SessionDriver does: bytes, then events. */
  function pump(): void {
    for (;;) {
      const bytes = session.nextBytes();
      if (bytes !== undefined) {
        seen.bytes.push(bytes.slice());
        continue;
      }
      const event = session.nextEvent();
      if (event === undefined) return;
      record(event);
    }
  }
  function input(step: () => void): void {
    step();
    pump();
  }
  function record(e: SessionEvent): void {
    switch (e.type) {
      case 'up':
        return void seen.events.push(e.sessionPresent ? 'up present' : 'up');
      case 'message': {
        const m = e.message;
        seen.events.push(`message ${m.topic} q${m.qos}${m.dup ? ' dup' : ''}`);
        if (m.qos > 0)
          held.push({ packetId: m.packetId!, qos: m.qos as 1 | 2, generation: session.generation });
        return;
      }
      case 'published':
      case 'subscribed':
      case 'unsubscribed':
        return void seen.events.push(`done ${String(e.token)}`);
      case 'publish-failed':
      case 'subscribe-failed':
        return void seen.events.push(`failed ${String(e.token)} ${e.error.code}`);
      case 'close':
        seen.events.push(`close ${e.error.code}`);
        // The host closes the link and says so, as the supervisor does.
        return session.linkDown(now);
      default:
    }
  }
  return {
    linkUp: () => input(() => session.linkUp(now, false)),
    linkDown: () => input(() => session.linkDown(now)),
    received: (b) => input(() => session.received(b, now)),
    advance(ms) {
      now = advanceClock(now, ms, {
        nextDeadline: () => session.nextDeadline(),
        tick: (at) => {
          now = at;
          input(() => session.tick(at));
        },
      });
    },
    publish: (topic, qos: QoS, token) =>
      input(() => session.publish({ topic, payload: text.encode(topic), qos, retain: false }, token, now)),
    subscribe: (filter, qos, token) =>
      input(() => session.subscribe([{ topic: filter, qos }], undefined, token)),
    unsubscribe: (filter, token) => input(() => session.unsubscribe([filter], undefined, token)),
    take() {
      input(() => {
        for (const m of held) session.acknowledge(m.packetId, m.qos, m.generation);
      });
      held = [];
    },
    drain: () => seen.drain(),
  };
}

runEngineConformance({
  name: 'full Session',
  capabilities: { versions: [4, 5], qos2RollbackGuard: true },
  make: fullEngine,
});
