/**
 * Cross-check against mqtt-packet (the codec of MQTT.js), for every packet type of
 * MQTT 3.1.1 and 5.0, both ways:
 *   (a) what we encode, mqtt-packet parses to the same fields;
 *   (b) what mqtt-packet generates, we decode to the same fields.
 * Field equality, not byte equality: the two may order properties differently.
 *
 * mqtt-packet quirks, each skipped only where it bites (see QUIRKS below):
 *   Q1 its parser cannot read an AUTH with Remaining Length 0, which MQTT 5 section 3.15.2.1
 *      allows ("Reason Code and Property Length can be omitted if the Reason Code is 0x00 and
 *      there are no Properties") and which we send: (a) skips those AUTH packets.
 *   Q2 its parser tests `if (result.userProperties[name])`, so when a repeated user property's
 *      first value is '' the next value overwrites it instead of making an array: (a) skips
 *      the userProperties field when a repeated name starts with ''.
 *   Q3 its generator refuses a password without a user name even on MQTT 5 (where section
 *      3.1.2.9 allows it): (b) drops the password field in that case.
 *   Q4 its generator refuses an empty client id with clean = false also on MQTT 5, where only
 *      3.1.1 has that rule [MQTT-3.1.3-7] (MQTT 5 section 3.1.3.1 lets the server assign an id):
 *      (b) sends clean = true in that case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { decode, encode } from '../../src/codec/index.ts';
import type { Packet, ProtocolVersion, UserProperties } from '../../src/codec/types.ts';
import { packet, packetTypes } from './arbitraries.ts';
import { canon, normalise } from './normalise.ts';

type Obj = Record<string, unknown>;

// --- the adapter: our packet shape <-> mqtt-packet's ---------------------------------------------

/** Uint8Array values as Buffers (mqtt-packet writes with Buffer#copy). */
function buffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(buffers);
  if (value !== null && typeof value === 'object') {
    const out: Obj = {};
    for (const k of Object.keys(value)) {
      Object.defineProperty(out, k, {
        value: buffers((value as Obj)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** Copies `from[key]` to `to[key]` when present. */
function opt(to: Obj, key: string, from: Obj, fromKey = key): void {
  if (from[fromKey] !== undefined) to[key] = from[fromKey];
}

/** A packet in our decoded shape (see `normalise`) as an mqtt-packet object. */
function toMqttPacket(p: Packet, version: ProtocolVersion): Obj {
  const q = buffers(p) as Obj;
  const out: Obj = { cmd: p.type };
  opt(out, 'properties', q);
  opt(out, 'messageId', q, 'packetId');
  switch (p.type) {
    case 'connect':
      Object.assign(out, { protocolId: 'MQTT', protocolVersion: p.protocolVersion, clientId: p.clientId });
      Object.assign(out, { clean: p.clean, keepalive: p.keepalive });
      for (const k of ['username', 'password', 'will']) opt(out, k, q);
      break;
    case 'connack':
      out.sessionPresent = p.sessionPresent;
      out[version === 5 ? 'reasonCode' : 'returnCode'] = p.reasonCode;
      break;
    case 'publish':
      Object.assign(out, { topic: p.topic, payload: q.payload, qos: p.qos, retain: p.retain, dup: p.dup });
      break;
    case 'subscribe':
      out.subscriptions = p.subscriptions.map((s) =>
        version === 5
          ? { topic: s.topic, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling }
          : { topic: s.topic, qos: s.qos },
      );
      break;
    case 'suback':
    case 'unsuback':
      out.granted = p.reasonCodes;
      break;
    case 'unsubscribe':
      out.unsubscriptions = p.topics;
      break;
    case 'pingreq':
    case 'pingresp':
      break;
    default:
      out.reasonCode = p.reasonCode;
  }
  return out;
}

/** An mqtt-packet object as our decoded shape, for comparing with `normalise`. */
function fromMqttPacket(m: Obj, version: ProtocolVersion): Packet {
  const type = m.cmd as Packet['type'];
  const out: Obj = { type };
  switch (type) {
    case 'connect': {
      Object.assign(out, { protocolVersion: m.protocolVersion, clientId: m.clientId, clean: m.clean });
      out.keepalive = m.keepalive;
      if (m.will) {
        const w = m.will as Obj;
        const will: Obj = { topic: w.topic, payload: w.payload, qos: w.qos, retain: w.retain };
        opt(will, 'properties', w);
        out.will = will;
      }
      opt(out, 'username', m);
      opt(out, 'password', m);
      break;
    }
    case 'connack':
      out.sessionPresent = m.sessionPresent;
      out.reasonCode = version === 5 ? m.reasonCode : m.returnCode;
      break;
    case 'publish':
      Object.assign(out, { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: m.dup });
      if ((m.qos as number) > 0) out.packetId = m.messageId;
      break;
    case 'subscribe':
      out.packetId = m.messageId;
      out.subscriptions = (m.subscriptions as Obj[]).map((s) =>
        version === 5
          ? { topic: s.topic, qos: s.qos, noLocal: s.nl, retainAsPublished: s.rap, retainHandling: s.rh }
          : { topic: s.topic, qos: s.qos },
      );
      break;
    case 'suback':
    case 'unsuback':
      out.packetId = m.messageId;
      out.reasonCodes = m.granted ?? [];
      break;
    case 'unsubscribe':
      out.packetId = m.messageId;
      out.topics = m.unsubscriptions;
      break;
    case 'pingreq':
    case 'pingresp':
      break;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      out.packetId = m.messageId;
      out.reasonCode = m.reasonCode ?? 0;
      break;
    default:
      out.reasonCode = m.reasonCode ?? 0;
  }
  opt(out, 'properties', m);
  return canon(out) as Packet;
}

/** Parses exactly one packet with a fresh mqtt-packet parser. */
function mqttPacketParse(bytes: Uint8Array, version: ProtocolVersion): Obj {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: Obj[] = [];
  const errors: unknown[] = [];
  parser.on('packet', (p) => packets.push(p as unknown as Obj));
  parser.on('error', (e) => errors.push(e));
  parser.parse(Buffer.from(bytes));
  assert.deepEqual(errors, [], 'mqtt-packet parse errors');
  assert.equal(packets.length, 1, 'mqtt-packet parsed one packet');
  return packets[0];
}

// --- quirks ----------------------------------------------------------------------------------------

/** Q2: a repeated user property whose first value is ''. */
function hitsQ2(u: UserProperties | undefined): boolean {
  return u !== undefined && Object.values(u).some((v) => Array.isArray(v) && v[0] === '');
}

function dropField(p: Obj, path: string[]): void {
  let o: Obj | undefined = p;
  for (const k of path.slice(0, -1)) o = o?.[k] as Obj | undefined;
  if (o) delete o[path[path.length - 1]];
}

/** Removes, from both sides, the user properties Q2 makes mqtt-packet misread. */
function skipQ2(expected: Obj, actual: Obj): void {
  for (const path of [['properties'], ['will', 'properties']]) {
    let props: Obj | undefined = expected;
    for (const k of path) props = props?.[k] as Obj | undefined;
    if (props && hitsQ2(props.userProperties as UserProperties)) {
      for (const side of [expected, actual]) {
        dropField(side, [...path, 'userProperties']);
        let owner: Obj | undefined = side;
        for (const k of path.slice(0, -1)) owner = owner?.[k] as Obj | undefined;
        const left = owner?.properties as Obj | undefined;
        if (owner && left && Object.keys(left).length === 0) delete owner.properties;
      }
    }
  }
}

// --- the checks --------------------------------------------------------------------------------------

/** (a) We encode `p`; mqtt-packet must parse the same fields. */
function oursToTheirs(p: Packet, version: ProtocolVersion): void {
  const expected = normalise(p, version) as unknown as Obj;
  const bytes = encode(p, version);
  if (p.type === 'auth' && bytes.length === 2) {
    assert.deepEqual([...bytes], [0xf0, 0x00]); // Q1: the short form, which mqtt-packet cannot parse
    return;
  }
  const actual = fromMqttPacket(mqttPacketParse(bytes, version), version) as unknown as Obj;
  skipQ2(expected, actual);
  assert.deepStrictEqual(actual, expected);
}

/** (b) mqtt-packet generates `p`; we must decode the same fields. */
function theirsToOurs(p: Packet, version: ProtocolVersion): void {
  const expected = normalise(p, version) as unknown as Obj;
  if (expected.type === 'connect') {
    const v5 = expected.protocolVersion === 5;
    if (v5 && expected.password !== undefined && expected.username === undefined) delete expected.password; // Q3
    if (v5 && expected.clientId === '' && expected.clean === false) expected.clean = true; // Q4
  }
  const bytes = mqttPacket.generate(toMqttPacket(expected as unknown as Packet, version) as never, {
    protocolVersion: version,
  });
  assert.ok(bytes.length >= 2, 'mqtt-packet generated nothing');
  assert.deepStrictEqual(canon(decode(bytes, version)), expected);
}

const VERSIONS: ProtocolVersion[] = [4, 5];

for (const version of VERSIONS) {
  describe(`mqtt-packet cross-check, MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
    for (const type of packetTypes(version)) {
      const runs = type === 'pingreq' || type === 'pingresp' ? 3 : 60;
      it(`${type}: we encode, mqtt-packet parses the same fields`, () => {
        fc.assert(
          fc.property(packet(type, version, { maxPayload: 20_000 }), (p) => oursToTheirs(p, version)),
          { numRuns: runs },
        );
      });
      it(`${type}: mqtt-packet generates, we decode the same fields`, () => {
        fc.assert(
          fc.property(packet(type, version, { maxPayload: 20_000 }), (p) => theirsToOurs(p, version)),
          { numRuns: runs },
        );
      });
    }
  });
}

// --- fixed examples ------------------------------------------------------------------------------------

const text = (s: string) => new TextEncoder().encode(s);

const FIXED: [ProtocolVersion, Packet][] = [
  [4, { type: 'connect', protocolVersion: 4, clientId: 'test', clean: true, keepalive: 60 }],
  [
    4,
    {
      type: 'connect',
      protocolVersion: 4,
      clientId: 'ĉliënt',
      clean: false,
      keepalive: 0,
      username: 'u',
      password: text('p'),
      will: { topic: 'w/😀', payload: text('bye'), qos: 2, retain: true },
    },
  ],
  [
    5,
    {
      type: 'connect',
      protocolVersion: 5,
      clientId: 'c',
      clean: true,
      keepalive: 30,
      properties: {
        sessionExpiryInterval: 3600,
        receiveMaximum: 10,
        userProperties: { a: ['1', '2'], b: 'x' },
      },
      will: {
        topic: 'w',
        payload: text('x'),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 5, payloadFormatIndicator: true, correlationData: text('id') },
      },
    },
  ],
  [4, { type: 'connack', sessionPresent: true, reasonCode: 0 }],
  [4, { type: 'connack', sessionPresent: false, reasonCode: 5 }],
  [5, { type: 'connack', sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'no' } }],
  [
    5,
    {
      type: 'connack',
      sessionPresent: true,
      reasonCode: 0,
      properties: {
        maximumQoS: 1,
        retainAvailable: false,
        topicAliasMaximum: 10,
        assignedClientIdentifier: 'id',
      },
    },
  ],
  [4, { type: 'publish', topic: 'a/b', payload: text('hello'), qos: 0, retain: true, dup: false }],
  [
    5,
    {
      type: 'publish',
      topic: 'a',
      payload: new Uint8Array(0),
      qos: 2,
      retain: false,
      dup: true,
      packetId: 65535,
    },
  ],
  [
    5,
    {
      type: 'publish',
      topic: '',
      payload: text('aliased'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 9,
      properties: { topicAlias: 3, subscriptionIdentifier: [1, 268_435_455], contentType: 'text/plain' },
    },
  ],
  [4, { type: 'puback', packetId: 42 }],
  [5, { type: 'pubrec', packetId: 1, reasonCode: 0x10 }],
  [5, { type: 'pubrel', packetId: 2, reasonCode: 0x92, properties: { reasonString: 'gone' } }],
  [5, { type: 'pubcomp', packetId: 3, properties: { userProperties: { k: 'v' } } }],
  [
    4,
    {
      type: 'subscribe',
      packetId: 5,
      subscriptions: [
        { topic: 'a/+', qos: 1 },
        { topic: '#', qos: 2 },
      ],
    },
  ],
  [
    5,
    {
      type: 'subscribe',
      packetId: 6,
      subscriptions: [
        { topic: 'x/#', qos: 0, noLocal: true, retainAsPublished: true, retainHandling: 2 },
        { topic: '$share/g/y', qos: 1, retainHandling: 1 },
      ],
      properties: { subscriptionIdentifier: 77 },
    },
  ],
  [4, { type: 'suback', packetId: 5, reasonCodes: [0, 1, 2, 0x80] }],
  [5, { type: 'suback', packetId: 6, reasonCodes: [0x00, 0xa2], properties: { reasonString: 'r' } }],
  [4, { type: 'unsubscribe', packetId: 7, topics: ['a', 'b/#'] }],
  [5, { type: 'unsubscribe', packetId: 8, topics: ['+'], properties: { userProperties: { ü: '😀' } } }],
  [4, { type: 'unsuback', packetId: 7, reasonCodes: [] }],
  [5, { type: 'unsuback', packetId: 8, reasonCodes: [0x00, 0x11] }],
  [4, { type: 'pingreq' }],
  [5, { type: 'pingresp' }],
  [4, { type: 'disconnect' }],
  [
    5,
    { type: 'disconnect', reasonCode: 0x8e, properties: { sessionExpiryInterval: 0, serverReference: 's' } },
  ],
  [
    5,
    {
      type: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: 'SCRAM', authenticationData: text('d') },
    },
  ],
];

describe('mqtt-packet cross-check, fixed examples', () => {
  for (const [version, p] of FIXED) {
    it(`v${version} ${p.type}: both ways`, () => {
      oursToTheirs(p, version);
      theirsToOurs(p, version);
    });
  }
});
