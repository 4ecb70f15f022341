/**
 * How an endpoint turns frames into bytes and back: `PlainCodec` (CRC-32C,
 * unsecured links) or `SecureCodec` (EAX under per-node and per-stream
 * keys; secure-frame.ts). Decoding also says which stream a frame belongs
 * to, since on a secure link only the stream's key can tell. Portable.
 */
import {
  acceptBody,
  decodeFrame,
  encodeFrame,
  FRAME_OVERHEAD,
  type Frame,
  type FrameDefect,
  FrameKind,
  openBody,
  ResetReason,
  readHeader,
} from './frame.ts';
import {
  ECHO_BYTES,
  echoKey,
  echoOf,
  HANDSHAKE_NONCE_BYTES,
  type NodeKey,
  openHandshake,
  SECURE_OVERHEAD,
  StreamCipher,
  sealHandshake,
} from './secure-frame.ts';
import type { StreamEntry } from './stream-table.ts';

/** What bytes heard turned out to be. */
export type Heard =
  | { type: 'defect'; defect: FrameDefect }
  | { type: 'not-for-us' }
  /** An OPEN (authenticated on a secure link); `nodeNonce` on a secure link. */
  | { type: 'open'; frame: Frame; nodeNonce?: Uint8Array }
  /** A frame of a stream this end has. */
  | { type: 'stream'; frame: Frame; entry: StreamEntry }
  /** A frame of a stream this end does not have; `echo` (secure links) goes into the REJECT. */
  | { type: 'unknown-stream'; frame: Frame; echo?: Uint8Array };

/** The streams a frame from `peer` in `epoch` may belong to. */
export type Candidates = (peer: number, epoch: number) => StreamEntry[];

/** Frames to bytes and back (see the module comment). */
export interface FrameCodec {
  /** Link-layer bytes per DATA frame beyond the payload. */
  readonly overhead: number;
  /** True for SecureCodec. */
  readonly secure: boolean;
  /** The bytes of `frame`, sent on `entry`'s stream (undefined for replies); undefined when it cannot be sealed. */
  encode(frame: Frame, entry: StreamEntry | undefined): Uint8Array | undefined;
  /** What `bytes` heard at `address` are. */
  decode(bytes: Uint8Array, address: number, candidates: Candidates): Heard;
}

/** Unsecured frames: a public CRC-32C, anyone may speak for anyone. */
export class PlainCodec implements FrameCodec {
  readonly overhead = FRAME_OVERHEAD;
  readonly secure = false;

  encode(frame: Frame): Uint8Array {
    return encodeFrame(frame);
  }

  decode(bytes: Uint8Array, address: number, candidates: Candidates): Heard {
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) return { type: 'defect', defect: decoded.defect };
    const { frame } = decoded;
    if (frame.dst !== address) return { type: 'not-for-us' };
    if (frame.kind === FrameKind.OPEN) return { type: 'open', frame };
    const entry = candidates(frame.src, frame.epoch)[0];
    return entry === undefined ? { type: 'unknown-stream', frame } : { type: 'stream', frame, entry };
  }
}

/** The secure state of one stream: the nonces that made its key, its cipher, and what it sent last. */
export interface SecureStreamState {
  nodeNonce: Uint8Array;
  gatewayNonce?: Uint8Array;
  /** Set once both nonces are known (the gateway at OPEN, the node at ACCEPT). */
  cipher?: StreamCipher;
  /** Echo keys of the last frames sent, to check that a REJECT answers one of them. */
  sent: string[];
}

/** Frames sent whose REJECT would still be believed. */
const REMEMBERED_FRAMES = 16;

/** Fills `bytes` with random bytes: `crypto.getRandomValues` where the platform has it. */
export type NonceSource = (bytes: Uint8Array) => void;

/** Authenticated, encrypted frames (secure-frame.ts): a node's key for each peer this end may talk to. */
export class SecureCodec implements FrameCodec {
  readonly overhead = SECURE_OVERHEAD;
  readonly secure = true;

  constructor(
    private readonly keyFor: (peer: number) => NodeKey | undefined,
    private readonly fill: NonceSource,
  ) {}

  /** A fresh 8-byte nonce. */
  nonce(): Uint8Array {
    const bytes = new Uint8Array(HANDSHAKE_NONCE_BYTES);
    this.fill(bytes);
    return bytes;
  }

  /** The secure state of a stream opened with `nodeNonce` (and, at the gateway, `gatewayNonce`). */
  streamState(peer: number, nodeNonce: Uint8Array, gatewayNonce?: Uint8Array): SecureStreamState {
    const state: SecureStreamState = { nodeNonce, gatewayNonce, sent: [] };
    const key = this.keyFor(peer);
    if (gatewayNonce !== undefined && key !== undefined)
      state.cipher = new StreamCipher(key.streamKey(nodeNonce, gatewayNonce), 'responder');
    return state;
  }

  encode(frame: Frame, entry: StreamEntry | undefined): Uint8Array | undefined {
    const key = this.keyFor(frame.dst);
    if (key === undefined) return undefined;
    const secure = entry?.secure;
    switch (frame.kind) {
      case FrameKind.OPEN:
        // The stream's own nonce travels in clear; the link timeout and MTU are sealed.
        return secure && sealHandshake(key, frame, secure.nodeNonce, frame.payload.subarray(4));
      case FrameKind.ACCEPT:
        if (secure?.gatewayNonce === undefined) return undefined;
        return sealHandshake(key, frame, secure.gatewayNonce, new Uint8Array(0), secure.nodeNonce);
      case FrameKind.REJECT:
        return sealHandshake(key, frame, this.nonce(), frame.payload);
      case FrameKind.DATA:
      case FrameKind.ACK:
      case FrameKind.RESET: {
        if (secure?.cipher === undefined) return undefined;
        const bytes = secure.cipher.seal(frame);
        if (bytes === undefined) {
          // The counters ran out: close the stream (its RESET has counters kept back), and the node's next
          // stream gets a fresh key from fresh nonces. Never a reused nonce.
          if (frame.kind !== FrameKind.RESET && entry !== undefined) entry.stream.abort(ResetReason.CLOSED);
          return undefined;
        }
        secure.sent.push(echoKey(bytes));
        if (secure.sent.length > REMEMBERED_FRAMES) secure.sent.shift();
        return bytes;
      }
      default: {
        const unknown: never = frame.kind;
        throw new Error(`unreachable: ${unknown}`);
      }
    }
  }

  decode(bytes: Uint8Array, address: number, candidates: Candidates): Heard {
    if (bytes.length < SECURE_OVERHEAD) return { type: 'defect', defect: 'short' };
    const frame = readHeader(bytes);
    if (frame === undefined) return { type: 'defect', defect: 'kind' };
    if (frame.dst !== address) return { type: 'not-for-us' };
    const key = this.keyFor(frame.src);
    if (key === undefined) return { type: 'defect', defect: 'unknown-node' };
    const entries = candidates(frame.src, frame.epoch);
    switch (frame.kind) {
      case FrameKind.OPEN: {
        const opened = openHandshake(key, bytes);
        if (opened === undefined) return { type: 'defect', defect: 'auth' };
        if (opened.body.length < 5) return { type: 'defect', defect: 'short' };
        const body = new DataView(opened.body.buffer, opened.body.byteOffset, opened.body.byteLength);
        frame.payload = openBody({
          nonce: streamNonce(opened.nonce),
          linkTimeoutMs: body.getUint32(0),
          mtu: opened.body[4],
        });
        return { type: 'open', frame, nodeNonce: opened.nonce };
      }
      case FrameKind.ACCEPT:
        return this.decodeAccept(bytes, frame, key, entries);
      case FrameKind.REJECT: {
        const opened = openHandshake(key, bytes);
        if (opened === undefined) return { type: 'defect', defect: 'auth' };
        if (opened.body.length !== ECHO_BYTES) return { type: 'defect', defect: 'short' };
        const echo = echoKey(opened.body);
        // Believed only when it names, exactly, a frame this stream sent lately.
        const entry = entries.find((e) => e.secure?.sent.includes(echo) === true);
        if (entry === undefined) return { type: 'defect', defect: 'stale-reject' };
        frame.kind = FrameKind.RESET;
        frame.payload = Uint8Array.of(ResetReason.UNKNOWN_STREAM);
        return { type: 'stream', frame, entry };
      }
      case FrameKind.DATA:
      case FrameKind.ACK:
      case FrameKind.RESET: {
        if (entries.length === 0) return { type: 'unknown-stream', frame, echo: echoOf(bytes) };
        let defect: FrameDefect = 'auth';
        for (const entry of entries) {
          const opened = entry.secure?.cipher?.open(bytes);
          if (opened === undefined) continue;
          if (opened.ok) return { type: 'stream', frame: opened.frame, entry };
          if (opened.defect === 'replay') defect = 'replay';
        }
        return { type: 'defect', defect };
      }
      default: {
        const unknown: never = frame.kind;
        throw new Error(`unreachable: ${unknown}`);
      }
    }
  }

  private decodeAccept(bytes: Uint8Array, frame: Frame, key: NodeKey, entries: StreamEntry[]): Heard {
    for (const entry of entries) {
      const secure = entry.secure;
      if (secure === undefined || entry.stream.config.role !== 'initiator') continue;
      const opened = openHandshake(key, bytes, secure.nodeNonce);
      if (opened === undefined) continue;
      if (secure.gatewayNonce === undefined) {
        secure.gatewayNonce = opened.nonce;
        secure.cipher = new StreamCipher(key.streamKey(secure.nodeNonce, opened.nonce), 'initiator');
      } else if (!sameBytes(secure.gatewayNonce, opened.nonce)) {
        // An ACCEPT for our OPEN with another gateway nonce: the first one made the key.
        return { type: 'defect', defect: 'replay' };
      }
      frame.payload = acceptBody(streamNonce(secure.nodeNonce));
      return { type: 'stream', frame, entry };
    }
    return { type: 'defect', defect: 'auth' };
  }
}

/** The 32-bit stream nonce the Stream state machine matches OPEN and ACCEPT by: the node nonce's first four bytes. */
export function streamNonce(nodeNonce: Uint8Array): number {
  return new DataView(nodeNonce.buffer, nodeNonce.byteOffset, 4).getUint32(0);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The platform's cryptographic random source, or `random` scaled to bytes where there is none (QuickJS). */
export function defaultNonceSource(random: () => number): NonceSource {
  const webCrypto = (globalThis as { crypto?: { getRandomValues?: (b: Uint8Array) => Uint8Array } }).crypto;
  if (typeof webCrypto?.getRandomValues === 'function')
    return (bytes) => void webCrypto.getRandomValues?.(bytes);
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  };
}
