/** An MQTT 5 session meeting a 3.1.1-only broker: its CONNACK 20 02 00 01 is a refusal (0x84), not garbage. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/types.ts';

test('a 3.1.1 "unacceptable protocol version" CONNACK refuses an MQTT 5 connect with 0x84', () => {
  const events: SessionEvent[] = [];
  const session = new Session(
    { protocolVersion: 5, clientId: 'c' },
    { send: () => {}, emit: (e) => events.push(e) },
  );
  session.linkUp(0, false);
  session.received(Uint8Array.of(0x20, 0x02, 0x00, 0x01), 1);
  assert.equal(events.length, 1);
  const [event] = events;
  assert.equal(event.type, 'close');
  if (event.type !== 'close') return;
  assert.equal(event.error.code, 'CONNECTION_REFUSED');
  assert.equal(event.error.reasonCode, 0x84);
});

test('the same bytes once connected are not mistaken for it', () => {
  const events: SessionEvent[] = [];
  const session = new Session(
    { protocolVersion: 5, clientId: 'c' },
    { send: () => {}, emit: (e) => events.push(e) },
  );
  session.linkUp(0, false);
  session.received(Uint8Array.of(0x20, 0x03, 0x00, 0x00, 0x00), 1); // a 5.0 CONNACK: accepted
  assert.equal(events[0].type, 'up');
  session.received(Uint8Array.of(0x20, 0x02, 0x00, 0x01), 2); // as a 5.0 packet these bytes are malformed (no property length)
  const last = events[events.length - 1];
  assert.equal(last.type, 'close');
  if (last.type === 'close') assert.equal(last.error.code, 'MALFORMED_PACKET');
});
