/**
 * Node keys as people handle them: 32 hex digits (16 bytes, AES-128), made
 * by `steadfast keygen` or `generateKey()`. Portable.
 */
import { MqttError } from '../../errors.ts';
import { KEY_BYTES } from './crypto.ts';

const HEX_KEY = /^[0-9a-f]{32}$/i;

/** A key from 16 bytes or 32 hex digits. Throws INVALID_ARGUMENT otherwise (the message never shows the key). */
export function parseKey(key: Uint8Array | string): Uint8Array {
  if (typeof key !== 'string') {
    if (key.length !== KEY_BYTES)
      throw new MqttError('INVALID_ARGUMENT', `a radio key is ${KEY_BYTES} bytes, got ${key.length}`);
    return Uint8Array.from(key);
  }
  const text = key.trim();
  if (!HEX_KEY.test(text))
    throw new MqttError(
      'INVALID_ARGUMENT',
      `a radio key is ${KEY_BYTES * 2} hex digits (got ${text.length} characters)`,
    );
  const bytes = new Uint8Array(KEY_BYTES);
  for (let i = 0; i < KEY_BYTES; i++) bytes[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** A key as 32 lowercase hex digits, for a keys file. */
export function formatKey(key: Uint8Array): string {
  let text = '';
  for (const byte of parseKey(key)) text += byte.toString(16).padStart(2, '0');
  return text;
}

/** A new random key from `fill` (e.g. `crypto.getRandomValues`), as 32 hex digits. */
export function generateKey(fill: (bytes: Uint8Array) => void): string {
  const key = new Uint8Array(KEY_BYTES);
  fill(key);
  if (key.every((byte) => byte === 0))
    throw new MqttError('INVALID_ARGUMENT', 'the random source gave zeros');
  return formatKey(key);
}
