/**
 * Byte-exact vectors for every MQTT-SN 1.2 message, written from the message formats of the
 * specification (section 5.4, one figure per message): Length, MsgType, then the fields in the
 * order and widths the figures give. Each vector is encoded and compared, then decoded back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSn, encodeSn, type SnMessage, SnReturnCode } from '../../src/sn/codec/index.ts';

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const bytes = (...parts: (number | number[])[]) => Uint8Array.from(parts.flat());

const VECTORS: [string, SnMessage, Uint8Array][] = [
  [
    'ADVERTISE (5.4.1): GwId, Duration',
    { type: 'advertise', gwId: 7, duration: 900 },
    bytes(5, 0x00, 7, 0x03, 0x84),
  ],
  ['SEARCHGW (5.4.2): Radius', { type: 'searchgw', radius: 1 }, bytes(3, 0x01, 1)],
  ['GWINFO (5.4.3) from a gateway: GwId only', { type: 'gwinfo', gwId: 9 }, bytes(3, 0x02, 9)],
  [
    'GWINFO (5.4.3) from a client: GwId, GwAdd',
    { type: 'gwinfo', gwId: 9, gwAdd: Uint8Array.of(127, 0, 0, 1) },
    bytes(7, 0x02, 9, 127, 0, 0, 1),
  ],
  [
    'CONNECT (5.4.4): Flags (Will, CleanSession), ProtocolId 0x01, Duration, ClientId',
    { type: 'connect', will: true, cleanSession: true, duration: 60, clientId: 'dev1' },
    bytes(10, 0x04, 0x0c, 0x01, 0x00, 0x3c, ascii('dev1')),
  ],
  [
    'CONNECT without will, clean session off',
    { type: 'connect', will: false, cleanSession: false, duration: 0xffff, clientId: 'x' },
    bytes(7, 0x04, 0x00, 0x01, 0xff, 0xff, ascii('x')),
  ],
  [
    'CONNACK (5.4.5): ReturnCode',
    { type: 'connack', returnCode: SnReturnCode.Accepted },
    bytes(3, 0x05, 0x00),
  ],
  [
    'CONNACK rejected: congestion',
    { type: 'connack', returnCode: SnReturnCode.RejectedCongestion },
    bytes(3, 0x05, 0x01),
  ],
  ['WILLTOPICREQ (5.4.6): header only', { type: 'willtopicreq' }, bytes(2, 0x06)],
  [
    'WILLTOPIC (5.4.7): Flags (QoS 1, Retain), WillTopic',
    { type: 'willtopic', qos: 1, retain: true, topic: 'w/t' },
    bytes(6, 0x07, 0x30, ascii('w/t')),
  ],
  [
    'WILLTOPIC empty (5.4.7): no Flags, no topic',
    { type: 'willtopic', qos: 0, retain: false, topic: undefined },
    bytes(2, 0x07),
  ],
  ['WILLMSGREQ (5.4.8): header only', { type: 'willmsgreq' }, bytes(2, 0x08)],
  [
    'WILLMSG (5.4.9): WillMsg',
    { type: 'willmsg', message: Uint8Array.of(0x62, 0x79, 0x65) },
    bytes(5, 0x09, ascii('bye')),
  ],
  [
    'REGISTER (5.4.10): TopicId, MsgId, TopicName',
    { type: 'register', topicId: 0, msgId: 0x0102, topicName: 'a/b' },
    bytes(9, 0x0a, 0x00, 0x00, 0x01, 0x02, ascii('a/b')),
  ],
  [
    'REGACK (5.4.11): TopicId, MsgId, ReturnCode',
    { type: 'regack', topicId: 0x0021, msgId: 0x0102, returnCode: SnReturnCode.Accepted },
    bytes(7, 0x0b, 0x00, 0x21, 0x01, 0x02, 0x00),
  ],
  [
    'PUBLISH (5.4.12) QoS 1, normal topic id: Flags, TopicId, MsgId, Data',
    {
      type: 'publish',
      dup: false,
      qos: 1,
      retain: false,
      topic: { type: 'normal', id: 0x0021 },
      msgId: 5,
      data: Uint8Array.of(1, 2, 3, 4),
    },
    bytes(11, 0x0c, 0x20, 0x00, 0x21, 0x00, 0x05, 1, 2, 3, 4),
  ],
  [
    'PUBLISH QoS -1 (0b11), pre-defined topic id: the 7-byte header',
    {
      type: 'publish',
      dup: false,
      qos: -1,
      retain: false,
      topic: { type: 'predefined', id: 1 },
      msgId: 0,
      data: Uint8Array.of(9),
    },
    bytes(8, 0x0c, 0x61, 0x00, 0x01, 0x00, 0x00, 9),
  ],
  [
    'PUBLISH QoS 2, DUP, Retain, short topic name',
    {
      type: 'publish',
      dup: true,
      qos: 2,
      retain: true,
      topic: { type: 'short', name: 'ab' },
      msgId: 0xbeef,
      data: new Uint8Array(0),
    },
    bytes(7, 0x0c, 0xd2, ascii('ab'), 0xbe, 0xef),
  ],
  [
    'PUBACK (5.4.13): TopicId, MsgId, ReturnCode',
    { type: 'puback', topicId: 0x0021, msgId: 5, returnCode: SnReturnCode.RejectedInvalidTopicId },
    bytes(7, 0x0d, 0x00, 0x21, 0x00, 0x05, 0x02),
  ],
  ['PUBCOMP (5.4.14): MsgId', { type: 'pubcomp', msgId: 0x1234 }, bytes(4, 0x0e, 0x12, 0x34)],
  ['PUBREC (5.4.14): MsgId', { type: 'pubrec', msgId: 0x1234 }, bytes(4, 0x0f, 0x12, 0x34)],
  ['PUBREL (5.4.14): MsgId', { type: 'pubrel', msgId: 0x1234 }, bytes(4, 0x10, 0x12, 0x34)],
  [
    'SUBSCRIBE (5.4.15) with a topic filter: Flags, MsgId, TopicName',
    { type: 'subscribe', dup: false, qos: 1, msgId: 3, topic: { type: 'name', name: 's/#' } },
    bytes(8, 0x12, 0x20, 0x00, 0x03, ascii('s/#')),
  ],
  [
    'SUBSCRIBE with a pre-defined topic id',
    { type: 'subscribe', dup: true, qos: 2, msgId: 4, topic: { type: 'predefined', id: 7 } },
    bytes(7, 0x12, 0xc1, 0x00, 0x04, 0x00, 0x07),
  ],
  [
    'SUBSCRIBE with a short topic name',
    { type: 'subscribe', dup: false, qos: 0, msgId: 5, topic: { type: 'short', name: 'zz' } },
    bytes(7, 0x12, 0x02, 0x00, 0x05, ascii('zz')),
  ],
  [
    'SUBACK (5.4.16): Flags (granted QoS), TopicId, MsgId, ReturnCode',
    { type: 'suback', qos: 1, topicId: 0x0021, msgId: 3, returnCode: SnReturnCode.Accepted },
    bytes(8, 0x13, 0x20, 0x00, 0x21, 0x00, 0x03, 0x00),
  ],
  [
    'UNSUBSCRIBE (5.4.17): Flags, MsgId, TopicName',
    { type: 'unsubscribe', msgId: 6, topic: { type: 'name', name: 's/#' } },
    bytes(8, 0x14, 0x00, 0x00, 0x06, ascii('s/#')),
  ],
  [
    'UNSUBSCRIBE with a pre-defined id',
    { type: 'unsubscribe', msgId: 6, topic: { type: 'predefined', id: 7 } },
    bytes(7, 0x14, 0x01, 0x00, 0x06, 0x00, 0x07),
  ],
  ['UNSUBACK (5.4.18): MsgId', { type: 'unsuback', msgId: 6 }, bytes(4, 0x15, 0x00, 0x06)],
  ['PINGREQ (5.4.19) without ClientId', { type: 'pingreq' }, bytes(2, 0x16)],
  [
    'PINGREQ with ClientId (a sleeper waking)',
    { type: 'pingreq', clientId: 'dev1' },
    bytes(6, 0x16, ascii('dev1')),
  ],
  ['PINGRESP (5.4.20)', { type: 'pingresp' }, bytes(2, 0x17)],
  ['DISCONNECT (5.4.21) without Duration', { type: 'disconnect' }, bytes(2, 0x18)],
  [
    'DISCONNECT with Duration (go to sleep)',
    { type: 'disconnect', duration: 300 },
    bytes(4, 0x18, 0x01, 0x2c),
  ],
  [
    'WILLTOPICUPD (5.4.22): Flags, WillTopic',
    { type: 'willtopicupd', qos: 2, retain: false, topic: 'w' },
    bytes(4, 0x1a, 0x40, ascii('w')),
  ],
  [
    'WILLTOPICUPD empty: delete the will',
    { type: 'willtopicupd', qos: 0, retain: false, topic: undefined },
    bytes(2, 0x1a),
  ],
  [
    'WILLTOPICRESP (5.4.23)',
    { type: 'willtopicresp', returnCode: SnReturnCode.Accepted },
    bytes(3, 0x1b, 0x00),
  ],
  ['WILLMSGUPD (5.4.24)', { type: 'willmsgupd', message: Uint8Array.of(0x6f) }, bytes(3, 0x1c, 0x6f)],
  [
    'WILLMSGRESP (5.4.25)',
    { type: 'willmsgresp', returnCode: SnReturnCode.RejectedNotSupported },
    bytes(3, 0x1d, 0x03),
  ],
  [
    'Encapsulated (5.5): Length of the header, 0xFE, Ctrl, Wireless Node Id, then the message',
    { type: 'encapsulated', radius: 1, nodeId: Uint8Array.of(0xaa, 0xbb), message: { type: 'pingreq' } },
    bytes(5, 0xfe, 0x01, 0xaa, 0xbb, 2, 0x16),
  ],
];

describe('MQTT-SN 1.2 byte vectors', () => {
  for (const [name, msg, wire] of VECTORS) {
    it(name, () => {
      assert.deepEqual(encodeSn(msg), wire, 'encodes to the figure');
      assert.deepEqual(decodeSn(wire), msg, 'decodes from the figure');
    });
  }

  it('covers every message type of the specification', () => {
    const seen = new Set(VECTORS.map(([, m]) => m.type));
    for (const t of [
      'advertise',
      'searchgw',
      'gwinfo',
      'connect',
      'connack',
      'willtopicreq',
      'willtopic',
      'willmsgreq',
      'willmsg',
      'register',
      'regack',
      'publish',
      'puback',
      'pubcomp',
      'pubrec',
      'pubrel',
      'subscribe',
      'suback',
      'unsubscribe',
      'unsuback',
      'pingreq',
      'pingresp',
      'disconnect',
      'willtopicupd',
      'willtopicresp',
      'willmsgupd',
      'willmsgresp',
      'encapsulated',
    ])
      assert.ok(seen.has(t as SnMessage['type']), t);
  });

  it('the 3-byte length form (5.2.1): 0x01, then a 16-bit length, above 255 bytes', () => {
    const data = new Uint8Array(300).fill(0x55);
    const msg: SnMessage = {
      type: 'publish',
      dup: false,
      qos: 0,
      retain: false,
      topic: { type: 'normal', id: 1 },
      msgId: 0,
      data,
    };
    const wire = encodeSn(msg);
    assert.equal(wire.length, 4 + 5 + 300);
    assert.deepEqual([...wire.subarray(0, 4)], [0x01, wire.length >> 8, wire.length & 0xff, 0x0c]);
    assert.deepEqual(decodeSn(wire), msg);
  });

  it('the largest 1-byte form is 255 bytes, the next one takes 3 bytes', () => {
    const at = (n: number) => encodeSn({ type: 'willmsg', message: new Uint8Array(n) });
    assert.equal(at(253)[0], 255);
    assert.equal(at(254)[0], 0x01);
    assert.equal(at(254).length, 258);
  });

  it('the 3-byte form is accepted for a short message too (some senders use it always)', () => {
    assert.deepEqual(decodeSn(bytes(0x01, 0x00, 0x04, 0x18)), { type: 'disconnect' });
  });
});
