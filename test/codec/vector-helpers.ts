/**
 * Shared helpers for the byte-exact codec vectors (vectors-v4.test.ts,
 * vectors-v5.test.ts) and the rejection tests (invalid.test.ts).
 *
 * A vector is a packet object plus the exact bytes the MQTT specification
 * says it is on the wire. Every vector is checked both ways: encode(packet)
 * must produce the bytes, and decode(bytes) must give back the packet.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decode, encode, encodedLength, encodeInto, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet, ProtocolVersion } from '../../src/codec/types.ts';
import { MqttError, type MqttErrorCode } from '../../src/errors.ts';

/** Bytes from hex fragments; whitespace is ignored. `h('10 0e', '00 04')`. */
export function h(...parts: string[]): Uint8Array {
  const hex = parts.join('').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`bad hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The bytes of an ASCII / UTF-8 string (for payloads, where the text is not the point). */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** `n` payload bytes with a recognisable pattern (i mod 256). */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
}

/**
 * Makes a packet comparable with deepStrictEqual:
 * - any Uint8Array (a Buffer, or a view into a larger buffer) becomes a plain Uint8Array copy;
 * - plain objects are rebuilt with Object.prototype (a decoder may use null-prototype maps),
 *   keeping exactly the same own keys, so a key present with the value `undefined` still differs
 *   from an absent key;
 * - a subscription's options get their defaults (noLocal false, retainAsPublished false,
 *   retainHandling 0), because the types make them optional and the bytes cannot tell
 *   "false" from "absent".
 */
export function normalise(value: unknown, key?: string): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value))
    return value.map((v) => normalise(v, key === 'subscriptions' ? 'subscription' : undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      // defineProperty, not assignment: a user property may be named "__proto__".
      Object.defineProperty(out, k, {
        value: normalise((value as Record<string, unknown>)[k], k),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    if (key === 'subscription') {
      out.noLocal ??= false;
      out.retainAsPublished ??= false;
      out.retainHandling ??= 0;
    }
    return out;
  }
  return value;
}

export interface Vector {
  name: string;
  packet: Packet;
  bytes: Uint8Array;
}

/** A remaining-length edge vector is big: compare it without building hex strings. */
function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.ok(actual instanceof Uint8Array, `${what}: not a Uint8Array`);
  if (expected.length <= 4096) {
    assert.equal(toHex(actual), toHex(expected), what);
  } else {
    assert.equal(actual.length, expected.length, `${what}: length`);
    assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${what}: content differs`);
  }
}

export function assertPacket(actual: Packet | undefined, expected: Packet, what: string): void {
  assert.ok(actual !== undefined, `${what}: no packet`);
  assert.deepStrictEqual(normalise(actual), normalise(expected), what);
}

/** A decoder for one version; a v4 decoder is made explicitly (the default is 5). */
export function decoderFor(version: ProtocolVersion, maximumPacketSize?: number): PacketDecoder {
  return new PacketDecoder(
    maximumPacketSize === undefined
      ? { protocolVersion: version }
      : { protocolVersion: version, maximumPacketSize },
  );
}

/** Feeds bytes in chunks of `size` and collects every packet. */
export function feed(decoder: PacketDecoder, bytes: Uint8Array, size: number): Packet[] {
  const out: Packet[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    decoder.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
    for (let p = decoder.next(); p !== undefined; p = decoder.next()) out.push(p);
  }
  return out;
}

/** Registers encode / encodedLength / encodeInto / decode / streaming tests for each vector. */
export function vectorTests(vectors: Vector[], version: ProtocolVersion): void {
  for (const v of vectors) {
    it(`${v.name}: encode`, () => {
      assertBytes(encode(v.packet, version), v.bytes, 'encode');
      assert.equal(encodedLength(v.packet, version), v.bytes.length, 'encodedLength');
    });

    it(`${v.name}: encodeInto at an offset`, () => {
      const target = new Uint8Array(v.bytes.length + 7).fill(0xee);
      const written = encodeInto(v.packet, version, target, 3);
      assert.equal(written, v.bytes.length, 'bytes written');
      assertBytes(target.subarray(3, 3 + written), v.bytes, 'encodeInto');
      assert.deepEqual(Array.from(target.subarray(0, 3)), [0xee, 0xee, 0xee], 'before offset untouched');
      assert.deepEqual(
        Array.from(target.subarray(3 + written)),
        [0xee, 0xee, 0xee, 0xee],
        'after end untouched',
      );
    });

    it(`${v.name}: decode`, () => {
      assertPacket(decode(v.bytes, version), v.packet, 'decode');
    });

    it(`${v.name}: PacketDecoder, ${v.bytes.length <= 4096 ? 'one byte at a time' : 'in 64 KiB chunks'}`, () => {
      const decoder = decoderFor(version);
      const packets = feed(decoder, v.bytes, v.bytes.length <= 4096 ? 1 : 65536);
      assert.equal(packets.length, 1, 'one packet');
      assertPacket(packets[0], v.packet, 'PacketDecoder');
      assert.equal(decoder.next(), undefined, 'nothing left');
    });
  }

  it('all vectors back to back in one chunk decode in order', () => {
    const small = vectors.filter((v) => v.bytes.length <= 4096);
    const decoder = decoderFor(version);
    decoder.push(concat(...small.map((v) => v.bytes)));
    for (const v of small) assertPacket(decoder.next(), v.packet, v.name);
    assert.equal(decoder.next(), undefined);
  });

  it('all vectors back to back in 7-byte chunks decode in order', () => {
    const small = vectors.filter((v) => v.bytes.length <= 4096);
    const packets = feed(decoderFor(version), concat(...small.map((v) => v.bytes)), 7);
    assert.equal(packets.length, small.length);
    small.forEach((v, i) => {
      assertPacket(packets[i], v.packet, v.name);
    });
  });
}

/** Tests for bytes that decode but are not what the encoder would produce (so no round trip). */
export interface DecodeOnly {
  name: string;
  bytes: Uint8Array;
  packet: Packet;
}

export function decodeOnlyTests(cases: DecodeOnly[], version: ProtocolVersion): void {
  for (const c of cases) {
    it(`decode only: ${c.name}`, () => {
      assertPacket(decode(c.bytes, version), c.packet, 'decode');
      const packets = feed(decoderFor(version), c.bytes, 1);
      assert.equal(packets.length, 1);
      assertPacket(packets[0], c.packet, 'PacketDecoder');
    });
  }
}

const DEFAULT_REASON: Partial<Record<MqttErrorCode, number>> = {
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  PACKET_TOO_LARGE: 0x95,
  TOPIC_NAME_INVALID: 0x90,
  TOPIC_FILTER_INVALID: 0x8f,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
};

/** Asserts `fn` throws an MqttError with this code and side (and, when remote, reason code). */
export function assertMqttError(
  fn: () => unknown,
  code: MqttErrorCode,
  side: 'local' | 'remote',
  reasonCode?: number,
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown !== undefined, `expected ${code} (${side}), nothing was thrown`);
  assert.ok(thrown instanceof MqttError, `expected an MqttError, got ${String(thrown)}`);
  assert.equal(thrown.code, code, `code (message: ${thrown.message})`);
  assert.equal(thrown.side, side, 'side');
  // A remote error carries the reason code to send in DISCONNECT; a local one need not.
  if (side === 'remote') assert.equal(thrown.reasonCode, reasonCode ?? DEFAULT_REASON[code], 'reasonCode');
  else if (reasonCode !== undefined) assert.equal(thrown.reasonCode, reasonCode, 'reasonCode');
}
