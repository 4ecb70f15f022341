/**
 * Strict UTF-8 decoding in plain JavaScript, for engines with no
 * TextDecoder (QuickJS). Where there is one, the codec decodes through it
 * (./utf8.ts) and this module stays out of the bundle; `useJsUtf8()`
 * (called by `steadfast-mqtt/codec` on such an engine) puts it in place.
 * The encoding side (`utf8Length`, `writeUtf8`) is plain JS everywhere and
 * lives in ./utf8.ts.
 */
import { remoteError } from '../errors.ts';
import { setUtf8Fallback } from './utf8.ts';

function malformed(): never {
  throw remoteError('MALFORMED_PACKET', 'invalid UTF-8 in an MQTT string');
}

// String.fromCharCode.apply takes at most this many arguments safely on every engine.
const APPLY_CHUNK = 4096;

function codeUnitsToString(units: ArrayLike<number>, count: number): string {
  if (count <= APPLY_CHUNK) {
    return String.fromCharCode.apply(
      null,
      (count === units.length ? units : Array.prototype.slice.call(units, 0, count)) as number[],
    );
  }
  let out = '';
  for (let i = 0; i < count; i += APPLY_CHUNK) {
    out += String.fromCharCode.apply(
      null,
      Array.prototype.slice.call(units, i, Math.min(count, i + APPLY_CHUNK)) as number[],
    );
  }
  return out;
}

// Reused so that short strings cost no array allocation: apply() on a plain array beats a typed array.
const scratch: number[] = [];

function asciiToString(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > APPLY_CHUNK) return codeUnitsToString(buf.subarray(start, end), n);
  scratch.length = n;
  for (let k = 0; k < n; k++) scratch[k] = buf[start + k];
  return String.fromCharCode.apply(null, scratch);
}

/**
 * Decodes `buf[start, end)` as strict UTF-8 (no overlongs, no surrogates, no
 * code point above U+10FFFF, no U+0000). Throws MALFORMED_PACKET otherwise.
 */
export function jsReadUtf8(buf: Uint8Array, start: number, end: number): string {
  // Fast path: ASCII only, the common case for topics and client ids.
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b === 0) malformed();
    if (b >= 0x80) break;
    i++;
  }
  if (i === end) return asciiToString(buf, start, end);

  const units = new Uint16Array(end - start);
  let n = 0;
  for (let j = start; j < i; j++) units[n++] = buf[j];
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      if (b === 0) malformed();
      units[n++] = b;
      i++;
    } else if (b >= 0xc2 && b <= 0xdf) {
      if (i + 1 >= end) malformed();
      const b1 = buf[i + 1];
      if ((b1 & 0xc0) !== 0x80) malformed();
      units[n++] = ((b & 0x1f) << 6) | (b1 & 0x3f);
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      if (i + 2 >= end) malformed();
      const b1 = buf[i + 1];
      const b2 = buf[i + 2];
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80) malformed();
      const c = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) malformed(); // overlong or surrogate
      units[n++] = c;
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (i + 3 >= end) malformed();
      const b1 = buf[i + 1];
      const b2 = buf[i + 2];
      const b3 = buf[i + 3];
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) malformed();
      const c = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      if (c < 0x10000 || c > 0x10ffff) malformed();
      const v = c - 0x10000;
      units[n++] = 0xd800 + (v >> 10);
      units[n++] = 0xdc00 + (v & 0x3ff);
      i += 4;
    } else {
      malformed(); // continuation byte first, 0xc0/0xc1 overlong lead, or 0xf5..0xff
    }
  }
  return codeUnitsToString(units, n);
}

/**
 * Whether `buf` is well-formed UTF-8 (RFC 3629): what a payload flagged with
 * Payload Format Indicator 1 must be. Unlike MQTT strings, U+0000 is allowed.
 */
export function jsIsWellFormedUtf8(buf: Uint8Array): boolean {
  const end = buf.length;
  let i = 0;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + need >= end) return false; // truncated sequence
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/**
 * Makes the codec decode strings and check UTF-8 payloads with the plain-JS
 * functions above: for engines with no TextDecoder. Harmless elsewhere (the
 * platform decoder, where there is one, keeps being used).
 */
export function useJsUtf8(): void {
  setUtf8Fallback({ readUtf8: jsReadUtf8, isWellFormedUtf8: jsIsWellFormedUtf8 });
}
