/**
 * The cryptography of the secure radio link, on AES-128 from @noble/ciphers
 * (audited, pure JavaScript, no Node built-ins, so the link layer still runs
 * in a browser and in QuickJS):
 *
 * - **EAX** (Bellare, Rogaway, Wagner, FSE 2004), the authenticated
 *   encryption of every frame, assembled exactly as the paper defines it
 *   from the library's AES-CMAC (RFC 4493, the paper's OMAC1) and AES-CTR:
 *   `N' = OMAC(0 || nonce)`, `H' = OMAC(1 || header)`,
 *   `C = CTR(N', plaintext)`, `tag = (N' ^ H' ^ OMAC(2 || C))` cut to
 *   `tagBytes`. Checked against the paper's test vectors
 *   (test/radio/link-crypto.test.ts). Why EAX: the mode allows any tag
 *   length with a proven bound (CCM's smallest in 802.15.4 is 4 bytes, GCM
 *   loses far more than its length when cut short, Poly1305 is not defined
 *   short), the nonce may be any length, and it needs nothing the library
 *   lacks (there is no CCM in @noble/ciphers).
 * - **The key derivation** of NIST SP 800-108r1 (§4.1, counter mode) with
 *   AES-CMAC as the PRF, one 128-bit block:
 *   `K' = CMAC(K, 0x01 || label || 0x00 || context || 0x0080)`.
 *   Its inputs start with 0x01, EAX's OMAC inputs with fifteen zero bytes,
 *   so the two never feed CMAC the same block under one key (they do not
 *   share keys anyway: the node key only ever derives).
 *
 * Security bound (EAX paper, Theorem 2; Minematsu, Lucks, Iwata, ProvSec
 * 2013 for many forgery attempts): a forger that tries `q` frames succeeds
 * with probability at most `q / 2^(8·tagBytes)` plus a term of order
 * `σ² / 2^128` in the blocks σ processed under the key (negligible: a stream
 * key sees far fewer than 2^40 blocks).
 */
import { cmac, ctr } from '@noble/ciphers/aes.js';
import { equalBytes } from '@noble/ciphers/utils.js';

/** AES-128: every key is 16 bytes. */
export const KEY_BYTES = 16;
const BLOCK_BYTES = 16;

/** CMAC of `tweak`'s block (15 zero bytes, then `tweak`) followed by `data`: EAX's OMAC^t. */
function omac(key: Uint8Array, tweak: number, data: Uint8Array): Uint8Array {
  const input = new Uint8Array(BLOCK_BYTES + data.length);
  input[BLOCK_BYTES - 1] = tweak;
  input.set(data, BLOCK_BYTES);
  return cmac(input, key);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES)
    throw new RangeError(`an AES-128 key is ${KEY_BYTES} bytes, got ${key.length}`);
}

/** EAX encryption: ciphertext (as long as `plaintext`) followed by the tag's first `tagBytes` bytes (1-16). */
export function eaxSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  header: Uint8Array,
  plaintext: Uint8Array,
  tagBytes: number,
): Uint8Array {
  checkKey(key);
  const n = omac(key, 0, nonce);
  const h = omac(key, 1, header);
  const out = new Uint8Array(plaintext.length + tagBytes);
  const ciphertext = plaintext.length > 0 ? ctr(key, n).encrypt(plaintext) : plaintext;
  out.set(ciphertext);
  const c = omac(key, 2, ciphertext);
  for (let i = 0; i < tagBytes; i++) out[plaintext.length + i] = n[i] ^ h[i] ^ c[i];
  return out;
}

/** EAX decryption of `sealed` (ciphertext and tag): the plaintext, or undefined when the tag does not match. */
export function eaxOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  header: Uint8Array,
  sealed: Uint8Array,
  tagBytes: number,
): Uint8Array | undefined {
  checkKey(key);
  if (sealed.length < tagBytes) return undefined;
  const length = sealed.length - tagBytes;
  const ciphertext = sealed.subarray(0, length);
  const n = omac(key, 0, nonce);
  const h = omac(key, 1, header);
  const c = omac(key, 2, ciphertext);
  const expected = new Uint8Array(tagBytes);
  for (let i = 0; i < tagBytes; i++) expected[i] = n[i] ^ h[i] ^ c[i];
  // The library's constant-time comparison: every byte compared, whatever the first difference.
  if (!equalBytes(expected, sealed.subarray(length))) return undefined;
  return length > 0 ? ctr(key, n).decrypt(ciphertext) : new Uint8Array(0);
}

/** A 128-bit key from `key` for `label` and `context` (SP 800-108 counter mode, AES-CMAC PRF; see the module comment). */
export function deriveKey(key: Uint8Array, label: Uint8Array, context: Uint8Array): Uint8Array {
  checkKey(key);
  const input = new Uint8Array(1 + label.length + 1 + context.length + 2);
  input[0] = 0x01;
  input.set(label, 1);
  input.set(context, label.length + 2);
  // L = 128 bits, as a 16-bit big-endian integer.
  input[input.length - 2] = 0x00;
  input[input.length - 1] = 0x80;
  return cmac(input, key);
}
