// Known-answer tests for the secure link's cryptography: EAX against the test
// vectors of its paper (Bellare, Rogaway, Wagner, "The EAX Mode of Operation",
// FSE 2004, appendix), AES-CMAC against RFC 4493 §4, and the tag cut to the
// link's 5 bytes; then the stream cipher's counters and replay window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cmac } from '@noble/ciphers/aes.js';
import { deriveKey, eaxOpen, eaxSeal } from '../../src/radio/link/crypto.ts';
import { type Frame, FrameKind } from '../../src/radio/link/frame.ts';
import {
  MAX_COUNTER,
  NodeKey,
  RESET_RESERVE,
  StreamCipher,
  TAG_BYTES,
} from '../../src/radio/link/secure-frame.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
/** A frame sealed by `cipher`, which must still have counters for it. */
function sealOk(cipher: StreamCipher, frame: Frame): Uint8Array {
  const bytes = cipher.seal(frame);
  assert.ok(bytes, 'sealed');
  return bytes;
}

/** EAX paper, appendix: key, nonce, header, message, ciphertext || 16-byte tag. */
const EAX_VECTORS = [
  [
    '233952DEE4D5ED5F9B9C6D6FF80FF478',
    '62EC67F9C3A4A407FCB2A8C49031A8B3',
    '6BFB914FD07EAE6B',
    '',
    'E037830E8389F27B025A2D6527E79D01',
  ],
  [
    '91945D3F4DCBEE0BF45EF52255F095A4',
    'BECAF043B0A23D843194BA972C66DEBD',
    'FA3BFD4806EB53FA',
    'F7FB',
    '19DD5C4C9331049D0BDAB0277408F67967E5',
  ],
  [
    '01F74AD64077F2E704C0F60ADA3DD523',
    '70C3DB4F0D26368400A10ED05D2BFF5E',
    '234A3463C1264AC6',
    '1A47CB4933',
    'D851D5BAE03A59F238A23E39199DC9266626C40F80',
  ],
  [
    'D07CF6CBB7F313BDDE66B727AFD3C5E8',
    '8408DFFF3C1A2B1292DC199E46B7D617',
    '33CCE2EABFF5A79D',
    '481C9E39B1',
    '632A9D131AD4C168A4225D8E1FF755939974A7BEDE',
  ],
  [
    '8395FCF1E95BEBD697BD010BC766AAC3',
    '22E7ADD93CFC6393C57EC0B3C17D6B44',
    '126735FCC320D25A',
    'CA40D7446E545FFAED3BD12A740A659FFBBB3CEAB7',
    'CB8920F87A6C75CFF39627B56E3ED197C552D295A7CFC46AFC253B4652B1AF3795B124AB6E',
  ],
];

describe('secure link cryptography', () => {
  it('AES-CMAC matches RFC 4493 §4', () => {
    const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
    assert.equal(toHex(cmac(new Uint8Array(0), key)), 'BB1D6929E95937287FA37D129B756746');
    assert.equal(
      toHex(cmac(hex('6bc1bee22e409f96e93d7e117393172a'), key)),
      '070A16B46B4D4144F79BDD9DD04A287C',
    );
    const m40 = hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411');
    assert.equal(toHex(cmac(m40, key)), 'DFA66747DE9AE63030CA32611497C827');
  });

  it('EAX matches the paper test vectors, full tag and cut to 5 bytes', () => {
    for (const [key, nonce, header, message, expected] of EAX_VECTORS) {
      assert.equal(toHex(eaxSeal(hex(key), hex(nonce), hex(header), hex(message), 16)), expected);
      const short = eaxSeal(hex(key), hex(nonce), hex(header), hex(message), TAG_BYTES);
      assert.equal(toHex(short), expected.slice(0, (message.length / 2 + TAG_BYTES) * 2));
      assert.deepEqual(eaxOpen(hex(key), hex(nonce), hex(header), short, TAG_BYTES), hex(message));
      // Any flipped bit, in ciphertext, tag or header, and the frame is refused.
      for (let bit = 0; bit < short.length * 8; bit++) {
        const bad = Uint8Array.from(short);
        bad[bit >> 3] ^= 1 << (bit & 7);
        assert.equal(eaxOpen(hex(key), hex(nonce), hex(header), bad, TAG_BYTES), undefined);
      }
      const badHeader = hex(header);
      badHeader[0] ^= 1;
      assert.equal(eaxOpen(hex(key), hex(nonce), badHeader, short, TAG_BYTES), undefined);
    }
  });

  it('key derivation: distinct per label and context, deterministic', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f');
    const a = deriveKey(key, hex('01'), hex('aa'));
    assert.deepEqual(a, deriveKey(key, hex('01'), hex('aa')));
    assert.notDeepEqual(a, deriveKey(key, hex('01'), hex('ab')));
    assert.notDeepEqual(a, deriveKey(key, hex('02'), hex('aa')));
    const node = new NodeKey(key);
    assert.notDeepEqual(node.streamKey(hex('0001020304050607'), hex('1011121314151617')), node.handshake);
  });

  it('stream cipher: counters never repeat, replays and other keys are refused, gaps up to 224 are bridged', () => {
    const key = hex('00112233445566778899aabbccddeeff');
    const node = new StreamCipher(key, 'initiator');
    const gateway = new StreamCipher(key, 'responder');
    const frame = (n: number): Frame => ({
      kind: FrameKind.DATA,
      dst: 0,
      src: 7,
      epoch: 3,
      poll: false,
      seq: n & 15,
      ack: 0,
      payload: Uint8Array.of(n & 255, 1, 2),
    });
    const sent = Array.from({ length: 600 }, (_, i) => sealOk(node, frame(i)));
    assert.equal(new Set(sent.map((b) => toHex(b))).size, 600, 'the same frame sealed twice differs');
    const first = gateway.open(sent[0]);
    assert.ok(first.ok);
    assert.deepEqual(first.frame.payload, Uint8Array.of(0, 1, 2));
    assert.deepEqual(gateway.open(sent[0]), { ok: false, defect: 'replay' });
    // 200 frames lost in a row, then one arrives: still opened.
    assert.ok(gateway.open(sent[201]).ok);
    // One from before the gap, inside the replay window, arrives late: accepted once.
    assert.ok(gateway.open(sent[190]).ok);
    assert.equal(gateway.open(sent[190]).ok, false);
    // Far older than the window: refused.
    assert.equal(gateway.open(sent[100]).ok, false);
    // Our own frame reflected back (the other direction's nonce) is refused.
    const echo = sealOk(gateway, frame(5));
    assert.equal(gateway.open(echo).ok, false);
    assert.ok(node.open(echo).ok);
    // Another stream's key: refused.
    const other = new StreamCipher(hex('ffeeddccbbaa99887766554433221100'), 'responder');
    assert.deepEqual(other.open(sent[300]), { ok: false, defect: 'auth' });
  });

  it('counters run out: DATA and ACK stop short, the RESET still goes, no counter is ever used twice', () => {
    const key = hex('00112233445566778899aabbccddeeff');
    const last = 40;
    const node = new StreamCipher(key, 'initiator', last);
    const gateway = new StreamCipher(key, 'responder', last);
    const frame = (kind: Frame['kind'], n: number): Frame => ({
      kind,
      dst: 0,
      src: 7,
      epoch: 3,
      poll: false,
      seq: n & 15,
      ack: 0,
      payload: kind === FrameKind.RESET ? Uint8Array.of(1) : Uint8Array.of(n & 255),
    });
    const sent: Uint8Array[] = [];
    for (let i = 0; !node.exhausted; i++)
      sent.push(sealOk(node, frame(i % 2 ? FrameKind.ACK : FrameKind.DATA, i)));
    assert.equal(sent.length, last - RESET_RESERVE + 1, 'DATA and ACK used every counter but the reserve');
    assert.equal(node.seal(frame(FrameKind.DATA, 0)), undefined, 'no DATA past the limit');
    assert.equal(node.seal(frame(FrameKind.ACK, 0)), undefined, 'no ACK past the limit');
    for (let i = 0; i < RESET_RESERVE; i++) sent.push(sealOk(node, frame(FrameKind.RESET, i)));
    assert.equal(node.seal(frame(FrameKind.RESET, 0)), undefined, 'no RESET past the last counter');
    assert.equal(node.framesSealed, last + 1, 'every counter 0..last used once');
    // Every frame opens at the peer, once: distinct counters, so distinct nonces.
    for (const bytes of sent) assert.ok(gateway.open(bytes).ok);
    for (const bytes of sent.slice(-8)) assert.equal(gateway.open(bytes).ok, false, 'a replay is refused');
    assert.throws(() => new StreamCipher(key, 'initiator', MAX_COUNTER + 1), RangeError);
    // The default limit is the nonce's 32 bits.
    assert.equal(new StreamCipher(key, 'initiator').exhausted, false);
  });

  it('a tag that differs in any byte, or is short, is refused (constant-time comparison)', () => {
    const key = hex('233952DEE4D5ED5F9B9C6D6FF80FF478');
    const nonce = hex('62EC67F9C3A4A407FCB2A8C49031A8B3');
    const header = hex('6BFB914FD07EAE6B');
    const sealed = eaxSeal(key, nonce, header, Uint8Array.of(1, 2, 3), TAG_BYTES);
    assert.deepEqual(eaxOpen(key, nonce, header, sealed, TAG_BYTES), Uint8Array.of(1, 2, 3));
    for (let i = sealed.length - TAG_BYTES; i < sealed.length; i++) {
      const bad = Uint8Array.from(sealed);
      bad[i] ^= 0x80;
      assert.equal(eaxOpen(key, nonce, header, bad, TAG_BYTES), undefined, `tag byte ${i}`);
    }
    assert.equal(eaxOpen(key, nonce, header, sealed.subarray(0, TAG_BYTES - 1), TAG_BYTES), undefined);
  });
});
