/**
 * The Session as an outbox and the one place that drains it: inputs only
 * append bytes and events, the driver takes them out after every input
 * (bytes first, then events, then the timer), and an event handler that
 * feeds the Session again never re-enters it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionDriver } from '../../src/client/session-driver.ts';
import { decode, encode, type Packet } from '../../src/codec/index.ts';
import { MqttError } from '../../src/errors.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/types.ts';
import { brief, briefEvent } from '../session/harness.ts';

type Event = SessionEvent<string, string>;

/** A driven session; `trace` holds what reached the sink, in order. */
function driven() {
  const trace: string[] = [];
  const deadlines: number[] = [];
  const session = new Session<string, string>({ protocolVersion: 5, clientId: 'c', keepalive: 10 });
  const driver: SessionDriver<string, string> = new SessionDriver(session, {
    write: (bytes) => trace.push(`send ${brief(decode(bytes, 5))}`),
    event: (event: Event) => trace.push(`event ${briefEvent(event)}`),
    deadline: (at) => deadlines.push(at),
  });
  const deliver = (packet: Packet, now = 0) => driver.received(encode(packet, 5), now);
  return { driver, trace, deadlines, deliver };
}

describe('the Session as an outbox', () => {
  it('an input only appends: nothing leaves until the host takes it, bytes and events each in order', () => {
    const session = new Session<string, string>({ protocolVersion: 5, clientId: 'c' });
    session.publish({ topic: 'a', payload: new Uint8Array(1), qos: 0, retain: false }, 'a', 0);
    session.linkUp(0, false);
    session.received(encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 5), 0);
    const sent: string[] = [];
    for (let b = session.nextBytes(); b !== undefined; b = session.nextBytes())
      sent.push(brief(decode(b, 5)));
    const events: string[] = [];
    for (let e = session.nextEvent(); e !== undefined; e = session.nextEvent()) events.push(briefEvent(e));
    assert.deepEqual(sent, ['CONNECT', 'PUBLISH a']);
    assert.deepEqual(events, ['up', 'published a']);
    assert.equal(session.nextBytes(), undefined);
    assert.equal(session.nextEvent(), undefined);
  });

  it('typed tokens come back as they were given', () => {
    // `string` tokens here; the Client's are the promises it settles.
    const session = new Session<string, string>({ protocolVersion: 5 });
    session.publish({ topic: 'q', payload: new Uint8Array(1), qos: 1, retain: false }, 'p', 0);
    session.subscribe([{ topic: 't', qos: 0 }], undefined, 's');
    session.close(new MqttError('CLIENT_CLOSED', 'closed'));
    const tokens: string[] = [];
    for (let e = session.nextEvent(); e !== undefined; e = session.nextEvent()) {
      if (e.type === 'publish-failed' && e.token !== undefined) tokens.push(e.token);
      if (e.type === 'subscribe-failed') tokens.push(e.token);
    }
    assert.deepEqual(tokens, ['p', 's']);
  });
});

describe('the driver drains after every input', () => {
  it('re-arms the timer after every input, subscribe included', () => {
    const { driver, deadlines, deliver } = driven();
    driver.linkUp(1000, false, false);
    assert.deepEqual(deadlines, [1000 + 30_000], 'the CONNACK deadline');
    deliver({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 2000);
    assert.equal(deadlines.at(-1), 2000 + 10_000, 'a keepalive later');
    deadlines.length = 0;
    driver.input((s) => s.subscribe([{ topic: 't', qos: 1 }], undefined, 's'));
    driver.input((s) => s.unsubscribe(['t'], undefined, 'u'));
    driver.publish({ topic: 't', payload: new Uint8Array(1), qos: 1, retain: false }, 'p', 2000);
    assert.equal(deadlines.length, 3);
  });

  it('an event handler that feeds the session (a manual ack) appends to the drain that is running', () => {
    const trace: string[] = [];
    const session = new Session<string, string>({ protocolVersion: 5, clientId: 'c', manualAck: true });
    let depth = 0;
    let deepest = 0;
    const driver: SessionDriver<string, string> = new SessionDriver(session, {
      write: (bytes) => trace.push(`send ${brief(decode(bytes, 5))}`),
      event: (event) => {
        depth++;
        deepest = Math.max(deepest, depth);
        trace.push(`event ${briefEvent(event)}`);
        if (event.type === 'message') driver.acknowledge(event.message.packetId!, 1, session.generation, 0);
        depth--;
      },
      deadline: () => {},
    });
    driver.linkUp(0, false, false);
    driver.received(encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 5), 0);
    trace.length = 0;
    const publish = (id: number) =>
      encode(
        {
          type: 'publish',
          topic: `m${id}`,
          payload: new Uint8Array(1),
          qos: 1,
          packetId: id,
          dup: false,
          retain: false,
        },
        5,
      );
    driver.received(Uint8Array.of(...publish(1), ...publish(2)), 0);
    assert.deepEqual(trace, [
      'event message m1 #1',
      'send PUBACK #1',
      'event message m2 #2',
      'send PUBACK #2',
    ]);
    assert.equal(deepest, 1, 'no event was handled inside another');
  });

  it("a close event finds the session's last bytes (its DISCONNECT) written already", () => {
    const { driver, trace, deliver } = driven();
    driver.linkUp(0, false, false);
    deliver({ type: 'connack', sessionPresent: false, reasonCode: 0 });
    trace.length = 0;
    // A PUBACK with a reason code no PUBACK may carry: the session sends DISCONNECT 0x82 and asks to close.
    driver.received(Uint8Array.of(0x40, 0x03, 0x00, 0x01, 0x04), 0);
    assert.deepEqual(trace, ['send DISCONNECT 0x82', 'event close PROTOCOL_ERROR 0x82']);
  });

  it('close(error) ends every request the host made, with its token', () => {
    const { driver, trace } = driven();
    driver.publish({ topic: 'q', payload: new Uint8Array(1), qos: 1, retain: false }, 'p1', 0);
    driver.input((s) => s.subscribe([{ topic: 't', qos: 0 }], undefined, 's1'));
    driver.input((s) => s.close(new MqttError('CLIENT_CLOSED', 'closed')));
    assert.deepEqual(trace, ['event failed p1 CLIENT_CLOSED', 'event subscribe-failed s1 CLIENT_CLOSED']);
  });
});

describe('a connection that only discards the stale session (3.1.1 cleanInit)', () => {
  it('once accepted: DISCONNECT and a discarded event; no up, nothing resent or subscribed on it', () => {
    const trace: string[] = [];
    const session = new Session<string, string>({ protocolVersion: 4, clientId: 'c' });
    const driver = new SessionDriver(session, {
      write: (bytes) => trace.push(`send ${brief(decode(bytes, 4))}`),
      event: (event) => trace.push(`event ${briefEvent(event)}`),
      deadline: () => {},
    });
    driver.publish({ topic: 'q', payload: new Uint8Array(1), qos: 1, retain: false }, 'p', 0);
    driver.input((s) => s.subscribe([{ topic: 't', qos: 1 }], undefined, 's'));
    driver.linkUp(0, true, true);
    driver.received(encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 4), 0);
    assert.deepEqual(trace, ['send CONNECT', 'send DISCONNECT 0x00', 'event discarded']);
    assert.equal(session.state, 'closing');
    // The lasting connection then carries them.
    driver.linkDown(1);
    trace.length = 0;
    driver.linkUp(1, false, false);
    driver.received(encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 4), 1);
    assert.deepEqual(trace, ['send CONNECT', 'send SUBSCRIBE #1 t', 'send PUBLISH q #2', 'event up']);
  });
});
