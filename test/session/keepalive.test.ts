/**
 * Keepalive and outage detection, on the fake clock.
 *
 * The client must send some packet within each keepalive period [MQTT-3.1.2-23];
 * PINGREQ fills the gaps. The session also pings when the broker has been
 * silent for a keepalive period, so that a half-open connection is found while
 * we are still writing into it, and declares the link dead when nothing at all
 * has arrived for keepalive × 1.5 since the broker's last packet (the silence
 * deadline of src/session/liveness.ts; with an explicit responseTimeout, that
 * long after the PINGREQ), and when a packet that needs an answer got none
 * within the response timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertType, SessionHarness, VERSIONS } from './harness.ts';

const connected = (version: 4 | 5, options = {}) =>
  new SessionHarness({ protocolVersion: version, keepalive: 60, ...options }).connect();

for (const version of VERSIONS) {
  describe(`keepalive, MQTT ${version}`, () => {
    it('PINGREQ after a keepalive period of silence, and again one period after the PINGRESP', () => {
      const h = connected(version);
      const t0 = h.now;
      h.advance(59_999);
      assert.deepEqual(h.sent(), []);
      h.advance(1);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      assert.equal(h.session.nextDeadline(), t0 + 90_000, '1.5 x keepalive after the last packet received');
      h.advance(200);
      h.deliver({ type: 'pingresp' });
      assert.equal(h.session.nextDeadline(), t0 + 120_000);
      h.advance(59_799);
      assert.deepEqual(h.sent(), []);
      h.advance(1);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      for (let i = 0; i < 10; i++) {
        h.deliver({ type: 'pingresp' });
        h.advance(60_000);
        assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      }
      assert.deepEqual(h.events(), []);
    });

    it('no PINGREQ while traffic flows both ways', () => {
      const h = connected(version);
      for (let i = 0; i < 60; i++) {
        h.advance(10_000);
        h.publish({ topic: 't', qos: 1 });
        const [publish] = h.sent();
        assert.equal(publish.type, 'publish');
        h.deliver({ type: 'puback', packetId: (publish as { packetId: number }).packetId });
      }
      assert.deepEqual(h.sent(), []);
      assert.equal(h.events().length, 60);
    });

    it('the broker talks but we do not: PINGREQ one period after our last packet', () => {
      const h = connected(version);
      h.advance(30_000);
      h.publish({ topic: 't', qos: 0 });
      h.sent();
      for (let i = 0; i < 5; i++) {
        h.advance(10_000);
        h.deliver({
          type: 'publish',
          topic: 'in',
          qos: 0,
          dup: false,
          retain: false,
          payload: new Uint8Array(0),
        });
      }
      assert.deepEqual(h.sent(), []);
      h.advance(10_000);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
    });

    it('half-open: we keep publishing, the broker is silent -> PINGREQ, then close TIMEOUT', () => {
      const h = connected(version);
      const t0 = h.now;
      for (let i = 0; i < 6; i++) {
        h.advance(10_000);
        h.publish({ topic: 't', qos: 0 });
      }
      assert.equal(h.sentBrief().filter((p) => p === 'PINGREQ').length, 1);
      assert.equal(h.session.nextDeadline(), t0 + 90_000);
      h.advance(29_999);
      h.events();
      assert.deepEqual(h.events(), []);
      h.advance(1);
      const [close] = h.events();
      assertType(close, 'close');
      assert.equal(close.error.code, 'TIMEOUT');
      assert.equal(h.session.state, 'closing');
      assert.equal(h.session.nextDeadline(), Number.POSITIVE_INFINITY);
    });

    it('nothing from the broker for keepalive × 1.5 -> close TIMEOUT', () => {
      const h = connected(version, { keepalive: 20 });
      h.advance(20_000);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      h.advance(9_999);
      assert.deepEqual(h.events(), []);
      h.advance(1);
      assert.deepEqual(h.eventsBrief(), ['close TIMEOUT']);
      h.advance(600_000);
      assert.deepEqual(h.sent(), []);
      assert.deepEqual(h.events(), []);
    });

    it('a configured responseTimeout', () => {
      const h = connected(version, { responseTimeout: 5_000 });
      h.advance(60_000);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      h.advance(4_999);
      assert.deepEqual(h.events(), []);
      h.advance(1);
      assert.deepEqual(h.eventsBrief(), ['close TIMEOUT']);
    });

    it('any packet received cancels the pending ping timeout', () => {
      const h = connected(version);
      h.advance(60_000);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      h.advance(29_000);
      h.deliver({
        type: 'publish',
        topic: 'in',
        qos: 1,
        packetId: 3,
        dup: false,
        retain: false,
        payload: new Uint8Array(0),
      });
      assert.deepEqual(h.sentBrief(), ['PUBACK #3']);
      h.advance(20_000);
      h.events();
      assert.deepEqual(h.events(), []);
      assert.equal(h.session.state, 'up');
    });

    it('a byte of a packet is enough to prove the link alive', () => {
      const h = connected(version);
      h.advance(60_000);
      h.sent();
      h.advance(29_000);
      h.deliverBytes(new Uint8Array([0xd0])); // the first byte of PINGRESP
      h.advance(2_000);
      assert.deepEqual(h.events(), []);
      h.deliverBytes(new Uint8Array([0x00]));
      assert.equal(h.session.state, 'up');
    });

    it('half-open with keepalive 5: found 7.5 s after the last packet received, while publishing', () => {
      const h = connected(version, { keepalive: 5 });
      const t0 = h.now;
      for (let i = 0; i < 14; i++) {
        h.advance(500);
        h.publish({ topic: 't', qos: 1 });
      }
      h.advance(499);
      assert.deepEqual(h.eventsBrief(), []);
      h.advance(1);
      assert.deepEqual(h.eventsBrief(), ['close TIMEOUT']);
      assert.equal(h.now - t0, 7_500);
    });

    it('a PINGREQ late on the clock still gets half a keepalive to be answered', () => {
      const h = connected(version, { keepalive: 10 });
      const t0 = h.now;
      h.session.tick(t0 + 14_000); // the host's timer fired 4 s late
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
      assert.equal(h.session.nextDeadline(), t0 + 14_000 + 5_000);
    });

    it('an unanswered QoS 1 PUBLISH is evidence: dead responseTimeout after it', () => {
      const h = connected(version, { keepalive: 60, responseTimeout: 2_000 });
      h.advance(10_000);
      h.publish({ topic: 't', qos: 1 });
      h.sent();
      h.advance(1_000);
      h.publish({ topic: 't', qos: 1 }); // the first unanswered one counts
      h.advance(999);
      assert.deepEqual(h.eventsBrief(), []);
      h.advance(1);
      assert.deepEqual(h.eventsBrief(), ['close TIMEOUT']);
    });

    it('QoS 0 publishing is not evidence: nothing to answer', () => {
      const h = connected(version, { keepalive: 60, responseTimeout: 2_000 });
      for (let i = 0; i < 20; i++) {
        h.advance(1_000);
        h.publish({ topic: 't', qos: 0 });
      }
      assert.equal(h.session.state, 'up');
    });

    it('keepalive 0: no pings, nextDeadline Infinity', () => {
      const h = connected(version, { keepalive: 0 });
      assert.equal(h.session.nextDeadline(), Number.POSITIVE_INFINITY);
      h.advance(24 * 3_600_000);
      assert.deepEqual(h.sent(), []);
      assert.deepEqual(h.events(), []);
    });

    it('while down there is nothing to time; after an outage the schedule restarts', () => {
      const h = connected(version);
      h.advance(50_000);
      h.linkDown();
      assert.equal(h.session.nextDeadline(), Number.POSITIVE_INFINITY);
      h.advance(600_000);
      h.linkUp();
      h.connack({ sessionPresent: true });
      h.advance(59_999);
      assert.deepEqual(h.sent(), []);
      h.advance(1);
      assert.deepEqual(h.sentBrief(), ['PINGREQ']);
    });

    it('a ping pending when the link drops does not time out the next connection', () => {
      const h = connected(version);
      h.advance(60_000);
      h.sent();
      h.advance(29_000);
      h.outage();
      h.connack({ sessionPresent: true });
      h.advance(30_000);
      assert.deepEqual(h.eventsBrief(), ['up present']);
    });
  });
}

describe('keepalive, MQTT 5 server keepalive', () => {
  it('Server Keep Alive 0 turns pings off', () => {
    const h = new SessionHarness({ protocolVersion: 5, keepalive: 30 });
    h.linkUp(true);
    h.connack({ properties: { serverKeepAlive: 0 } });
    assert.equal(h.session.nextDeadline(), Number.POSITIVE_INFINITY);
    h.advance(3_600_000);
    assert.deepEqual(h.sent(), []);
  });

  it('the response timeout follows the server keepalive', () => {
    const h = new SessionHarness({ protocolVersion: 5, keepalive: 60 });
    h.linkUp(true);
    h.connack({ properties: { serverKeepAlive: 4 } });
    h.advance(4_000);
    assert.deepEqual(h.sentBrief(), ['PINGREQ']);
    h.advance(2_000);
    assert.deepEqual(h.eventsBrief(), ['up', 'close TIMEOUT']);
  });
});
