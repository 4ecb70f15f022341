/**
 * UTF-8 for MQTT strings. Encoding is plain JavaScript (it must measure and
 * check every string anyway: MQTT forbids U+0000 and lone surrogates, and
 * topics are short and mostly ASCII, where a plain loop beats a call into the
 * platform). Decoding goes through the platform's fatal TextDecoder, which
 * refuses overlongs, surrogates and code points past U+10FFFF, with the MQTT
 * rule against U+0000 on top. Engines with no TextDecoder (QuickJS) decode
 * ASCII here and need the plain-JS decoder of ./utf8-js.ts for the rest
 * (`useJsUtf8()`, done by `steadfast-mqtt/codec`), so browsers do not ship it.
 */
import { localError, remoteError } from '../errors.ts';

/**
 * The UTF-8 byte length of `s`. Throws INVALID_ARGUMENT for a lone surrogate
 * or U+0000, which an MQTT string cannot carry.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) throw localError('INVALID_ARGUMENT', 'an MQTT string must not contain U+0000');
    } else if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        throw localError('INVALID_ARGUMENT', 'an MQTT string must not contain a lone surrogate');
      }
      bytes += 2; // 4 bytes for the pair of 2 code units
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/** Writes `s` as UTF-8 at `pos` (validated by `utf8Length` beforehand); returns the end position. */
export function writeUtf8(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** A strict UTF-8 decoder in plain JavaScript, for engines without TextDecoder (see ./utf8-js.ts). */
export interface Utf8Fallback {
  readUtf8(buf: Uint8Array, start: number, end: number): string;
  isWellFormedUtf8(buf: Uint8Array): boolean;
}

let fallback: Utf8Fallback | undefined;

/** Installs the decoder used where the platform has no TextDecoder. */
export function setUtf8Fallback(decoder: Utf8Fallback): void {
  fallback = decoder;
}

// Fatal: a bad sequence throws instead of becoming U+FFFD. ignoreBOM: a leading U+FEFF is part of the string.
const platform: { decode(bytes: Uint8Array): string } | undefined =
  typeof globalThis.TextDecoder === 'function'
    ? new globalThis.TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
    : undefined;

function malformed(): never {
  throw remoteError('MALFORMED_PACKET', 'invalid UTF-8 in an MQTT string');
}

function noDecoder(): never {
  throw localError(
    'INVALID_ARGUMENT',
    "this engine has no TextDecoder: call useJsUtf8() from 'steadfast-mqtt/codec' to decode UTF-8 in plain JavaScript",
  );
}

/**
 * Decodes `buf[start, end)` as strict UTF-8 (no overlongs, no surrogates, no
 * code point above U+10FFFF, no U+0000). Throws MALFORMED_PACKET otherwise.
 */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  const bytes = buf.subarray(start, end);
  // In UTF-8 a 0 byte is only ever U+0000, which an MQTT string must not carry.
  if (bytes.includes(0)) malformed();
  if (platform !== undefined) {
    try {
      return platform.decode(bytes);
    } catch {
      malformed();
    }
  }
  if (fallback !== undefined) return fallback.readUtf8(buf, start, end);
  let ascii = '';
  for (const b of bytes) {
    if (b >= 0x80) noDecoder();
    ascii += String.fromCharCode(b);
  }
  return ascii;
}

/**
 * Whether `buf` is well-formed UTF-8 (RFC 3629): what a payload flagged with
 * Payload Format Indicator 1 must be. Unlike MQTT strings, U+0000 is allowed.
 */
export function isWellFormedUtf8(buf: Uint8Array): boolean {
  if (platform !== undefined) {
    try {
      platform.decode(buf);
      return true;
    } catch {
      return false;
    }
  }
  if (fallback !== undefined) return fallback.isWellFormedUtf8(buf);
  return noDecoder();
}
