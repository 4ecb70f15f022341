/**
 * The scenarios every MQTT engine must pass (STYLE.md 8 and 16): the full
 * Session (src/session) and the lite engine (src/lite/core.ts) run the same
 * cases through an adapter each (full.test.ts, lite.test.ts), as the link and
 * store conformance suites do. No sockets, a fake clock: the suite plays the
 * broker and the application, and compares what each engine writes (decoded,
 * briefly) and what it reports.
 *
 * Where the engines legitimately differ, the adapter declares it as a
 * capability and the case says what each kind of engine must do; a case is
 * never left out silently.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet, ProtocolVersion, QoS } from '../../src/codec/types.ts';
import { brief } from '../session/harness.ts';

/** What an engine does differently from the others, on purpose. */
export interface EngineCapabilities {
  /** Protocol versions it speaks; every case runs on each. */
  versions: ProtocolVersion[];
  /**
   * Remembers completed inbound QoS 2 messages, so that a broker that rolled
   * its state back (Mosquitto killed between PUBREL and PUBCOMP) and re-sends
   * one with DUP does not get it delivered twice (the full engine's
   * rollback-guard.ts). The lite engine leaves it out: there such a copy is a
   * new message, as in most clients.
   */
  qos2RollbackGuard: boolean;
}

/** Per-engine settings a case may ask for. */
export interface EngineSettings {
  version: ProtocolVersion;
  keepalive: number;
  responseTimeout?: number;
  connectTimeout?: number;
}

/**
 * One engine under test, driven as its host would drive it. Events are
 * reported briefly: `up` / `up present`, `message <topic> q<qos>[ dup]`,
 * `done <token>` (a publish, subscribe or unsubscribe completed), `failed
 * <token> <code>`, `close <code>` (the engine asks for the link to close;
 * the adapter then takes it down, as a host does).
 */
export interface EngineUnderTest {
  /** The link comes up: the engine sends CONNECT (an engine that waits out its own backoff is moved to it). */
  linkUp(): void;
  /** The link drops (the host noticed). */
  linkDown(): void;
  received(bytes: Uint8Array): void;
  /** Moves the fake clock, calling `tick` at every deadline on the way. */
  advance(ms: number): void;
  publish(topic: string, qos: QoS, token: string): void;
  subscribe(filter: string, qos: QoS, token: string): void;
  unsubscribe(filter: string, token: string): void;
  /** The application takes every message delivered so far (their acks may go out). */
  take(): void;
  /** What was written (whole bytes, in order) and reported since the last call. */
  drain(): { bytes: Uint8Array[]; events: string[] };
}

export interface EngineFactory {
  name: string;
  capabilities: EngineCapabilities;
  make(settings: EngineSettings): EngineUnderTest;
}

const text = new TextEncoder();

/** What an adapter has seen its engine write and report, handed out by `drain()`. */
export class Recorded {
  bytes: Uint8Array[] = [];
  events: string[] = [];

  drain(): { bytes: Uint8Array[]; events: string[] } {
    const out = { bytes: this.bytes, events: this.events };
    this.bytes = [];
    this.events = [];
    return out;
  }
}

/** Moves a fake clock from `now` by `ms`, calling `tick` at every deadline on the way; returns the new time. */
export function advanceClock(
  now: number,
  ms: number,
  engine: { nextDeadline(): number; tick(now: number): void },
): number {
  const target = now + ms;
  for (let deadline = engine.nextDeadline(); deadline <= target; deadline = engine.nextDeadline()) {
    now = Math.max(now, deadline);
    engine.tick(now);
  }
  return target;
}

/** The suite's side of the wire: decodes what the engine wrote, encodes what the broker says. */
class Broker {
  readonly decoder: PacketDecoder;
  constructor(
    readonly engine: EngineUnderTest,
    readonly version: ProtocolVersion,
  ) {
    this.decoder = new PacketDecoder({ protocolVersion: version });
  }

  /** What the engine sent and reported since the last call. */
  read(): { sent: string[]; events: string[] } {
    const { bytes, events } = this.engine.drain();
    const sent: string[] = [];
    for (const b of bytes) {
      this.decoder.push(b);
      for (let p = this.decoder.next(); p !== undefined; p = this.decoder.next()) sent.push(brief(p));
    }
    return { sent, events };
  }

  send(packet: Packet, split = false): void {
    const bytes = encode(packet, this.version);
    if (!split) return this.engine.received(bytes);
    for (let i = 0; i < bytes.length; i++) this.engine.received(bytes.subarray(i, i + 1));
  }

  connack(sessionPresent = false, reasonCode = 0): void {
    this.send({ type: 'connack', sessionPresent, reasonCode });
  }

  /** Link up, CONNACK, and what was said on the way forgotten. */
  connect(sessionPresent = false): void {
    this.linkUp();
    this.connack(sessionPresent);
    this.read();
  }

  linkUp(): void {
    this.decoder.reset();
    this.engine.linkUp();
  }

  /** An outage: down, up again, CONNACK with `sessionPresent`. */
  reconnect(sessionPresent: boolean): void {
    this.engine.linkDown();
    this.linkUp();
    this.connack(sessionPresent);
  }

  publish(topic: string, qos: QoS, packetId?: number, dup = false): void {
    this.send({ type: 'publish', topic, qos, packetId, dup, retain: false, payload: text.encode(topic) });
  }

  ack(type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', packetId: number): void {
    this.send({ type, packetId });
  }
}

const TIMEOUT = { timeout: 10_000 };

export function runEngineConformance(factory: EngineFactory): void {
  const caps = factory.capabilities;
  for (const version of caps.versions) {
    describe(`engine conformance: ${factory.name}, MQTT ${version === 4 ? '3.1.1' : '5.0'}`, () => {
      const start = (settings: Partial<EngineSettings> = {}) =>
        new Broker(factory.make({ version, keepalive: 60, ...settings }), version);
      const v5 = version === 5;

      it('connects: CONNECT on link up, up at CONNACK (fed one byte at a time)', TIMEOUT, () => {
        const b = start();
        b.linkUp();
        const connect = b.engine.drain().bytes;
        b.decoder.push(connect[0]);
        const packet = b.decoder.next();
        assert.equal(packet?.type, 'connect');
        if (packet?.type === 'connect') {
          assert.equal(packet.protocolVersion, version);
          assert.equal(packet.keepalive, 60);
          assert.equal(packet.clean, false);
        }
        b.send({ type: 'connack', sessionPresent: false, reasonCode: 0 }, true);
        assert.deepEqual(b.read(), { sent: [], events: ['up'] });
      });

      it('a refused CONNECT closes with CONNECTION_REFUSED and the reason code', TIMEOUT, () => {
        const b = start();
        b.linkUp();
        b.read();
        const code = v5 ? 0x87 : 5;
        b.connack(false, code);
        assert.deepEqual(b.read(), { sent: [], events: ['close CONNECTION_REFUSED'] });
      });

      it('publishes at QoS 0, 1 and 2: each completes at its final ack', TIMEOUT, () => {
        const b = start();
        b.connect();
        b.engine.publish('a', 0, 'a');
        b.engine.publish('b', 1, 'b');
        b.engine.publish('c', 2, 'c');
        assert.deepEqual(b.read(), {
          sent: ['PUBLISH a', 'PUBLISH b #1', 'PUBLISH c #2'],
          events: ['done a'],
        });
        b.ack('puback', 1);
        b.ack('pubrec', 2);
        assert.deepEqual(b.read(), { sent: ['PUBREL #2'], events: ['done b'] });
        b.ack('pubcomp', 2);
        assert.deepEqual(b.read(), { sent: [], events: ['done c'] });
        // Late duplicates of the acks change nothing.
        b.ack('puback', 1);
        b.ack('pubcomp', 2);
        assert.deepEqual(b.read(), { sent: [], events: [] });
      });

      it('receives at QoS 0, 1 and 2: acknowledged once the application has taken them', TIMEOUT, () => {
        const b = start();
        b.connect();
        b.publish('x', 0);
        b.publish('y', 1, 1);
        b.publish('z', 2, 2);
        assert.deepEqual(b.read(), { sent: [], events: ['message x q0', 'message y q1', 'message z q2'] });
        b.engine.take();
        assert.deepEqual(b.read(), { sent: ['PUBACK #1', 'PUBREC #2'], events: [] });
        b.ack('pubrel', 2);
        assert.deepEqual(b.read(), { sent: ['PUBCOMP #2'], events: [] });
      });

      it(
        'QoS 2 inbound is delivered exactly once; a PUBREL before our PUBREC is not answered',
        TIMEOUT,
        () => {
          const b = start();
          b.connect();
          b.publish('z', 2, 7);
          b.publish('z', 2, 7, true);
          b.ack('pubrel', 7);
          assert.deepEqual(b.read(), { sent: [], events: ['message z q2'] });
          b.engine.take();
          b.publish('z', 2, 7, true);
          assert.deepEqual(b.read(), { sent: ['PUBREC #7', 'PUBREC #7'], events: [] });
          b.ack('pubrel', 7);
          b.ack('pubrel', 7);
          // A repeated PUBREL for an id we released still completes the broker's flow.
          assert.deepEqual(b.read(), { sent: ['PUBCOMP #7', `PUBCOMP #7${v5 ? ' 0x92' : ''}`], events: [] });
        },
      );

      it(
        `a QoS 2 message the broker re-sends after its flow completed (a rollback) is ${caps.qos2RollbackGuard ? 'acknowledged, not delivered' : 'delivered again'}`,
        TIMEOUT,
        () => {
          const b = start();
          b.connect();
          b.publish('z', 2, 3);
          b.engine.take();
          b.ack('pubrel', 3);
          assert.deepEqual(b.read(), { sent: ['PUBREC #3', 'PUBCOMP #3'], events: ['message z q2'] });
          b.reconnect(true);
          b.publish('z', 2, 3, true);
          b.engine.take();
          assert.deepEqual(b.read(), {
            sent: ['CONNECT', 'PUBREC #3'],
            events: caps.qos2RollbackGuard ? ['up present'] : ['up present', 'message z q2 dup'],
          });
        },
      );

      it('a PUBREC for an id we do not hold is answered with PUBREL', TIMEOUT, () => {
        const b = start();
        b.connect();
        b.ack('pubrec', 9);
        assert.deepEqual(b.read(), { sent: [`PUBREL #9${v5 ? ' 0x92' : ''}`], events: [] });
      });

      it('subscribes and unsubscribes', TIMEOUT, () => {
        const b = start();
        b.connect();
        b.engine.subscribe('s/#', 1, 'sub');
        assert.deepEqual(b.read(), { sent: ['SUBSCRIBE #1 s/#'], events: [] });
        b.send({ type: 'suback', packetId: 1, reasonCodes: [1] });
        assert.deepEqual(b.read(), { sent: [], events: ['done sub'] });
        b.engine.unsubscribe('s/#', 'unsub');
        assert.deepEqual(b.read(), { sent: ['UNSUBSCRIBE #2 s/#'], events: [] });
        b.send({ type: 'unsuback', packetId: 2, reasonCodes: v5 ? [0] : [] });
        assert.deepEqual(b.read(), { sent: [], events: ['done unsub'] });
      });

      for (const present of [true, false]) {
        it(`resends after a reconnect, session ${present ? 'present' : 'lost'}`, TIMEOUT, () => {
          const b = start();
          b.connect();
          b.engine.subscribe('s', 1, 'sub');
          b.send({ type: 'suback', packetId: 1, reasonCodes: [1] });
          b.engine.publish('p1', 1, 'p1');
          b.engine.publish('p2', 2, 'p2');
          b.ack('pubrec', 3);
          b.publish('in', 1, 5);
          assert.deepEqual(b.read(), {
            sent: ['SUBSCRIBE #1 s', 'PUBLISH p1 #2', 'PUBLISH p2 #3', 'PUBREL #3'],
            events: ['done sub', 'message in q1'],
          });
          b.reconnect(present);
          b.engine.publish('after', 0, 'after');
          if (present) {
            // Everything unfinished again, in order: the PUBLISH with DUP, the PUBREL.
            assert.deepEqual(b.read(), {
              sent: ['CONNECT', 'PUBLISH p1 #2 dup', 'PUBREL #3', 'PUBLISH after'],
              events: ['up present', 'done after'],
            });
            // The broker re-sends the held message: not delivered again; the application's ack answers it.
            b.publish('in', 1, 5, true);
            b.engine.take();
            assert.deepEqual(b.read(), { sent: ['PUBACK #5'], events: [] });
          } else {
            // No session: the subscription is made again first; the PUBREC'd message was the broker's
            // at PUBREC, so it completes without a PUBREL; the unacknowledged PUBLISH goes again.
            assert.deepEqual(b.read(), {
              sent: ['CONNECT', 'SUBSCRIBE #4 s', 'PUBLISH p1 #2 dup', 'PUBLISH after'],
              events: ['up', 'done p2', 'done after'],
            });
            // The held message's id means nothing to the new session: its ack is dropped.
            b.engine.take();
            assert.deepEqual(b.read(), { sent: [], events: [] });
          }
        });
      }

      it('what is published while the link is down leaves in publish order once up', TIMEOUT, () => {
        const b = start();
        b.connect();
        b.engine.linkDown();
        b.engine.publish('a', 0, 'a');
        b.engine.publish('b', 1, 'b');
        b.engine.publish('c', 0, 'c');
        b.engine.subscribe('s', 2, 'sub');
        assert.deepEqual(b.read().sent, []);
        b.linkUp();
        b.connack(true);
        assert.deepEqual(b.read(), {
          sent: ['CONNECT', 'SUBSCRIBE #1 s', 'PUBLISH a', 'PUBLISH b #2', 'PUBLISH c'],
          events: ['up present', 'done a', 'done c'],
        });
      });

      // On MQTT 5 the window is the broker's Receive Maximum instead (test/session/flow-control.test.ts).
      if (!v5)
        it('on 3.1.1 keeps at most 20 QoS 1/2 messages in flight', TIMEOUT, () => {
          const b = start();
          b.connect();
          for (let i = 1; i <= 21; i++) b.engine.publish(`m${i}`, 1, `m${i}`);
          assert.equal(b.read().sent.length, 20);
          b.ack('puback', 1);
          assert.deepEqual(b.read(), { sent: ['PUBLISH m21 #21'], events: ['done m1'] });
        });

      it(
        'keepalive: PINGREQ after a keepalive of silence; no answer in 1.5 x keepalive closes',
        TIMEOUT,
        () => {
          const b = start({ keepalive: 10 });
          b.connect();
          b.engine.advance(9_999);
          assert.deepEqual(b.read().sent, []);
          b.engine.advance(1);
          assert.deepEqual(b.read().sent, ['PINGREQ']);
          b.send({ type: 'pingresp' });
          b.engine.advance(10_000);
          assert.deepEqual(b.read().sent, ['PINGREQ']);
          // The broker last spoke 10 s ago: dead 15 s after that.
          b.engine.advance(4_999);
          assert.deepEqual(b.read().events, []);
          b.engine.advance(1);
          assert.deepEqual(b.read().events, ['close TIMEOUT']);
        },
      );

      it(
        'keepalive: pings on silence in either direction, while the application keeps publishing',
        TIMEOUT,
        () => {
          const b = start({ keepalive: 10 });
          b.connect();
          for (let i = 0; i < 4; i++) {
            b.engine.advance(3_000);
            b.engine.publish('q0', 0, 'q0');
          }
          // Sent every 3 s, but nothing received for 10 s: a PINGREQ all the same.
          assert.deepEqual(b.read().sent, [
            'PUBLISH q0',
            'PUBLISH q0',
            'PUBLISH q0',
            'PINGREQ',
            'PUBLISH q0',
          ]);
        },
      );

      it('response timeout: an unanswered request closes the link after responseTimeout', TIMEOUT, () => {
        const b = start({ keepalive: 60, responseTimeout: 2_000 });
        b.connect();
        b.engine.publish('p', 1, 'p');
        b.engine.advance(1_999);
        assert.deepEqual(b.read(), { sent: ['PUBLISH p #1'], events: [] });
        b.engine.advance(1);
        assert.deepEqual(b.read().events, ['close TIMEOUT']);
      });

      it('no CONNACK within connectTimeout closes with TIMEOUT', TIMEOUT, () => {
        const b = start({ connectTimeout: 5_000 });
        b.linkUp();
        b.engine.advance(4_999);
        assert.deepEqual(b.read(), { sent: ['CONNECT'], events: [] });
        b.engine.advance(1);
        assert.deepEqual(b.read().events, ['close TIMEOUT']);
      });

      describe('bad broker bytes close the link with a typed error', () => {
        const publish = encode(
          { type: 'publish', topic: 'a', qos: 0, dup: false, retain: false, payload: text.encode('x') },
          version,
        );
        const qos3 = publish.slice();
        qos3[0] |= 0b0110;
        const cases: [name: string, up: boolean, bytes: Uint8Array, code: string][] = [
          ['a PUBLISH with QoS 3', true, qos3, 'MALFORMED_PACKET'],
          [
            'a remaining length of five bytes',
            true,
            Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01),
            'MALFORMED_PACKET',
          ],
          ['a PUBLISH before CONNACK', false, publish, 'PROTOCOL_ERROR'],
          [
            'a second CONNACK',
            true,
            encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, version),
            'PROTOCOL_ERROR',
          ],
          ['an HTTP answer', false, text.encode('HTTP/1.1 400 Bad Request\r\n\r\n'), 'NOT_MQTT'],
        ];
        for (const [name, up, bytes, code] of cases) {
          it(name, TIMEOUT, () => {
            const b = start();
            if (up) b.connect();
            else b.linkUp();
            b.read();
            b.engine.received(bytes);
            assert.deepEqual(b.read().events, [`close ${code}`]);
            // Nothing more is read from that connection.
            b.publish('late', 0);
            assert.deepEqual(b.read().events, []);
          });
        }
      });
    });
  }
}
