/**
 * The outbound queue's bounds and policy, withdrawing a publication, and the
 * session store: what is stored when (always before the bytes that depend on
 * it), and a new Session resuming from what an abandoned one left in the
 * store, as a restarted process would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet, ProtocolVersion } from '../../src/codec/types.ts';
import { MqttError } from '../../src/errors.ts';
import type { QueueLimits } from '../../src/session/publish-queue.ts';
import { Session } from '../../src/session/session.ts';
import {
  type InboundQos2State,
  MemoryStore,
  type SessionStore,
  type StoredOutbound,
  type StoredSession,
} from '../../src/session/store.ts';
import { brief, briefEvent, SessionHarness, VERSIONS } from './harness.ts';

const limits = (l: Partial<QueueLimits>): QueueLimits => ({
  maxMessages: 100,
  maxBytes: 1 << 20,
  whenFull: 'wait',
  ...l,
});

/** A session that connected once and is now down, so publications queue. */
function offline(version: ProtocolVersion, queueLimits: QueueLimits, store?: SessionStore): SessionHarness {
  const h = new SessionHarness({ protocolVersion: version, queueLimits, store }).connect(false);
  h.linkDown();
  return h;
}

function reconnect(h: SessionHarness, sessionPresent = true): void {
  h.linkUp();
  h.connack({ sessionPresent });
  h.events(); // the 'up'
}

describe('the outbound queue when full', () => {
  for (const version of VERSIONS) {
    it(`MQTT ${version}: 'reject' refuses what does not fit with QUEUE_FULL; the rest goes out in order`, () => {
      const h = offline(version, limits({ maxMessages: 3, whenFull: 'reject' }));
      for (const t of ['a', 'b', 'c', 'd']) h.publish({ topic: t, qos: 1 });
      assert.deepEqual(h.eventsBrief(), ['failed d QUEUE_FULL']);
      reconnect(h);
      assert.deepEqual(h.sentBrief(), ['PUBLISH a #1', 'PUBLISH b #2', 'PUBLISH c #3']);
    });

    it(`MQTT ${version}: the oldest QoS 0 messages are dropped first, then the policy applies`, () => {
      const h = offline(version, limits({ maxMessages: 3, whenFull: 'reject' }));
      h.publish({ topic: 'x', qos: 0 });
      h.publish({ topic: 'a', qos: 1 });
      h.publish({ topic: 'y', qos: 0 });
      h.publish({ topic: 'b', qos: 1 }); // drops x
      h.publish({ topic: 'c', qos: 2 }); // drops y
      h.publish({ topic: 'z', qos: 0 }); // nothing left to drop: refused
      assert.deepEqual(h.eventsBrief(), [
        'failed x QUEUE_FULL',
        'failed y QUEUE_FULL',
        'failed z QUEUE_FULL',
      ]);
      assert.equal(h.session.stats.dropped, 2);
      reconnect(h);
      assert.deepEqual(h.sentBrief(), ['PUBLISH a #1', 'PUBLISH b #2', 'PUBLISH c #3']);
    });

    it(`MQTT ${version}: 'wait' parks publications in order until acks make room`, () => {
      const h = offline(version, limits({ maxMessages: 2 }));
      for (const [t, qos] of [
        ['a', 1],
        ['b', 1],
        ['c', 1],
        ['d', 0],
      ] as const)
        h.publish({ topic: t, qos });
      assert.deepEqual(h.eventsBrief(), []);
      assert.equal(h.session.stats.waiting, 2);
      reconnect(h);
      assert.deepEqual(h.sentBrief(), ['PUBLISH a #1', 'PUBLISH b #2']);
      h.deliver({ type: 'puback', packetId: 1 });
      assert.deepEqual(h.sentBrief(), ['PUBLISH c #3']);
      h.deliver({ type: 'puback', packetId: 2 });
      assert.deepEqual(h.sentBrief(), ['PUBLISH d']);
      assert.deepEqual(h.eventsBrief(), ['published a', 'published b', 'published d']);
      h.deliver({ type: 'puback', packetId: 3 });
      assert.deepEqual(h.eventsBrief(), ['published c']);
      assert.equal(h.session.stats.waiting, 0);
    });
  }

  it('counts bytes (topic + payload) as well as messages', () => {
    const h = offline(5, limits({ maxBytes: 10, whenFull: 'reject' }));
    const payload = new Uint8Array(5);
    h.publish({ topic: 'a', qos: 1, payload }); // 6 bytes
    h.publish({ topic: 'b', qos: 1, payload }); // 12 > 10
    assert.deepEqual(h.eventsBrief(), ['failed b QUEUE_FULL']);
  });

  it('an empty client takes one message however large, or it would wait forever', () => {
    const h = offline(5, limits({ maxBytes: 4, whenFull: 'reject' }));
    h.publish({ topic: 'big', qos: 1, payload: new Uint8Array(1000) });
    h.publish({ topic: 'next', qos: 1 });
    assert.deepEqual(h.eventsBrief(), ['failed next QUEUE_FULL']);
    reconnect(h);
    assert.deepEqual(h.sentBrief(), ['PUBLISH big #1']);
  });
});

describe('withdrawing a publication', () => {
  it('a queued or parked message is withdrawn: never sent, no event; its room frees up', () => {
    const h = offline(5, limits({ maxMessages: 2 }));
    h.publish({ topic: 'a', qos: 1 });
    h.publish({ topic: 'b', qos: 1 });
    h.publish({ topic: 'c', qos: 1 }); // parked
    h.publish({ topic: 'd', qos: 1 }); // parked
    assert.equal(h.session.withdraw('c'), true);
    assert.equal(h.session.withdraw('a'), true); // makes room: d is admitted
    assert.equal(h.session.stats.waiting, 0);
    reconnect(h);
    assert.deepEqual(h.sentBrief(), ['PUBLISH b #1', 'PUBLISH d #2']);
    assert.deepEqual(h.eventsBrief(), []);
  });

  it('a message already sent is not withdrawn: its flow completes', () => {
    const h = new SessionHarness({ protocolVersion: 5 }).connect();
    h.publish({ topic: 'a', qos: 2 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH a #1']);
    assert.equal(h.session.withdraw('a'), false);
    h.deliver({ type: 'pubrec', packetId: 1 });
    h.deliver({ type: 'pubcomp', packetId: 1 });
    assert.deepEqual(h.sentBrief(), ['PUBREL #1']);
    assert.deepEqual(h.eventsBrief(), ['published a']);
  });
});

/** A store that records every call in a shared trace, and keeps state like MemoryStore. */
class TracingStore implements SessionStore {
  private readonly inner = new MemoryStore();
  constructor(private readonly trace: string[]) {}
  load(): StoredSession {
    return this.inner.load();
  }
  addOutbound(r: StoredOutbound): void {
    this.trace.push(`store add ${r.message.topic}`);
    this.inner.addOutbound(r);
  }
  updateOutbound(r: StoredOutbound): void {
    this.trace.push(`store ${r.message.topic} #${r.packetId} ${r.state}`);
    this.inner.updateOutbound(r);
  }
  removeOutbound(r: StoredOutbound): void {
    this.trace.push(`store remove ${r.message.topic}`);
    this.inner.removeOutbound(r);
  }
  setInbound(id: number, state: InboundQos2State): void {
    this.trace.push(`store in #${id} ${state}`);
    this.inner.setInbound(id, state);
  }
  removeInbound(id: number): void {
    this.trace.push(`store in-remove #${id}`);
    this.inner.removeInbound(id);
  }
  clearInbound(): void {
    this.trace.push('store in-clear');
    this.inner.clearInbound();
  }
  sync(): void {}
  close(): void {}
}

/**
 * A session whose store calls go into one trace with what the host takes out
 * of its outbox after each input (`input` runs one and drains): the bytes
 * first, then the events, as the Client's driver takes them.
 */
function traced(options: { manualAck?: boolean } = {}) {
  const trace: string[] = [];
  const decoder = new PacketDecoder({ protocolVersion: 5 });
  const session = new Session({
    protocolVersion: 5,
    clientId: 'c',
    store: new TracingStore(trace),
    ...options,
  });
  const input = (feed: (s: Session) => void) => {
    feed(session);
    for (let bytes = session.nextBytes(); bytes !== undefined; bytes = session.nextBytes()) {
      decoder.push(bytes);
      for (let p = decoder.next(); p !== undefined; p = decoder.next()) trace.push(`send ${brief(p)}`);
    }
    for (let e = session.nextEvent(); e !== undefined; e = session.nextEvent())
      trace.push(`event ${briefEvent(e)}`);
  };
  return { trace, session, input };
}

describe('the store hears of every change before the bytes that depend on it', () => {
  it('outbound QoS 2: added at publish, id stored before PUBLISH, PUBREC stored before PUBREL', () => {
    const { trace, input } = traced();
    input((s) => s.publish({ topic: 'a', payload: new Uint8Array(1), qos: 2, retain: false }, 'a', 0));
    input((s) => s.linkUp(0, false));
    const feed = (p: Packet) => input((s) => s.received(encodePacket(p), 0));
    feed({ type: 'connack', sessionPresent: false, reasonCode: 0 });
    feed({ type: 'pubrec', packetId: 1 });
    feed({ type: 'pubcomp', packetId: 1 });
    assert.deepEqual(trace, [
      'store add a',
      'send CONNECT',
      'store a #1 sent',
      'send PUBLISH a #1',
      'event up',
      'store a #1 received',
      'send PUBREL #1',
      'store remove a',
      'event published a',
    ]);
  });

  it('inbound QoS 2: the id is stored before the message is delivered, removed at PUBREL', () => {
    const { trace, input } = traced();
    input((s) => s.linkUp(0, false));
    input((s) => s.received(encodePacket({ type: 'connack', sessionPresent: false, reasonCode: 0 }), 0));
    trace.length = 0;
    const publish = { type: 'publish', topic: 't', qos: 2, packetId: 7, dup: false, retain: false } as const;
    input((s) => s.received(encodePacket({ ...publish, payload: new Uint8Array(1) }), 0));
    input((s) => s.received(encodePacket({ type: 'pubrel', packetId: 7 }), 0));
    assert.deepEqual(trace, [
      'store in #7 acked',
      'send PUBREC #7',
      'event message t #7',
      'store in-remove #7',
      'send PUBCOMP #7',
    ]);
  });

  it('manual ack: nothing stored until the application acknowledges, then acked before PUBREC', () => {
    const { trace, input } = traced({ manualAck: true });
    input((s) => s.linkUp(0, false));
    input((s) => s.received(encodePacket({ type: 'connack', sessionPresent: false, reasonCode: 0 }), 0));
    trace.length = 0;
    const publish = { type: 'publish', topic: 't', qos: 2, packetId: 7, dup: false, retain: false } as const;
    input((s) => s.received(encodePacket({ ...publish, payload: new Uint8Array(1) }), 0));
    input((s) => s.acknowledge(7, 2, s.generation));
    assert.deepEqual(trace, ['event message t #7', 'store in #7 acked', 'send PUBREC #7']);
  });
});

describe('a new session resumes from the store of an abandoned one (a restarted process)', () => {
  for (const version of VERSIONS) {
    it(`MQTT ${version}: PUBLISH re-sent with DUP and the same ids, PUBREL for a PUBREC'd one, queued ones after`, () => {
      const store = new MemoryStore();
      const a = new SessionHarness({ protocolVersion: version, store }).connect(false);
      a.publish({ topic: 'a', qos: 1 });
      a.publish({ topic: 'b', qos: 2 });
      a.publish({ topic: 'c', qos: 1 });
      a.deliver({ type: 'pubrec', packetId: 2 });
      a.deliver({ type: 'puback', packetId: 3 });
      a.linkDown();
      a.publish({ topic: 'd', qos: 2 }); // queued while down
      // The process dies here; a new one opens the same store.
      const b = new SessionHarness({ protocolVersion: version, store });
      b.linkUp();
      b.connack({ sessionPresent: true });
      assert.deepEqual(b.sentBrief(), ['PUBLISH a #1 dup', 'PUBREL #2', 'PUBLISH d #3']);
      b.deliver({ type: 'puback', packetId: 1 });
      b.deliver({ type: 'pubcomp', packetId: 2 });
      b.deliver({ type: 'pubrec', packetId: 3 });
      b.deliver({ type: 'pubcomp', packetId: 3 });
      // Nobody in the new process awaits them: completions carry no token.
      assert.deepEqual(
        b.eventsBrief().filter((e) => e !== 'up present'),
        ['published undefined', 'published undefined', 'published undefined'],
      );
      assert.deepEqual(store.size, { outbound: 0, inbound: 0 });
    });

    it(`MQTT ${version}: an inbound QoS 2 message delivered before the crash is never delivered again`, () => {
      const store = new MemoryStore();
      const a = new SessionHarness({ protocolVersion: version, store }).connect(false);
      const publish = { type: 'publish', topic: 't', qos: 2, packetId: 7, retain: false } as const;
      a.deliver({ ...publish, dup: false, payload: new Uint8Array(1) });
      assert.deepEqual(a.eventsBrief(), ['message t #7']);
      const b = new SessionHarness({ protocolVersion: version, store });
      b.linkUp();
      b.connack({ sessionPresent: true });
      b.deliver({ ...publish, dup: true, payload: new Uint8Array(1) });
      b.deliver({ type: 'pubrel', packetId: 7 });
      assert.deepEqual(b.sentBrief(), ['PUBREC #7', 'PUBCOMP #7']);
      assert.deepEqual(b.eventsBrief(), ['up present']);
      assert.deepEqual(store.size, { outbound: 0, inbound: 0 });
    });
  }

  it('manual ack: a message the application never acknowledged is delivered again', () => {
    const store = new MemoryStore();
    const a = new SessionHarness({ protocolVersion: 5, store, manualAck: true }).connect(false);
    const publish = { type: 'publish', topic: 't', qos: 2, packetId: 7, retain: false } as const;
    a.deliver({ ...publish, dup: false, payload: new Uint8Array(1) });
    const b = new SessionHarness({ protocolVersion: 5, store, manualAck: true });
    b.linkUp();
    b.connack({ sessionPresent: true });
    b.deliver({ ...publish, dup: true, payload: new Uint8Array(1) });
    assert.deepEqual(b.eventsBrief(), ['up present', 'message t #7 dup']);
  });

  it('resume false (cleanInit, clean) empties the store instead', () => {
    const store = new MemoryStore();
    const a = new SessionHarness({ protocolVersion: 5, store }).connect(false);
    a.publish({ topic: 'a', qos: 1 });
    a.deliver({
      type: 'publish',
      topic: 't',
      qos: 2,
      packetId: 7,
      dup: false,
      retain: false,
      payload: new Uint8Array(1),
    });
    assert.deepEqual(store.size, { outbound: 1, inbound: 1 });
    const b = new SessionHarness({ protocolVersion: 5, store, resume: false });
    b.linkUp(true);
    b.connack();
    assert.deepEqual(b.sentBrief(), []);
    assert.deepEqual(store.size, { outbound: 0, inbound: 0 });
  });

  it('closing the client for good (failAll) leaves nothing stored', () => {
    const store = new MemoryStore();
    const h = offline(5, limits({ maxMessages: 2 }), store);
    h.publish({ topic: 'a', qos: 1 });
    h.publish({ topic: 'b', qos: 2 });
    h.publish({ topic: 'c', qos: 1 }); // parked, never stored
    h.session.close(new MqttError('CLIENT_CLOSED', 'closed'));
    assert.deepEqual(store.size, { outbound: 0, inbound: 0 });
  });
});

function encodePacket(p: Packet): Uint8Array {
  return encode(p, 5);
}
