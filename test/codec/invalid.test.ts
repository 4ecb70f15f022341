/**
 * Byte sequences the MQTT specifications say a receiver MUST reject, and packets the encoder
 * must refuse to write. Every decode error is an MqttError with side 'remote' and the MQTT 5
 * reason code a DISCONNECT would carry (MQTT 5.0 section 2.4 / 4.13: 0x81 Malformed Packet,
 * 0x82 Protocol Error, 0x84 Unsupported Protocol Version, 0x8F Topic Filter invalid,
 * 0x90 Topic Name invalid, 0x95 Packet too large). Encode errors have side 'local'.
 *
 * Each decode case is run through decode() and through PacketDecoder (the whole packet pushed
 * at once, then next()).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet, ProtocolVersion } from '../../src/codec/types.ts';
import type { MqttErrorCode } from '../../src/errors.ts';
import { assertMqttError, assertPacket, concat, h, pattern } from './vector-helpers.ts';

interface Bad {
  name: string;
  version: ProtocolVersion;
  bytes: Uint8Array;
  code: MqttErrorCode;
  /** Only decode(): the bytes are not one whole packet, so a stream would just wait or split them. */
  decodeOnly?: boolean;
}

function badTests(cases: Bad[]): void {
  for (const c of cases) {
    it(`v${c.version === 4 ? '3.1.1' : '5.0'}: ${c.name} -> ${c.code}`, () => {
      assertMqttError(() => decode(c.bytes, c.version), c.code, 'remote');
      if (!c.decodeOnly) {
        const decoder = new PacketDecoder({ protocolVersion: c.version });
        decoder.push(c.bytes);
        assertMqttError(() => decoder.next(), c.code, 'remote');
      }
    });
  }
}

/** The same case on both versions, when the bytes mean the same on both. */
function both(name: string, bytes: string, code: MqttErrorCode): Bad[] {
  return [
    { name, version: 4, bytes: h(bytes), code },
    { name, version: 5, bytes: h(bytes), code },
  ];
}

const MQTT = '00 04 4d 51 54 54'; // protocol name "MQTT"

// ---------------------------------------------------------------------------------------------
describe('fixed header and remaining length', () => {
  badTests([
    // 2.2.3 (3.1.1) / 1.5.5 (5.0): at most four bytes.
    ...both('remaining length of five bytes', '30 80 80 80 80 01', 'MALFORMED_PACKET'),
    ...both('remaining length of five bytes, all continuation', '30 ff ff ff ff 7f', 'MALFORMED_PACKET'),
    // 1.5.5 [MQTT-1.5.5-1]: "The encoded value MUST use the minimum number of bytes".
    {
      name: 'non-minimal remaining length (0 as 80 00) on PINGREQ',
      version: 5,
      bytes: h('c0 80 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'non-minimal remaining length (4 as 84 00) on PUBLISH',
      version: 5,
      bytes: h('30 84 00', '00 01 61', '00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'non-minimal property length (0 as 80 00)',
      version: 5,
      bytes: h('30 05', '00 01 61', '80 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'non-minimal Subscription Identifier (1 as 81 00)',
      version: 5,
      bytes: h('30 07', '00 01 61', '03', '0b 81 00'),
      code: 'MALFORMED_PACKET',
    },
    // Packet type 0 is reserved in both; 15 is reserved in 3.1.1 (2.2.1, Table 2.1).
    ...both('packet type 0 (reserved)', '00 00', 'MALFORMED_PACKET'),
    { name: 'packet type 15 (reserved in 3.1.1)', version: 4, bytes: h('f0 00'), code: 'MALFORMED_PACKET' },
    {
      name: 'AUTH (with properties) on a 3.1.1 decoder',
      version: 4,
      bytes: h('f0 0a', '18', '08', '15 00 05 54 4f 4b 45 4e'),
      code: 'MALFORMED_PACKET',
    },
  ]);

  it('a five-byte remaining length is detected before any further byte arrives', () => {
    for (const version of [4, 5] as const) {
      const decoder = new PacketDecoder({ protocolVersion: version });
      decoder.push(h('30 ff ff ff ff'));
      assertMqttError(() => decoder.next(), 'MALFORMED_PACKET', 'remote');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 2.2.2 (3.1.1, Table 2.2) / 2.1.3 (5.0, Table 2-2): flags other than PUBLISH's are fixed; PUBREL,
// SUBSCRIBE and UNSUBSCRIBE carry 0010, the rest 0000. "If invalid flags are received, the
// receiver MUST close the Network Connection" [MQTT-2.2.2-2]; in 5.0 it is a Malformed Packet.
describe('reserved fixed-header flags', () => {
  badTests([
    ...both('PUBREL with flags 0000', '60 02 00 01', 'MALFORMED_PACKET'),
    ...both('PUBREL with flags 0011', '63 02 00 01', 'MALFORMED_PACKET'),
    {
      name: 'SUBSCRIBE with flags 0000',
      version: 4,
      bytes: h('80 06 00 01 00 01 61 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'SUBSCRIBE with flags 0000',
      version: 5,
      bytes: h('80 07 00 01 00 00 01 61 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'UNSUBSCRIBE with flags 0000',
      version: 4,
      bytes: h('a0 05 00 01 00 01 61'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'UNSUBSCRIBE with flags 0000',
      version: 5,
      bytes: h('a0 06 00 01 00 00 01 61'),
      code: 'MALFORMED_PACKET',
    },
    ...both('PUBACK with flags 0010', '42 02 00 01', 'MALFORMED_PACKET'),
    ...both('PUBREC with flags 0001', '51 02 00 01', 'MALFORMED_PACKET'),
    ...both('PUBCOMP with flags 1000', '78 02 00 01', 'MALFORMED_PACKET'),
    { name: 'CONNACK with flags 0001', version: 4, bytes: h('21 02 00 00'), code: 'MALFORMED_PACKET' },
    { name: 'CONNACK with flags 0001', version: 5, bytes: h('21 03 00 00 00'), code: 'MALFORMED_PACKET' },
    {
      name: 'CONNECT with flags 0010',
      version: 4,
      bytes: h('12 0e', MQTT, '04 02 00 3c', '00 02 63 31'),
      code: 'MALFORMED_PACKET',
    },
    { name: 'SUBACK with flags 0010', version: 4, bytes: h('92 03 00 01 00'), code: 'MALFORMED_PACKET' },
    { name: 'UNSUBACK with flags 0010', version: 4, bytes: h('b2 02 00 01'), code: 'MALFORMED_PACKET' },
    { name: 'UNSUBACK with flags 0010', version: 5, bytes: h('b2 04 00 01 00 00'), code: 'MALFORMED_PACKET' },
    ...both('PINGREQ with flags 0001', 'c1 00', 'MALFORMED_PACKET'),
    ...both('PINGRESP with flags 0010', 'd2 00', 'MALFORMED_PACKET'),
    ...both('DISCONNECT with flags 1000', 'e8 00', 'MALFORMED_PACKET'),
    { name: 'AUTH with flags 0001', version: 5, bytes: h('f1 00'), code: 'MALFORMED_PACKET' },
  ]);
});

// ---------------------------------------------------------------------------------------------
describe('PUBLISH header and topic name', () => {
  badTests([
    // 3.3.1.2 [MQTT-3.3.1-4]: "A PUBLISH Packet MUST NOT have both QoS bits set to 1".
    { name: 'QoS 3', version: 4, bytes: h('36 07', '00 03 61 2f 62', '00 01'), code: 'MALFORMED_PACKET' },
    {
      name: 'QoS 3',
      version: 5,
      bytes: h('36 08', '00 03 61 2f 62', '00 01', '00'),
      code: 'MALFORMED_PACKET',
    },
    // 3.3.1.1 [MQTT-3.3.1-2]: "The DUP flag MUST be set to 0 for all QoS 0 messages".
    { name: 'QoS 0 with DUP', version: 4, bytes: h('38 05', '00 03 61 2f 62'), code: 'MALFORMED_PACKET' },
    {
      name: 'QoS 0 with DUP',
      version: 5,
      bytes: h('38 06', '00 03 61 2f 62', '00'),
      code: 'MALFORMED_PACKET',
    },
    // 3.3.2.1 [MQTT-3.3.2-2]: "The Topic Name in the PUBLISH Packet MUST NOT contain wildcard characters".
    { name: 'topic "a/+"', version: 4, bytes: h('30 05', '00 03 61 2f 2b'), code: 'TOPIC_NAME_INVALID' },
    { name: 'topic "a/#"', version: 4, bytes: h('30 05', '00 03 61 2f 23'), code: 'TOPIC_NAME_INVALID' },
    { name: 'topic "#"', version: 4, bytes: h('30 03', '00 01 23'), code: 'TOPIC_NAME_INVALID' },
    { name: 'topic "a+b"', version: 4, bytes: h('30 05', '00 03 61 2b 62'), code: 'TOPIC_NAME_INVALID' },
    {
      name: 'topic "a/#"',
      version: 5,
      bytes: h('30 06', '00 03 61 2f 23', '00'),
      code: 'TOPIC_NAME_INVALID',
    },
    { name: 'topic "+"', version: 5, bytes: h('30 04', '00 01 2b', '00'), code: 'TOPIC_NAME_INVALID' },
    // 3.1.1 4.7.3 [MQTT-4.7.3-1]: "All Topic Names and Topic Filters MUST be at least one character long".
    { name: 'empty topic', version: 4, bytes: h('30 02', '00 00'), code: 'TOPIC_NAME_INVALID' },
    {
      name: 'empty topic with a payload',
      version: 4,
      bytes: h('30 04', '00 00', '68 69'),
      code: 'TOPIC_NAME_INVALID',
    },
    // 5.0 3.3.2.1: "It is a Protocol Error if the Topic Name is zero length and there is no Topic Alias."
    {
      name: 'empty topic without a Topic Alias',
      version: 5,
      bytes: h('30 03', '00 00', '00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'empty topic with properties but no Topic Alias',
      version: 5,
      bytes: h('30 08', '00 00', '05', '02 00 00 00 3c'),
      code: 'PROTOCOL_ERROR',
    },
    // 2.3.1 [MQTT-2.3.1-1]: PUBLISH with QoS > 0 MUST contain a non-zero Packet Identifier.
    {
      name: 'QoS 1 with packet id 0',
      version: 4,
      bytes: h('32 07', '00 03 61 2f 62', '00 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'QoS 2 with packet id 0',
      version: 4,
      bytes: h('34 07', '00 03 61 2f 62', '00 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'QoS 1 with packet id 0',
      version: 5,
      bytes: h('32 08', '00 03 61 2f 62', '00 00', '00'),
      code: 'PROTOCOL_ERROR',
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// 1.5.3 (3.1.1) / 1.5.4 (5.0): strings MUST be well-formed UTF-8 [MQTT-1.5.3-1 / 1.5.4-1] (no
// encodings of U+D800..U+DFFF), and MUST NOT include U+0000 [MQTT-1.5.3-2 / 1.5.4-2]. In 5.0 a
// packet breaking either is a Malformed Packet. Overlong encodings are not well-formed UTF-8
// (Unicode / RFC 3629 section 3).
describe('UTF-8', () => {
  const topic = (hexTopic: string, len: string, rl: string): Bad[] => [
    { name: '', version: 4, bytes: h(`30 ${rl}`, len, hexTopic), code: 'MALFORMED_PACKET' },
  ];
  const named = (name: string, cases: Bad[]) => cases.map((c) => ({ ...c, name }));
  badTests([
    ...named('topic with byte 0xFF', topic('61 ff 62', '00 03', '05')),
    ...named('topic with a lone continuation byte 0x80', topic('61 80 62', '00 03', '05')),
    ...named('topic ending in the middle of a 2-byte sequence', topic('61 c3', '00 02', '04')),
    ...named('topic ending in the middle of a 3-byte sequence', topic('61 e2 82', '00 03', '05')),
    ...named('topic with overlong "/" (C0 AF)', topic('c0 af', '00 02', '04')),
    ...named('topic with overlong "/" (E0 80 AF)', topic('e0 80 af', '00 03', '05')),
    ...named('topic with overlong "/" (F0 80 80 AF)', topic('f0 80 80 af', '00 04', '06')),
    ...named('topic with overlong U+0000 (C0 80)', topic('c0 80', '00 02', '04')),
    ...named('topic with encoded surrogate U+D800 (ED A0 80)', topic('ed a0 80', '00 03', '05')),
    ...named('topic with encoded surrogate U+DFFF (ED BF BF)', topic('ed bf bf', '00 03', '05')),
    ...named('topic with a code point above U+10FFFF (F4 90 80 80)', topic('f4 90 80 80', '00 04', '06')),
    {
      name: 'topic with encoded surrogate U+D800',
      version: 5,
      bytes: h('30 06', '00 03 ed a0 80', '00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'client identifier containing U+0000',
      version: 4,
      bytes: h('10 0f', MQTT, '04 02 00 3c', '00 03 61 00 62'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'user name containing U+0000',
      version: 4,
      bytes: h('10 13', MQTT, '04 82 00 3c', '00 02 63 31', '00 03 61 00 62'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'client identifier containing U+0000',
      version: 5,
      bytes: h('10 10', MQTT, '05 02 00 3c 00', '00 03 61 00 62'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'reason string containing U+0000',
      version: 5,
      bytes: h('40 09', '00 01', '80', '05', '1f 00 02 61 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'user property value containing U+0000',
      version: 5,
      bytes: h('30 0b', '00 01 61', '07', '26 00 01 6b 00 01 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'user property name with byte 0xFF',
      version: 5,
      bytes: h('30 0b', '00 01 61', '07', '26 00 01 ff 00 01 76'),
      code: 'MALFORMED_PACKET',
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
describe('packet identifiers', () => {
  badTests([
    // 2.3.1 [MQTT-2.3.1-1]; the acks carry the identifier of a packet that could not have had 0.
    ...both('PUBACK with packet id 0', '40 02 00 00', 'PROTOCOL_ERROR'),
    { name: 'PUBREC with packet id 0', version: 4, bytes: h('50 02 00 00'), code: 'PROTOCOL_ERROR' },
    { name: 'PUBREL with packet id 0', version: 4, bytes: h('62 02 00 00'), code: 'PROTOCOL_ERROR' },
    { name: 'PUBCOMP with packet id 0', version: 4, bytes: h('70 02 00 00'), code: 'PROTOCOL_ERROR' },
    {
      name: 'SUBSCRIBE with packet id 0',
      version: 4,
      bytes: h('82 06', '00 00', '00 01 61 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'SUBSCRIBE with packet id 0',
      version: 5,
      bytes: h('82 07', '00 00', '00', '00 01 61 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'UNSUBSCRIBE with packet id 0',
      version: 4,
      bytes: h('a2 05', '00 00', '00 01 61'),
      code: 'PROTOCOL_ERROR',
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
describe('SUBSCRIBE / UNSUBSCRIBE payload', () => {
  badTests([
    // 3.8.3 [MQTT-3.8.3-3] (3.1.1) / 3.8.3 (5.0): "A SUBSCRIBE packet with no Payload is a Protocol Error".
    {
      name: 'SUBSCRIBE with no topic filters',
      version: 4,
      bytes: h('82 02', '00 01'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'SUBSCRIBE with no topic filters',
      version: 5,
      bytes: h('82 03', '00 01', '00'),
      code: 'PROTOCOL_ERROR',
    },
    // 3.10.3 [MQTT-3.10.3-2]: same for UNSUBSCRIBE.
    {
      name: 'UNSUBSCRIBE with no topic filters',
      version: 4,
      bytes: h('a2 02', '00 01'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'UNSUBSCRIBE with no topic filters',
      version: 5,
      bytes: h('a2 03', '00 01', '00'),
      code: 'PROTOCOL_ERROR',
    },
    // 4.7.1: "#" must be last and alone in its level; "+" must occupy an entire level;
    // 4.7.3: a topic filter is at least one character long.
    {
      name: 'filter "a/#/b"',
      version: 4,
      bytes: h('82 0a', '00 01', '00 05 61 2f 23 2f 62', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter "a+"',
      version: 4,
      bytes: h('82 07', '00 01', '00 02 61 2b', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter ""',
      version: 4,
      bytes: h('82 05', '00 01', '00 00', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter "a#"',
      version: 4,
      bytes: h('82 07', '00 01', '00 02 61 23', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter "#/a"',
      version: 4,
      bytes: h('82 08', '00 01', '00 03 23 2f 61', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter "+a"',
      version: 4,
      bytes: h('82 07', '00 01', '00 02 2b 61', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'second filter "a+" after a valid one',
      version: 4,
      bytes: h('82 0b', '00 01', '00 01 61 00', '00 02 61 2b 01'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter "a/#/b"',
      version: 5,
      bytes: h('82 0b', '00 01', '00', '00 05 61 2f 23 2f 62', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter "a+"',
      version: 5,
      bytes: h('82 08', '00 01', '00', '00 02 61 2b', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'filter ""',
      version: 5,
      bytes: h('82 06', '00 01', '00', '00 00', '00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'UNSUBSCRIBE filter "a/#/b"',
      version: 4,
      bytes: h('a2 09', '00 01', '00 05 61 2f 23 2f 62'),
      code: 'TOPIC_FILTER_INVALID',
    },
    {
      name: 'UNSUBSCRIBE filter ""',
      version: 5,
      bytes: h('a2 05', '00 01', '00', '00 00'),
      code: 'TOPIC_FILTER_INVALID',
    },
    // 3.1.1 3.8.3.1 [MQTT-3-8.3-4]: malformed if a reserved bit (7-2) is set or QoS is not 0, 1, 2.
    {
      name: 'subscription options with reserved bit 2 set',
      version: 4,
      bytes: h('82 06', '00 01', '00 01 61', '04'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'subscription QoS 3',
      version: 4,
      bytes: h('82 06', '00 01', '00 01 61', '03'),
      code: 'MALFORMED_PACKET',
    },
    // 5.0 3.8.3.1 [MQTT-3.8.3-5]: malformed if a reserved bit (7-6) is set.
    {
      name: 'subscription options with reserved bit 6 set',
      version: 5,
      bytes: h('82 07', '00 01', '00', '00 01 61', '40'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'subscription options with reserved bit 7 set',
      version: 5,
      bytes: h('82 07', '00 01', '00', '00 01 61', '81'),
      code: 'MALFORMED_PACKET',
    },
    // 5.0 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3" and
    // "It is a Protocol Error to send a Retain Handling value of 3".
    {
      name: 'subscription QoS 3',
      version: 5,
      bytes: h('82 07', '00 01', '00', '00 01 61', '03'),
      code: 'PROTOCOL_ERROR',
    },
    // 5.0 3.8.3.1 [MQTT-3.8.3-4]: "It is a Protocol Error to set the No Local bit to 1 on a Shared Subscription".
    {
      name: 'No Local on a shared subscription',
      version: 5,
      bytes: h('82 10', '00 01', '00', '00 0a 24 73 68 61 72 65 2f 67 2f 64', '04'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'retain handling 3',
      version: 5,
      bytes: h('82 07', '00 01', '00', '00 01 61', '30'),
      code: 'PROTOCOL_ERROR',
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// 5.0 2.2.2.2: "A Control Packet which contains an Identifier which is not valid for its packet
// type, or contains a value not of the specified data type, is a Malformed Packet." Each property
// section: "It is a Protocol Error to include the <property> more than once" (User Property and a
// PUBLISH's Subscription Identifier excepted), and value ranges are Protocol Errors.
describe('properties', () => {
  const connectWithProps = (props: string, propLen: string, rl: string): Uint8Array =>
    h(`10 ${rl}`, MQTT, '05 02 00 3c', propLen, props, '00 02 63 31');
  badTests([
    {
      name: 'two Message Expiry Intervals in PUBLISH',
      version: 5,
      bytes: h('30 0e', '00 01 61', '0a', '02 00 00 00 01', '02 00 00 00 02'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'two Topic Aliases in PUBLISH',
      version: 5,
      bytes: h('30 0a', '00 01 61', '06', '23 00 01', '23 00 02'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'two Session Expiry Intervals in CONNECT',
      version: 5,
      bytes: connectWithProps('11 00 00 00 01 11 00 00 00 02', '0a', '19'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'two Reason Strings in PUBACK',
      version: 5,
      bytes: h('40 0c', '00 01', '80', '08', '1f 00 01 61', '1f 00 01 62'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'two Subscription Identifiers in SUBSCRIBE',
      version: 5,
      bytes: h('82 0b', '00 01', '04', '0b 01', '0b 02', '00 01 61 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'two Will Delay Intervals in the will properties',
      version: 5,
      bytes: h(
        '10 1e',
        MQTT,
        '05 06 00 3c 00', // will flag + clean start, no CONNECT properties
        '00 01 78', // client id
        '0a 18 00 00 00 01 18 00 00 00 02', // will properties
        '00 01 74', // will topic
        '00 00', // will payload
      ),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'Session Expiry Interval (0x11) in PUBLISH',
      version: 5,
      bytes: h('30 09', '00 01 61', '05', '11 00 00 00 0a'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Will Delay Interval (0x18) in PUBLISH',
      version: 5,
      bytes: h('30 09', '00 01 61', '05', '18 00 00 00 0a'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Reason String (0x1F) in PUBLISH',
      version: 5,
      bytes: h('30 08', '00 01 61', '04', '1f 00 01 78'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Topic Alias (0x23) in CONNECT',
      version: 5,
      bytes: connectWithProps('23 00 01', '03', '12'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Payload Format Indicator (0x01) in the CONNECT properties',
      version: 5,
      bytes: connectWithProps('01 01', '02', '11'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Session Expiry Interval (0x11) in the will properties',
      version: 5,
      bytes: h('10 19', MQTT, '05 06 00 3c 00', '00 01 78', '05 11 00 00 00 0a', '00 01 74', '00 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Subscription Identifier (0x0B) in UNSUBSCRIBE',
      version: 5,
      bytes: h('a2 08', '00 01', '02', '0b 01', '00 01 61'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Server Reference (0x1C) in AUTH',
      version: 5,
      bytes: h('f0 07', '18', '05', '1c 00 02 61 62'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'unknown property id 0x00',
      version: 5,
      bytes: h('30 06', '00 01 61', '02', '00 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'unknown property id 0x04',
      version: 5,
      bytes: h('30 06', '00 01 61', '02', '04 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'unknown property id 0x2B',
      version: 5,
      bytes: h('30 06', '00 01 61', '02', '2b 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'unknown property id 0x7F in PUBACK',
      version: 5,
      bytes: h('40 06', '00 01', '00', '02', '7f 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'Payload Format Indicator 2',
      version: 5,
      bytes: h('30 06', '00 01 61', '02', '01 02'),
      code: 'PROTOCOL_ERROR',
    },
    // 3.1.2.11.7 / 3.1.2.11.6: "... or to have a value other than 0 or 1" is a Protocol Error.
    {
      name: 'Request Problem Information 2',
      version: 5,
      bytes: connectWithProps('17 02', '02', '11'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'Request Response Information 2',
      version: 5,
      bytes: connectWithProps('19 02', '02', '11'),
      code: 'PROTOCOL_ERROR',
    },
    // 3.1.2.11.4: "It is a Protocol Error to include the Maximum Packet Size ... or for the value to be set to zero."
    {
      name: 'Maximum Packet Size 0 in CONNECT',
      version: 5,
      bytes: connectWithProps('27 00 00 00 00', '05', '14'),
      code: 'PROTOCOL_ERROR',
    },
    // 3.2.2.3.3: Receive Maximum "It is a Protocol Error ... for it to have the value 0".
    {
      name: 'Receive Maximum 0 in CONNACK',
      version: 5,
      bytes: h('20 06', '00 00', '03', '21 00 00'),
      code: 'PROTOCOL_ERROR',
    },
    // 3.2.2.3.4 / 3.2.2.3.5: Maximum QoS and Retain Available: a value other than 0 or 1 is a Protocol Error.
    {
      name: 'Maximum QoS 2 in CONNACK',
      version: 5,
      bytes: h('20 05', '00 00', '02', '24 02'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'Retain Available 2 in CONNACK',
      version: 5,
      bytes: h('20 05', '00 00', '02', '25 02'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'Wildcard Subscription Available 2 in CONNACK',
      version: 5,
      bytes: h('20 05', '00 00', '02', '28 02'),
      code: 'PROTOCOL_ERROR',
    },
    // 3.8.2.1.2 / 3.3.2.3.8: "It is a Protocol Error if the Subscription Identifier has a value of 0".
    {
      name: 'Subscription Identifier 0 in SUBSCRIBE',
      version: 5,
      bytes: h('82 09', '00 01', '02', '0b 00', '00 01 61 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'Subscription Identifier 0 in PUBLISH',
      version: 5,
      bytes: h('30 06', '00 01 61', '02', '0b 00'),
      code: 'PROTOCOL_ERROR',
    },
    {
      name: 'property length longer than the packet',
      version: 5,
      bytes: h('40 05', '00 01', '80', '05', '1f'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'string property longer than the property length',
      version: 5,
      bytes: h('40 07', '00 01', '80', '03', '1f 00 05'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'four-byte property cut short by the property length',
      version: 5,
      bytes: h('30 0a', '00 01 61', '02', '02 00', '00 00 68 69'),
      code: 'MALFORMED_PACKET',
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
describe('length mismatches, leftovers and truncation', () => {
  badTests([
    {
      name: 'PUBACK with remaining length 3',
      version: 4,
      bytes: h('40 03', '00 01 00'),
      code: 'MALFORMED_PACKET',
    },
    ...both('PINGREQ with remaining length 1', 'c0 01 00', 'MALFORMED_PACKET'),
    ...both('PINGRESP with remaining length 1', 'd0 01 00', 'MALFORMED_PACKET'),
    {
      name: 'DISCONNECT with remaining length 1',
      version: 4,
      bytes: h('e0 01', '00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNACK with remaining length 3',
      version: 4,
      bytes: h('20 03', '00 00 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'UNSUBACK with remaining length 3',
      version: 4,
      bytes: h('b0 03', '00 01 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT with a byte after the client identifier',
      version: 4,
      bytes: h('10 0f', MQTT, '04 02 00 3c', '00 02 63 31', 'ff'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT with a byte after the client identifier',
      version: 5,
      bytes: h('10 10', MQTT, '05 02 00 3c 00', '00 02 63 31', 'ff'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'PUBACK with a byte after the properties',
      version: 5,
      bytes: h('40 05', '00 01', '00', '00', 'ff'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNACK with a byte after the properties',
      version: 5,
      bytes: h('20 04', '00 00', '00', 'ff'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'DISCONNECT with a byte after the properties',
      version: 5,
      bytes: h('e0 03', '00', '00', 'ff'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT whose client identifier length runs past the packet',
      version: 4,
      bytes: h('10 0c', MQTT, '04 02 00 3c', '00 05'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'SUBSCRIBE filter without its options byte',
      version: 4,
      bytes: h('82 05', '00 01', '00 01 61'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'PUBLISH QoS 1 too short for its packet identifier',
      version: 4,
      bytes: h('32 05', '00 03 61 2f 62'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'PUBLISH whose topic length runs past the packet',
      version: 4,
      bytes: h('30 05', '00 09 61 2f 62'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT with the will flag but no will topic or payload',
      version: 4,
      bytes: h('10 0e', MQTT, '04 06 00 3c', '00 02 63 31'),
      code: 'MALFORMED_PACKET',
    },
    // decode() takes exactly one whole packet.
    {
      name: 'decode: bytes after a whole packet',
      version: 4,
      bytes: h('c0 00 c0 00'),
      code: 'MALFORMED_PACKET',
      decodeOnly: true,
    },
    {
      name: 'decode: a truncated PUBLISH',
      version: 4,
      bytes: h('30 05 00 03 61'),
      code: 'MALFORMED_PACKET',
      decodeOnly: true,
    },
    {
      name: 'decode: a lone first byte',
      version: 5,
      bytes: h('30'),
      code: 'MALFORMED_PACKET',
      decodeOnly: true,
    },
    {
      name: 'decode: an unfinished remaining length',
      version: 5,
      bytes: h('30 80'),
      code: 'MALFORMED_PACKET',
      decodeOnly: true,
    },
    {
      name: 'decode: no bytes',
      version: 5,
      bytes: new Uint8Array(0),
      code: 'MALFORMED_PACKET',
      decodeOnly: true,
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// 5.0 3.1.2.11.4 / 3.2.2.3.6: "The Maximum Packet Size is the total number of bytes in an MQTT
// Control Packet" (fixed header included); a larger packet is 0x95 Packet too large.
describe('maximum packet size', () => {
  it('a packet one byte over the limit is refused from its fixed header alone', () => {
    for (const version of [4, 5] as const) {
      const decoder = new PacketDecoder({ protocolVersion: version, maximumPacketSize: 100 });
      decoder.push(h('30 63')); // remaining length 99: 2 + 99 = 101 bytes in all, no body yet
      assertMqttError(() => decoder.next(), 'PACKET_TOO_LARGE', 'remote', 0x95);
    }
  });

  it('a packet exactly at the limit is accepted', () => {
    const decoder = new PacketDecoder({ protocolVersion: 5, maximumPacketSize: 100 });
    decoder.push(h('30 62')); // remaining length 98: 100 bytes in all
    assert.equal(decoder.next(), undefined, 'waits for the body');
    const payload = pattern(94);
    decoder.push(concat(h('00 01 61', '00'), payload));
    assertPacket(
      decoder.next(),
      { type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false },
      'packet of 100 bytes',
    );
  });

  it('a remaining length of 268,435,455 is refused before any body byte', () => {
    const decoder = new PacketDecoder({ protocolVersion: 5, maximumPacketSize: 1024 });
    decoder.push(h('30 ff ff ff 7f'));
    assertMqttError(() => decoder.next(), 'PACKET_TOO_LARGE', 'remote', 0x95);
  });

  it('the header may arrive a byte at a time', () => {
    const decoder = new PacketDecoder({ protocolVersion: 4, maximumPacketSize: 200 });
    decoder.push(h('30'));
    assert.equal(decoder.next(), undefined);
    decoder.push(h('80'));
    assert.equal(decoder.next(), undefined);
    decoder.push(h('02')); // remaining length 256
    assertMqttError(() => decoder.next(), 'PACKET_TOO_LARGE', 'remote', 0x95);
  });

  it('decode() applies maximumPacketSize too', () => {
    const bytes = concat(h('30 63', '00 01 61', '00'), pattern(95)); // 101 bytes
    assertMqttError(() => decode(bytes, 5, { maximumPacketSize: 100 }), 'PACKET_TOO_LARGE', 'remote', 0x95);
    const ok = concat(h('30 62', '00 01 61', '00'), pattern(94)); // 100 bytes
    assert.equal(decode(ok, 5, { maximumPacketSize: 100 }).type, 'publish');
  });
});

// ---------------------------------------------------------------------------------------------
describe('CONNECT and CONNACK', () => {
  badTests([
    // 3.1.2.3 [MQTT-3.1.2-3]: the reserved flag MUST be 0 (5.0: otherwise a Malformed Packet).
    {
      name: 'CONNECT with reserved flag bit 0 set',
      version: 4,
      bytes: h('10 0e', MQTT, '04 03 00 3c', '00 02 63 31'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT with reserved flag bit 0 set',
      version: 5,
      bytes: h('10 0f', MQTT, '05 03 00 3c 00', '00 02 63 31'),
      code: 'MALFORMED_PACKET',
    },
    // 3.1.2.2 [MQTT-3.1.2-2]: an unsupported Protocol Level is answered with 0x01 (3.1.1) / 0x84 (5.0).
    {
      name: 'CONNECT protocol level 3',
      version: 4,
      bytes: h('10 0e', MQTT, '03 02 00 3c', '00 02 63 31'),
      code: 'UNSUPPORTED_PROTOCOL_VERSION',
    },
    {
      name: 'CONNECT protocol level 3',
      version: 5,
      bytes: h('10 0e', MQTT, '03 02 00 3c', '00 02 63 31'),
      code: 'UNSUPPORTED_PROTOCOL_VERSION',
    },
    {
      name: 'CONNECT protocol level 6',
      version: 5,
      bytes: h('10 0f', MQTT, '06 02 00 3c 00', '00 02 63 31'),
      code: 'UNSUPPORTED_PROTOCOL_VERSION',
    },
    // 3.1.2.6 [MQTT-3.1.2-14] (3.1.1) / [MQTT-3.1.2-12] (5.0): Will QoS 3 is not allowed (5.0: Malformed).
    {
      name: 'CONNECT with will QoS 3',
      version: 4,
      bytes: h('10 13', MQTT, '04 1e 00 3c', '00 02 63 31', '00 01 74', '00 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT with will QoS 3',
      version: 5,
      bytes: h('10 15', MQTT, '05 1e 00 3c 00', '00 02 63 31', '00', '00 01 74', '00 00'),
      code: 'MALFORMED_PACKET',
    },
    // 3.1.2.6 / 3.1.2.7 [MQTT-3.1.2-11], [MQTT-3.1.2-13]: without the will flag, will QoS and
    // will retain MUST be 0.
    {
      name: 'CONNECT with will QoS 1 but no will flag',
      version: 4,
      bytes: h('10 0e', MQTT, '04 0a 00 3c', '00 02 63 31'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNECT with will retain but no will flag',
      version: 5,
      bytes: h('10 0f', MQTT, '05 22 00 3c 00', '00 02 63 31'),
      code: 'MALFORMED_PACKET',
    },
    // 3.1.1 3.1.2.9 [MQTT-3.1.2-22]: "If the User Name Flag is set to 0, the Password Flag MUST be set to 0".
    {
      name: 'CONNECT with a password but no user name',
      version: 4,
      bytes: h('10 12', MQTT, '04 42 00 3c', '00 02 63 31', '00 02 70 77'),
      code: 'MALFORMED_PACKET',
    },
    // 3.2.2.2 [MQTT-3.2.2-4]: a non-zero return code MUST come with Session Present 0.
    {
      name: 'CONNACK session present with return code 5',
      version: 4,
      bytes: h('20 02', '01 05'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNACK session present with return code 1',
      version: 4,
      bytes: h('20 02', '01 01'),
      code: 'MALFORMED_PACKET',
    },
    // 3.2.2.1: acknowledge flags bits 7-1 are reserved and MUST be 0.
    {
      name: 'CONNACK acknowledge flags bit 1 set',
      version: 4,
      bytes: h('20 02', '02 00'),
      code: 'MALFORMED_PACKET',
    },
    {
      name: 'CONNACK acknowledge flags bit 7 set',
      version: 5,
      bytes: h('20 03', '80 00', '00'),
      code: 'MALFORMED_PACKET',
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Encoding: the application asked for something the protocol cannot carry; nothing is written.
describe('encode refuses packets the protocol does not allow (side local)', () => {
  const publish = (over: Partial<Extract<Packet, { type: 'publish' }>>): Packet => ({
    type: 'publish',
    topic: 'a/b',
    payload: new Uint8Array(0),
    qos: 0,
    retain: false,
    dup: false,
    ...over,
  });
  const connect = (over: Partial<Extract<Packet, { type: 'connect' }>>): Packet => ({
    type: 'connect',
    protocolVersion: 5,
    clientId: 'c1',
    clean: true,
    keepalive: 60,
    ...over,
  });

  for (const version of [4, 5] as const) {
    it(`v${version}: PUBLISH topic with a wildcard is TOPIC_NAME_INVALID`, () => {
      for (const topic of ['a/+', 'a/#', '#', '+', 'a+b']) {
        assertMqttError(() => encode(publish({ topic }), version), 'TOPIC_NAME_INVALID', 'local');
      }
    });

    it(`v${version}: PUBLISH QoS 1 or 2 without a packet id is INVALID_ARGUMENT`, () => {
      assertMqttError(() => encode(publish({ qos: 1 }), version), 'INVALID_ARGUMENT', 'local');
      assertMqttError(() => encode(publish({ qos: 2 }), version), 'INVALID_ARGUMENT', 'local');
    });

    it(`v${version}: a string with a lone surrogate is INVALID_ARGUMENT`, () => {
      const pv = version;
      assertMqttError(
        () => encode(connect({ protocolVersion: pv, clientId: 'a\ud800' }), version),
        'INVALID_ARGUMENT',
        'local',
      );
      assertMqttError(
        () => encode(connect({ protocolVersion: pv, clientId: '\udc00a' }), version),
        'INVALID_ARGUMENT',
        'local',
      );
      assertMqttError(
        () => encode(connect({ protocolVersion: pv, username: 'x\udfff' }), version),
        'INVALID_ARGUMENT',
        'local',
      );
    });
  }

  it('v5: a lone surrogate in a user property is INVALID_ARGUMENT', () => {
    assertMqttError(
      () => encode(publish({ properties: { userProperties: { k: '\ud83d' } } }), 5),
      'INVALID_ARGUMENT',
      'local',
    );
  });

  it('v5: a property not allowed in the packet is INVALID_ARGUMENT', () => {
    assertMqttError(
      () => encode(publish({ properties: { sessionExpiryInterval: 10 } }), 5),
      'INVALID_ARGUMENT',
      'local',
    );
    assertMqttError(() => encode(connect({ properties: { topicAlias: 1 } }), 5), 'INVALID_ARGUMENT', 'local');
    assertMqttError(
      () =>
        encode(
          connect({
            will: {
              topic: 't',
              payload: new Uint8Array(0),
              qos: 0,
              retain: false,
              properties: { sessionExpiryInterval: 1 },
            },
          }),
          5,
        ),
      'INVALID_ARGUMENT',
      'local',
    );
    assertMqttError(
      () => encode({ type: 'puback', packetId: 1, reasonCode: 0, properties: { contentType: 'x' } }, 5),
      'INVALID_ARGUMENT',
      'local',
    );
  });

  it('v4 and v5: PUBLISH QoS 0 with DUP is INVALID_ARGUMENT', () => {
    assertMqttError(() => encode(publish({ dup: true }), 4), 'INVALID_ARGUMENT', 'local');
    assertMqttError(() => encode(publish({ dup: true }), 5), 'INVALID_ARGUMENT', 'local');
  });

  it('v4: a password without a user name is INVALID_ARGUMENT (3.1.1 [MQTT-3.1.2-22])', () => {
    assertMqttError(
      () => encode(connect({ protocolVersion: 4, password: new Uint8Array([1]) }), 4),
      'INVALID_ARGUMENT',
      'local',
    );
  });

  it('a string containing U+0000 is INVALID_ARGUMENT ([MQTT-1.5.4-2])', () => {
    assertMqttError(() => encode(connect({ clientId: 'a\u0000b' }), 5), 'INVALID_ARGUMENT', 'local');
  });

  it('a valid surrogate pair is fine (the 4-byte UTF-8 of U+1F600)', () => {
    const bytes = encode(publish({ topic: '😀' }), 4);
    assert.deepEqual(Array.from(bytes), [0x30, 0x06, 0x00, 0x04, 0xf0, 0x9f, 0x98, 0x80]);
  });
});
