// The radio frame and its CRC: layout, round trip, and what the CRC-32C
// catches. The claims in src/radio/link/crc32c.ts are checked here:
// exhaustively for every error of up to 5 bits in a 32-byte frame and up to
// 3 bits in a 255-byte frame (through syndromes: a CRC is linear, so an error
// pattern goes unseen exactly when the XOR of its bits' syndromes is 0), and
// by sampling random corruption.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c } from '../../src/radio/link/crc32c.ts';
import {
  decodeFrame,
  encodeFrame,
  FRAME_OVERHEAD,
  type Frame,
  FrameKind,
  openBody,
  readOpenBody,
} from '../../src/radio/link/frame.ts';
import { prng } from '../helpers/prng.ts';

const frame = (payload: Uint8Array, over: Partial<Frame> = {}): Frame => ({
  kind: FrameKind.DATA,
  dst: 0,
  src: 7,
  epoch: 5,
  poll: true,
  seq: 9,
  ack: 14,
  payload,
  ...over,
});

/** Syndrome of flipping each bit of an `n`-byte frame: CRC-32C over the error pattern with zero init and no final XOR. */
function syndromes(n: number): Uint32Array {
  const bits = n * 8;
  const out = new Uint32Array(bits);
  const dataBits = (n - 4) * 8;
  for (let bit = 0; bit < bits; bit++) {
    if (bit >= dataBits) {
      // A flipped CRC bit changes the stored CRC by that bit only.
      const i = bit - dataBits;
      out[bit] = (1 << (24 - 8 * Math.floor(i / 8) + (7 - (i % 8)))) >>> 0;
      continue;
    }
    const pattern = new Uint8Array(n - 4);
    pattern[bit >> 3] = 0x80 >> (bit & 7);
    // crc(m ^ e) = crc(m) ^ crc(e) ^ crc(0...0) for equal lengths.
    out[bit] = (crc32c(pattern) ^ crc32c(new Uint8Array(n - 4))) >>> 0;
  }
  return out;
}

describe('radio frame', () => {
  it('CRC-32C matches the standard check value', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });

  it('has 8 bytes of overhead: 24 MQTT bytes in a 32-byte frame', () => {
    assert.equal(FRAME_OVERHEAD, 8);
    const bytes = encodeFrame(frame(new Uint8Array(24).fill(0xab)));
    assert.equal(bytes.length, 32);
    assert.deepEqual([...bytes.subarray(0, 4)], [0, 7, (FrameKind.DATA << 5) | 0x10 | 5, (9 << 4) | 14]);
  });

  it('round-trips every kind and field', () => {
    // REJECT exists on secure links only (test/radio/link-secure.test.ts).
    for (const kind of Object.values(FrameKind).filter((k) => k !== FrameKind.REJECT)) {
      for (const poll of [false, true]) {
        const f = frame(new Uint8Array([1, 2, 3]), {
          kind,
          poll,
          epoch: 15,
          seq: 15,
          ack: 0,
          dst: 254,
          src: 1,
        });
        const decoded = decodeFrame(encodeFrame(f));
        assert.ok(decoded.ok);
        assert.deepEqual(decoded.frame, f);
      }
    }
    const body = readOpenBody(openBody({ nonce: 0xdeadbeef, linkTimeoutMs: 123_456, mtu: 58 }));
    assert.deepEqual(body, { nonce: 0xdeadbeef, linkTimeoutMs: 123_456, mtu: 58 });
  });

  it('rejects short frames and unknown kinds', () => {
    assert.deepEqual(decodeFrame(new Uint8Array(7)), { ok: false, defect: 'short' });
    const bytes = encodeFrame(frame(new Uint8Array(1)));
    bytes[2] = (7 << 5) | (bytes[2] & 0x1f);
    const end = bytes.length - 4;
    new DataView(bytes.buffer).setUint32(end, crc32c(bytes, 0, end));
    assert.deepEqual(decodeFrame(bytes), { ok: false, defect: 'kind' });
  });

  it('syndromes agree with flipping bits in real frames', () => {
    const random = prng(3);
    const f = encodeFrame(frame(new Uint8Array(24).map(() => Math.floor(random() * 256))));
    const s = syndromes(32);
    const good = new DataView(f.buffer).getUint32(28);
    for (const bit of [0, 17, 200, 223]) {
      const copy = f.slice();
      copy[bit >> 3] ^= 0x80 >> (bit & 7);
      const computed = crc32c(copy, 0, 28);
      const stored = new DataView(copy.buffer).getUint32(28);
      assert.notEqual(computed, stored);
      assert.equal((computed ^ good) >>> 0, s[bit]);
    }
    for (const bit of [224, 240, 255]) {
      const copy = f.slice();
      copy[bit >> 3] ^= 0x80 >> (bit & 7);
      assert.equal((new DataView(copy.buffer).getUint32(28) ^ good) >>> 0, s[bit]);
    }
  });

  it('catches every error of up to 5 bits in a 32-byte frame (exhaustive)', () => {
    const s = syndromes(32);
    const bits = s.length;
    // Single bits: no zero syndrome. Pairs: all distinct (else a 2-bit error hides).
    const pairs = new Map<number, number>();
    for (let a = 0; a < bits; a++) {
      assert.notEqual(s[a], 0);
      for (let b = a + 1; b < bits; b++) {
        const x = (s[a] ^ s[b]) >>> 0;
        assert.notEqual(x, 0, `2-bit error ${a},${b} unseen`);
        // Two disjoint pairs with equal XOR would be an unseen 4-bit error; a shared bit means a 2-bit one.
        assert.equal(pairs.has(x), false, `4-bit error unseen (${a},${b})`);
        pairs.set(x, a * bits + b);
      }
    }
    const singles = new Set(s);
    // 3-bit errors: pair XOR equal to a single's syndrome; 5-bit: a triple's XOR equal to a pair's.
    for (const x of pairs.keys()) assert.equal(singles.has(x), false, '3-bit error unseen');
    let triples = 0;
    for (let a = 0; a < bits; a++)
      for (let b = a + 1; b < bits; b++) {
        const ab = s[a] ^ s[b];
        for (let c = b + 1; c < bits; c++) {
          const found = pairs.get((ab ^ s[c]) >>> 0);
          if (found !== undefined) {
            const p = Math.floor(found / bits);
            const q = found % bits;
            // A pair that shares a bit with the triple makes a 3-bit pattern, already ruled out.
            assert.ok([a, b, c].includes(p) || [a, b, c].includes(q), '5-bit error unseen');
          }
          triples++;
        }
      }
    assert.equal(triples, (bits * (bits - 1) * (bits - 2)) / 6);
  });

  it('catches every error of up to 3 bits in a 255-byte frame (exhaustive)', () => {
    const s = syndromes(255);
    const seen = new Set<number>(s);
    assert.equal(seen.size, s.length, 'two single-bit errors look alike');
    assert.equal(seen.has(0), false);
    for (let a = 0; a < s.length; a++)
      for (let b = a + 1; b < s.length; b++) assert.equal(seen.has((s[a] ^ s[b]) >>> 0), false);
  });

  it('catches random corruption: 200,000 corrupted frames, none passes', () => {
    const random = prng(17);
    let caught = 0;
    for (let i = 0; i < 200_000; i++) {
      const size = 1 + Math.floor(random() * 247);
      const bytes = encodeFrame(frame(new Uint8Array(size).map(() => Math.floor(random() * 256))));
      // Flip 1-64 random bits, or overwrite a random run of bytes.
      if (random() < 0.5) {
        const flips = 1 + Math.floor(random() * 64);
        for (let k = 0; k < flips; k++) {
          const bit = Math.floor(random() * bytes.length * 8);
          bytes[bit >> 3] ^= 0x80 >> (bit & 7);
        }
      } else {
        const start = Math.floor(random() * bytes.length);
        const end = Math.min(bytes.length, start + 1 + Math.floor(random() * 16));
        for (let k = start; k < end; k++) bytes[k] = Math.floor(random() * 256);
      }
      const decoded = decodeFrame(bytes);
      if (!decoded.ok) caught++;
      else {
        // An overwrite may write the same bytes back: then the frame is genuinely intact.
        const again = encodeFrame(decoded.frame);
        assert.deepEqual(again, bytes, 'a corrupted frame passed the CRC');
        caught++;
      }
    }
    assert.equal(caught, 200_000);
  });
});
