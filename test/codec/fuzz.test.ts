/**
 * Fuzzing the streaming decoder, on MQTT 3.1.1 and 5.0:
 *   (a) random byte streams in random chunk sizes: every failure is an MqttError, side 'remote',
 *       with a documented code and its reason code; nothing else is ever thrown;
 *   (b) valid packets with bytes flipped, inserted or deleted: the same, and whatever still
 *       decodes re-encodes (an MqttError at most) and decodes back to itself;
 *   (c) with a maximum packet size, a huge declared length fails at once with PACKET_TOO_LARGE
 *       and the decoder never holds more than the maximum plus one chunk;
 *   (d) a decoder that has failed keeps throwing the same error until reset(), then works again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet, ProtocolVersion } from '../../src/codec/types.ts';
import { MqttError, type MqttErrorCode } from '../../src/errors.ts';
import { anyPacket, concatBytes, prng, split } from './arbitraries.ts';
import { canon } from './normalise.ts';

/** The codes a decoder may fail with, and the MQTT 5 reason code each carries. */
const REMOTE_CODES = new Map<MqttErrorCode, number>([
  ['MALFORMED_PACKET', 0x81],
  ['PROTOCOL_ERROR', 0x82],
  ['PACKET_TOO_LARGE', 0x95],
  ['TOPIC_NAME_INVALID', 0x90],
  ['TOPIC_FILTER_INVALID', 0x8f],
  ['UNSUPPORTED_PROTOCOL_VERSION', 0x84],
]);

function assertRemoteError(err: unknown, what: string): asserts err is MqttError {
  if (!(err instanceof MqttError)) {
    assert.fail(`${what}: threw a non-MqttError: ${err instanceof Error ? err.stack : String(err)}`);
  }
  assert.equal(err.side, 'remote', `${what}: side (${err.code}: ${err.message})`);
  assert.ok(REMOTE_CODES.has(err.code), `${what}: undocumented code ${err.code}`);
  assert.equal(err.reasonCode, REMOTE_CODES.get(err.code), `${what}: reason code for ${err.code}`);
}

interface Outcome {
  packets: { packet: Packet; version: ProtocolVersion }[];
  error?: MqttError;
}

/**
 * Pushes each chunk and drains the decoder, checking after every step that it holds no more
 * than `bound` bytes (the maximum packet size) plus the chunk just pushed.
 */
function run(decoder: PacketDecoder, chunks: Uint8Array[], bound = Number.POSITIVE_INFINITY): Outcome {
  const out: Outcome = { packets: [] };
  try {
    for (const c of chunks) {
      decoder.push(c);
      assert.ok(decoder.bufferedBytes <= bound + c.length, `buffered ${decoder.bufferedBytes} after a push`);
      for (let p = decoder.next(); p !== undefined; p = decoder.next()) {
        out.packets.push({ packet: p, version: decoder.protocolVersion });
      }
      assert.ok(decoder.bufferedBytes <= bound, `buffered ${decoder.bufferedBytes} after draining`);
    }
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assertRemoteError(err, 'decoder');
    out.error = err;
  }
  return out;
}

/** Whatever decoded must re-encode (or fail with an MqttError) and decode back to itself. */
function checkReencode(outcome: Outcome): void {
  for (const { packet, version } of outcome.packets) {
    let bytes: Uint8Array;
    try {
      bytes = encode(packet, version);
    } catch (err) {
      assert.ok(err instanceof MqttError, `re-encoding ${packet.type} threw ${String(err)}`);
      continue;
    }
    assert.deepStrictEqual(canon(decode(bytes, version)), canon(packet), `${packet.type} re-decoded`);
  }
}

const VERSIONS: ProtocolVersion[] = [4, 5];
const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 });

/** A first byte the decoder accepts, so that random bodies reach every packet parser. */
const FIRST_BYTES = [
  0x10, 0x20, 0x30, 0x32, 0x34, 0x39, 0x3b, 0x3d, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xa2,
];
const FIRST_BYTES_ALL = [...FIRST_BYTES, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0];

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** A fixed header that exactly frames `body`. */
function framed(first: number, body: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.from([first, ...varint(body.length)]), body]);
}

for (const version of VERSIONS) {
  describe(`decoder fuzz, MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
    it('(a) random byte streams, random chunks: only documented remote MqttErrors', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), chunkSizes, (bytes, sizes) => {
          const outcome = run(
            new PacketDecoder({ protocolVersion: version, maximumPacketSize: 1 << 20 }),
            split(bytes, sizes),
          );
          checkReencode(outcome);
        }),
        { numRuns: 3000 },
      );
    });

    it('(a) a valid fixed header and a random body: only documented remote MqttErrors', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom(...FIRST_BYTES_ALL), fc.uint8Array({ maxLength: 80 })), {
            minLength: 1,
            maxLength: 4,
          }),
          chunkSizes,
          (frames, sizes) => {
            const bytes = concatBytes(frames.map(([first, body]) => framed(first, body)));
            checkReencode(run(new PacketDecoder({ protocolVersion: version }), split(bytes, sizes)));
          },
        ),
        { numRuns: 4000 },
      );
    });

    it('(a) seeded loop: 10,000 random buffers (20,000 over both versions) in random chunks', () => {
      const rand = prng(version === 5 ? 0x5eed5 : 0x5eed4);
      const int = (n: number) => Math.floor(rand() * n);
      let decoded = 0;
      let failed = 0;
      for (let i = 0; i < 10_000; i++) {
        const body = new Uint8Array(int(200));
        for (let j = 0; j < body.length; j++) body[j] = int(256);
        // Half pure noise, half noise behind a valid fixed header (so it reaches the packet parsers).
        const bytes = i % 2 === 0 ? body : framed(FIRST_BYTES_ALL[int(FIRST_BYTES_ALL.length)], body);
        const max = [1024, 1 << 16, undefined][i % 3];
        const decoder = new PacketDecoder({ protocolVersion: version, maximumPacketSize: max });
        const outcome = run(decoder, split(bytes, [1 + int(32), 1 + int(8)]), max);
        checkReencode(outcome);
        decoded += outcome.packets.length;
        if (outcome.error) failed++;
      }
      assert.ok(decoded > 0 && failed > 5000, `decoded ${decoded} packets, ${failed} streams failed`);
    });

    it('(b) mutated valid packets: only documented remote MqttErrors; survivors re-encode', () => {
      const mutation = fc.tuple(
        fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'swap'),
        fc.nat(),
        fc.nat(),
        fc.nat(255),
      );
      fc.assert(
        fc.property(
          fc.array(anyPacket(version, { maxPayload: 200 }), { minLength: 1, maxLength: 3 }),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          chunkSizes,
          (packets, mutations, sizes) => {
            let bytes = Array.from(concatBytes(packets.map((p) => encode(p, version))));
            for (const [kind, a, b, value] of mutations) {
              const i = a % Math.max(1, bytes.length);
              if (kind === 'flip') bytes[i] ^= 1 << (b % 8);
              else if (kind === 'set') bytes[i] = value;
              else if (kind === 'insert')
                bytes.splice(i, 0, ...Array.from({ length: 1 + (b % 4) }, () => value));
              else if (kind === 'delete') bytes.splice(i, 1 + (b % 4));
              else if (kind === 'truncate') bytes = bytes.slice(0, i);
              else [bytes[i], bytes[b % bytes.length]] = [bytes[b % bytes.length], bytes[i]];
            }
            const outcome = run(
              new PacketDecoder({ protocolVersion: version }),
              split(Uint8Array.from(bytes), sizes),
            );
            checkReencode(outcome);
          },
        ),
        { numRuns: 4000 },
      );
    });

    it('(c) a header declaring a huge remaining length fails at once with PACKET_TOO_LARGE', () => {
      for (const first of FIRST_BYTES_ALL) {
        if (version === 4 && first === 0xf0) continue;
        for (const length of [
          [0xff, 0xff, 0xff, 0x7f],
          [0x80, 0x80, 0x01],
          [0x80, 0x08],
          [0xfe, 0x07],
        ]) {
          const decoder = new PacketDecoder({ protocolVersion: version, maximumPacketSize: 1024 });
          assert.throws(
            () => run1ByteHeader(decoder, [first, ...length]),
            (e) => e instanceof MqttError && e.code === 'PACKET_TOO_LARGE',
          );
          assert.ok(decoder.bufferedBytes <= 1 + length.length, 'nothing beyond the header is held');
        }
      }
    });

    it('(c) the maximum packet size is inclusive: 1024 bytes pass, 1025 fail', () => {
      const publish = (n: number): Packet => ({
        type: 'publish',
        topic: 't',
        payload: new Uint8Array(n),
        qos: 0,
        retain: false,
        dup: false,
      });
      const exact = encode(publish(1024 - 3 - 3 - (version === 5 ? 1 : 0)), version);
      assert.equal(exact.length, 1024);
      const ok = run(
        new PacketDecoder({ protocolVersion: version, maximumPacketSize: 1024 }),
        split(exact, [7]),
        1024,
      );
      assert.equal(ok.error, undefined);
      assert.equal(ok.packets.length, 1);
      const over = encode(publish(1024 - 3 - 3 - (version === 5 ? 1 : 0) + 1), version);
      const bad = run(
        new PacketDecoder({ protocolVersion: version, maximumPacketSize: 1024 }),
        split(over, [1]),
        1024,
      );
      assert.equal(bad.error?.code, 'PACKET_TOO_LARGE');
      assert.equal(bad.packets.length, 0);
    });

    it('(c) random data and packet streams never buffer more than the maximum plus a chunk', () => {
      const max = 1024;
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 4000 }),
            fc
              .array(anyPacket(version, { maxPayload: 1500 }), { minLength: 1, maxLength: 6 })
              .map((ps) => concatBytes(ps.map((p) => encode(p, version)))),
          ),
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
          (bytes, sizes) => {
            const outcome = run(
              new PacketDecoder({ protocolVersion: version, maximumPacketSize: max }),
              split(bytes, sizes),
              max,
            );
            for (const { packet, version: v } of outcome.packets) {
              assert.ok(encode(packet, v).length <= max, 'a decoded packet is within the maximum');
            }
          },
        ),
        { numRuns: 800 },
      );
    });

    it('(c) a packet stream fails exactly at the first packet over the maximum', () => {
      fc.assert(
        fc.property(
          fc.array(anyPacket(version, { maxPayload: 2000 }), { minLength: 1, maxLength: 6 }),
          chunkSizes,
          (packets, sizes) => {
            const max = 600;
            const encoded = packets.map((p) => encode(p, version));
            const firstBig = encoded.findIndex((b) => b.length > max);
            const outcome = run(
              new PacketDecoder({ protocolVersion: version, maximumPacketSize: max }),
              split(concatBytes(encoded), sizes),
              max,
            );
            if (firstBig < 0) {
              assert.equal(outcome.error, undefined);
              assert.equal(outcome.packets.length, packets.length);
            } else {
              assert.equal(outcome.error?.code, 'PACKET_TOO_LARGE');
              assert.equal(outcome.packets.length, firstBig);
            }
          },
        ),
        { numRuns: 500 },
      );
    });

    it('(d) after a failure the same error is thrown until reset(), then decoding works again', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 300 }),
          fc.array(anyPacket(version, { maxPayload: 300 }), { minLength: 1, maxLength: 3 }),
          chunkSizes,
          (noise, packets, sizes) => {
            const decoder = new PacketDecoder({ protocolVersion: version, maximumPacketSize: 4096 });
            // Noise that fails; a stream that happens to be valid or incomplete is not this test.
            const first = run(decoder, split(noise, sizes));
            fc.pre(first.error !== undefined);
            const err = first.error!;
            for (let i = 0; i < 3; i++) assert.strictEqual(tryNext(decoder), err, 'the same error again');
            decoder.push(encode({ type: 'pingreq' }, version));
            assert.strictEqual(tryNext(decoder), err, 'still failing after more bytes arrive');
            decoder.reset();
            decoder.protocolVersion = version;
            assert.equal(decoder.bufferedBytes, 0, 'reset forgets buffered bytes');
            const again = run(decoder, split(concatBytes(packets.map((p) => encode(p, version))), sizes));
            assert.equal(again.error, undefined);
            assert.deepStrictEqual(
              again.packets.map((p) => canon(p.packet)),
              packets.map((p) => canon(decode(encode(p, version), version))),
            );
          },
        ),
        { numRuns: 500 },
      );
    });

    it('(d) reset() in the middle of a packet discards the partial packet', () => {
      const decoder = new PacketDecoder({ protocolVersion: version });
      const bytes = encode(
        {
          type: 'publish',
          topic: 'a',
          payload: new Uint8Array(50),
          qos: 1,
          packetId: 1,
          retain: false,
          dup: false,
        },
        version,
      );
      decoder.push(bytes.subarray(0, 20));
      assert.equal(decoder.next(), undefined);
      assert.ok(decoder.bufferedBytes > 0);
      decoder.reset();
      assert.equal(decoder.bufferedBytes, 0);
      decoder.push(bytes);
      assert.equal(decoder.next()?.type, 'publish');
      assert.equal(decoder.next(), undefined);
    });
  });
}

function tryNext(decoder: PacketDecoder): unknown {
  try {
    decoder.next();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Feeds a header one byte at a time: it must fail on its last length byte, before any body. */
function run1ByteHeader(decoder: PacketDecoder, header: number[]): void {
  header.forEach((b, i) => {
    decoder.push(Uint8Array.of(b));
    try {
      assert.equal(decoder.next(), undefined);
    } catch (err) {
      assertRemoteError(err, 'header');
      assert.equal(err.code, 'PACKET_TOO_LARGE');
      assert.equal(i, header.length - 1, 'fails on the last length byte');
      throw err;
    }
  });
}
