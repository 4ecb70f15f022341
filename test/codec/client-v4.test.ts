/**
 * The 3.1.1 client codec (src/codec/client-v4.ts, used by the lite client)
 * against the full codec: for every packet a 3.1.1 client sends, the same
 * bytes as `encode(p, 4)` (or the same error code); for every packet a server
 * sends, the same decoded packet as `decode(bytes, 4)` (or the same error
 * code), also when the bytes arrive split at random points.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ClientDecoder4,
  DISCONNECT_4,
  encodeAck4,
  encodeConnect4,
  encodePublish4,
  encodeSubscribe4,
  PINGREQ_4,
  type ServerPacket4,
} from '../../src/codec/client-v4.ts';
import { decode, encode } from '../../src/codec/index.ts';
import type { Packet } from '../../src/codec/types.ts';
import { MqttError } from '../../src/errors.ts';
import { concatBytes, packet, split } from './arbitraries.ts';

const RUNS = { numRuns: 300 };

/** Encodes a client packet with the 3.1.1 client codec, by type. */
function encode4(p: Packet): Uint8Array {
  switch (p.type) {
    case 'connect':
      return encodeConnect4(p);
    case 'publish':
      return encodePublish4(p.topic, p.payload, p.qos, p.retain, p.dup, p.packetId);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return encodeAck4(p.type, p.packetId);
    case 'subscribe': {
      // One QoS per SUBSCRIBE: that is all the lite client sends.
      const qos = p.subscriptions[0].qos;
      return encodeSubscribe4(
        p.packetId,
        p.subscriptions.map((s) => s.topic),
        qos,
      );
    }
    case 'unsubscribe':
      return encodeSubscribe4(p.packetId, p.topics);
    case 'pingreq':
      return PINGREQ_4;
    case 'disconnect':
      return DISCONNECT_4;
    default:
      throw new Error(`not a client packet: ${p.type}`);
  }
}

/** Same outcome: equal bytes, or errors with the same code and side. */
function sameEncoding(p: Packet): void {
  let expected: Uint8Array | MqttError;
  try {
    expected = encode(p, 4);
  } catch (error) {
    expected = error as MqttError;
  }
  let actual: Uint8Array | MqttError;
  try {
    actual = encode4(p);
  } catch (error) {
    actual = error as MqttError;
  }
  if (expected instanceof MqttError || actual instanceof MqttError) {
    assert.ok(actual instanceof MqttError, `client-v4 accepted what encode refused: ${String(expected)}`);
    assert.ok(expected instanceof MqttError, `client-v4 refused what encode accepted: ${String(actual)}`);
    assert.equal(actual.code, expected.code);
    assert.equal(actual.side, expected.side);
    return;
  }
  assert.deepEqual([...actual], [...expected]);
}

function decodeAll(chunks: Uint8Array[]): ServerPacket4[] {
  const decoder = new ClientDecoder4();
  const out: ServerPacket4[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let p = decoder.next(); p !== undefined; p = decoder.next()) out.push(p);
  }
  return out;
}

const CLIENT_SENDS = [
  'connect',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'unsubscribe',
  'pingreq',
  'disconnect',
] as const;
const SERVER_SENDS = [
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'suback',
  'unsuback',
  'pingresp',
] as const;

describe('client-v4 codec: encoding matches encode(p, 4)', () => {
  for (const type of CLIENT_SENDS) {
    it(type, () => {
      fc.assert(
        fc.property(packet(type, 4, { maxPayload: 2000 }), (p) => sameEncoding(p)),
        RUNS,
      );
    });
  }

  it('subscribe (one QoS for every filter)', () => {
    fc.assert(
      fc.property(packet('subscribe', 4), (p) => {
        if (p.type !== 'subscribe') throw new Error('unreachable');
        const qos = p.subscriptions[0].qos;
        sameEncoding({ ...p, subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos })) });
      }),
      RUNS,
    );
  });

  it('refuses what MQTT 3.1.1 cannot carry, with the same error codes', () => {
    const payload = new Uint8Array(1);
    const bad: Packet[] = [
      { type: 'publish', topic: 'a/+', payload, qos: 0, retain: false, dup: false },
      { type: 'publish', topic: '', payload, qos: 0, retain: false, dup: false },
      { type: 'publish', topic: 'a', payload, qos: 1, retain: false, dup: false },
      { type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: true },
      { type: 'publish', topic: 'a\u0000', payload, qos: 0, retain: false, dup: false },
      { type: 'publish', topic: 'a\ud800', payload, qos: 0, retain: false, dup: false },
      { type: 'publish', topic: 'é'.repeat(40_000), payload, qos: 0, retain: false, dup: false },
      { type: 'publish', topic: 'a', payload, qos: 3 as 0, retain: false, dup: false },
      { type: 'puback', packetId: 0 },
      { type: 'pubrel', packetId: 70_000 },
      { type: 'unsubscribe', packetId: 1, topics: [] },
      { type: 'unsubscribe', packetId: 1, topics: ['a/#/b'] },
      { type: 'subscribe', packetId: 1, subscriptions: [{ topic: 'a+', qos: 0 }] },
      { type: 'subscribe', packetId: 1, subscriptions: [{ topic: '$share//a', qos: 0 }] },
      { type: 'connect', protocolVersion: 4, clientId: '', clean: false, keepalive: 0 },
      { type: 'connect', protocolVersion: 4, clientId: 'a', clean: true, keepalive: 70_000 },
      { type: 'connect', protocolVersion: 4, clientId: 'a', clean: true, keepalive: 1, password: payload },
      {
        type: 'connect',
        protocolVersion: 4,
        clientId: 'a',
        clean: true,
        keepalive: 1,
        will: { topic: 'w/#', payload, qos: 0, retain: false },
      },
    ];
    for (const p of bad) {
      assert.throws(() => encode(p, 4), MqttError, `encode should refuse ${JSON.stringify(p.type)}`);
      sameEncoding(p);
    }
  });
});

describe('client-v4 codec: decoding matches decode(bytes, 4)', () => {
  it('every packet a server sends, whole and split at random points', () => {
    const anyServerPacket = fc.oneof(...SERVER_SENDS.map((t) => packet(t, 4, { maxPayload: 2000 })));
    fc.assert(
      fc.property(
        fc.array(anyServerPacket, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 }),
        (packets, cuts) => {
          const encoded = packets.map((p) => encode(p, 4));
          const expected = encoded.map((bytes) => decode(bytes, 4));
          const all = concatBytes(encoded);
          assert.deepEqual(decodeAll([all]), expected);
          assert.deepEqual(decodeAll(split(all, cuts)), expected);
        },
      ),
      RUNS,
    );
  });

  it('refuses malformed and unexpected bytes with the same error codes', () => {
    const cases: [string, number[]][] = [
      ['PUBLISH with QoS 3', [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]],
      ['QoS 0 PUBLISH with DUP', [0x38, 0x03, 0x00, 0x01, 0x61]],
      ['PUBLISH with an empty topic', [0x30, 0x02, 0x00, 0x00]],
      ['PUBLISH with a wildcard topic', [0x30, 0x03, 0x00, 0x01, 0x23]],
      ['PUBLISH with an overlong UTF-8 topic', [0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf]],
      ['PUBLISH with a UTF-16 surrogate in its topic', [0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80]],
      ['PUBLISH with U+0000 in its topic', [0x30, 0x04, 0x00, 0x02, 0x61, 0x00]],
      ['PUBLISH with packet id 0', [0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00]],
      ['PUBLISH shorter than its topic', [0x30, 0x03, 0x00, 0x05, 0x61]],
      ['CONNACK with reserved flags', [0x20, 0x02, 0x02, 0x00]],
      ['CONNACK with session present and a refusal', [0x20, 0x02, 0x01, 0x05]],
      ['CONNACK too long', [0x20, 0x03, 0x00, 0x00, 0x00]],
      ['PUBREL with flags 0', [0x60, 0x02, 0x00, 0x01]],
      ['PUBACK with flags 2', [0x42, 0x02, 0x00, 0x01]],
      ['SUBACK with return code 3', [0x90, 0x03, 0x00, 0x01, 0x03]],
      ['SUBACK with no return codes', [0x90, 0x02, 0x00, 0x01]],
      ['UNSUBACK with reason codes', [0xb0, 0x03, 0x00, 0x01, 0x00]],
      ['reserved type 0', [0x00, 0x00]],
      ['reserved type 15', [0xf0, 0x00]],
      ['remaining length not minimal', [0xd0, 0x80, 0x00]],
      ['remaining length of 5 bytes', [0x30, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ];
    for (const [what, bytes] of cases) {
      const input = Uint8Array.from(bytes);
      let expected: MqttError | undefined;
      try {
        decode(input, 4);
      } catch (error) {
        expected = error as MqttError;
      }
      assert.ok(expected instanceof MqttError, `decode should refuse ${what}`);
      const decoder = new ClientDecoder4();
      decoder.push(input);
      assert.throws(
        () => decoder.next(),
        (error: unknown) =>
          error instanceof MqttError && error.code === expected.code && error.side === 'remote',
        `${what}: expected ${expected.code}`,
      );
    }
  });

  it('refuses packets a server never sends a client', () => {
    for (const type of ['connect', 'subscribe', 'unsubscribe', 'pingreq', 'disconnect'] as const) {
      const sample = fc.sample(packet(type, 4), 1)[0];
      const decoder = new ClientDecoder4();
      decoder.push(encode(sample, 4));
      assert.throws(() => decoder.next(), { code: 'PROTOCOL_ERROR', side: 'remote' }, type);
    }
  });

  it('refuses a packet over the maximum size as soon as its header is read', () => {
    const decoder = new ClientDecoder4(100);
    decoder.push(Uint8Array.of(0x30, 0xe8, 0x07)); // PUBLISH announcing 1000 bytes, none of them here
    assert.throws(() => decoder.next(), { code: 'PACKET_TOO_LARGE' });
  });

  it('keeps a byte order mark in a topic, as MQTT requires [MQTT-1.5.3-3]', () => {
    const bytes = encode(
      { type: 'publish', topic: '\ufeffa', payload: new Uint8Array(0), qos: 0, retain: false, dup: false },
      4,
    );
    const decoder = new ClientDecoder4();
    decoder.push(bytes);
    const p = decoder.next();
    assert.equal(p?.type === 'publish' ? p.topic : undefined, '\ufeffa');
  });
});
