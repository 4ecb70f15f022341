/**
 * Secure frames: every frame authenticated and encrypted with EAX
 * (crypto.ts), the tag in place of the CRC. Two shapes:
 *
 * ```
 * stream frame (DATA, ACK, RESET), under the stream key:
 *   header (4) | counter, low byte (1) | ciphertext | tag (5)      overhead 10
 * handshake frame (OPEN, ACCEPT, REJECT), under the node's handshake key:
 *   header (4) | nonce (8) | ciphertext | tag (5)
 * ```
 *
 * The header stays in clear (the receiver needs the addresses to find the
 * key and the epoch to find the stream) and is authenticated as EAX's
 * header, with the counter byte. A stream frame's EAX nonce is the
 * direction (0 node to gateway, 1 back) and its sender's 32-bit frame
 * counter, which counts every frame sent on the stream, retransmissions
 * too, so no nonce is ever used twice under one key. Only the counter's low
 * byte is sent: the receiver takes the one counter with that low byte
 * within [highest seen - 31, highest seen + 224] and rejects a counter it
 * has seen, or one more than 31 behind the highest (replay window).
 *
 * Key schedule: the node key (16 bytes, provisioned) only derives. The
 * handshake key is `KDF(node key, "steadfast handshake", "")`; a stream's
 * key is `KDF(node key, "steadfast stream", node nonce | gateway nonce)`,
 * the two 8-byte nonces of the OPEN and ACCEPT that opened it. So every
 * stream has a fresh key although neither end keeps a counter across
 * restarts: a recorded frame, or a whole recorded stream, is under a key
 * that will never be used again.
 *
 * Portable: imports nothing from Node.
 */
import { deriveKey, eaxOpen, eaxSeal, KEY_BYTES } from './crypto.ts';
import { type Frame, FrameKind, HEADER_BYTES, readHeader, writeHeader } from './frame.ts';

/** Bytes of the frame counter sent in each stream frame. */
export const COUNTER_BYTES = 1;
/** Bytes of the EAX tag kept: 40 bits, so a forged frame passes with probability 2^-40. */
export const TAG_BYTES = 5;
/** What a secure stream frame spends on the link layer: header, counter, tag. */
export const SECURE_OVERHEAD = HEADER_BYTES + COUNTER_BYTES + TAG_BYTES;
/** Bytes of the random nonce in clear in each handshake frame. */
export const HANDSHAKE_NONCE_BYTES = 8;
/** What a handshake frame spends on the link layer: header, nonce, tag. */
export const HANDSHAKE_OVERHEAD = HEADER_BYTES + HANDSHAKE_NONCE_BYTES + TAG_BYTES;
/** Bytes of a REJECT body: the header, counter and tag of the frame it answers. */
export const ECHO_BYTES = SECURE_OVERHEAD;
/** Counters this far behind the highest seen are still accepted once (frames overtaking each other). */
const REPLAY_WINDOW = 32;
/** The counter byte names one of this many consecutive counters. */
const COUNTER_SPAN = 256;
/** The largest frame counter: a stream never sends more frames than this (the nonce holds 32 bits). */
export const MAX_COUNTER = 0xffff_ffff;
/**
 * Counters kept back at the end for the RESET that closes a stream whose
 * counters ran out (sent twice, as every RESET): DATA and ACK stop this many
 * counters short, so the stream can still say it is over, and no counter,
 * hence no nonce, is ever used twice.
 */
export const RESET_RESERVE = 2;

/** ASCII bytes of a label (no TextEncoder: QuickJS has none). */
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const HANDSHAKE_LABEL = text('steadfast handshake');
const STREAM_LABEL = text('steadfast stream');

/** A node's key, ready for use: the handshake key derived once. */
export class NodeKey {
  /** Derives the handshake and stream keys from `secret`, 16 bytes (see the module comment). */
  readonly handshake: Uint8Array;
  constructor(private readonly secret: Uint8Array) {
    if (secret.length !== KEY_BYTES)
      throw new RangeError(`a node key is ${KEY_BYTES} bytes, got ${secret.length}`);
    this.handshake = deriveKey(secret, HANDSHAKE_LABEL, new Uint8Array(0));
  }

  /** The key of the stream opened with these two nonces. */
  streamKey(nodeNonce: Uint8Array, gatewayNonce: Uint8Array): Uint8Array {
    const context = new Uint8Array(nodeNonce.length + gatewayNonce.length);
    context.set(nodeNonce);
    context.set(gatewayNonce, nodeNonce.length);
    return deriveKey(this.secret, STREAM_LABEL, context);
  }
}

/** A handshake frame's bytes: header, `nonce` in clear, `body` sealed; `bound` is authenticated but not sent. */
export function sealHandshake(
  key: NodeKey,
  frame: Frame,
  nonce: Uint8Array,
  body: Uint8Array,
  bound: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  writeHeader(frame, header);
  const sealed = eaxSeal(key.handshake, nonce, associated(header, bound), body, TAG_BYTES);
  const bytes = new Uint8Array(HEADER_BYTES + nonce.length + sealed.length);
  bytes.set(header);
  bytes.set(nonce, HEADER_BYTES);
  bytes.set(sealed, HEADER_BYTES + nonce.length);
  return bytes;
}

/** Opens a handshake frame: its nonce and body, or undefined when it is too short or the tag does not match. */
export function openHandshake(
  key: NodeKey,
  bytes: Uint8Array,
  bound: Uint8Array = new Uint8Array(0),
): { nonce: Uint8Array; body: Uint8Array } | undefined {
  if (bytes.length < HANDSHAKE_OVERHEAD) return undefined;
  const header = bytes.subarray(0, HEADER_BYTES);
  const nonce = bytes.slice(HEADER_BYTES, HEADER_BYTES + HANDSHAKE_NONCE_BYTES);
  const body = eaxOpen(
    key.handshake,
    nonce,
    associated(header, bound),
    bytes.subarray(HEADER_BYTES + HANDSHAKE_NONCE_BYTES),
    TAG_BYTES,
  );
  return body === undefined ? undefined : { nonce, body };
}

function associated(header: Uint8Array, bound: Uint8Array): Uint8Array {
  if (bound.length === 0) return header;
  const out = new Uint8Array(header.length + bound.length);
  out.set(header);
  out.set(bound, header.length);
  return out;
}

/** What opening a stream frame gave: the frame, or why not. */
export type OpenedFrame = { ok: true; frame: Frame } | { ok: false; defect: 'auth' | 'replay' };

/**
 * One stream's keys and counters: seals what this end sends, opens what
 * the peer sends, and remembers which counters it has seen (see the module
 * comment). Sans-IO and clock-free.
 */
export class StreamCipher {
  private sendCounter = 0;
  /** The highest counter received so far (-1: none). */
  private highest = -1;
  /** Bit i: counter `highest - i` has been received. */
  private seen = 0;
  private readonly sendDirection: number;

  /**
   * @param lastCounter the last frame counter this stream may use, default
   *   MAX_COUNTER (2^32 - 1: about 15 days of back-to-back nRF24 frames);
   *   lower only to exercise the end of the counter space.
   */
  constructor(
    private readonly key: Uint8Array,
    role: 'initiator' | 'responder',
    private readonly lastCounter: number = MAX_COUNTER,
  ) {
    if (!Number.isInteger(lastCounter) || lastCounter < RESET_RESERVE || lastCounter > MAX_COUNTER)
      throw new RangeError(`lastCounter must be ${RESET_RESERVE}..${MAX_COUNTER}, got ${lastCounter}`);
    this.sendDirection = role === 'initiator' ? 0 : 1;
  }

  /** True once DATA and ACK can no longer be sealed: the stream must close (RESET) and a new one open. */
  get exhausted(): boolean {
    return this.sendCounter > this.lastCounter - RESET_RESERVE;
  }

  /** Frames sealed so far. */
  get framesSealed(): number {
    return this.sendCounter;
  }

  /**
   * The frame's bytes, under the next counter; undefined when the counters
   * have run out (DATA and ACK once `exhausted`, a RESET after the reserve):
   * a nonce is never reused, and nothing throws.
   */
  seal(frame: Frame): Uint8Array | undefined {
    const limit = frame.kind === FrameKind.RESET ? this.lastCounter : this.lastCounter - RESET_RESERVE;
    if (this.sendCounter > limit) return undefined;
    const counter = this.sendCounter++;
    const bytes = new Uint8Array(HEADER_BYTES + COUNTER_BYTES + frame.payload.length + TAG_BYTES);
    writeHeader(frame, bytes);
    bytes[HEADER_BYTES] = counter & 0xff;
    const head = bytes.subarray(0, HEADER_BYTES + COUNTER_BYTES);
    const sealed = eaxSeal(this.key, nonce(this.sendDirection, counter), head, frame.payload, TAG_BYTES);
    bytes.set(sealed, HEADER_BYTES + COUNTER_BYTES);
    return bytes;
  }

  /** Opens a frame of the peer's (the caller checked it is at least SECURE_OVERHEAD long). */
  open(bytes: Uint8Array): OpenedFrame {
    const frame = readHeader(bytes);
    if (frame === undefined) return { ok: false, defect: 'auth' };
    const low = bytes[HEADER_BYTES];
    const floor = this.highest - (REPLAY_WINDOW - 1);
    const counter = floor + ((((low - floor) % COUNTER_SPAN) + COUNTER_SPAN) % COUNTER_SPAN);
    if (counter < 0 || counter > this.lastCounter) return { ok: false, defect: 'auth' };
    if (counter <= this.highest && (this.seen & (1 << (this.highest - counter))) !== 0)
      return { ok: false, defect: 'replay' };
    const head = bytes.subarray(0, HEADER_BYTES + COUNTER_BYTES);
    const payload = eaxOpen(
      this.key,
      nonce(1 - this.sendDirection, counter),
      head,
      bytes.subarray(HEADER_BYTES + COUNTER_BYTES),
      TAG_BYTES,
    );
    if (payload === undefined) return { ok: false, defect: 'auth' };
    // Only a frame that proved itself moves the window.
    if (counter > this.highest) {
      const shift = counter - this.highest;
      this.seen = shift >= REPLAY_WINDOW ? 1 : ((this.seen << shift) | 1) >>> 0;
      this.highest = counter;
    } else this.seen = (this.seen | (1 << (this.highest - counter))) >>> 0;
    frame.payload = payload;
    return { ok: true, frame };
  }
}

function nonce(direction: number, counter: number): Uint8Array {
  const bytes = new Uint8Array(5);
  bytes[0] = direction;
  new DataView(bytes.buffer).setUint32(1, counter);
  return bytes;
}

/** The header, counter and tag of a stream frame: what a REJECT echoes, as a key for a Set. */
export function echoKey(bytes: Uint8Array): string {
  let key = '';
  const tagStart = bytes.length - TAG_BYTES;
  for (let i = 0; i < HEADER_BYTES + COUNTER_BYTES; i++) key += String.fromCharCode(bytes[i]);
  for (let i = tagStart; i < bytes.length; i++) key += String.fromCharCode(bytes[i]);
  return key;
}

/** The echo of a stream frame (header, counter, tag), for a REJECT body. */
export function echoOf(bytes: Uint8Array): Uint8Array {
  const echo = new Uint8Array(ECHO_BYTES);
  echo.set(bytes.subarray(0, HEADER_BYTES + COUNTER_BYTES));
  echo.set(bytes.subarray(bytes.length - TAG_BYTES), HEADER_BYTES + COUNTER_BYTES);
  return echo;
}
