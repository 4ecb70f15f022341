/**
 * Byte-exact vectors for MQTT 5.0 (OASIS Standard, protocol level 5), written from the
 * specification's figures and normative text:
 *   1.5.5  Variable Byte Integer (also the Remaining Length, the property length and the
 *          Subscription Identifier value), 1.5.7 Binary Data, 1.5.4 UTF-8 strings, 1.5.7 string pair
 *   2.2.2  Properties: a Variable Byte Integer length, then identifier + value (Table 2-4)
 *   2.4    Reason codes
 *   3.1    CONNECT (Figure 3-6 example: flags 0xCE, keep alive 10, Session Expiry Interval 10);
 *          3.1.3.2 Will Properties come first in the payload, right after the Client Identifier
 *   3.2    CONNACK: acknowledge flags, reason code, properties
 *   3.3    PUBLISH: properties after the packet identifier; Topic Alias with a zero-length topic
 *   3.4-3.7 acks: "The Reason Code and Property Length can be omitted if the Reason Code is 0x00
 *          and there are no Properties" (remaining length 2); "If the Remaining Length is less
 *          than 4 there is no Property Length and the value of 0 is used"
 *   3.8    SUBSCRIBE: subscription options byte (QoS bits 1-0, No Local bit 2, Retain As Published
 *          bit 3, Retain Handling bits 5-4), 3.9 SUBACK, 3.10 UNSUBSCRIBE, 3.11 UNSUBACK
 *   3.14   DISCONNECT: remaining length 0 means reason 0x00 and no properties; "If the Remaining
 *          Length is less than 2, a value of 0 is used" for the property length
 *   3.15   AUTH: remaining length 0 means reason 0x00 and no properties
 *
 * Properties appear in the wire order of the object's keys, so each vector is deterministic.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../src/codec/index.ts';
import type { Packet } from '../../src/codec/types.ts';
import {
  assertPacket,
  concat,
  decodeOnlyTests,
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
const connectFull: Vector = {
  name: 'CONNECT with properties, will with will properties, username and password',
  packet: {
    type: 'connect',
    protocolVersion: 5,
    clientId: 'cid',
    clean: true,
    keepalive: 10,
    properties: {
      sessionExpiryInterval: 10,
      receiveMaximum: 20,
      maximumPacketSize: 1048576,
      topicAliasMaximum: 16,
      requestResponseInformation: true,
      requestProblemInformation: false,
      userProperties: { region: 'eu', tag: ['a', 'b'] },
      authenticationMethod: 'SCRAM-SHA-1',
      authenticationData: h('01 02 03'),
    },
    will: {
      topic: 'w/t',
      payload: utf8('bye'),
      qos: 1,
      retain: false,
      properties: {
        willDelayInterval: 30,
        payloadFormatIndicator: true,
        messageExpiryInterval: 3600,
        contentType: 'text/plain',
        responseTopic: 'r/t',
        correlationData: h('ca fe'),
        userProperties: { k: 'v' },
      },
    },
    username: 'user',
    password: h('00 ff 10'),
  },
  bytes: h(
    '10 98 01', // CONNECT; remaining length 152 = 0x18 | 0x80, 0x01 (152 = 24 + 1 * 128)
    '00 04 4d 51 54 54', // protocol name "MQTT"
    '05', // protocol version 5
    'ce', // flags: username, password, will QoS 1, will flag, clean start (as in Figure 3-6)
    '00 0a', // keep alive 10
    '47', // property length 71
    '11 00 00 00 0a', //   0x11 Session Expiry Interval = 10 (four byte integer)
    '21 00 14', //   0x21 Receive Maximum = 20 (two byte integer)
    '27 00 10 00 00', //   0x27 Maximum Packet Size = 1048576
    '22 00 10', //   0x22 Topic Alias Maximum = 16
    '19 01', //   0x19 Request Response Information = 1
    '17 00', //   0x17 Request Problem Information = 0
    '26 00 06 72 65 67 69 6f 6e 00 02 65 75', //   0x26 User Property "region" = "eu"
    '26 00 03 74 61 67 00 01 61', //   0x26 User Property "tag" = "a"
    '26 00 03 74 61 67 00 01 62', //   0x26 User Property "tag" = "b" (same name again, order kept)
    '15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31', //   0x15 Authentication Method "SCRAM-SHA-1"
    '16 00 03 01 02 03', //   0x16 Authentication Data (binary, length 3)
    '00 03 63 69 64', // payload: client identifier "cid"
    '2b', // will property length 43
    '18 00 00 00 1e', //   0x18 Will Delay Interval = 30
    '01 01', //   0x01 Payload Format Indicator = 1 (UTF-8)
    '02 00 00 0e 10', //   0x02 Message Expiry Interval = 3600
    '03 00 0a 74 65 78 74 2f 70 6c 61 69 6e', //   0x03 Content Type "text/plain"
    '08 00 03 72 2f 74', //   0x08 Response Topic "r/t"
    '09 00 02 ca fe', //   0x09 Correlation Data (binary, length 2)
    '26 00 01 6b 00 01 76', //   0x26 User Property "k" = "v"
    '00 03 77 2f 74', // will topic "w/t"
    '00 03 62 79 65', // will payload "bye" (binary data, 2-byte length)
    '00 04 75 73 65 72', // user name "user"
    '00 03 00 ff 10', // password (binary data)
  ),
};

const connect: Vector[] = [
  {
    name: 'CONNECT minimal (property length 0)',
    packet: { type: 'connect', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 60 },
    bytes: h(
      '10 0f', // CONNECT; remaining length 15
      '00 04 4d 51 54 54', // "MQTT"
      '05', // protocol version 5
      '02', // flags: clean start
      '00 3c', // keep alive 60
      '00', // property length 0
      '00 02 63 31', // client identifier "c1"
    ),
  },
  connectFull,
  {
    name: 'CONNECT with a password and no user name (allowed in 5.0), session that never expires',
    packet: {
      type: 'connect',
      protocolVersion: 5,
      clientId: 'x',
      clean: false,
      keepalive: 30,
      properties: { sessionExpiryInterval: 0xffffffff },
      password: utf8('pw'),
    },
    bytes: h(
      '10 17', // CONNECT; remaining length 23
      '00 04 4d 51 54 54 05', // "MQTT", version 5
      '40', // flags 0100 0000: password only; clean start 0
      '00 1e', // keep alive 30
      '05', // property length 5
      '11 ff ff ff ff', //   Session Expiry Interval 0xFFFFFFFF (the session does not expire)
      '00 01 78', // client id "x"
      '00 02 70 77', // password "pw"
    ),
  },
  {
    name: 'CONNECT with a will and an empty will property list',
    packet: {
      type: 'connect',
      protocolVersion: 5,
      clientId: 'x',
      clean: true,
      keepalive: 60,
      will: { topic: 't', payload: utf8('hi'), qos: 0, retain: false },
    },
    bytes: h(
      '10 16', // CONNECT; remaining length 22
      '00 04 4d 51 54 54 05', // "MQTT", version 5
      '06', // flags: will flag, clean start (will QoS 0, will retain 0)
      '00 3c', // keep alive 60
      '00', // property length 0
      '00 01 78', // client id "x"
      '00', // will property length 0
      '00 01 74', // will topic "t"
      '00 02 68 69', // will payload "hi"
    ),
  },
];

// ---------------------------------------------------------------------------------------------
// CONNACK (3.2)
// ---------------------------------------------------------------------------------------------
const connack: Vector[] = [
  {
    name: 'CONNACK success, no properties',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0 },
    bytes: h('20 03', '00', '00', '00'), // flags 0, reason 0x00, property length 0
  },
  {
    name: 'CONNACK 0x84 Unsupported Protocol Version',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0x84 },
    bytes: h('20 03', '00', '84', '00'),
  },
  {
    name: 'CONNACK 0x87 Not authorized with a reason string',
    packet: { type: 'connack', sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'no' } },
    bytes: h(
      '20 08', // CONNACK; remaining length 8
      '00 87', // flags 0, reason 0x87
      '05', // property length 5
      '1f 00 02 6e 6f', //   0x1F Reason String "no"
    ),
  },
  {
    name: 'CONNACK session present with every CONNACK property',
    packet: {
      type: 'connack',
      sessionPresent: true,
      reasonCode: 0,
      properties: {
        sessionExpiryInterval: 120,
        receiveMaximum: 100,
        maximumQoS: 1,
        retainAvailable: false,
        maximumPacketSize: 65536,
        assignedClientIdentifier: 'auto-1',
        topicAliasMaximum: 10,
        reasonString: 'ok',
        userProperties: { a: '1' },
        wildcardSubscriptionAvailable: true,
        subscriptionIdentifiersAvailable: true,
        sharedSubscriptionAvailable: false,
        serverKeepAlive: 30,
        responseInformation: 'resp/',
        serverReference: 'other:1883',
        authenticationMethod: 'TOKEN',
        authenticationData: h('09'),
      },
    },
    bytes: h(
      '20 56', // CONNACK; remaining length 86
      '01', // acknowledge flags: session present
      '00', // reason 0x00 success
      '53', // property length 83
      '11 00 00 00 78', //   0x11 Session Expiry Interval 120
      '21 00 64', //   0x21 Receive Maximum 100
      '24 01', //   0x24 Maximum QoS 1
      '25 00', //   0x25 Retain Available 0
      '27 00 01 00 00', //   0x27 Maximum Packet Size 65536
      '12 00 06 61 75 74 6f 2d 31', //   0x12 Assigned Client Identifier "auto-1"
      '22 00 0a', //   0x22 Topic Alias Maximum 10
      '1f 00 02 6f 6b', //   0x1F Reason String "ok"
      '26 00 01 61 00 01 31', //   0x26 User Property "a" = "1"
      '28 01', //   0x28 Wildcard Subscription Available 1
      '29 01', //   0x29 Subscription Identifiers Available 1
      '2a 00', //   0x2A Shared Subscription Available 0
      '13 00 1e', //   0x13 Server Keep Alive 30
      '1a 00 05 72 65 73 70 2f', //   0x1A Response Information "resp/"
      '1c 00 0a 6f 74 68 65 72 3a 31 38 38 33', //   0x1C Server Reference "other:1883"
      '15 00 05 54 4f 4b 45 4e', //   0x15 Authentication Method "TOKEN"
      '16 00 01 09', //   0x16 Authentication Data 09
    ),
  },
];

// ---------------------------------------------------------------------------------------------
// PUBLISH (3.3)
// ---------------------------------------------------------------------------------------------
const publish: Vector[] = [
  {
    name: 'PUBLISH QoS 0, property length 0',
    packet: { type: 'publish', topic: 'a/b', payload: utf8('hi'), qos: 0, retain: false, dup: false },
    bytes: h('30 08', '00 03 61 2f 62', '00', '68 69'), // topic "a/b", property length 0, payload "hi"
  },
  {
    name: 'PUBLISH QoS 1, packet id 1',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    },
    bytes: h('32 0a', '00 03 61 2f 62', '00 01', '00', '68 69'), // packet id comes before the properties
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
    bytes: h('3d 0a', '00 03 61 2f 62', '00 02', '00', '68 69'), // flags 1101
  },
  {
    name: 'PUBLISH with an empty payload',
    packet: { type: 'publish', topic: 'a/b', payload: new Uint8Array(0), qos: 0, retain: false, dup: false },
    bytes: h('30 06', '00 03 61 2f 62', '00'),
  },
  {
    name: 'PUBLISH with a topic and a Topic Alias (sets up the alias)',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 5 },
    },
    bytes: h(
      '30 0b', // remaining length 11
      '00 03 61 2f 62', // topic "a/b"
      '03', // property length 3
      '23 00 05', //   0x23 Topic Alias 5
      '68 69', // payload
    ),
  },
  {
    name: 'PUBLISH with an empty topic and a Topic Alias (uses the alias)',
    packet: {
      type: 'publish',
      topic: '',
      payload: utf8('hi'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 5 },
    },
    bytes: h(
      '30 08', // remaining length 8
      '00 00', // topic name of zero length
      '03', // property length 3
      '23 00 05', //   0x23 Topic Alias 5
      '68 69', // payload
    ),
  },
  {
    name: 'PUBLISH QoS 1 with message expiry, content type, response topic, correlation data, repeated user property',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('{}'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 7,
      properties: {
        payloadFormatIndicator: true,
        messageExpiryInterval: 60,
        contentType: 'application/json',
        responseTopic: 'reply/1',
        correlationData: h('00 01 02 ff'),
        userProperties: { dup: ['x', 'y'], one: '1' },
      },
    },
    bytes: h(
      '32 50', // PUBLISH QoS 1; remaining length 80
      '00 03 61 2f 62', // topic "a/b"
      '00 07', // packet id 7
      '46', // property length 70
      '01 01', //   0x01 Payload Format Indicator 1
      '02 00 00 00 3c', //   0x02 Message Expiry Interval 60
      '03 00 10 61 70 70 6c 69 63 61 74 69 6f 6e 2f 6a 73 6f 6e', //   0x03 Content Type "application/json"
      '08 00 07 72 65 70 6c 79 2f 31', //   0x08 Response Topic "reply/1"
      '09 00 04 00 01 02 ff', //   0x09 Correlation Data 00 01 02 ff
      '26 00 03 64 75 70 00 01 78', //   0x26 User Property "dup" = "x"
      '26 00 03 64 75 70 00 01 79', //   0x26 User Property "dup" = "y"
      '26 00 03 6f 6e 65 00 01 31', //   0x26 User Property "one" = "1"
      '7b 7d', // payload "{}"
    ),
  },
  {
    name: 'PUBLISH multi-byte UTF-8 topic with Payload Format Indicator 0',
    packet: {
      type: 'publish',
      topic: 'café/€/😀',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      properties: { payloadFormatIndicator: false },
    },
    bytes: h(
      '30 13', // remaining length 19
      '00 0e 63 61 66 c3 a9 2f e2 82 ac 2f f0 9f 98 80', // topic "café/€/😀", 14 bytes
      '02', // property length 2
      '01 00', //   0x01 Payload Format Indicator 0 (unspecified bytes)
    ),
  },
  {
    name: 'PUBLISH with one Subscription Identifier (decodes as a number)',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: utf8('hi'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { subscriptionIdentifier: 1 },
    },
    bytes: h('30 0a', '00 03 61 2f 62', '02', '0b 01', '68 69'), // 0x0B Subscription Identifier 1
  },
  {
    name: 'PUBLISH with Subscription Identifier 128 (two-byte variable byte integer)',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      properties: { subscriptionIdentifier: 128 },
    },
    bytes: h('30 09', '00 03 61 2f 62', '03', '0b 80 01'), // 128 = 80 01
  },
  {
    name: 'PUBLISH with several Subscription Identifiers (decodes as an array, wire order)',
    packet: {
      type: 'publish',
      topic: 'a/b',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      properties: { subscriptionIdentifier: [1, 300, 268435455] },
    },
    bytes: h(
      '30 10', // remaining length 16
      '00 03 61 2f 62', // topic "a/b"
      '0a', // property length 10
      '0b 01', //   Subscription Identifier 1
      '0b ac 02', //   Subscription Identifier 300 = 0x2C | 0x80, 0x02
      '0b ff ff ff 7f', //   Subscription Identifier 268,435,455 (the maximum, four bytes)
    ),
  },
  {
    name: 'PUBLISH with a user property whose name and value are empty strings',
    packet: {
      type: 'publish',
      topic: 'a',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      properties: { userProperties: { '': '' } },
    },
    bytes: h('30 09', '00 01 61', '05', '26 00 00 00 00'), // User Property "" = ""
  },
];

// ---------------------------------------------------------------------------------------------
// PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7)
// ---------------------------------------------------------------------------------------------
const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const pubackCodes = [0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]; // Table 3-4 (also PUBREC, 3-5)
const acks: Vector[] = [
  {
    name: 'PUBACK reason 0x00, no properties: 2-byte body',
    packet: { type: 'puback', packetId: 1, reasonCode: 0 },
    bytes: h('40 02', '00 01'),
  },
  ...pubackCodes.map(
    (code): Vector => ({
      name: `PUBACK reason 0x${hex2(code)} only: 3-byte body, no property length`,
      packet: { type: 'puback', packetId: 1, reasonCode: code },
      bytes: h('40 03', '00 01', hex2(code)),
    }),
  ),
  {
    name: 'PUBACK reason 0x80 with a reason string',
    packet: { type: 'puback', packetId: 1, reasonCode: 0x80, properties: { reasonString: 'oops' } },
    bytes: h(
      '40 0b', // PUBACK; remaining length 11
      '00 01', // packet id 1
      '80', // reason 0x80 unspecified error
      '07', // property length 7
      '1f 00 04 6f 6f 70 73', //   0x1F Reason String "oops"
    ),
  },
  {
    name: 'PUBREC reason 0x00, no properties',
    packet: { type: 'pubrec', packetId: 2, reasonCode: 0 },
    bytes: h('50 02', '00 02'),
  },
  ...pubackCodes.map(
    (code): Vector => ({
      name: `PUBREC reason 0x${hex2(code)} only`,
      packet: { type: 'pubrec', packetId: 2, reasonCode: code },
      bytes: h('50 03', '00 02', hex2(code)),
    }),
  ),
  {
    name: 'PUBREC reason 0x00 with a user property (reason code must then be written)',
    packet: { type: 'pubrec', packetId: 2, reasonCode: 0, properties: { userProperties: { k: 'v' } } },
    bytes: h('50 0b', '00 02', '00', '07', '26 00 01 6b 00 01 76'),
  },
  {
    name: 'PUBREL reason 0x00, no properties (flags 0010)',
    packet: { type: 'pubrel', packetId: 3, reasonCode: 0 },
    bytes: h('62 02', '00 03'),
  },
  {
    name: 'PUBREL reason 0x92 Packet Identifier not found',
    packet: { type: 'pubrel', packetId: 3, reasonCode: 0x92 },
    bytes: h('62 03', '00 03', '92'),
  },
  {
    name: 'PUBREL reason 0x92 with a reason string',
    packet: { type: 'pubrel', packetId: 3, reasonCode: 0x92, properties: { reasonString: 'gone' } },
    bytes: h('62 0b', '00 03', '92', '07', '1f 00 04 67 6f 6e 65'), // Reason String "gone"
  },
  {
    name: 'PUBCOMP reason 0x00, no properties',
    packet: { type: 'pubcomp', packetId: 4, reasonCode: 0 },
    bytes: h('70 02', '00 04'),
  },
  {
    name: 'PUBCOMP reason 0x92 only',
    packet: { type: 'pubcomp', packetId: 4, reasonCode: 0x92 },
    bytes: h('70 03', '00 04', '92'),
  },
  {
    name: 'PUBCOMP reason 0x92 with a reason string and a user property',
    packet: {
      type: 'pubcomp',
      packetId: 4,
      reasonCode: 0x92,
      properties: { reasonString: 'why', userProperties: { k: 'v' } },
    },
    bytes: h(
      '70 11', // PUBCOMP; remaining length 17
      '00 04', // packet id 4
      '92', // reason
      '0d', // property length 13
      '1f 00 03 77 68 79', //   Reason String "why"
      '26 00 01 6b 00 01 76', //   User Property "k" = "v"
    ),
  },
];

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK (3.8-3.11)
// ---------------------------------------------------------------------------------------------
const subscriptions: Vector[] = [
  {
    name: 'SUBSCRIBE with a Subscription Identifier and every subscription option',
    packet: {
      type: 'subscribe',
      packetId: 20,
      properties: { subscriptionIdentifier: 42 },
      subscriptions: [
        { topic: 'a/b', qos: 1, noLocal: true, retainAsPublished: false, retainHandling: 0 },
        { topic: 'c/#', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 1 },
        { topic: '$share/g/d', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 2 },
        { topic: '+', qos: 0, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      ],
    },
    bytes: h(
      '82 22', // SUBSCRIBE | 0010; remaining length 34
      '00 14', // packet id 20
      '02', // property length 2
      '0b 2a', //   0x0B Subscription Identifier 42
      '00 03 61 2f 62', // "a/b"
      '05', //   options 0000 0101: QoS 1, No Local
      '00 03 63 2f 23', // "c/#"
      '1a', //   options 0001 1010: Retain Handling 1, Retain As Published, QoS 2
      '00 0a 24 73 68 61 72 65 2f 67 2f 64', // "$share/g/d"
      '20', //   options 0010 0000: Retain Handling 2, QoS 0
      '00 01 2b', // "+"
      '2c', //   options 0010 1100: Retain Handling 2, Retain As Published, No Local, QoS 0
    ),
  },
  {
    name: 'SUBSCRIBE without properties',
    packet: { type: 'subscribe', packetId: 1, subscriptions: [{ topic: 'a', qos: 0 }] },
    bytes: h('82 07', '00 01', '00', '00 01 61', '00'),
  },
  {
    name: 'SUBSCRIBE with the largest Subscription Identifier and a user property',
    packet: {
      type: 'subscribe',
      packetId: 2,
      properties: { subscriptionIdentifier: 268435455, userProperties: { k: 'v' } },
      subscriptions: [{ topic: '#', qos: 1 }],
    },
    bytes: h(
      '82 13', // remaining length 19
      '00 02', // packet id 2
      '0c', // property length 12
      '0b ff ff ff 7f', //   Subscription Identifier 268,435,455
      '26 00 01 6b 00 01 76', //   User Property "k" = "v"
      '00 01 23 01', // "#" QoS 1
    ),
  },
  {
    name: 'SUBACK with granted QoS and every SUBACK failure code',
    packet: {
      type: 'suback',
      packetId: 20,
      reasonCodes: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
    },
    bytes: h(
      '90 0f', // SUBACK; remaining length 15
      '00 14', // packet id 20
      '00', // property length 0
      '00 01 02', // granted QoS 0, 1, 2
      '80 83 87 8f', // unspecified, implementation specific, not authorized, topic filter invalid
      '91 97 9e', // packet identifier in use, quota exceeded, shared subscriptions not supported
      'a1 a2', // subscription identifiers not supported, wildcard subscriptions not supported
    ),
  },
  {
    name: 'SUBACK with a reason string',
    packet: { type: 'suback', packetId: 21, reasonCodes: [0], properties: { reasonString: 'no' } },
    bytes: h('90 09', '00 15', '05', '1f 00 02 6e 6f', '00'),
  },
  {
    name: 'UNSUBSCRIBE two filters, no properties',
    packet: { type: 'unsubscribe', packetId: 21, topics: ['a/b', 'c/#'] },
    bytes: h('a2 0d', '00 15', '00', '00 03 61 2f 62', '00 03 63 2f 23'),
  },
  {
    name: 'UNSUBSCRIBE with a user property',
    packet: { type: 'unsubscribe', packetId: 22, topics: ['x'], properties: { userProperties: { k: 'v' } } },
    bytes: h('a2 0d', '00 16', '07', '26 00 01 6b 00 01 76', '00 01 78'),
  },
  {
    name: 'UNSUBACK with every UNSUBACK reason code',
    packet: { type: 'unsuback', packetId: 21, reasonCodes: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91] },
    bytes: h(
      'b0 0a', // UNSUBACK; remaining length 10
      '00 15', // packet id 21
      '00', // property length 0
      '00 11 80 83 87 8f 91', // success, no subscription existed, ..., packet identifier in use
    ),
  },
  {
    name: 'UNSUBACK with a reason string',
    packet: { type: 'unsuback', packetId: 22, reasonCodes: [0], properties: { reasonString: 'ok' } },
    bytes: h('b0 09', '00 16', '05', '1f 00 02 6f 6b', '00'),
  },
];

// ---------------------------------------------------------------------------------------------
// PINGREQ, PINGRESP, DISCONNECT, AUTH
// ---------------------------------------------------------------------------------------------
const control: Vector[] = [
  { name: 'PINGREQ', packet: { type: 'pingreq' }, bytes: h('c0 00') },
  { name: 'PINGRESP', packet: { type: 'pingresp' }, bytes: h('d0 00') },
  {
    name: 'DISCONNECT reason 0x00, no properties: remaining length 0',
    packet: { type: 'disconnect', reasonCode: 0 },
    bytes: h('e0 00'),
  },
  {
    name: 'DISCONNECT 0x04 Disconnect with Will Message: reason code only, remaining length 1',
    packet: { type: 'disconnect', reasonCode: 0x04 },
    bytes: h('e0 01', '04'),
  },
  {
    name: 'DISCONNECT 0x8E Session taken over',
    packet: { type: 'disconnect', reasonCode: 0x8e },
    bytes: h('e0 01', '8e'),
  },
  {
    name: 'DISCONNECT reason 0x00 with a Session Expiry Interval (client)',
    packet: { type: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 3600 } },
    bytes: h(
      'e0 07', // DISCONNECT; remaining length 7
      '00', // reason 0x00
      '05', // property length 5
      '11 00 00 0e 10', //   0x11 Session Expiry Interval 3600
    ),
  },
  {
    name: 'DISCONNECT 0x9C Use another server with server reference, reason string, user property',
    packet: {
      type: 'disconnect',
      reasonCode: 0x9c,
      properties: { serverReference: 'b2:1883', reasonString: 'moved', userProperties: { k: 'v' } },
    },
    bytes: h(
      'e0 1b', // DISCONNECT; remaining length 27
      '9c', // reason 0x9C
      '19', // property length 25
      '1c 00 07 62 32 3a 31 38 38 33', //   0x1C Server Reference "b2:1883"
      '1f 00 05 6d 6f 76 65 64', //   0x1F Reason String "moved"
      '26 00 01 6b 00 01 76', //   0x26 User Property "k" = "v"
    ),
  },
  {
    name: 'AUTH reason 0x00, no properties: remaining length 0',
    packet: { type: 'auth', reasonCode: 0 },
    bytes: h('f0 00'),
  },
  {
    name: 'AUTH 0x18 Continue authentication with method and data',
    packet: {
      type: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: h('de ad be ef') },
    },
    bytes: h(
      'f0 17', // AUTH (15 << 4); remaining length 23
      '18', // reason 0x18 continue authentication
      '15', // property length 21
      '15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31', //   0x15 Authentication Method "SCRAM-SHA-1"
      '16 00 04 de ad be ef', //   0x16 Authentication Data
    ),
  },
  {
    name: 'AUTH 0x19 Re-authenticate with method and reason string',
    packet: {
      type: 'auth',
      reasonCode: 0x19,
      properties: { authenticationMethod: 'TOKEN', reasonString: 'reauth' },
    },
    bytes: h('f0 13', '19', '11', '15 00 05 54 4f 4b 45 4e', '1f 00 06 72 65 61 75 74 68'),
  },
  {
    name: 'AUTH 0x00 Success with method and data',
    packet: {
      type: 'auth',
      reasonCode: 0,
      properties: { authenticationMethod: 'TOKEN', authenticationData: h('09') },
    },
    bytes: h('f0 0e', '00', '0c', '15 00 05 54 4f 4b 45 4e', '16 00 01 09'),
  },
];

// ---------------------------------------------------------------------------------------------
// Remaining Length edges (1.5.5): PUBLISH QoS 0, topic "a", property length 0; remaining length
// = 4 + payload length. Remaining length 0 is covered by PINGREQ / DISCONNECT / AUTH above.
// ---------------------------------------------------------------------------------------------
const remainingLengthEdges: [number, string][] = [
  [127, '7f'],
  [128, '80 01'],
  [16383, 'ff 7f'],
  [16384, '80 80 01'],
  [2097151, 'ff ff 7f'],
  [2097152, '80 80 80 01'],
];
const remainingLength: Vector[] = remainingLengthEdges.map(([length, encoded]): Vector => {
  const payload = pattern(length - 4);
  return {
    name: `PUBLISH with remaining length ${length} (encoded ${encoded})`,
    packet: { type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false },
    bytes: concat(h('30', encoded, '00 01 61', '00'), payload),
  };
});

export const all: Vector[] = [
  ...connect,
  ...connack,
  ...publish,
  ...acks,
  ...subscriptions,
  ...control,
  ...remainingLength,
];

describe('MQTT 5.0 vectors', () => {
  vectorTests(all, 5);
});

describe('MQTT 5.0 decoding details', () => {
  // Objects with an own "__proto__" key (as a user property name may be) come from JSON.parse.
  const protoProps = JSON.parse('{"__proto__":"x"}') as Record<string, string>;

  decodeOnlyTests(
    [
      {
        name: 'PUBACK with reason 0x00 and property length 0 written out (remaining length 4)',
        bytes: h('40 04', '00 01', '00', '00'),
        packet: { type: 'puback', packetId: 1, reasonCode: 0 },
      },
      {
        name: 'PUBACK with reason 0x00 written out (remaining length 3)',
        bytes: h('40 03', '00 01', '00'),
        packet: { type: 'puback', packetId: 1, reasonCode: 0 },
      },
      {
        name: 'PUBREL with reason and empty property list written out',
        bytes: h('62 04', '00 03', '92', '00'),
        packet: { type: 'pubrel', packetId: 3, reasonCode: 0x92 },
      },
      {
        name: 'DISCONNECT with reason 0x00 written out (remaining length 1)',
        bytes: h('e0 01', '00'),
        packet: { type: 'disconnect', reasonCode: 0 },
      },
      {
        name: 'DISCONNECT with reason and property length 0 written out (remaining length 2)',
        bytes: h('e0 02', '8e', '00'),
        packet: { type: 'disconnect', reasonCode: 0x8e },
      },
      {
        name: 'AUTH with reason 0x00 and property length 0 written out (remaining length 2)',
        bytes: h('f0 02', '00', '00'),
        packet: { type: 'auth', reasonCode: 0 },
      },
      {
        name: 'user properties with a repeated name interleaved with another keep wire order per name',
        bytes: h(
          '30 19', // remaining length 25
          '00 01 61', // topic "a"
          '15', // property length 21
          '26 00 01 61 00 01 31', // "a" = "1"
          '26 00 01 62 00 01 32', // "b" = "2"
          '26 00 01 61 00 01 33', // "a" = "3"
        ),
        packet: {
          type: 'publish',
          topic: 'a',
          payload: new Uint8Array(0),
          qos: 0,
          retain: false,
          dup: false,
          properties: { userProperties: { a: ['1', '3'], b: '2' } },
        },
      },
      {
        name: 'a user property named "__proto__" is kept as an own property',
        bytes: h('30 13', '00 01 61', '0f', '26 00 09 5f 5f 70 72 6f 74 6f 5f 5f 00 01 78'),
        packet: {
          type: 'publish',
          topic: 'a',
          payload: new Uint8Array(0),
          qos: 0,
          retain: false,
          dup: false,
          properties: { userProperties: protoProps },
        },
      },
    ],
    5,
  );

  it('a user property named "__proto__" encodes like any other name', () => {
    const packet: Packet = {
      type: 'publish',
      topic: 'a',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      properties: { userProperties: protoProps },
    };
    assert.equal(toHex(encode(packet, 5)), '30 13 00 01 61 0f 26 00 09 5f 5f 70 72 6f 74 6f 5f 5f 00 01 78');
  });

  it('a 5.0 CONNECT decodes as 5.0 even from decode(bytes, 4)', () => {
    assertPacket(decode(connectFull.bytes, 4), connectFull.packet, 'decode(v5 CONNECT, 4)');
  });

  it('encoding does not change the packet object', () => {
    const before = JSON.stringify(connectFull.packet, (_k, v) =>
      v instanceof Uint8Array ? Array.from(v) : v,
    );
    encode(connectFull.packet, 5);
    const after = JSON.stringify(connectFull.packet, (_k, v) =>
      v instanceof Uint8Array ? Array.from(v) : v,
    );
    assert.equal(after, before);
  });
});
