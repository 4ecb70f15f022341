/**
 * The two UTF-8 decoders: the platform's fatal TextDecoder (what browsers,
 * Node, Deno and Bun use) and the plain-JS one that engines without a
 * TextDecoder install with `useJsUtf8()` (QuickJS: test/core). Both must
 * accept and refuse the same bytes, with the same strings and error codes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isWellFormedUtf8, readUtf8 } from '../../src/codec/utf8.ts';
import { jsIsWellFormedUtf8, jsReadUtf8 } from '../../src/codec/utf8-js.ts';
import { MqttError } from '../../src/errors.ts';

function outcome(read: (b: Uint8Array, s: number, e: number) => string, bytes: Uint8Array): string {
  try {
    return `ok ${read(bytes, 0, bytes.length)}`;
  } catch (error) {
    assert.ok(error instanceof MqttError, `not an MqttError: ${error}`);
    return `error ${error.code}`;
  }
}

const CASES: [string, number[]][] = [
  ['ASCII', [0x61, 0x2f, 0x62]],
  ['U+0000', [0x61, 0x00]],
  ['two-byte', [0xc3, 0xa9]],
  ['three-byte', [0xe2, 0x82, 0xac]],
  ['four-byte', [0xf0, 0x9f, 0x98, 0x80]],
  ['a leading BOM, kept', [0xef, 0xbb, 0xbf, 0x61]],
  ['overlong', [0xc0, 0xaf]],
  ['a surrogate', [0xed, 0xa0, 0x80]],
  ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['truncated', [0xe2, 0x82]],
  ['a lone continuation byte', [0x80]],
];

describe('UTF-8: platform and plain-JS decoders agree', () => {
  for (const [name, bytes] of CASES) {
    it(name, () => {
      const b = Uint8Array.from(bytes);
      assert.equal(outcome(readUtf8, b), outcome(jsReadUtf8, b));
      assert.equal(isWellFormedUtf8(b), jsIsWellFormedUtf8(b));
    });
  }

  it('on any bytes, and on any string encoded', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.string({ unit: 'binary', maxLength: 12 }).map((s) => new TextEncoder().encode(s)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        assert.equal(outcome(readUtf8, b), outcome(jsReadUtf8, b));
        assert.equal(isWellFormedUtf8(b), jsIsWellFormedUtf8(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses bad bytes with MALFORMED_PACKET', () => {
    assert.equal(outcome(readUtf8, Uint8Array.from([0xc0, 0xaf])), 'error MALFORMED_PACKET');
    assert.equal(outcome(readUtf8, Uint8Array.from([0x61, 0x00])), 'error MALFORMED_PACKET');
  });
});
