/** The CRC-32 against its check value, a bit-by-bit reference, and zlib. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { crc32 } from '../../src/store/crc32.ts';

/** The definition, one bit at a time. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('gives the standard check value', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  it('matches the definition and zlib at every length and alignment, in one go or continued', () => {
    const zlibCrc = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
    const bytes = Uint8Array.from({ length: 4099 }, (_, i) => (i * 7919 + (i >> 5)) & 0xff);
    const lengths = [...Array.from({ length: 40 }, (_, i) => i), 100, 4099];
    for (const n of lengths) {
      for (const offset of [0, 1, 3, 7]) {
        const data = bytes.subarray(offset, Math.min(offset + n, bytes.length));
        const whole = crc32(data);
        assert.equal(whole, reference(data), `length ${n} at ${offset}`);
        if (zlibCrc) assert.equal(whole, zlibCrc(data));
        assert.equal(crc32(bytes, offset, offset + data.length), whole);
        const cut = data.length >> 1;
        assert.equal(crc32(data, cut, data.length, crc32(data, 0, cut)), whole);
      }
    }
  });
});
