/**
 * Outbound QoS 1 and QoS 2 against every place an outage can fall, both
 * protocol versions, with the broker keeping the session and losing it.
 *
 * MQTT 4.4 (both versions): on reconnect with the session kept, the client
 * re-sends unacknowledged PUBLISH packets with DUP set and their original
 * packet ids, and PUBREL for those already PUBREC'd, never their PUBLISH again
 * [MQTT-4.4.0-1], [MQTT-3.3.1-1]. A PUBREC means the broker has "accepted
 * ownership of the Application Message" (3.1.1 [MQTT-4.3.3-2]), so when the
 * broker has lost the session (Session Present 0) such a message is complete,
 * and the client's old state for it is discarded (5.0 [MQTT-3.2.2-5]).
 *
 * Each row's `sent` is the whole trace after the first CONNACK, CONNECTs included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FlowCase, flowTests, SessionHarness, step, VERSIONS } from './harness.ts';

const { publish, ack, down, up, outage } = step;

const qos1: FlowCase[] = [
  {
    name: 'QoS 1, no outage',
    present: [true],
    steps: [publish('a', 1), ack('puback', 1)],
    expect: { sent: ['PUBLISH a #1'], events: ['published a'] },
  },
  {
    name: 'QoS 1, outage before PUBLISH: queued while down, sent after CONNACK',
    steps: [down, publish('a', 1), up, ack('puback', 1)],
    expect: { sent: ['CONNECT', 'PUBLISH a #1'], events: ['published a'] },
  },
  {
    name: 'QoS 1, published while connecting: waits for CONNACK',
    present: [true],
    steps: [down, (h) => h.linkUp(), publish('a', 1), (h) => h.connack(), ack('puback', 1)],
    expect: { sent: ['CONNECT', 'PUBLISH a #1'], events: ['published a'] },
  },
  {
    name: 'QoS 1, outage after PUBLISH, before PUBACK: re-sent with DUP and the same id, completes once',
    steps: [publish('a', 1), outage, ack('puback', 1), ack('puback', 1)],
    expect: { sent: ['PUBLISH a #1', 'CONNECT', 'PUBLISH a #1 dup'], events: ['published a'] },
  },
  {
    name: 'QoS 1, two outages before PUBACK',
    steps: [publish('a', 1), outage, outage, ack('puback', 1)],
    expect: {
      sent: ['PUBLISH a #1', 'CONNECT', 'PUBLISH a #1 dup', 'CONNECT', 'PUBLISH a #1 dup'],
      events: ['published a'],
    },
  },
  {
    name: 'QoS 1, outage after PUBLISH, link lost again before CONNACK',
    steps: [publish('a', 1), down, (h) => h.linkUp(), up, ack('puback', 1)],
    expect: { sent: ['PUBLISH a #1', 'CONNECT', 'CONNECT', 'PUBLISH a #1 dup'], events: ['published a'] },
  },
  {
    name: 'QoS 1, outage after PUBACK: nothing re-sent',
    steps: [publish('a', 1), ack('puback', 1), outage, ack('puback', 1)],
    expect: { sent: ['PUBLISH a #1', 'CONNECT'], events: ['published a'] },
  },
  {
    name: 'QoS 0 published while down: sent after CONNACK, never re-sent',
    steps: [down, publish('z', 0), up, outage],
    expect: { sent: ['CONNECT', 'PUBLISH z', 'CONNECT'], events: ['published z'] },
  },
];

const qos2: FlowCase[] = [
  {
    name: 'QoS 2, no outage',
    present: [true],
    steps: [publish('a', 2), ack('pubrec', 1), ack('pubcomp', 1)],
    expect: { sent: ['PUBLISH a #1', 'PUBREL #1'], events: ['published a'] },
  },
  {
    name: 'QoS 2, outage before PUBLISH',
    steps: [down, publish('a', 2), up, ack('pubrec', 1), ack('pubcomp', 1)],
    expect: { sent: ['CONNECT', 'PUBLISH a #1', 'PUBREL #1'], events: ['published a'] },
  },
  {
    name: 'QoS 2, outage after PUBLISH, before PUBREC: PUBLISH re-sent with DUP',
    steps: [publish('a', 2), outage, ack('pubrec', 1), ack('pubcomp', 1)],
    expect: {
      sent: ['PUBLISH a #1', 'CONNECT', 'PUBLISH a #1 dup', 'PUBREL #1'],
      events: ['published a'],
    },
  },
  {
    name: 'QoS 2, outage after PUBREC, before PUBCOMP: PUBREL re-sent, not PUBLISH',
    present: [true],
    steps: [publish('a', 2), ack('pubrec', 1), outage, ack('pubcomp', 1)],
    expect: { sent: ['PUBLISH a #1', 'PUBREL #1', 'CONNECT', 'PUBREL #1'], events: ['published a'] },
  },
  {
    name: 'QoS 2, outage after PUBREC, broker lost the session: complete, nothing re-sent',
    present: [false],
    steps: [publish('a', 2), ack('pubrec', 1), outage, ack('pubcomp', 1)],
    expect: { sent: ['PUBLISH a #1', 'PUBREL #1', 'CONNECT'], events: ['published a'] },
  },
  {
    // MQTT 5 3.7.2.1: PUBCOMP 0x92 "is not an error during recovery".
    name: 'QoS 2, PUBCOMP lost in the outage, broker answers the re-sent PUBREL with 0x92: complete',
    present: [true],
    steps: [publish('a', 2), ack('pubrec', 1), outage, ack('pubcomp', 1, 0x92)],
    expect: { sent: ['PUBLISH a #1', 'PUBREL #1', 'CONNECT', 'PUBREL #1'], events: ['published a'] },
  },
  {
    name: 'QoS 2, outage after PUBCOMP: nothing re-sent',
    steps: [publish('a', 2), ack('pubrec', 1), ack('pubcomp', 1), outage, ack('pubcomp', 1)],
    expect: { sent: ['PUBLISH a #1', 'PUBREL #1', 'CONNECT'], events: ['published a'] },
  },
  {
    name: 'QoS 2, outages at every step of one flow',
    present: [true],
    steps: [publish('a', 2), outage, ack('pubrec', 1), outage, ack('pubcomp', 1), outage],
    expect: {
      sent: ['PUBLISH a #1', 'CONNECT', 'PUBLISH a #1 dup', 'PUBREL #1', 'CONNECT', 'PUBREL #1', 'CONNECT'],
      events: ['published a'],
    },
  },
  {
    name: 'QoS 2, PUBREC refused (0x80+ on MQTT 5): fails once, no PUBREL',
    present: [true],
    steps: [publish('a', 2), ack('pubrec', 1, 0x87), outage],
    expect: (v) =>
      v === 5
        ? { sent: ['PUBLISH a #1', 'CONNECT'], events: ['failed a REFUSED 0x87'] }
        : { sent: ['PUBLISH a #1', 'PUBREL #1', 'CONNECT', 'PUBREL #1'], events: [] },
  },
];

// a: QoS 1 sent; b: QoS 2 sent; c: QoS 2 PUBREC'd; d: QoS 1 done; e: QoS 2 sent; f: published while down.
const mixedSteps = [
  publish('a', 1),
  publish('b', 2),
  publish('c', 2),
  publish('d', 1),
  publish('e', 2),
  ack('pubrec', 3),
  ack('puback', 4),
  down,
  publish('f', 1),
  up,
];
const firstSends = [
  'PUBLISH a #1',
  'PUBLISH b #2',
  'PUBLISH c #3',
  'PUBLISH d #4',
  'PUBLISH e #5',
  'PUBREL #3',
];

const mixed: FlowCase[] = [
  {
    name: 'several messages in mixed states: re-sent in the original order, queued ones after',
    steps: [
      ...mixedSteps,
      ack('puback', 1),
      ack('pubrec', 2),
      ack('pubcomp', 2),
      ack('pubcomp', 3),
      ack('pubrec', 5),
      ack('pubcomp', 5),
      ack('puback', 6),
    ],
    expect: (_v, present) => ({
      sent: [
        ...firstSends,
        'CONNECT',
        'PUBLISH a #1 dup',
        'PUBLISH b #2 dup',
        ...(present ? ['PUBREL #3'] : []),
        'PUBLISH e #5 dup',
        'PUBLISH f #6',
        'PUBREL #2',
        'PUBREL #5',
      ],
      events: present
        ? ['published d', 'published a', 'published b', 'published c', 'published e', 'published f']
        : ['published d', 'published c', 'published a', 'published b', 'published e', 'published f'],
    }),
  },
];

describe('outbound QoS 1 interleavings', () => flowTests(qos1));
describe('outbound QoS 2 interleavings', () => flowTests(qos2));
describe('outbound mixed interleavings', () => flowTests(mixed));

describe('outbound flows keep their packet ids and tokens', () => {
  for (const version of VERSIONS) {
    it(`MQTT ${version}: tokens are returned as given, each exactly once`, () => {
      const h = new SessionHarness({ protocolVersion: version }).connect();
      const tokens = [{ n: 1 }, { n: 2 }, Symbol('three')];
      h.publish({ topic: 'a', qos: 1 }, tokens[0]);
      h.publish({ topic: 'b', qos: 2 }, tokens[1]);
      h.publish({ topic: 'c', qos: 0 }, tokens[2]);
      h.outage();
      h.connack({ sessionPresent: true });
      h.deliver({ type: 'pubrec', packetId: 2 });
      h.deliver({ type: 'puback', packetId: 1 });
      h.deliver({ type: 'pubcomp', packetId: 2 });
      const done = h.events().filter((e) => e.type === 'published');
      assert.deepEqual(
        done.map((e) => e.token),
        [tokens[2], tokens[0], tokens[1]],
      );
    });

    it(`MQTT ${version}: the re-sent PUBLISH is the original one (topic, payload, QoS, retain)`, () => {
      const h = new SessionHarness({ protocolVersion: version }).connect();
      const payload = new Uint8Array([1, 2, 3]);
      h.publish({ topic: 'r/t', qos: 2, retain: true, payload });
      const [first] = h.sent();
      h.outage();
      h.connack({ sessionPresent: true });
      const [again] = h.sent();
      assert.deepEqual({ ...again, dup: false }, first);
      assert.equal(again.type === 'publish' && again.dup, true);
    });
  }
});
