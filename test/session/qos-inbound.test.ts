/**
 * Inbound QoS 1 and QoS 2 against every place an outage can fall.
 *
 * QoS 1 is at least once: a PUBLISH the broker re-sends after an outage
 * (DUP set, same id) is delivered again and acknowledged again; after a
 * PUBACK a PUBLISH with the same id is a new publication [MQTT-4.3.2-2 (3.1.1)].
 * QoS 2 is exactly once (method B, 5.0 4.3.3): delivered when the PUBLISH
 * first arrives; until PUBREL a PUBLISH with the same id is answered with
 * PUBREC and never delivered again; PUBREL is always answered with PUBCOMP,
 * with 0x92 on MQTT 5 when the id is unknown (5.0 3.7.2.1).
 *
 * Each row's `sent` is the whole trace after the first CONNACK, CONNECTs included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '../../src/codec/index.ts';
import { type FlowCase, flowTests, SessionHarness, step, VERSIONS } from './harness.ts';

const { ack, message, outage, down, up, acknowledge } = step;
const unknown = (v: number) => (v === 5 ? ' 0x92' : '');

const qos1: FlowCase[] = [
  {
    name: 'QoS 1: delivered once, PUBACK sent',
    present: [true],
    steps: [message('t', 1, 7)],
    expect: { sent: ['PUBACK #7'], events: ['message t #7'] },
  },
  {
    name: 'QoS 1: PUBACK lost in an outage, the broker re-sends with DUP: delivered again, acked again',
    present: [true],
    steps: [message('t', 1, 7), outage, message('t', 1, 7, true)],
    expect: { sent: ['PUBACK #7', 'CONNECT', 'PUBACK #7'], events: ['message t #7', 'message t #7 dup'] },
  },
  {
    name: 'QoS 1: same id after PUBACK is a new publication',
    present: [true],
    steps: [message('t', 1, 7), message('u', 1, 7)],
    expect: { sent: ['PUBACK #7', 'PUBACK #7'], events: ['message t #7', 'message u #7'] },
  },
  {
    name: 'QoS 0: delivered, nothing sent',
    present: [true],
    steps: [message('t', 0, undefined)],
    expect: { sent: [], events: ['message t'] },
  },
];

const qos2: FlowCase[] = [
  {
    name: 'QoS 2: delivered once, PUBREC, PUBREL -> PUBCOMP',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7)],
    expect: { sent: ['PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'QoS 2: duplicate PUBLISH before PUBREL on the same connection: PUBREC again, not delivered',
    present: [true],
    steps: [message('t', 2, 7), message('t', 2, 7, true), ack('pubrel', 7)],
    expect: { sent: ['PUBREC #7', 'PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'QoS 2: outage before PUBREL, the broker re-sends PUBLISH with DUP: PUBREC again, not delivered',
    present: [true],
    steps: [message('t', 2, 7), outage, message('t', 2, 7, true), ack('pubrel', 7)],
    expect: { sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'QoS 2: outage after PUBREC, the broker re-sends PUBREL: PUBCOMP',
    present: [true],
    steps: [message('t', 2, 7), outage, ack('pubrel', 7)],
    expect: { sent: ['PUBREC #7', 'CONNECT', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'QoS 2: PUBREL repeated: PUBCOMP again (0x92 on MQTT 5, the id is released)',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7), ack('pubrel', 7)],
    expect: (v) => ({
      sent: ['PUBREC #7', 'PUBCOMP #7', `PUBCOMP #7${unknown(v)}`],
      events: ['message t #7'],
    }),
  },
  {
    name: 'QoS 2: PUBCOMP lost in an outage, the broker re-sends PUBREL: PUBCOMP again',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7), outage, ack('pubrel', 7)],
    expect: (v) => ({
      sent: ['PUBREC #7', 'PUBCOMP #7', 'CONNECT', `PUBCOMP #7${unknown(v)}`],
      events: ['message t #7'],
    }),
  },
  {
    name: 'QoS 2: same id after PUBCOMP is a new message',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7), message('u', 2, 7)],
    expect: { sent: ['PUBREC #7', 'PUBCOMP #7', 'PUBREC #7'], events: ['message t #7', 'message u #7'] },
  },
  {
    name: 'QoS 2 rollback: a completed message re-sent with DUP (the broker restarted from an older save): PUBREC, PUBCOMP, not delivered again',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7), outage, message('t', 2, 7, true), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'PUBCOMP #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7'],
    },
  },
  {
    name: 'QoS 2 rollback guard off (qos2RollbackGuard 0): the re-sent completed message is delivered again',
    present: [true],
    options: { qos2RollbackGuard: 0 },
    steps: [message('t', 2, 7), ack('pubrel', 7), outage, message('t', 2, 7, true), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'PUBCOMP #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message t #7 dup'],
    },
  },
  {
    name: 'QoS 2 rollback guard: same id with DUP but another topic or payload is a new message',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7), outage, message('u', 2, 7, true), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'PUBCOMP #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message u #7 dup'],
    },
  },
  {
    name: 'QoS 2 rollback guard: same id and content without DUP is a new message (a first delivery never has DUP)',
    present: [true],
    steps: [message('t', 2, 7), ack('pubrel', 7), message('t', 2, 7), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'PUBCOMP #7', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message t #7'],
    },
  },
  {
    name: 'QoS 2 rollback guard: the session was lost: nothing of the old one is remembered',
    present: [false],
    steps: [message('t', 2, 7), ack('pubrel', 7), outage, message('t', 2, 7, true), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'PUBCOMP #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message t #7 dup'],
    },
  },
  {
    name: 'QoS 2 rollback: the broker forgot an open flow and reused its id for another message: delivered',
    present: [true],
    steps: [message('t', 2, 7), outage, message('u', 2, 7), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message u #7'],
    },
  },
  {
    name: 'QoS 2 rollback: another message under an open id with DUP set is delivered too (the digest decides)',
    present: [true],
    steps: [message('t', 2, 7), outage, message('u', 2, 7, true), message('u', 2, 7, true), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message u #7 dup'],
    },
  },
  {
    name: 'QoS 2 rollback guard off: a held id is answered and nothing delivered, as [MQTT-4.3.3] says',
    present: [true],
    options: { qos2RollbackGuard: 0 },
    steps: [message('t', 2, 7), outage, message('u', 2, 7), ack('pubrel', 7)],
    expect: { sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'QoS 2: session present false clears the held ids: the same id is a new message',
    present: [false],
    steps: [message('t', 2, 7), outage, message('u', 2, 7), ack('pubrel', 7)],
    expect: {
      sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message u #7'],
    },
  },
  {
    name: 'QoS 2: reconnect with clean start clears the held ids even if the broker says present',
    present: [true],
    steps: [
      message('t', 2, 7),
      (h) => {
        h.outage(true);
        h.connack({ sessionPresent: false });
      },
      message('u', 2, 7),
    ],
    expect: { sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7'], events: ['message t #7', 'message u #7'] },
  },
];

const manual = { manualAck: true };
const manualCases: FlowCase[] = [
  {
    name: 'manual QoS 1: no PUBACK until acknowledge()',
    present: [true],
    options: manual,
    steps: [message('t', 1, 7), acknowledge(7, 1), acknowledge(7, 1, { accepted: false })],
    expect: { sent: ['PUBACK #7'], events: ['message t #7'] },
  },
  {
    name: 'manual QoS 1: re-sent after an outage while the application holds it: not delivered again, the ack answers it',
    present: [true],
    options: manual,
    steps: [message('t', 1, 7), outage, message('t', 1, 7, true), acknowledge(7, 1)],
    expect: { sent: ['CONNECT', 'PUBACK #7'], events: ['message t #7'] },
  },
  {
    name: 'manual QoS 1: an ack made while the link is down is owed: it answers the re-send',
    present: [true],
    options: manual,
    steps: [message('t', 1, 7), down, acknowledge(7, 1), up, message('t', 1, 7, true), message('u', 1, 7)],
    expect: { sent: ['CONNECT', 'PUBACK #7'], events: ['message t #7', 'message u #7'] },
  },
  {
    name: 'manual QoS 1: the broker lost the session: the old ack is dropped, the same id is a new message',
    present: [false],
    options: manual,
    steps: [
      message('t', 1, 7),
      outage,
      acknowledge(7, 1, { generationsAgo: 1, accepted: false }),
      message('u', 1, 7),
      acknowledge(7, 1),
    ],
    expect: { sent: ['CONNECT', 'PUBACK #7'], events: ['message t #7', 'message u #7'] },
  },
  {
    name: 'manual QoS 1 with a reason code (MQTT 5 carries it)',
    present: [true],
    options: manual,
    steps: [message('t', 1, 7), acknowledge(7, 1, { reasonCode: 0x83 })],
    expect: (v) => ({ sent: [v === 5 ? 'PUBACK #7 0x83' : 'PUBACK #7'], events: ['message t #7'] }),
  },
  {
    name: 'manual QoS 2: no PUBREC until acknowledge(); a duplicate meanwhile is not answered',
    present: [true],
    options: manual,
    steps: [message('t', 2, 7), message('t', 2, 7, true), acknowledge(7, 2), ack('pubrel', 7)],
    expect: { sent: ['PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'manual QoS 2 rollback: a completed message re-sent with DUP is answered, not delivered again',
    present: [true],
    options: manual,
    steps: [
      message('t', 2, 7),
      acknowledge(7, 2),
      ack('pubrel', 7),
      outage,
      message('t', 2, 7, true),
      ack('pubrel', 7),
    ],
    expect: {
      sent: ['PUBREC #7', 'PUBCOMP #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7'],
    },
  },
  {
    name: 'manual QoS 2 rollback: an open id reused while the app holds the old message: both delivered, one PUBREC after both acks',
    present: [true],
    options: manual,
    steps: [
      message('t', 2, 7),
      outage,
      message('u', 2, 7),
      acknowledge(7, 2),
      acknowledge(7, 2),
      acknowledge(7, 2, { accepted: false }),
      ack('pubrel', 7),
    ],
    expect: {
      sent: ['CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message u #7'],
    },
  },
  {
    name: 'manual QoS 2 rollback: an open id reused after its PUBREC went out: delivered, acked by hand',
    present: [true],
    options: manual,
    steps: [
      message('t', 2, 7),
      acknowledge(7, 2),
      outage,
      message('u', 2, 7),
      acknowledge(7, 2),
      ack('pubrel', 7),
    ],
    expect: {
      sent: ['PUBREC #7', 'CONNECT', 'PUBREC #7', 'PUBCOMP #7'],
      events: ['message t #7', 'message u #7'],
    },
  },
  {
    name: 'manual QoS 2: acked while down, PUBREC sent when the broker re-sends the PUBLISH',
    present: [true],
    options: manual,
    steps: [message('t', 2, 7), down, acknowledge(7, 2), up, message('t', 2, 7, true), ack('pubrel', 7)],
    expect: { sent: ['CONNECT', 'PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'manual QoS 2: acked after the reconnect (same session)',
    present: [true],
    options: manual,
    steps: [message('t', 2, 7), outage, message('t', 2, 7, true), acknowledge(7, 2), ack('pubrel', 7)],
    expect: { sent: ['CONNECT', 'PUBREC #7', 'PUBCOMP #7'], events: ['message t #7'] },
  },
  {
    name: 'manual QoS 2: the broker lost the session: the late ack is refused',
    present: [false],
    options: manual,
    steps: [message('t', 2, 7), outage, acknowledge(7, 2, { generationsAgo: 1, accepted: false })],
    expect: { sent: ['CONNECT'], events: ['message t #7'] },
  },
  {
    name: 'manual QoS 2 refused (0x80+): PUBREC with the reason, the id is released',
    present: [true],
    options: manual,
    steps: [message('t', 2, 7), acknowledge(7, 2, { reasonCode: 0x87 }), message('u', 2, 7)],
    expect: (v) =>
      v === 5
        ? { sent: ['PUBREC #7 0x87'], events: ['message t #7', 'message u #7'] }
        : { sent: ['PUBREC #7'], events: ['message t #7', 'message u #7'] },
  },
];

describe('inbound QoS 1 interleavings', () => flowTests(qos1));
describe('inbound QoS 2 interleavings', () => flowTests(qos2));
describe('inbound manual acknowledgement', () => flowTests(manualCases));

describe('inbound bytes in any chunking', () => {
  for (const version of VERSIONS) {
    it(`MQTT ${version}: packets fed one byte at a time are delivered and acked the same`, () => {
      const h = new SessionHarness({ protocolVersion: version }).connect();
      const payload = new Uint8Array(300).fill(7);
      h.deliver(
        { type: 'publish', topic: 't/1', qos: 1, packetId: 1, dup: false, retain: true, payload },
        {
          split: true,
        },
      );
      h.deliver(
        { type: 'publish', topic: 't/2', qos: 2, packetId: 2, dup: false, retain: false, payload },
        {
          split: true,
        },
      );
      h.deliver({ type: 'pubrel', packetId: 2 }, { split: true });
      assert.deepEqual(h.sentBrief(), ['PUBACK #1', 'PUBREC #2', 'PUBCOMP #2']);
      const messages = h.events().flatMap((e) => (e.type === 'message' ? [e.message] : []));
      assert.deepEqual(
        messages.map((m) => [m.topic, m.qos, m.retain, m.payload.length, m.payload[299]]),
        [
          ['t/1', 1, true, 300, 7],
          ['t/2', 2, false, 300, 7],
        ],
      );
    });

    it(`MQTT ${version}: several packets in one chunk are all handled`, () => {
      const h = new SessionHarness({ protocolVersion: version }).connect();
      const one = encode(
        {
          type: 'publish',
          topic: 'a',
          qos: 1,
          packetId: 1,
          dup: false,
          retain: false,
          payload: new Uint8Array(1),
        },
        version,
      );
      const two = encode(
        {
          type: 'publish',
          topic: 'b',
          qos: 2,
          packetId: 2,
          dup: false,
          retain: false,
          payload: new Uint8Array(1),
        },
        version,
      );
      const three = encode({ type: 'pubrel', packetId: 2 }, version);
      const chunk = new Uint8Array([...one, ...two, ...three]);
      h.deliverBytes(chunk);
      assert.deepEqual(h.sentBrief(), ['PUBACK #1', 'PUBREC #2', 'PUBCOMP #2']);
      assert.deepEqual(h.eventsBrief(), ['message a #1', 'message b #2']);
    });
  }
});
