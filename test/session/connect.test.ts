/**
 * CONNECT and CONNACK: what the session sends when the link comes up, and
 * every way the broker can answer (or not).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/codec/types.ts';
import { assertType, hex, SessionHarness, VERSIONS } from './harness.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const will = { topic: 'status/dev1', payload: bytes('gone'), qos: 1 as const, retain: true };

describe('CONNECT', () => {
  for (const version of VERSIONS) {
    it(`MQTT ${version}: defaults`, () => {
      const h = new SessionHarness({ protocolVersion: version, clientId: undefined });
      assert.deepEqual(h.linkUp(true), {
        type: 'connect',
        protocolVersion: version,
        clientId: '',
        clean: true,
        keepalive: 60,
      });
      assert.equal(h.session.state, 'connecting');
    });

    it(`MQTT ${version}: client id, keepalive, will, username and password`, () => {
      const h = new SessionHarness({
        protocolVersion: version,
        clientId: 'dev1',
        keepalive: 15,
        username: 'user',
        password: bytes('secret'),
        will,
      });
      const connect = h.linkUp(false);
      assert.deepEqual(connect, {
        type: 'connect',
        protocolVersion: version,
        clientId: 'dev1',
        clean: false,
        keepalive: 15,
        username: 'user',
        password: bytes('secret'),
        will,
      });
    });
  }

  it('MQTT 5: CONNECT and will properties are sent', () => {
    const properties = {
      sessionExpiryInterval: 3600,
      receiveMaximum: 10,
      maximumPacketSize: 4096,
      topicAliasMaximum: 5,
      userProperties: { site: 'lab' },
    };
    const willProps = { ...will, properties: { willDelayInterval: 30, messageExpiryInterval: 60 } };
    const h = new SessionHarness({ protocolVersion: 5, clientId: 'c', properties, will: willProps });
    const connect = h.linkUp(false);
    assert.deepEqual(connect.properties, properties);
    assert.deepEqual(connect.will, willProps);
  });

  it('MQTT 3.1.1: properties are left out', () => {
    const h = new SessionHarness({
      protocolVersion: 4,
      clientId: 'c',
      properties: { sessionExpiryInterval: 9 },
    });
    assert.equal(h.linkUp(false).properties, undefined);
  });
});

describe('CONNACK', () => {
  for (const version of VERSIONS) {
    it(`MQTT ${version}: success brings the session up`, () => {
      const h = new SessionHarness({ protocolVersion: version });
      h.linkUp(true);
      h.connack();
      assert.equal(h.session.state, 'up');
      assert.deepEqual(h.eventsBrief(), ['up']);
      assert.deepEqual(h.sent(), []);
      assert.equal(h.session.nextDeadline(), h.now + 60_000);
    });

    it(`MQTT ${version}: session present after our clean start`, () => {
      const h = new SessionHarness({ protocolVersion: version, clientId: 'c' });
      h.linkUp(true);
      h.connack({ sessionPresent: true });
      if (version === 5) {
        // MQTT 5: the client must close [MQTT-3.2.2-4], with DISCONNECT Protocol Error.
        assert.deepEqual(h.sentBrief(), ['DISCONNECT 0x82']);
        assert.deepEqual(h.eventsBrief(), ['close PROTOCOL_ERROR 0x82']);
        assert.equal(h.session.state, 'closing');
      } else {
        // 3.1.1 leaves it to the client: the session is ours to rebuild, so it counts as new.
        assert.deepEqual(h.eventsBrief(), ['up']);
        assert.equal(h.session.state, 'up');
      }
    });

    it(`MQTT ${version}: session present after clean start false`, () => {
      const h = new SessionHarness({ protocolVersion: version, clientId: 'c' });
      h.linkUp(false);
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.eventsBrief(), ['up present']);
    });

    it(`MQTT ${version}: session present is false after a clean start, whatever the broker says`, () => {
      const h = new SessionHarness({ protocolVersion: version, clientId: 'c' });
      h.linkUp(true);
      h.connack({ sessionPresent: true });
      const [up] = h.events();
      assert.equal(up.type === 'up' && up.sessionPresent, false);
    });
  }

  const refusals: [4 | 5, number[]][] = [
    [4, [1, 2, 3, 4, 5]],
    [
      5,
      [0x80, 0x81, 0x82, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x9c, 0x9d, 0x9f],
    ],
  ];
  for (const [version, codes] of refusals) {
    for (const code of codes) {
      it(`MQTT ${version}: refusal ${hex(code)} -> close CONNECTION_REFUSED`, () => {
        const h = new SessionHarness({ protocolVersion: version });
        h.linkUp(true);
        h.connack({ reasonCode: code });
        const events = h.events();
        assert.deepEqual(
          events.map((e) => e.type),
          ['close'],
        );
        const [close] = events;
        assertType(close, 'close');
        assert.equal(close.error.code, 'CONNECTION_REFUSED');
        assert.equal(close.error.reasonCode, code);
        assert.equal(close.error.side, 'remote');
        assert.equal(h.session.state, 'closing');
        assert.equal(h.session.nextDeadline(), Number.POSITIVE_INFINITY);
        // Until the host takes the link down, further input is ignored.
        h.connack();
        h.advance(120_000);
        assert.deepEqual(h.events(), []);
        assert.deepEqual(h.sent(), []);
      });
    }
  }

  it('MQTT 5: the reason string is part of the refusal message', () => {
    const h = new SessionHarness({ protocolVersion: 5 });
    h.linkUp(true);
    h.connack({ reasonCode: 0x86, properties: { reasonString: 'bad password' } });
    const [close] = h.events();
    assertType(close, 'close');
    assert.match(close.error.message, /bad password/);
  });

  for (const version of VERSIONS) {
    it(`MQTT ${version}: a refused connection keeps queued messages for the next one`, () => {
      const h = new SessionHarness({ protocolVersion: version, clientId: 'c' });
      h.publish({ topic: 'a', qos: 1 });
      h.linkUp(false);
      h.connack({ reasonCode: version === 5 ? 0x88 : 3 });
      h.linkDown();
      h.linkUp(false);
      h.connack();
      assert.deepEqual(h.sentBrief(), ['PUBLISH a #1']);
    });

    it(`MQTT ${version}: no CONNACK within connectTimeout (default 30 s) -> close TIMEOUT`, () => {
      const h = new SessionHarness({ protocolVersion: version });
      h.linkUp(true);
      assert.equal(h.session.nextDeadline(), h.now + 30_000);
      h.advance(29_999);
      assert.deepEqual(h.events(), []);
      h.advance(1);
      assert.deepEqual(h.eventsBrief(), ['close TIMEOUT']);
      assert.equal(h.session.state, 'closing');
      assert.deepEqual(h.sent(), []);
    });

    it(`MQTT ${version}: a configured connectTimeout, restarted by each linkUp`, () => {
      const h = new SessionHarness({ protocolVersion: version, connectTimeout: 5_000 });
      h.linkUp(true);
      h.advance(4_000);
      h.outage(true);
      h.advance(4_000);
      assert.deepEqual(h.events(), []);
      h.advance(1_000);
      assert.deepEqual(h.eventsBrief(), ['close TIMEOUT']);
    });

    it(`MQTT ${version}: a CONNACK in time cancels the timeout`, () => {
      const h = new SessionHarness({ protocolVersion: version, connectTimeout: 5_000, keepalive: 0 });
      h.linkUp(true);
      h.advance(4_999);
      h.connack();
      h.advance(60_000);
      assert.deepEqual(h.eventsBrief(), ['up']);
    });

    const notConnack: Packet[] = [
      { type: 'publish', topic: 't', qos: 0, dup: false, retain: false, payload: new Uint8Array(0) },
      { type: 'puback', packetId: 1 },
      { type: 'pubrel', packetId: 1 },
      { type: 'suback', packetId: 1, reasonCodes: [0] },
      { type: 'pingresp' },
      { type: 'disconnect' },
    ];
    for (const packet of notConnack) {
      it(`MQTT ${version}: ${packet.type.toUpperCase()} before CONNACK -> close PROTOCOL_ERROR`, () => {
        const h = new SessionHarness({ protocolVersion: version });
        h.linkUp(true);
        h.deliver(packet);
        const events = h.events();
        assert.deepEqual(
          events.map((e) => e.type),
          ['close'],
        );
        assertType(events[0], 'close');
        assert.equal(events[0].error.code, 'PROTOCOL_ERROR');
        assert.equal(events[0].error.side, 'remote');
        assert.equal(h.session.state, 'closing');
        // The rest of the chunk is not looked at.
        h.connack();
        assert.deepEqual(h.events(), []);
      });
    }
  }

  it('MQTT 5: AUTH before CONNACK is passed on, then CONNACK brings the session up', () => {
    const h = new SessionHarness({ protocolVersion: 5, properties: { authenticationMethod: 'SCRAM' } });
    h.linkUp(true);
    h.deliver({ type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM' } });
    assert.deepEqual(h.eventsBrief(), ['auth']);
    h.session.auth(0x18, { authenticationMethod: 'SCRAM', authenticationData: bytes('proof') });
    assert.deepEqual(h.sentBrief(), ['AUTH 0x18']);
    h.connack({ properties: { authenticationMethod: 'SCRAM' } });
    assert.deepEqual(h.eventsBrief(), ['up']);
  });

  it('MQTT 3.1.1: an empty client id cannot keep a session: linkUp throws INVALID_ARGUMENT', () => {
    const h = new SessionHarness({ protocolVersion: 4, clientId: '' });
    assert.throws(() => h.linkUp(false), { code: 'INVALID_ARGUMENT' });
  });

  it('MQTT 5: an assigned client id is used for the next CONNECT', () => {
    const h = new SessionHarness({ protocolVersion: 5, clientId: '' });
    assert.equal(h.linkUp(true).clientId, '');
    h.connack({ properties: { assignedClientIdentifier: 'auto-42' } });
    assert.equal(h.session.clientId, 'auto-42');
    assert.equal(h.outage(false).clientId, 'auto-42');
    h.connack({ sessionPresent: true });
    assert.equal(h.outage(false).clientId, 'auto-42');
  });

  it('MQTT 5: the server keepalive overrides ours', () => {
    const h = new SessionHarness({ protocolVersion: 5, keepalive: 60 });
    h.linkUp(true);
    h.connack({ properties: { serverKeepAlive: 10 } });
    assert.equal(h.session.server?.keepalive, 10);
    assert.equal(h.session.nextDeadline(), h.now + 10_000);
    h.advance(10_000);
    assert.deepEqual(h.sentBrief(), ['PINGREQ']);
    // The next connection without Server Keep Alive uses ours again.
    h.outage();
    h.connack();
    assert.equal(h.session.server?.keepalive, 60);
    assert.equal(h.session.nextDeadline(), h.now + 60_000);
  });

  it('MQTT 5: the broker capabilities, with the spec defaults filled in', () => {
    const h = new SessionHarness({ protocolVersion: 5 });
    h.linkUp(true);
    h.connack();
    assert.deepEqual(h.session.server, {
      receiveMaximum: 65_535,
      maximumPacketSize: 268_435_460,
      maximumQoS: 2,
      retainAvailable: true,
      topicAliasMaximum: 0,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
      keepalive: 60,
    });
    h.outage();
    h.connack({ properties: { maximumQoS: 1, retainAvailable: false, serverReference: 'other:1883' } });
    assert.equal(h.session.server?.maximumQoS, 1);
    assert.equal(h.session.server?.retainAvailable, false);
    assert.equal(h.session.server?.serverReference, 'other:1883');
  });

  for (const version of VERSIONS) {
    it(`MQTT ${version}: linkUp while up starts a new connection`, () => {
      const h = new SessionHarness({ protocolVersion: version, clientId: 'c' }).connect();
      h.publish({ topic: 'a', qos: 1 });
      h.sent();
      h.linkUp(false);
      assert.equal(h.session.state, 'connecting');
      h.connack({ sessionPresent: true });
      assert.deepEqual(h.sentBrief(), ['PUBLISH a #1 dup']);
    });

    it(`MQTT ${version}: closing (after a close event) nothing is written until the next connection`, () => {
      const h = new SessionHarness({ protocolVersion: version, keepalive: 10, manualAck: true }).connect();
      h.deliver({
        type: 'publish',
        topic: 't',
        qos: 1,
        packetId: 5,
        dup: false,
        retain: false,
        payload: bytes(''),
      });
      h.deliver({
        type: 'publish',
        topic: 't',
        qos: 2,
        packetId: 6,
        dup: false,
        retain: false,
        payload: bytes(''),
      });
      const generation = h.session.generation;
      h.advance(10_000 + 15_000);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      assert.deepEqual(h.eventsBrief(), ['message t #5', 'message t #6', 'close TIMEOUT']);
      h.publish({ topic: 'a', qos: 0 });
      h.publish({ topic: 'b', qos: 1 });
      h.session.subscribe([{ topic: 's', qos: 1 }], undefined, 'sub');
      // Acks owed while closing: they answer the broker's re-sends on the next connection.
      assert.equal(h.session.acknowledge(5, 1, generation), true);
      assert.equal(h.session.acknowledge(6, 2, generation), true);
      assert.deepEqual(h.sent(), []);
      assert.deepEqual(h.events(), []);
      h.outage();
      h.connack({ sessionPresent: true });
      for (const [qos, packetId] of [
        [1, 5],
        [2, 6],
      ] as const) {
        h.deliver({
          type: 'publish',
          topic: 't',
          qos,
          packetId,
          dup: true,
          retain: false,
          payload: bytes(''),
        });
      }
      assert.deepEqual(h.sentBrief(), [
        'SUBSCRIBE #1 s',
        'PUBLISH a',
        'PUBLISH b #2',
        'PUBACK #5',
        'PUBREC #6',
      ]);
      assert.deepEqual(h.eventsBrief(), ['up present', 'published a']); // the re-sends are not delivered again
    });

    it(`MQTT ${version}: disconnect() sends DISCONNECT and ignores what follows`, () => {
      const h = new SessionHarness({ protocolVersion: version }).connect();
      h.session.disconnect();
      assert.deepEqual(h.sentBrief(), ['DISCONNECT 0x00']);
      assert.equal(h.session.state, 'closing');
      h.deliver({ type: 'pingresp' });
      h.advance(600_000);
      assert.deepEqual(h.sent(), []);
      assert.deepEqual(h.events(), []);
    });
  }
});
