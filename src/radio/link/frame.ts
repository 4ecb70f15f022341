/**
 * The radio frame: what one transmission carries. On an unsecured link,
 * eight bytes of overhead, so a 32-byte nRF24L01 frame carries 24 bytes of
 * the MQTT stream; a secure link replaces the CRC by a counter and a tag
 * (secure-frame.ts, ten bytes of overhead, 22 MQTT bytes in 32).
 *
 * ```
 * byte 0      destination address (0-254)
 * byte 1      source address (0-254)
 * byte 2      kind (bits 7-5) | poll (bit 4) | stream epoch (bits 3-0)
 * byte 3      sequence number (bits 7-4) | acknowledgement (bits 3-0)
 * bytes 4..   payload: MQTT stream bytes (DATA) or a control body
 * last 4      CRC-32C of every byte before it, big-endian
 * ```
 *
 * There is no fragment index: the link carries a byte stream, not messages.
 * An MQTT packet longer than a frame is cut into consecutive DATA frames
 * whose sequence numbers put them back in order, and the MQTT decoder at the
 * other end finds the packet boundaries, as it does on TCP.
 *
 * Sequence and acknowledgement numbers count frames modulo 16; the send
 * window is at most 8 frames, so selective repeat can never confuse a
 * frame with one 16 earlier. The epoch (modulo 16) names the stream a frame
 * belongs to, so a frame from an old stream is told apart from the current
 * one and answered with RESET. Portable: imports nothing from Node.
 */
import { crc32c } from './crc32c.ts';

/** Bytes before the payload. */
export const HEADER_BYTES = 4;
/** Bytes after the payload (the CRC). */
export const TRAILER_BYTES = 4;
/** Header + CRC: what each frame spends on the link layer. */
export const FRAME_OVERHEAD = HEADER_BYTES + TRAILER_BYTES;
/** Sequence numbers and epochs count modulo this. */
export const SEQ_MODULO = 16;
/** The largest send window selective repeat allows with 16 sequence numbers. */
export const MAX_WINDOW = 8;
/** The largest node or gateway address; 255 is reserved. */
export const MAX_ADDRESS = 254;

/** What a frame is for. */
export const FrameKind = {
  /** A piece of the byte stream, with a piggybacked acknowledgement. */
  DATA: 0,
  /** An acknowledgement; with `poll`, a heartbeat that asks for one back. Body: optional selective-ack bitmap. */
  ACK: 1,
  /** Node to gateway: start a stream. Body: nonce (u32), the node's link timeout in ms (u32), its MTU (u8). */
  OPEN: 2,
  /** Gateway to node: the stream is open. Body: the nonce of the OPEN it answers. */
  ACCEPT: 3,
  /** Either way: this stream is over (or was never known). Body: a ResetReason byte. */
  RESET: 4,
  /**
   * Secure links only, either way: "I know no stream of yours in this epoch",
   * in answer to a frame that meets no stream (the answerer restarted).
   * Body: the header, counter and tag of the frame answered, so the receiver
   * can tell it answers a frame it really sent in its current stream.
   */
  REJECT: 5,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const KIND_NAMES = ['DATA', 'ACK', 'OPEN', 'ACCEPT', 'RESET', 'REJECT'] as const;
export type FrameKindName = (typeof KIND_NAMES)[number];

/** The name of a frame kind, for logs. */
export function kindName(kind: FrameKind): FrameKindName {
  return KIND_NAMES[kind];
}

/** Why a stream was reset; carried in the RESET body. */
export const ResetReason = {
  /** The receiver knows no such stream (it restarted, or the stream is old). */
  UNKNOWN_STREAM: 0,
  /** The sender closed the stream. */
  CLOSED: 1,
  /** The gateway could not reach the broker for this node. */
  BROKER_UNREACHABLE: 2,
  /** The broker closed this node's connection. */
  BROKER_CLOSED: 3,
  /** The sender heard nothing from the peer within its link timeout. */
  TIMEOUT: 4,
  /** The gateway serves as many nodes as it may. */
  GATEWAY_FULL: 5,
  /** The receiver's buffer for this stream overflowed. */
  OVERFLOW: 6,
  /** The gateway is shutting down (its nodes see the outage at once). */
  SHUTDOWN: 7,
  /** The gateway does not let this node use the client id its CONNECT names. */
  NOT_AUTHORIZED: 8,
  /** The stream sent no MQTT CONNECT in time. */
  NO_CONNECT: 9,
} as const;
export type ResetReason = (typeof ResetReason)[keyof typeof ResetReason];

const REASON_TEXT = [
  'unknown stream',
  'closed by the peer',
  'the gateway cannot reach the broker',
  'the broker closed the connection',
  'link timeout',
  'the gateway is full',
  'buffer overflow',
  'the gateway is shutting down',
  'the node may not use that client id',
  'no CONNECT in time',
];

/** Words for a reset reason, for errors and logs. */
export function resetReasonText(reason: number): string {
  return REASON_TEXT[reason] ?? `reason ${reason}`;
}

/** A decoded frame. */
export interface Frame {
  kind: FrameKind;
  dst: number;
  src: number;
  /** Stream epoch, 0-15. */
  epoch: number;
  /** Asks the receiver to answer at once (with an ACK or a DATA carrying the ack). */
  poll: boolean;
  /** DATA: this frame's sequence number, 0-15; 0 otherwise. */
  seq: number;
  /** The sender's next expected sequence number from the receiver, 0-15 (DATA and ACK). */
  ack: number;
  payload: Uint8Array;
}

/**
 * Why bytes heard were not a frame: a CRC mismatch (unsecured links), too
 * short, an unknown kind; on secure links, a tag that does not match (a
 * corrupted or forged frame), a counter already seen (a replay), a sender
 * with no key, or a REJECT that answers no frame of ours.
 */
export type FrameDefect = 'crc' | 'short' | 'kind' | 'auth' | 'replay' | 'unknown-node' | 'stale-reject';

/** What `decodeFrame` returns: the frame, or why the bytes were none. */
export type DecodedFrame = { ok: true; frame: Frame } | { ok: false; defect: FrameDefect };

/** Writes the frame's four header bytes at the start of `bytes`. */
export function writeHeader(frame: Frame, bytes: Uint8Array): void {
  bytes[0] = frame.dst;
  bytes[1] = frame.src;
  bytes[2] = (frame.kind << 5) | (frame.poll ? 0x10 : 0) | (frame.epoch & 0x0f);
  bytes[3] = ((frame.seq & 0x0f) << 4) | (frame.ack & 0x0f);
}

/** Reads the four header bytes (the caller checked there are four); the payload is left empty; undefined for an unknown kind. */
export function readHeader(bytes: Uint8Array): Frame | undefined {
  const kind = bytes[2] >>> 5;
  if (kind > FrameKind.REJECT) return undefined;
  return {
    kind: kind as FrameKind,
    dst: bytes[0],
    src: bytes[1],
    epoch: bytes[2] & 0x0f,
    poll: (bytes[2] & 0x10) !== 0,
    seq: bytes[3] >>> 4,
    ack: bytes[3] & 0x0f,
    payload: new Uint8Array(0),
  };
}

/** The frame's bytes, CRC appended (unsecured links). The caller keeps `payload` within the radio's MTU. */
export function encodeFrame(frame: Frame): Uint8Array {
  const size = FRAME_OVERHEAD + frame.payload.length;
  const bytes = new Uint8Array(size);
  writeHeader(frame, bytes);
  bytes.set(frame.payload, HEADER_BYTES);
  const crc = crc32c(bytes, 0, size - TRAILER_BYTES);
  new DataView(bytes.buffer).setUint32(size - TRAILER_BYTES, crc);
  return bytes;
}

/** Checks the CRC and reads the header (unsecured links); the payload is a copy the caller may keep. */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  if (bytes.length < FRAME_OVERHEAD) return { ok: false, defect: 'short' };
  const end = bytes.length - TRAILER_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(end) !== crc32c(bytes, 0, end)) return { ok: false, defect: 'crc' };
  const frame = readHeader(bytes);
  // REJECT belongs to secure links only.
  if (frame === undefined || frame.kind === FrameKind.REJECT) return { ok: false, defect: 'kind' };
  frame.payload = bytes.slice(HEADER_BYTES, end);
  return { ok: true, frame };
}

/** What a node tells the gateway when it opens a stream. */
export interface OpenBody {
  nonce: number;
  /** The node's link timeout: the gateway waits at least this long before giving up on it. */
  linkTimeoutMs: number;
  /** The node's radio MTU: the gateway never sends it a longer frame. */
  mtu: number;
}

/** OPEN body: the stream's nonce, the node's link timeout and its MTU. */
export function openBody(body: OpenBody): Uint8Array {
  const bytes = new Uint8Array(9);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, body.nonce >>> 0);
  view.setUint32(4, Math.min(0xffffffff, Math.max(0, Math.round(body.linkTimeoutMs))));
  bytes[8] = Math.min(255, body.mtu);
  return bytes;
}

/** Reads an OPEN body; undefined when it is too short or the MTU cannot carry a frame with `overhead` bytes of overhead. */
export function readOpenBody(payload: Uint8Array, overhead = FRAME_OVERHEAD): OpenBody | undefined {
  if (payload.length < 9 || payload[8] < overhead + 1) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { nonce: view.getUint32(0), linkTimeoutMs: view.getUint32(4), mtu: payload[8] };
}

/** ACCEPT body: the nonce of the OPEN it answers. */
export function acceptBody(nonce: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, nonce >>> 0);
  return body;
}

/** Reads an ACCEPT body; undefined when it is too short. */
export function readAcceptBody(payload: Uint8Array): number | undefined {
  if (payload.length < 4) return undefined;
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
}

/** `(a - b) mod 16`: how far sequence number `a` is ahead of `b`. */
export function seqDistance(a: number, b: number): number {
  return (a - b + SEQ_MODULO) % SEQ_MODULO;
}
