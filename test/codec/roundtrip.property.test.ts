/**
 * Property tests: for arbitrary valid packets of every type, on MQTT 3.1.1 and 5.0,
 * decode(encode(p)) is p in its decoded shape, encodedLength agrees with encode, encodeInto
 * writes the same bytes, and a PacketDecoder fed the bytes cut at arbitrary places (one byte
 * at a time, several packets back to back, pushes without draining) yields the same packets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decode,
  encode,
  encodedLength,
  encodeInto,
  PACKET_TYPE_NUMBER,
  PacketDecoder,
} from '../../src/codec/index.ts';
import type { Packet, Properties, ProtocolVersion } from '../../src/codec/types.ts';
import { MqttError } from '../../src/errors.ts';
import {
  allowedProperties,
  anyPacket,
  concatBytes,
  packet,
  packetTypes,
  properties,
  split,
} from './arbitraries.ts';
import { canon, normalise, normaliseProperties } from './normalise.ts';

const VERSIONS: ProtocolVersion[] = [4, 5];
// Packet types that carry properties, by type number (PINGREQ and PINGRESP have none).
const WHERE: Partial<Record<string, number>> = {
  ...PACKET_TYPE_NUMBER,
  pingreq: undefined,
  pingresp: undefined,
};

function assertSame(actual: Packet | undefined, expected: Packet, what: string): void {
  assert.ok(actual !== undefined, `${what}: no packet`);
  assert.deepStrictEqual(canon(actual), expected, what);
}

/** Pushes the chunks one by one, draining after each (or only at the end), collecting packets. */
function feed(decoder: PacketDecoder, chunks: Uint8Array[], drainEach = true): Packet[] {
  const out: Packet[] = [];
  const drain = () => {
    for (let p = decoder.next(); p !== undefined; p = decoder.next()) out.push(p);
  };
  for (const c of chunks) {
    decoder.push(c);
    if (drainEach) drain();
  }
  drain();
  return out;
}

function roundTrip(p: Packet, version: ProtocolVersion): void {
  const expected = normalise(p, version);
  const bytes = encode(p, version);
  assert.equal(encodedLength(p, version), bytes.length, 'encodedLength');
  assertSame(decode(bytes, version), expected, 'decode');
  // encodeInto at an offset writes the same bytes and nothing else.
  const target = new Uint8Array(bytes.length + 3).fill(0xee);
  assert.equal(encodeInto(p, version, target, 2), bytes.length, 'encodeInto length');
  assert.ok(Buffer.from(target.subarray(2, 2 + bytes.length)).equals(bytes), 'encodeInto bytes');
  assert.deepEqual([target[0], target[1], target[target.length - 1]], [0xee, 0xee, 0xee]);
  // Encoding the decoded packet gives the same bytes: the decoded shape loses nothing.
  assert.ok(Buffer.from(encode(decode(bytes, version), version)).equals(bytes), 're-encode');
}

for (const version of VERSIONS) {
  describe(`MQTT ${version === 5 ? '5.0' : '3.1.1'} round trip`, () => {
    for (const type of packetTypes(version)) {
      it(`${type}: decode(encode(p)) equals p, encodedLength matches`, () => {
        const runs = type === 'pingreq' || type === 'pingresp' ? 5 : type === 'publish' ? 300 : 150;
        fc.assert(
          fc.property(packet(type, version), (p) => roundTrip(p, version)),
          { numRuns: runs },
        );
      });

      if (version === 5 && WHERE[type] !== undefined) {
        it(`${type}: every allowed property at once`, () => {
          const where = WHERE[type]!;
          fc.assert(
            fc.property(
              packet(type, 5, { maxPayload: 2000 }),
              properties(where, { all: true }),
              (p, props) => {
                const withAll = { ...p, properties: props } as Packet;
                if (withAll.type === 'publish' && withAll.topic === '') withAll.topic = 'a';
                roundTrip(withAll, 5);
                const decoded = decode(encode(withAll, 5), 5) as { properties?: Properties };
                const names = Object.keys(normaliseProperties(props) ?? {}).sort();
                assert.deepEqual(Object.keys(decoded.properties ?? {}).sort(), names);
                // Only Authentication Data is left out, when the arbitrary gave no method for it.
                const missing = allowedProperties(where).filter((d) => !names.includes(d.name));
                assert.ok(
                  missing.every((d) => d.name === 'authenticationData'),
                  `missing ${missing.map((d) => d.name)}`,
                );
              },
            ),
            { numRuns: 40 },
          );
        });
      }
    }

    it('the decoder, one byte at a time, yields the packet', () => {
      fc.assert(
        fc.property(anyPacket(version, { maxPayload: 3000 }), (p) => {
          const bytes = encode(p, version);
          const decoder = new PacketDecoder({ protocolVersion: version });
          const got = feed(decoder, split(bytes, [1]));
          assert.equal(got.length, 1);
          assertSame(got[0], normalise(p, version), 'one byte at a time');
          assert.equal(decoder.bufferedBytes, 0);
        }),
        { numRuns: 200 },
      );
    });

    it('several packets back to back, re-split at arbitrary boundaries, come out in order', () => {
      fc.assert(
        fc.property(
          fc.array(anyPacket(version, { maxPayload: 5000 }), { minLength: 1, maxLength: 8 }),
          fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }),
          fc.boolean(),
          (packets, sizes, drainEach) => {
            const stream = concatBytes(packets.map((p) => encode(p, version)));
            const decoder = new PacketDecoder({ protocolVersion: version });
            const got = feed(decoder, split(stream, sizes), drainEach);
            assert.equal(got.length, packets.length, 'packet count');
            packets.forEach((p, i) => {
              assertSame(got[i], normalise(p, version), `packet ${i} (${p.type})`);
            });
            assert.equal(decoder.bufferedBytes, 0);
          },
        ),
        { numRuns: 250 },
      );
    });

    it('cut points anywhere, including inside the fixed header and the remaining length', () => {
      fc.assert(
        fc.property(
          fc.array(anyPacket(version, { maxPayload: 400 }), { minLength: 1, maxLength: 5 }),
          fc.uniqueArray(fc.nat(), { maxLength: 12 }),
          (packets, cuts) => {
            const stream = concatBytes(packets.map((p) => encode(p, version)));
            const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
            const chunks: Uint8Array[] = [];
            let prev = 0;
            for (const c of [...at, stream.length]) {
              chunks.push(stream.subarray(prev, c)); // empty chunks included on purpose
              prev = c;
            }
            const got = feed(new PacketDecoder({ protocolVersion: version }), chunks);
            assert.deepStrictEqual(
              got.map(canon),
              packets.map((p) => normalise(p, version)),
            );
          },
        ),
        { numRuns: 250 },
      );
    });

    it('a ~100 KB PUBLISH, one byte at a time and in random chunks', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 60_000, max: 100_000 }),
          fc.constantFrom<0 | 1 | 2>(0, 1, 2),
          fc.integer({ min: 1, max: 9000 }),
          (n, qos, chunk) => {
            const payload = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
            const p: Packet = { type: 'publish', topic: 'big/😀', payload, qos, retain: false, dup: false };
            if (qos > 0) p.packetId = 7;
            const bytes = encode(p, version);
            assert.equal(encodedLength(p, version), bytes.length);
            for (const sizes of [[1], [chunk]]) {
              const got = feed(new PacketDecoder({ protocolVersion: version }), split(bytes, sizes));
              assert.equal(got.length, 1);
              assertSame(got[0], normalise(p, version), `chunks of ${sizes[0]}`);
            }
          },
        ),
        { numRuns: 6 },
      );
    });
  });
}

describe('normalise: the decoded shape', () => {
  it('user properties: one value is a string, repeats an array, empty arrays vanish', () => {
    const p: Packet = {
      type: 'puback',
      packetId: 1,
      properties: { userProperties: { a: ['x'], b: ['1', '2'], c: [], d: 'z' } },
    };
    const decoded = canon(decode(encode(p, 5), 5));
    assert.deepStrictEqual(decoded, {
      type: 'puback',
      packetId: 1,
      reasonCode: 0,
      properties: { userProperties: { a: 'x', b: ['1', '2'], d: 'z' } },
    });
    assert.deepStrictEqual(decoded, normalise(p, 5));
  });

  it('properties are dropped on 3.1.1 and when empty on 5.0', () => {
    const p: Packet = { type: 'disconnect', reasonCode: 0, properties: { userProperties: {} } };
    assert.deepStrictEqual(canon(decode(encode(p, 5), 5)), { type: 'disconnect', reasonCode: 0 });
    const s: Packet = { type: 'suback', packetId: 3, reasonCodes: [1], properties: { reasonString: 'r' } };
    assert.deepStrictEqual(canon(decode(encode(s, 4), 4)), { type: 'suback', packetId: 3, reasonCodes: [1] });
  });

  it('a single subscription identifier in an array decodes as a number', () => {
    const p: Packet = {
      type: 'publish',
      topic: 't',
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      properties: { subscriptionIdentifier: [5] },
    };
    const decoded = decode(encode(p, 5), 5) as { properties?: { subscriptionIdentifier?: unknown } };
    assert.equal(decoded.properties?.subscriptionIdentifier, 5);
  });
});

describe('what the decoder rejects, the encoder refuses to produce', () => {
  const invalidArgument = (e: unknown) =>
    e instanceof MqttError && e.code === 'INVALID_ARGUMENT' && e.side === 'local';

  it('more than one Subscription Identifier only on PUBLISH (MQTT 5 section 3.8.2.1.2)', () => {
    const sub = (subscriptionIdentifier: number | number[]): Packet => ({
      type: 'subscribe',
      packetId: 1,
      subscriptions: [{ topic: 'a', qos: 0 }],
      properties: { subscriptionIdentifier },
    });
    assert.throws(() => encode(sub([1, 2]), 5), invalidArgument);
    assert.deepStrictEqual(canon(decode(encode(sub([3]), 5), 5)), normalise(sub(3), 5));
  });

  it('MQTT 3.1.1 SUBACK return codes are 0, 1, 2 or 0x80 [MQTT-3.9.3-2]', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(255), { minLength: 1, maxLength: 4 }), (codes) => {
        const p: Packet = { type: 'suback', packetId: 1, reasonCodes: codes };
        if (codes.every((c) => c <= 2 || c === 0x80))
          assert.deepStrictEqual(canon(decode(encode(p, 4), 4)), p);
        else assert.throws(() => encode(p, 4), invalidArgument);
      }),
      { numRuns: 300 },
    );
  });
});
