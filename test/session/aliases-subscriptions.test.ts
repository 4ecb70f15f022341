/**
 * Topic aliases (5.0 3.3.2.3.4), subscriptions across outages, packet ids,
 * and the ways the broker can end a connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet, PublishPacket, QoS, SubscribePacket } from '../../src/codec/types.ts';
import { assertType, SessionHarness, VERSIONS } from './harness.ts';

/** topic + alias of each PUBLISH sent, as `topic@alias` (`~` for an empty topic, no `@` without alias). */
const aliased = (packets: Packet[]) =>
  packets.map((p) => {
    const m = p as PublishPacket;
    const alias = m.properties?.topicAlias;
    return `${m.topic || '~'}${alias === undefined ? '' : `@${alias}`}`;
  });

const inbound = (topic: string, alias?: number, qos: QoS = 0, packetId?: number): PublishPacket => ({
  type: 'publish',
  topic,
  qos,
  packetId,
  dup: false,
  retain: false,
  payload: new Uint8Array(0),
  ...(alias === undefined ? {} : { properties: { topicAlias: alias } }),
});

describe('outbound topic aliases', () => {
  const up = (options = {}, max = 2) =>
    new SessionHarness({ protocolVersion: 5, keepalive: 0, clientId: 'c', ...options }).connect(true, {
      properties: { topicAliasMaximum: max },
    });

  it('topic + alias first, then the alias alone; the least recently used alias is reassigned', () => {
    const h = up();
    for (const topic of ['a', 'a', 'b', 'a', 'c', 'b', 'c']) h.publish({ topic });
    assert.deepEqual(aliased(h.sent()), ['a@1', '~@1', 'b@2', '~@1', 'c@2', 'b@1', '~@2']);
  });

  it('after an outage aliases start over: the re-sent PUBLISH carries its topic', () => {
    const h = up();
    h.publish({ topic: 'a', qos: 1 });
    h.publish({ topic: 'a', qos: 1 });
    assert.deepEqual(aliased(h.sent()), ['a@1', '~@1']);
    h.outage();
    h.connack({ sessionPresent: true, properties: { topicAliasMaximum: 2 } });
    h.publish({ topic: 'a', qos: 1 });
    assert.deepEqual(aliased(h.sent()), ['a@1', '~@1', '~@1']);
  });

  it('after an outage to a broker that allows none, no aliases', () => {
    const h = up();
    h.publish({ topic: 'a', qos: 1 });
    h.outage();
    h.connack({ sessionPresent: true });
    assert.deepEqual(aliased(h.sent()), ['a@1', 'a']);
  });

  it('outboundTopicAliases: false -> never', () => {
    const h = up({ outboundTopicAliases: false });
    for (const topic of ['a', 'a']) h.publish({ topic });
    assert.deepEqual(aliased(h.sent()), ['a', 'a']);
  });

  it('broker Topic Alias Maximum 0 (the default) -> never', () => {
    const h = up({}, 0);
    for (const topic of ['a', 'a']) h.publish({ topic });
    assert.deepEqual(aliased(h.sent()), ['a', 'a']);
  });

  it('a publish that fails (too large) does not leave an alias the broker never learned', () => {
    const h = new SessionHarness({ protocolVersion: 5, keepalive: 0 }).connect(true, {
      properties: { topicAliasMaximum: 2, maximumPacketSize: 50 },
    });
    h.publish({ topic: 'a', payload: new Uint8Array(60) });
    h.publish({ topic: 'a' });
    h.publish({ topic: 'b' });
    h.publish({ topic: 'c', payload: new Uint8Array(60) }); // would evict a
    h.publish({ topic: 'a' });
    h.publish({ topic: 'c' });
    assert.deepEqual(aliased(h.sent()), ['a@1', 'b@2', '~@1', 'c@2']);
    assert.deepEqual(
      h.eventsBrief().filter((e) => e.startsWith('failed')),
      ['failed a PACKET_TOO_LARGE 0x95', 'failed c PACKET_TOO_LARGE 0x95'],
    );
  });
});

describe('inbound topic aliases', () => {
  const up = (max = 2) =>
    new SessionHarness({
      protocolVersion: 5,
      keepalive: 0,
      properties: { topicAliasMaximum: max },
    }).connect();

  it('an alias set with a topic, then used alone, then remapped', () => {
    const h = up();
    for (const p of [inbound('x', 1), inbound('', 1), inbound('y', 1), inbound('', 1)]) h.deliver(p);
    assert.deepEqual(h.eventsBrief(), ['message x', 'message x', 'message y', 'message y']);
  });

  it('unknown alias -> DISCONNECT 0x82, close PROTOCOL_ERROR', () => {
    const h = up();
    h.deliver(inbound('', 2));
    assert.deepEqual(h.sentBrief(), ['DISCONNECT 0x82']);
    assert.deepEqual(h.eventsBrief(), ['close PROTOCOL_ERROR 0x82']);
  });

  it('aliases are forgotten with the connection', () => {
    const h = up();
    h.deliver(inbound('x', 1));
    h.outage();
    h.connack({ sessionPresent: true });
    h.deliver(inbound('', 1));
    assert.deepEqual(h.eventsBrief(), ['message x', 'up present', 'close PROTOCOL_ERROR 0x82']);
  });

  for (const max of [0, 2]) {
    it(`alias above our topicAliasMaximum (${max}) -> DISCONNECT 0x94`, () => {
      const h = up(max);
      h.deliver(inbound('x', max + 1));
      assert.deepEqual(h.sentBrief(), ['DISCONNECT 0x94']);
      assert.deepEqual(h.eventsBrief(), ['close PROTOCOL_ERROR 0x94']);
    });
  }
});

const sub = (topic: string, qos: QoS = 1) => ({ topic, qos });
const suback = (packetId: number, ...reasonCodes: number[]): Packet => ({
  type: 'suback',
  packetId,
  reasonCodes,
});
const subscribes = (packets: Packet[]) =>
  (packets.filter((p) => p.type === 'subscribe') as SubscribePacket[]).map((p) => ({
    topics: p.subscriptions.map((s) => s.topic),
    id: p.properties?.subscriptionIdentifier,
  }));

for (const version of VERSIONS) {
  describe(`subscriptions, MQTT ${version}`, () => {
    const up = () => new SessionHarness({ protocolVersion: version, keepalive: 0, clientId: 'c' }).connect();

    it('SUBSCRIBE / SUBACK -> subscribed with the token and the SUBACK', () => {
      const h = up();
      h.session.subscribe([sub('a/#'), sub('b', 2)], undefined, 'tok');
      assert.deepEqual(h.sentBrief(), ['SUBSCRIBE #1 a/#,b']);
      h.deliver(suback(1, 1, 2));
      const [e] = h.events();
      assertType(e, 'subscribed');
      assert.equal(e.token, 'tok');
      assert.deepEqual(e.suback.reasonCodes, [1, 2]);
    });

    it('SUBSCRIBE while down goes out after CONNACK', () => {
      const h = up();
      h.linkDown();
      h.session.subscribe([sub('a')], undefined, 'tok');
      h.linkUp();
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.sentBrief(), ['SUBSCRIBE #1 a']);
    });

    it('an unanswered SUBSCRIBE is re-sent after an outage, answered once', () => {
      const h = up();
      h.session.subscribe([sub('a')], undefined, 'tok');
      h.outage();
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.sentBrief(), ['SUBSCRIBE #1 a', 'SUBSCRIBE #1 a']);
      h.deliver(suback(1, 1));
      h.deliver(suback(1, 1));
      assert.deepEqual(h.eventsBrief(), ['up present', 'subscribed tok']);
    });

    it('session present: nothing re-subscribed', () => {
      const h = up();
      h.session.subscribe([sub('a')], undefined, 'tok');
      h.deliver(suback(1, 1));
      h.sent();
      h.events();
      h.outage();
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.sent(), []);
      assert.deepEqual(h.eventsBrief(), ['up present']);
    });

    it('session lost: granted subscriptions are made again, refused and unsubscribed ones are not', () => {
      const h = up();
      h.session.subscribe([sub('a'), sub('no'), sub('b')], undefined, 1);
      h.deliver(suback(1, 1, 0x80, 0));
      h.session.subscribe([sub('c')], undefined, 2);
      h.deliver(suback(2, 2));
      h.session.unsubscribe(['b'], undefined, 3);
      h.deliver({ type: 'unsuback', packetId: 3, reasonCodes: version === 5 ? [0] : [] });
      assert.deepEqual(h.eventsBrief(), ['subscribed 1', 'subscribed 2', 'unsubscribed 3']);
      h.sent();
      h.outage();
      h.connack({ sessionPresent: false });
      assert.deepEqual(h.eventsBrief(), ['up resubscribe']);
      const [again] = h.sent();
      assertType(again, 'subscribe');
      assert.deepEqual(
        again.subscriptions.map((s) => [s.topic, s.qos]),
        [
          ['a', 1],
          ['c', 1],
        ],
      );
      // The session's own SUBACK is not reported to the application.
      h.deliver(suback(again.packetId, 1, 1));
      assert.deepEqual(h.events(), []);
    });

    it('a filter the broker now refuses is forgotten, not retried forever', () => {
      const h = up();
      h.session.subscribe([sub('a'), sub('b')], undefined, 1);
      h.deliver(suback(1, 1, 1));
      h.sent();
      h.outage();
      h.connack();
      const [first] = h.sent().filter((p) => p.type === 'subscribe') as SubscribePacket[];
      h.deliver(suback(first.packetId, version === 5 ? 0x87 : 0x80, 1));
      h.outage();
      h.connack();
      assert.deepEqual(subscribes(h.sent()), [{ topics: ['b'], id: undefined }]);
    });

    it('a pending UNSUBSCRIBE is re-sent after the re-subscription', () => {
      const h = up();
      h.session.subscribe([sub('a')], undefined, 1);
      h.deliver(suback(1, 1));
      h.session.unsubscribe(['a'], undefined, 2);
      h.sent();
      h.outage();
      h.connack();
      // Id 1 was released at SUBACK; the re-subscription takes a new one.
      assert.deepEqual(h.sentBrief(), ['SUBSCRIBE #3 a', 'UNSUBSCRIBE #2 a']);
    });
  });
}

describe('subscriptions, MQTT 5', () => {
  it('re-subscription is grouped by subscription identifier', () => {
    const h = new SessionHarness({ protocolVersion: 5, keepalive: 0, clientId: 'c' }).connect();
    h.session.subscribe([sub('a'), sub('b')], { subscriptionIdentifier: 7 }, 1);
    h.session.subscribe([sub('c')], undefined, 2);
    h.session.subscribe([sub('d')], { subscriptionIdentifier: 7 }, 3);
    h.session.subscribe([sub('e')], { subscriptionIdentifier: 9 }, 4);
    h.deliver(suback(1, 1, 1));
    h.deliver(suback(2, 1));
    h.deliver(suback(3, 1));
    h.deliver(suback(4, 1));
    h.sent();
    h.outage();
    h.connack();
    assert.deepEqual(subscribes(h.sent()), [
      { topics: ['a', 'b', 'd'], id: 7 },
      { topics: ['c'], id: undefined },
      { topics: ['e'], id: 9 },
    ]);
  });
});

for (const version of VERSIONS) {
  describe(`packet ids, MQTT ${version}`, () => {
    it('70,000 QoS 1 publishes acked in a rolling window: no id in use twice, ids wrap', () => {
      const h = new SessionHarness({ protocolVersion: version, keepalive: 0 }).connect();
      const window: number[] = [];
      const inUse = new Set<number>();
      let wrapped = false;
      let last = 0;
      for (let i = 0; i < 70_000; i++) {
        h.publish({ topic: 't', qos: 1 }, i);
        for (const p of h.sent()) {
          const id = (p as PublishPacket).packetId!;
          assert.ok(!inUse.has(id), `id ${id} reused while in flight`);
          if (id < last) wrapped = true;
          last = id;
          inUse.add(id);
          window.push(id);
        }
        // Ack out of order now and then: the oldest but one. 16 stays within the
        // 3.1.1 send quota (MQTT3_SEND_QUOTA), so every publish goes out at once.
        if (window.length > 16) {
          const id = window.splice(i % 7 === 0 ? 1 : 0, 1)[0];
          inUse.delete(id);
          h.deliver({ type: 'puback', packetId: id });
        }
      }
      assert.ok(wrapped, 'ids wrapped past 65,535');
      assert.equal(h.session.stats.inflight, 16);
      assert.equal(h.events().length, 70_000 - 16);
    });

    it('ids are kept across reconnects, and new ones do not collide with them', () => {
      const h = new SessionHarness({ protocolVersion: version, keepalive: 0, clientId: 'c' }).connect();
      h.publish({ topic: 'a', qos: 1 });
      h.publish({ topic: 'b', qos: 2 });
      h.session.subscribe([sub('s')], undefined, 's');
      h.deliver({ type: 'puback', packetId: 1 });
      h.sent();
      h.outage();
      h.publish({ topic: 'c', qos: 1 });
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.sentBrief(), ['SUBSCRIBE #3 s', 'PUBLISH b #2 dup', 'PUBLISH c #4']);
    });
  });
}

for (const version of VERSIONS) {
  describe(`the broker ends the connection, MQTT ${version}`, () => {
    const up = () => new SessionHarness({ protocolVersion: version, keepalive: 0 }).connect();
    const malformed: [string, number[]][] = [
      ['reserved packet type 0', [0x00, 0x00]],
      ['PUBREL with wrong fixed header flags', [0x60, 0x02, 0x00, 0x01]],
      ['PUBACK cut short', [0x40, 0x01, 0x00]],
      ['remaining length of 5 bytes', [0x30, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ['PUBLISH with QoS 3', [0x36, 0x03, 0x00, 0x01, 0x61]],
    ];
    for (const [name, bytes] of malformed) {
      it(`malformed (${name}) -> close MALFORMED_PACKET${version === 5 ? ', DISCONNECT 0x81' : ''}`, () => {
        const h = up();
        h.deliverBytes(new Uint8Array(bytes), { split: true });
        assert.deepEqual(h.sentBrief(), version === 5 ? ['DISCONNECT 0x81'] : []);
        assert.deepEqual(h.eventsBrief(), ['close MALFORMED_PACKET 0x81']);
        h.deliver({ type: 'pingresp' });
        assert.deepEqual(h.events(), []);
      });
    }

    for (const packet of [
      { type: 'pingreq' },
      { type: 'subscribe', packetId: 1, subscriptions: [sub('x')] },
    ] as Packet[]) {
      it(`${packet.type.toUpperCase()} from the broker -> close PROTOCOL_ERROR`, () => {
        const h = up();
        h.deliver(packet);
        assert.deepEqual(h.sentBrief(), version === 5 ? ['DISCONNECT 0x82'] : []);
        assert.deepEqual(h.eventsBrief(), ['close PROTOCOL_ERROR 0x82']);
      });
    }
  });
}

describe('server DISCONNECT, MQTT 5', () => {
  it('server-disconnect then close, with the reason code and string', () => {
    const h = new SessionHarness({ protocolVersion: 5 }).connect();
    h.deliver({ type: 'disconnect', reasonCode: 0x8b, properties: { reasonString: 'maintenance' } });
    const events = h.events();
    assert.deepEqual(
      events.map((e) => e.type),
      ['server-disconnect', 'close'],
    );
    const [server, close] = events;
    assertType(server, 'server-disconnect');
    assertType(close, 'close');
    assert.equal(server.disconnect.reasonCode, 0x8b);
    assert.equal(close.error.code, 'CONNECTION_LOST');
    assert.equal(close.error.reasonCode, 0x8b);
    assert.match(close.error.message, /maintenance/);
    assert.deepEqual(h.sent(), []);
    assert.equal(h.session.state, 'closing');
  });

  it('input after the DISCONNECT is ignored until the link is down', () => {
    const h = new SessionHarness({ protocolVersion: 5 }).connect();
    h.deliver({ type: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'b:1883' } });
    h.deliver(inbound('t', undefined, 1, 1));
    assert.deepEqual(h.sent(), []);
    assert.deepEqual(h.eventsBrief(), [
      'server-disconnect 0x9c',
      'redirect b:1883',
      'close CONNECTION_LOST 0x9c',
    ]);
  });

  it('0x9D Server moved with a reference is a permanent redirect; without a reference, none', () => {
    const h = new SessionHarness({ protocolVersion: 5 }).connect();
    h.deliver({ type: 'disconnect', reasonCode: 0x9d, properties: { serverReference: 'c:1884 d:1885' } });
    assert.deepEqual(h.eventsBrief(), [
      'server-disconnect 0x9d',
      'redirect c:1884 d:1885 permanent',
      'close CONNECTION_LOST 0x9d',
    ]);
    const g = new SessionHarness({ protocolVersion: 5 }).connect();
    g.deliver({ type: 'disconnect', reasonCode: 0x9c });
    assert.deepEqual(g.eventsBrief(), ['server-disconnect 0x9c', 'close CONNECTION_LOST 0x9c']);
  });

  it('a CONNACK refusal 0x9C with a reference redirects before the close', () => {
    const h = new SessionHarness({ protocolVersion: 5 });
    h.linkUp();
    h.deliver({
      type: 'connack',
      sessionPresent: false,
      reasonCode: 0x9c,
      properties: { serverReference: 'other' },
    });
    assert.deepEqual(h.eventsBrief(), ['redirect other', 'close CONNECTION_REFUSED 0x9c']);
  });
});
