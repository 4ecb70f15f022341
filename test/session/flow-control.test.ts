/**
 * Flow control and the broker's limits (MQTT 5 unless noted): Receive Maximum
 * both ways (5.0 4.9), Maximum Packet Size, Maximum QoS, Retain Available,
 * refusals in acks, and Message Expiry of messages that waited in the queue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Properties, PublishPacket, QoS } from '../../src/codec/types.ts';
import { DEFAULT_MAX_INFLIGHT, MQTT3_SEND_QUOTA } from '../../src/session/session.ts';
import { assertType, SessionHarness, VERSIONS } from './harness.ts';

const up = (connack: Properties = {}, options = {}) =>
  new SessionHarness({ protocolVersion: 5, keepalive: 0, ...options }).connect(true, { properties: connack });

const inbound = (topic: string, qos: QoS, packetId?: number): PublishPacket => ({
  type: 'publish',
  topic,
  qos,
  packetId,
  dup: false,
  retain: false,
  payload: new Uint8Array(0),
});

describe("the broker's Receive Maximum", () => {
  it('bounds QoS 1 and 2 in flight: 2 PUBLISH until an ack, then the next', () => {
    const h = up({ receiveMaximum: 2 });
    for (const [topic, qos] of [
      ['a', 1],
      ['b', 2],
      ['c', 1],
      ['d', 1],
    ] as const)
      h.publish({ topic, qos });
    assert.deepEqual(h.sentBrief(), ['PUBLISH a #1', 'PUBLISH b #2']);
    h.deliver({ type: 'puback', packetId: 1 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH c #3']);
    // A QoS 2 message holds its place until PUBCOMP, not PUBREC.
    h.deliver({ type: 'pubrec', packetId: 2 });
    assert.deepEqual(h.sentBrief(), ['PUBREL #2']);
    h.deliver({ type: 'pubcomp', packetId: 2 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH d #4']);
    assert.deepEqual(h.eventsBrief(), ['published a', 'published b']);
  });

  it('QoS 0 is not counted, but keeps its place in the queue', () => {
    const h = up({ receiveMaximum: 1 });
    h.publish({ topic: 'a', qos: 1 });
    h.publish({ topic: 'z', qos: 0 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH a #1', 'PUBLISH z']);
    h.publish({ topic: 'b', qos: 1 });
    h.publish({ topic: 'y', qos: 0 });
    assert.deepEqual(h.sentBrief(), []);
    h.deliver({ type: 'puback', packetId: 1 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH b #2', 'PUBLISH y']);
  });

  it('bounds the re-sends after an outage too (a smaller Receive Maximum on the new connection)', () => {
    const h = new SessionHarness({ protocolVersion: 5, clientId: 'c' }).connect();
    for (const topic of ['a', 'b', 'c']) h.publish({ topic, qos: 1 });
    h.sent();
    h.outage();
    h.publish({ topic: 'd', qos: 1 });
    h.connack({ sessionPresent: true, properties: { receiveMaximum: 1 } });
    assert.deepEqual(h.sentBrief(), ['PUBLISH a #1 dup']);
    h.deliver({ type: 'puback', packetId: 1 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH b #2 dup']);
    h.deliver({ type: 'puback', packetId: 2 });
    h.deliver({ type: 'puback', packetId: 3 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH c #3 dup', 'PUBLISH d #4']);
  });
});

describe('the default in-flight cap (no Receive Maximum announced)', () => {
  const sendMany = (h: SessionHarness, n: number) => {
    for (let i = 0; i < n; i++) h.publish({ topic: `t${i}`, qos: (1 + (i % 2)) as QoS });
    return h.sent().length;
  };

  it(`holds DEFAULT_MAX_INFLIGHT (${DEFAULT_MAX_INFLIGHT}) QoS 1/2 in flight, then one per finished flow`, () => {
    const h = up();
    assert.equal(sendMany(h, DEFAULT_MAX_INFLIGHT + 5), DEFAULT_MAX_INFLIGHT);
    h.deliver({ type: 'puback', packetId: 1 });
    assert.deepEqual(h.sentBrief(), [`PUBLISH t${DEFAULT_MAX_INFLIGHT} #${DEFAULT_MAX_INFLIGHT + 1}`]);
    // A QoS 2 flow frees its place at PUBCOMP, not at PUBREC.
    h.deliver({ type: 'pubrec', packetId: 2 });
    assert.deepEqual(h.sentBrief(), ['PUBREL #2']);
    h.deliver({ type: 'pubcomp', packetId: 2 });
    assert.deepEqual(h.sentBrief(), [`PUBLISH t${DEFAULT_MAX_INFLIGHT + 1} #${DEFAULT_MAX_INFLIGHT + 2}`]);
  });

  it('applies to an announced 65,535 too, and maxInflight sets it', () => {
    assert.equal(sendMany(up({ receiveMaximum: 65_535 }), DEFAULT_MAX_INFLIGHT + 5), DEFAULT_MAX_INFLIGHT);
    assert.equal(sendMany(up({}, { maxInflight: 7 }), 20), 7);
    assert.equal(sendMany(up({}, { maxInflight: 1_000 }), 1_200), 1_000);
  });

  it('does not apply when the broker announces a Receive Maximum, larger or smaller', () => {
    assert.equal(sendMany(up({ receiveMaximum: 300 }), 400), 300);
    assert.equal(sendMany(up({ receiveMaximum: 300 }, { maxInflight: 7 }), 400), 300);
    assert.equal(sendMany(up({ receiveMaximum: 3 }), 10), 3);
  });
});

describe('MQTT 3.1.1 send quota', () => {
  it(`at most MQTT3_SEND_QUOTA (${MQTT3_SEND_QUOTA}) QoS 1/2 in flight, as the broker cannot say its own`, () => {
    const h = new SessionHarness({ protocolVersion: 4, keepalive: 0 }).connect();
    for (let i = 0; i < MQTT3_SEND_QUOTA + 2; i++) h.publish({ topic: `t${i}`, qos: 1 });
    assert.equal(h.sent().length, MQTT3_SEND_QUOTA);
    h.deliver({ type: 'puback', packetId: 1 });
    assert.deepEqual(h.sentBrief(), [`PUBLISH t${MQTT3_SEND_QUOTA} #${MQTT3_SEND_QUOTA + 1}`]);
  });
});

describe('our Receive Maximum', () => {
  it('exceeded by the broker: counted, not a disconnect (Mosquitto 2.0 exceeds it when it resumes a session)', () => {
    const h = up({}, { properties: { receiveMaximum: 2 } });
    h.deliver(inbound('t', 2, 1));
    h.deliver(inbound('t', 2, 2));
    h.deliver({ type: 'pubrel', packetId: 1 });
    h.deliver(inbound('t', 2, 3)); // 2 held: fine
    assert.deepEqual(h.sentBrief(), ['PUBREC #1', 'PUBREC #2', 'PUBCOMP #1', 'PUBREC #3']);
    assert.equal(h.session.stats.receiveMaximumExceeded, 0);
    h.deliver(inbound('t', 2, 4));
    assert.deepEqual(h.sentBrief(), ['PUBREC #4']);
    assert.equal(h.session.stats.receiveMaximumExceeded, 1);
    assert.equal(h.session.stats.peakOverReceiveMaximum, 3);
    const events = h.eventsBrief();
    assert.equal(events.filter((e) => e.startsWith('message')).length, 4);
    assert.equal(h.session.state, 'up');
  });

  it('QoS 2 ids held from the last connection do not count: the quota is per connection (5.0 4.9)', () => {
    const h = new SessionHarness({
      protocolVersion: 5,
      keepalive: 0,
      properties: { receiveMaximum: 2 },
    }).connect();
    h.deliver(inbound('t', 2, 1));
    h.deliver(inbound('t', 2, 2));
    h.outage();
    h.connack({ sessionPresent: true });
    // The broker's send quota restarts at 2: two new PUBLISH before the old PUBRELs is allowed.
    h.deliver(inbound('u', 2, 3));
    h.deliver(inbound('u', 2, 4));
    h.deliver({ type: 'pubrel', packetId: 1 });
    h.deliver({ type: 'pubrel', packetId: 2 });
    assert.deepEqual(h.sentBrief(), [
      'PUBREC #1',
      'PUBREC #2',
      'PUBREC #3',
      'PUBREC #4',
      'PUBCOMP #1',
      'PUBCOMP #2',
    ]);
    assert.equal(h.session.stats.receiveMaximumExceeded, 0);
    h.deliver(inbound('u', 2, 5));
    assert.deepEqual(h.sentBrief(), ['PUBREC #5']);
    assert.equal(h.session.stats.receiveMaximumExceeded, 1);
  });

  it('a PUBLISH re-sent on the new connection counts there, as the broker counts it', () => {
    const h = new SessionHarness({
      protocolVersion: 5,
      keepalive: 0,
      manualAck: true,
      properties: { receiveMaximum: 2 },
    }).connect();
    h.deliver(inbound('t', 2, 1));
    h.deliver(inbound('t', 2, 2));
    h.outage();
    h.connack({ sessionPresent: true });
    h.deliver({ ...inbound('t', 2, 1), dup: true });
    h.deliver({ ...inbound('t', 2, 2), dup: true });
    h.deliver({ ...inbound('t', 2, 1), dup: true });
    assert.deepEqual(h.sentBrief(), []);
    assert.equal(h.session.stats.receiveMaximumExceeded, 0);
    h.deliver(inbound('u', 2, 3));
    assert.equal(h.session.stats.receiveMaximumExceeded, 1);
  });

  it('auto-acked QoS 1 does not count; manually acked QoS 1 does until acknowledged', () => {
    const h = up({}, { properties: { receiveMaximum: 2 } });
    for (let id = 1; id <= 5; id++) h.deliver(inbound('t', 1, id));
    assert.equal(h.sent().length, 5);
    const m = up({}, { properties: { receiveMaximum: 2 }, manualAck: true });
    m.deliver(inbound('t', 1, 1));
    m.deliver(inbound('t', 1, 2));
    m.session.acknowledge(1, 1, m.session.generation);
    m.deliver(inbound('t', 1, 3));
    assert.deepEqual(m.sentBrief(), ['PUBACK #1']);
    assert.equal(m.session.stats.receiveMaximumExceeded, 0);
    m.deliver(inbound('t', 1, 4));
    assert.equal(m.session.stats.receiveMaximumExceeded, 1);
  });

  it('MQTT 3.1.1 has no Receive Maximum', () => {
    const h = new SessionHarness({ protocolVersion: 4, properties: { receiveMaximum: 1 } }).connect();
    for (let id = 1; id <= 3; id++) h.deliver(inbound('t', 2, id));
    assert.deepEqual(h.sentBrief(), ['PUBREC #1', 'PUBREC #2', 'PUBREC #3']);
  });
});

describe('Maximum Packet Size', () => {
  it('an oversized publish fails with PACKET_TOO_LARGE, nothing is sent, the next one goes', () => {
    const h = up({ maximumPacketSize: 100 });
    h.publish({ topic: 'big', qos: 1, payload: new Uint8Array(100) });
    h.publish({ topic: 'small', qos: 1, payload: new Uint8Array(10) });
    const [sent] = h.sent();
    assert.equal(sent.type === 'publish' && sent.topic, 'small');
    const [failed, ...rest] = h.events();
    assertType(failed, 'publish-failed');
    assert.equal(failed.token, 'big');
    assert.equal(failed.error.code, 'PACKET_TOO_LARGE');
    assert.equal(failed.error.side, 'local');
    assert.deepEqual(rest, []);
    h.deliver({ type: 'puback', packetId: (sent as PublishPacket).packetId! });
    assert.deepEqual(h.eventsBrief(), ['published small']);
    assert.equal(h.session.stats.inflight, 0);
  });

  it('a packet of exactly the maximum goes', () => {
    // 2 + (2 + 1 topic) + 2 id + 1 property length + payload = 100
    const h = up({ maximumPacketSize: 100 });
    h.publish({ topic: 't', qos: 1, payload: new Uint8Array(92) });
    assert.equal(h.sent().length, 1);
  });

  it('a broker packet above our maximum -> DISCONNECT 0x95 and close PACKET_TOO_LARGE', () => {
    const h = up({}, { properties: { maximumPacketSize: 64 } });
    h.deliver({ ...inbound('t', 0), payload: new Uint8Array(64) });
    assert.deepEqual(h.sentBrief(), ['DISCONNECT 0x95']);
    assert.deepEqual(h.eventsBrief(), ['close PACKET_TOO_LARGE 0x95']);
  });
});

describe("the broker's Maximum QoS and Retain Available", () => {
  it('maximumQoS 1: a QoS 2 publish fails with REFUSED 0x9B, QoS 1 goes', () => {
    const h = up({ maximumQoS: 1 });
    h.publish({ topic: 'two', qos: 2 });
    h.publish({ topic: 'one', qos: 1 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH one #1']);
    assert.deepEqual(h.eventsBrief(), ['failed two REFUSED 0x9b']);
  });

  it('maximumQoS 0: QoS 1 fails too', () => {
    const h = up({ maximumQoS: 0 });
    h.publish({ topic: 'one', qos: 1 });
    h.publish({ topic: 'zero', qos: 0 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH zero']);
    assert.deepEqual(h.eventsBrief(), ['failed one REFUSED 0x9b', 'published zero']);
  });

  it('retainAvailable false: a retained publish fails with REFUSED 0x9A', () => {
    const h = up({ retainAvailable: false });
    h.publish({ topic: 'kept', qos: 1, retain: true });
    h.publish({ topic: 'plain', qos: 1 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH plain #1']);
    assert.deepEqual(h.eventsBrief(), ['failed kept REFUSED 0x9a']);
  });
});

describe('refusals in acks', () => {
  it('PUBACK with a reason >= 0x80 -> publish-failed REFUSED with the reason code', () => {
    const h = up();
    h.publish({ topic: 'a', qos: 1 });
    h.deliver({ type: 'puback', packetId: 1, reasonCode: 0x87, properties: { reasonString: 'no' } });
    const [failed] = h.events();
    assertType(failed, 'publish-failed');
    assert.equal(failed.error.code, 'REFUSED');
    assert.equal(failed.error.reasonCode, 0x87);
    assert.equal(failed.error.side, 'remote');
    assert.match(failed.error.message, /no/);
    assert.equal(h.session.stats.inflight, 0);
  });

  it('PUBACK 0x10 (no matching subscribers) is a success', () => {
    const h = up();
    h.publish({ topic: 'a', qos: 1 });
    h.deliver({ type: 'puback', packetId: 1, reasonCode: 0x10 });
    assert.deepEqual(h.eventsBrief(), ['published a 0x10']);
  });

  it('a refused PUBREC frees the slot for the next message', () => {
    const h = up({ receiveMaximum: 1 });
    h.publish({ topic: 'a', qos: 2 });
    h.publish({ topic: 'b', qos: 2 });
    h.deliver({ type: 'pubrec', packetId: 1, reasonCode: 0x97 });
    assert.deepEqual(h.sentBrief(), ['PUBLISH a #1', 'PUBLISH b #2']);
    assert.deepEqual(h.eventsBrief(), ['failed a REFUSED 0x97']);
  });
});

describe('message expiry', () => {
  const expiring = (h: SessionHarness, topic: string, seconds: number) =>
    h.publish({ topic, qos: 1, properties: { messageExpiryInterval: seconds } });
  const expiryOf = (p: { type: string }) => (p as PublishPacket).properties?.messageExpiryInterval;

  it('a message queued while down longer than its expiry fails; a younger one goes with the time waited taken off', () => {
    const h = new SessionHarness({ protocolVersion: 5, keepalive: 0, clientId: 'c' }).connect();
    h.linkDown();
    expiring(h, 'old', 10);
    h.advance(5_000);
    expiring(h, 'young', 60);
    h.advance(10_500);
    h.linkUp();
    h.connack({ sessionPresent: true });
    const sent = h.sent();
    assert.deepEqual(
      sent.map((p) => (p as PublishPacket).topic),
      ['young'],
    );
    assert.equal(expiryOf(sent[0]), 50);
    const [failed] = h.events().filter((e) => e.type === 'publish-failed');
    assertType(failed, 'publish-failed');
    assert.equal(failed.token, 'old');
    assert.equal(failed.error.code, 'TIMEOUT');
  });

  it('sent at once: the interval is unchanged', () => {
    const h = up();
    expiring(h, 'now', 30);
    assert.equal(expiryOf(h.sent()[0]), 30);
  });

  for (const version of VERSIONS) {
    it(`MQTT ${version}: a message without expiry waits any time`, () => {
      const h = new SessionHarness({ protocolVersion: version, keepalive: 0 });
      h.publish({ topic: 'patient', qos: 1 });
      h.advance(7 * 24 * 3_600_000);
      h.connect();
      h.linkDown();
      h.linkUp();
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.sentBrief(), ['PUBLISH patient #1 dup']);
    });
  }
});
