/** An MQTT 5 session meeting a 3.1.1-only broker: its CONNACK 20 02 00 01 is a refusal (0x84), not garbage. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/types.ts';

/** Moves the session's events (its outbox) into `events`; the bytes it wrote are not looked at. */
function drain(session: Session, events: SessionEvent[]): void {
  while (session.nextBytes() !== undefined);
  for (let e = session.nextEvent(); e !== undefined; e = session.nextEvent()) events.push(e);
}

test('a 3.1.1 "unacceptable protocol version" CONNACK refuses an MQTT 5 connect with 0x84', () => {
  const events: SessionEvent[] = [];
  const session = new Session({ protocolVersion: 5, clientId: 'c' });
  session.linkUp(0, false);
  session.received(Uint8Array.of(0x20, 0x02, 0x00, 0x01), 1);
  drain(session, events);
  assert.equal(events.length, 1);
  const [event] = events;
  assert.equal(event.type, 'close');
  if (event.type !== 'close') return;
  assert.equal(event.error.code, 'CONNECTION_REFUSED');
  assert.equal(event.error.reasonCode, 0x84);
});

test('the same bytes once connected are not mistaken for it', () => {
  const events: SessionEvent[] = [];
  const session = new Session({ protocolVersion: 5, clientId: 'c' });
  session.linkUp(0, false);
  session.received(Uint8Array.of(0x20, 0x03, 0x00, 0x00, 0x00), 1); // a 5.0 CONNACK: accepted
  drain(session, events);
  assert.equal(events[0].type, 'up');
  session.received(Uint8Array.of(0x20, 0x02, 0x00, 0x01), 2); // as a 5.0 packet these bytes are malformed (no property length)
  drain(session, events);
  const last = events[events.length - 1];
  assert.equal(last.type, 'close');
  if (last.type === 'close') assert.equal(last.error.code, 'MALFORMED_PACKET');
});

function firstAnswer(chunks: number[][], version: 4 | 5 = 5): SessionEvent[] {
  const events: SessionEvent[] = [];
  const session = new Session({ protocolVersion: version, clientId: 'c' });
  session.linkUp(0, false);
  for (const chunk of chunks) {
    session.received(Uint8Array.from(chunk), 1);
    drain(session, events);
  }
  return events;
}

test('the refusal read one byte at a time (a serial line) is still the refusal, not a malformed packet', () => {
  const events = firstAnswer([[0x20], [0x02], [0x00], [0x01]]);
  assert.equal(events.length, 1);
  const [event] = events;
  if (event.type !== 'close') return assert.fail(`expected close, got ${event.type}`);
  assert.equal(event.error.code, 'CONNECTION_REFUSED');
  assert.equal(event.error.reasonCode, 0x84);
});

test('a 5.0 CONNACK one byte at a time is accepted', () => {
  const events = firstAnswer([[0x20], [0x03], [0x00], [0x00], [0x00]]);
  assert.deepEqual(
    events.map((e) => e.type),
    ['up'],
  );
});

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: a server that is not a broker (HTTP) -> close NOT_MQTT, in one chunk or byte by byte`, () => {
    const http = [...new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n')];
    for (const chunks of [[http], http.map((b) => [b])]) {
      const events = firstAnswer(chunks, version);
      assert.equal(events.length, 1);
      const [event] = events;
      if (event.type !== 'close') return assert.fail(`expected close, got ${event.type}`);
      assert.equal(event.error.code, 'NOT_MQTT');
      assert.equal(event.error.side, 'remote');
    }
  });
}
