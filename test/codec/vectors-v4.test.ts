/**
 * Byte-exact vectors for MQTT 3.1.1 (OASIS Standard, protocol level 4),
 * written from the specification's figures and normative text:
 *   2.2    Fixed header (packet type in bits 7-4, flags in bits 3-0, Table 2.2)
 *   2.2.3  Remaining Length (1 to 4 bytes, 7 bits each, continuation bit 0x80; Table 2.4)
 *   1.5.3  UTF-8 encoded strings (2-byte big-endian length, then the bytes)
 *   3.1    CONNECT (Figure 3.6 is the variable-header example: flags 0xCE, keep alive 10)
 *   3.2    CONNACK (return codes 0-5, Table 3.1)
 *   3.3    PUBLISH (DUP bit 3, QoS bits 2-1, RETAIN bit 0; packet id only when QoS > 0)
 *   3.4-3.7 PUBACK / PUBREC / PUBREL (flags 0010) / PUBCOMP, remaining length 2
 *   3.8    SUBSCRIBE (flags 0010), 3.9 SUBACK (0x00, 0x01, 0x02, 0x80)
 *   3.10   UNSUBSCRIBE (flags 0010), 3.11 UNSUBACK (remaining length 2)
 *   3.12-3.14 PINGREQ, PINGRESP, DISCONNECT (remaining length 0)
 *
 * On 3.1.1 an ack or DISCONNECT decodes with reasonCode 0, and UNSUBACK with reasonCodes [].
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet } from '../../src/codec/types.ts';
import {
  assertPacket,
  concat,
  decodeOnlyTests,
  feed,
  h,
  pattern,
  toHex,
  utf8,
  type Vector,
  vectorTests,
} from './vector-helpers.ts';

// ---------------------------------------------------------------------------------------------
// CONNECT (3.1)
// ---------------------------------------------------------------------------------------------
const connect: Vector[] = [
  {
    name: 'CONNECT minimal (clean session, keep alive 60, client id "c1")',
    packet: { type: 'connect', protocolVersion: 4, clientId: 'c1', clean: true, keepalive: 60 },
    bytes: h(
      '10 0e', // CONNECT (1 << 4), flags 0000; remaining length 14
      '00 04 4d 51 54 54', // protocol name: length 4, "MQTT"
      '04', // protocol level 4 (3.1.1)
      '02', // connect flags: clean session (bit 1)
      '00 3c', // keep alive 60 s
      '00 02 63 31', // client identifier "c1"
    ),
  },
  {
    name: 'CONNECT with will (QoS 1), username and password: the flags of Figure 3.6 (0xCE), keep alive 10',
    packet: {
      type: 'connect',
      protocolVersion: 4,
      clientId: 'cid',
      clean: true,
      keepalive: 10,
      will: { topic: 'w/t', payload: utf8('bye'), qos: 1, retain: false },
      username: 'user',
      password: h('00 ff 10'),
    },
    bytes: h(
      '10 24', // CONNECT, remaining length 36 = 10 (variable header) + 26 (payload)
      '00 04 4d 51 54 54', // "MQTT"
      '04', // level 4
      'ce', // flags 1100 1110: username, password, will retain 0, will QoS 01, will flag, clean session
      '00 0a', // keep alive 10
      '00 03 63 69 64', // client id "cid"
      '00 03 77 2f 74', // will topic "w/t"
      '00 03 62 79 65', // will message: 2-byte length then the bytes "bye"
      '00 04 75 73 65 72', // user name "user"
      '00 03 00 ff 10', // password: binary data, length 3
    ),
  },
  {
    name: 'CONNECT persistent session, retained QoS 2 will with an empty message, keep alive 0',
    packet: {
      type: 'connect',
      protocolVersion: 4,
      clientId: 'x',
      clean: false,
      keepalive: 0,
      will: { topic: 't', payload: new Uint8Array(0), qos: 2, retain: true },
    },
    bytes: h(
      '10 12', // CONNECT, remaining length 18
      '00 04 4d 51 54 54 04', // "MQTT", level 4
      '34', // flags 0011 0100: will retain (bit 5), will QoS 2 (bits 4-3 = 10), will flag (bit 2)
      '00 00', // keep alive 0 (off)
      '00 01 78', // client id "x"
      '00 01 74', // will topic "t"
      '00 00', // will message: zero length
    ),
  },
  {
    name: 'CONNECT with username only, empty client id, keep alive 65535',
    packet: {
      type: 'connect',
      protocolVersion: 4,
      clientId: '',
      clean: true,
      keepalive: 65535,
      username: 'bob',
    },
    bytes: h(
      '10 11', // CONNECT, remaining length 17
      '00 04 4d 51 54 54 04', // "MQTT", level 4
      '82', // flags 1000 0010: username, clean session
      'ff ff', // keep alive 65535
      '00 00', // client id "" (allowed with clean session, 3.1.3.1)
      '00 03 62 6f 62', // user name "bob"
    ),
  },
];

// ---------------------------------------------------------------------------------------------
// CONNACK (3.2): byte 1 = acknowledge flags (bit 0 session present), byte 2 = return code
// ---------------------------------------------------------------------------------------------
const connackCodes: [number, string][] = [
  [0x00, 'connection accepted'],
  [0x01, 'unacceptable protocol version'],
  [0x02, 'identifier rejected'],
  [0x03, 'server unavailable'],
  [0x04, 'bad user name or password'],
  [0x05, 'not authorized'],
];
const connack: Vector[] = [
  ...connackCodes.map(
    ([code, meaning]): Vector => ({
      name: `CONNACK return code ${code} (${meaning})`,
      packet: { type: 'connack', sessionPresent: false, reasonCode: code },
      bytes: h('20 02', '00', code.toString(16).padStart(2, '0')), // CONNACK, length 2, flags 0, code
    }),
  ),
  {
    name: 'CONNACK accepted with session present',
    packet: { type: 'connack', sessionPresent: true, reasonCode: 0 },
    bytes: h('20 02', '01', '00'), // flags: session present (bit 0); return code 0
  },
];

// ---------------------------------------------------------------------------------------------
// PUBLISH (3.3): flags are DUP (bit 3), QoS (bits 2-1), RETAIN (bit 0)
// ---------------------------------------------------------------------------------------------
const publish: Vector[] = [
  {
    name: 'PUBLISH QoS 0 (no packet identifier)',
    packet: { type: 'publish', topic: 'a/b', payload: utf8('hi'), qos: 0, retain: false, dup: false },
    bytes: h(
      '30 07', // PUBLISH (3 << 4), flags 0000; remaining length 7
      '00 03 61 2f 62', // topic name "a/b"
      '68 69', // payload "hi" (no length prefix: it runs to the end of the packet)
    ),
  },
  {
    name: 'PUBLISH QoS 1, packet id 10',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 10,
    },
    bytes: h(
      '32 09', // PUBLISH, flags 0010 (QoS 1); remaining length 9
      '00 03 61 2f 62', // topic "a/b"
      '00 0a', // packet identifier 10
      '68 69', // payload "hi"
    ),
  },
  {
    name: 'PUBLISH QoS 2, packet id 65535',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 0xffff,
    },
    bytes: h('34 09', '00 03 61 2f 62', 'ff ff', '68 69'), // flags 0100 (QoS 2); packet id 65535
  },
  {
    name: 'PUBLISH QoS 1 with DUP',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 1,
      retain: false,
      dup: true,
      packetId: 1,
    },
    bytes: h('3a 09', '00 03 61 2f 62', '00 01', '68 69'), // flags 1010: DUP, QoS 1
  },
  {
    name: 'PUBLISH QoS 2 with DUP and RETAIN',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 2,
      retain: true,
      dup: true,
      packetId: 2,
    },
    bytes: h('3d 09', '00 03 61 2f 62', '00 02', '68 69'), // flags 1101: DUP, QoS 2, RETAIN
  },
  {
    name: 'PUBLISH QoS 0 retained with an empty payload (clears a retained message)',
    packet: { type: 'publish', topic: 'a/b', payload: new Uint8Array(0), qos: 0, retain: true, dup: false },
    bytes: h('31 05', '00 03 61 2f 62'), // flags 0001: RETAIN; remaining length 5 = topic only
  },
  {
    name: 'PUBLISH with a multi-byte UTF-8 topic (2-, 3- and 4-byte sequences)',
    packet: { type: 'publish', topic: 'café/€/😀', payload: h('00 ff'), qos: 0, retain: false, dup: false },
    bytes: h(
      '30 12', // remaining length 18
      '00 0e', // topic length 14 (bytes, not characters)
      '63 61 66 c3 a9', // "café" (é = U+00E9 = C3 A9)
      '2f e2 82 ac', // "/€" (U+20AC = E2 82 AC)
      '2f f0 9f 98 80', // "/😀" (U+1F600 = F0 9F 98 80, one code point, a surrogate pair in JS)
      '00 ff', // binary payload
    ),
  },
  {
    name: 'PUBLISH topic starting with EF BB BF keeps U+FEFF (1.5.3: it MUST NOT be skipped or stripped)',
    packet: {
      type: 'publish',
      topic: '\ufefft',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
    },
    bytes: h('30 06', '00 04 ef bb bf 74'), // topic U+FEFF "t"
  },
];

// ---------------------------------------------------------------------------------------------
// PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7): remaining length 2, the packet identifier
// ---------------------------------------------------------------------------------------------
const acks: Vector[] = [
  {
    name: 'PUBACK packet id 1',
    packet: { type: 'puback', packetId: 1, reasonCode: 0 },
    bytes: h('40 02', '00 01'), // PUBACK (4 << 4), flags 0000
  },
  {
    name: 'PUBREC packet id 0x1234',
    packet: { type: 'pubrec', packetId: 0x1234, reasonCode: 0 },
    bytes: h('50 02', '12 34'), // PUBREC (5 << 4), flags 0000
  },
  {
    name: 'PUBREL packet id 0xabcd (fixed header flags 0010)',
    packet: { type: 'pubrel', packetId: 0xabcd, reasonCode: 0 },
    bytes: h('62 02', 'ab cd'), // PUBREL (6 << 4) | 0010 (3.6.1: reserved bits MUST be 0,0,1,0)
  },
  {
    name: 'PUBCOMP packet id 65535',
    packet: { type: 'pubcomp', packetId: 65535, reasonCode: 0 },
    bytes: h('70 02', 'ff ff'), // PUBCOMP (7 << 4), flags 0000
  },
];

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK (3.8-3.11)
// ---------------------------------------------------------------------------------------------
const subscriptions: Vector[] = [
  {
    name: 'SUBSCRIBE three filters (the "a/b" QoS 1, "c/d" QoS 2 of Figure 3.22, plus a wildcard filter)',
    packet: {
      type: 'subscribe',
      packetId: 10,
      subscriptions: [
        { topic: 'a/b', qos: 1 },
        { topic: 'c/d', qos: 2 },
        { topic: '+/e/#', qos: 0 },
      ],
    },
    bytes: h(
      '82 16', // SUBSCRIBE (8 << 4) | 0010; remaining length 22
      '00 0a', // packet identifier 10
      '00 03 61 2f 62', // topic filter "a/b"
      '01', // requested QoS 1
      '00 03 63 2f 64', // topic filter "c/d"
      '02', // requested QoS 2
      '00 05 2b 2f 65 2f 23', // topic filter "+/e/#"
      '00', // requested QoS 0
    ),
  },
  {
    name: 'SUBACK granted 1, 2, 0 and failure 0x80',
    packet: { type: 'suback', packetId: 10, reasonCodes: [1, 2, 0, 0x80] },
    bytes: h(
      '90 06', // SUBACK (9 << 4); remaining length 6
      '00 0a', // packet identifier 10
      '01 02 00 80', // return codes: max QoS 1, max QoS 2, max QoS 0, failure
    ),
  },
  {
    name: 'UNSUBSCRIBE two filters',
    packet: { type: 'unsubscribe', packetId: 11, topics: ['a/b', 'c/d'] },
    bytes: h(
      'a2 0c', // UNSUBSCRIBE (10 << 4) | 0010; remaining length 12
      '00 0b', // packet identifier 11
      '00 03 61 2f 62', // "a/b"
      '00 03 63 2f 64', // "c/d"
    ),
  },
  {
    name: 'UNSUBACK (remaining length 2, no return codes on 3.1.1)',
    packet: { type: 'unsuback', packetId: 11, reasonCodes: [] },
    bytes: h('b0 02', '00 0b'), // UNSUBACK (11 << 4); packet identifier 11
  },
];

// ---------------------------------------------------------------------------------------------
// PINGREQ, PINGRESP, DISCONNECT (3.12-3.14): fixed header only
// ---------------------------------------------------------------------------------------------
const empty: Vector[] = [
  { name: 'PINGREQ (remaining length 0)', packet: { type: 'pingreq' }, bytes: h('c0 00') },
  { name: 'PINGRESP', packet: { type: 'pingresp' }, bytes: h('d0 00') },
  { name: 'DISCONNECT', packet: { type: 'disconnect', reasonCode: 0 }, bytes: h('e0 00') },
];

// ---------------------------------------------------------------------------------------------
// Remaining Length edges (2.2.3, Table 2.4): PUBLISH QoS 0, topic "a", payload sized to hit each
// value. Remaining length = 3 (topic length + "a") + payload length. 0 is PINGREQ/DISCONNECT above.
// ---------------------------------------------------------------------------------------------
const remainingLengthEdges: [number, string][] = [
  [127, '7f'], // largest 1-byte value
  [128, '80 01'], // smallest 2-byte value
  [16383, 'ff 7f'], // largest 2-byte value
  [16384, '80 80 01'], // smallest 3-byte value
  [2097151, 'ff ff 7f'], // largest 3-byte value
  [2097152, '80 80 80 01'], // smallest 4-byte value
];
const remainingLength: Vector[] = remainingLengthEdges.map(([length, encoded]): Vector => {
  const payload = pattern(length - 3);
  return {
    name: `PUBLISH with remaining length ${length} (encoded ${encoded})`,
    packet: { type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false },
    bytes: concat(h('30', encoded, '00 01 61'), payload),
  };
});

export const all: Vector[] = [
  ...connect,
  ...connack,
  ...publish,
  ...acks,
  ...subscriptions,
  ...empty,
  ...remainingLength,
];

describe('MQTT 3.1.1 vectors', () => {
  vectorTests(all, 4);
});

describe('MQTT 3.1.1 decoding details', () => {
  decodeOnlyTests(
    [
      {
        // 3.3.2.2 / 3.3.3: the payload is whatever follows the variable header, zeros included.
        name: 'PUBLISH payload of zero bytes and 0xff bytes is kept byte for byte',
        bytes: h('30 08', '00 01 61', '00 00 ff ff 00'),
        packet: {
          type: 'publish',
          topic: 'a',
          payload: h('00 00 ff ff 00'),
          qos: 0,
          retain: false,
          dup: false,
        },
      },
    ],
    4,
  );

  it('encoding a 3.1.1 ack ignores reasonCode and properties', () => {
    const packet: Packet = {
      type: 'puback',
      packetId: 1,
      reasonCode: 0x10,
      properties: { reasonString: 'x' },
    };
    assert.equal(toHex(encode(packet, 4)), '40 02 00 01');
  });

  it('encoding a 3.1.1 DISCONNECT ignores reasonCode and properties', () => {
    const packet: Packet = { type: 'disconnect', reasonCode: 0x8e, properties: { reasonString: 'x' } };
    assert.equal(toHex(encode(packet, 4)), 'e0 00');
  });

  it('a decoded PUBLISH payload has exactly the payload bytes', () => {
    const bytes = h('30 07', '00 03 61 2f 62', '68 69');
    const packet = decode(bytes, 4);
    assert.equal(packet.type, 'publish');
    if (packet.type === 'publish') assert.equal(toHex(packet.payload), '68 69');
  });

  it('a CONNECT is decoded with the version its bytes declare, whatever decode was asked for', () => {
    const bytes = connect[0].bytes;
    assertPacket(decode(bytes, 5), connect[0].packet, 'decode(v4 CONNECT, 5)');
  });

  it('PacketDecoder: a 3.1.1 CONNECT switches a default (5.0) decoder to 3.1.1', () => {
    const decoder = new PacketDecoder();
    // After the CONNECT, a PUBLISH without a property length: on 5.0 the byte 0x68 ('h') would
    // be read as a property length and the packet would be malformed.
    const publishBytes = h('30 07', '00 03 61 2f 62', '68 69');
    const packets = feed(decoder, concat(connect[0].bytes, publishBytes), 1);
    assert.equal(packets.length, 2);
    assertPacket(packets[0], connect[0].packet, 'connect');
    assertPacket(packets[1], publish[0].packet, 'publish');
  });

  it('PacketDecoder: a packet split across chunks at every position', () => {
    const bytes = connect[1].bytes;
    for (let split = 1; split < bytes.length; split++) {
      const decoder = new PacketDecoder({ protocolVersion: 4 });
      decoder.push(bytes.subarray(0, split));
      assert.equal(decoder.next(), undefined, `nothing after ${split} bytes`);
      decoder.push(bytes.subarray(split));
      assertPacket(decoder.next(), connect[1].packet, `split at ${split}`);
      assert.equal(decoder.next(), undefined);
    }
  });

  it('PacketDecoder: reset() drops a partial packet', () => {
    const decoder = new PacketDecoder({ protocolVersion: 4 });
    decoder.push(h('30 07 00 03 61')); // first 5 bytes of a PUBLISH
    assert.equal(decoder.next(), undefined);
    decoder.reset();
    decoder.push(h('c0 00'));
    assertPacket(decoder.next(), { type: 'pingreq' }, 'after reset');
    assert.equal(decoder.next(), undefined);
  });

  it('PacketDecoder: the remaining length itself may arrive split', () => {
    const v = remainingLength[3]; // remaining length 16384, encoded 80 80 01
    const decoder = new PacketDecoder({ protocolVersion: 4 });
    for (const end of [1, 2, 3]) {
      decoder.push(v.bytes.subarray(end - 1, end));
      assert.equal(decoder.next(), undefined);
    }
    decoder.push(v.bytes.subarray(3));
    assertPacket(decoder.next(), v.packet, 'after split header');
  });
});
