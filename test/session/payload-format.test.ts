/** Inbound payloads flagged as UTF-8 are validated: a bad one is refused with 0x99 and never delivered. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, type Packet } from '../../src/codec/index.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/types.ts';

/** A session that is up; `receive` feeds it bytes and moves its outbox into `sent` and `events`. */
function connected() {
  const sent: Packet[] = [];
  const events: SessionEvent[] = [];
  const session = new Session({ protocolVersion: 5, clientId: 'c' });
  const receive = (bytes: Uint8Array, now: number) => {
    session.received(bytes, now);
    for (let b = session.nextBytes(); b !== undefined; b = session.nextBytes()) sent.push(decode(b, 5));
    for (let e = session.nextEvent(); e !== undefined; e = session.nextEvent()) events.push(e);
  };
  session.linkUp(0, true);
  receive(encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 5), 0);
  sent.length = 0;
  events.length = 0;
  return { receive, sent, events };
}

const INVALID = Uint8Array.of(0x61, 0xff, 0x62);
const VALID = new TextEncoder().encode('grüße\u0000ok'); // U+0000 is fine in a payload

for (const qos of [0, 1, 2] as const) {
  test(`QoS ${qos}: a payload flagged UTF-8 that is not is refused and not delivered`, () => {
    const { receive, sent, events } = connected();
    const publish = (payload: Uint8Array, packetId: number): Packet => ({
      type: 'publish',
      topic: 't',
      payload,
      qos,
      retain: false,
      dup: false,
      ...(qos > 0 ? { packetId } : {}),
      properties: { payloadFormatIndicator: true },
    });
    receive(encode(publish(INVALID, 1), 5), 1);
    assert.deepEqual(events, [], 'not delivered');
    if (qos === 0) assert.deepEqual(sent, []);
    else assert.deepEqual(sent, [{ type: qos === 1 ? 'puback' : 'pubrec', packetId: 1, reasonCode: 0x99 }]);

    sent.length = 0;
    receive(encode(publish(VALID, 2), 5), 2);
    assert.equal(events.length, 1, 'a valid one is delivered');
    assert.equal((events as SessionEvent[])[0].type, 'message');
  });
}
