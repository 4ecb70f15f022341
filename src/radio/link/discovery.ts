/**
 * Discovery frames: how a node finds the gateways it can hear (as MQTT-SN's
 * ADVERTISE, SEARCHGW and GWINFO do). One frame kind (6, free in the
 * 3-bit kind field), its 4 low header bits (a stream frame's epoch) naming
 * the message:
 *
 * ```
 * ADVERTISE  gateway -> all (255)  interval (u32 ms)                          CRC-32C
 * SEARCH     node -> all (255)     search nonce (8)                          CRC-32C | EAX tag
 * GWINFO     gateway -> node       search nonce (8) | uplink RSSI | load      CRC-32C | EAX tag
 * ```
 *
 * On a secure link SEARCH and GWINFO are handshake frames (secure-frame.ts)
 * under the node's handshake key: a SEARCH is sealed with its nonce in
 * clear, so only gateways holding the node's key answer it; a GWINFO is
 * sealed with a fresh gateway nonce and the search nonce bound as header,
 * so only a gateway holding the node's key can make one, and only for the
 * search the node is running now (a recorded GWINFO names an old nonce).
 * An ADVERTISE carries no authority on any link (one broadcast cannot be
 * sealed under every node's key): it only tells a node to search, and a
 * gateway enters a node's ranking only through an authenticated GWINFO. So
 * a fake gateway without the key can make a node search, never choose it.
 *
 * Portable: imports nothing from Node.
 */
import { crc32c } from './crc32c.ts';
import {
  type Frame,
  type FrameDefect,
  type FrameKind,
  HEADER_BYTES,
  TRAILER_BYTES,
  writeHeader,
} from './frame.ts';
import { HANDSHAKE_NONCE_BYTES, type NodeKey, openHandshake, sealHandshake } from './secure-frame.ts';

/** The frame kind of discovery frames (bits 7-5 of header byte 2). */
export const DISCOVERY_KIND = 6;
/** The destination address of a frame for every radio in range. */
export const BROADCAST_ADDRESS = 255;
/** An RSSI byte that says "not known". */
const RSSI_UNKNOWN = -128;

/** The discovery message, in the header's 4 low bits of byte 2. */
export const DiscoveryType = {
  /** Gateway to all: "a gateway is here" (a hint: search to learn more). */
  ADVERTISE: 0,
  /** Node to all: "which gateways hear me?" */
  SEARCH: 1,
  /** Gateway to node: the answer to its search. */
  GWINFO: 2,
} as const;
export type DiscoveryType = (typeof DiscoveryType)[keyof typeof DiscoveryType];

/** A discovery frame, decoded. */
export type DiscoveryMessage =
  | { type: 'advertise'; gateway: number; intervalMs: number }
  | { type: 'search'; node: number; nonce: Uint8Array }
  | {
      type: 'gwinfo';
      gateway: number;
      node: number;
      /** The signal strength at which the gateway heard the search, dBm (undefined: its radio does not say). */
      uplinkRssi: number | undefined;
      /** Nodes the gateway serves now. */
      load: number;
    };

/** What bytes heard turned out to be: a message, one for another radio, or a defect. */
export type DiscoveryHeard =
  | { ok: true; message: DiscoveryMessage }
  | { ok: false; defect: FrameDefect }
  | { ok: false; defect: undefined };

/** True when `bytes` claim to be a discovery frame (to be checked by `decode`). */
export function isDiscoveryFrame(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER_BYTES && bytes[2] >>> 5 === DISCOVERY_KIND;
}

function header(dst: number, src: number, type: DiscoveryType): Frame {
  return {
    kind: DISCOVERY_KIND as FrameKind,
    dst,
    src,
    epoch: type,
    poll: false,
    seq: 0,
    ack: 0,
    payload: new Uint8Array(0),
  };
}

/** Header, body, CRC-32C: the unsecured shape. */
function withCrc(frame: Frame, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + body.length + TRAILER_BYTES);
  writeHeader(frame, bytes);
  bytes.set(body, HEADER_BYTES);
  const end = bytes.length - TRAILER_BYTES;
  new DataView(bytes.buffer).setUint32(end, crc32c(bytes, 0, end));
  return bytes;
}

/** The body of a CRC-checked frame, or undefined when the CRC fails. */
function checkedBody(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) return undefined;
  const end = bytes.length - TRAILER_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(end) !== crc32c(bytes, 0, end)) return undefined;
  return bytes.slice(HEADER_BYTES, end);
}

function rssiByte(rssi: number | undefined): number {
  if (rssi === undefined || !Number.isFinite(rssi)) return RSSI_UNKNOWN & 0xff;
  return Math.max(-127, Math.min(127, Math.round(rssi))) & 0xff;
}

function readRssi(byte: number): number | undefined {
  const value = byte > 127 ? byte - 256 : byte;
  return value === RSSI_UNKNOWN ? undefined : value;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Encodes and decodes discovery frames for one end (see the module
 * comment). `keyFor` gives the node key shared with a peer (on a node: its
 * own key, for any gateway; on a gateway: the keys file); without it the
 * frames are unsecured (CRC only).
 */
export class DiscoveryCodec {
  constructor(
    private readonly address: number,
    private readonly keyFor: ((peer: number) => NodeKey | undefined) | undefined,
    private readonly fill: (bytes: Uint8Array) => void,
  ) {}

  /** True when SEARCH and GWINFO are authenticated. */
  get secure(): boolean {
    return this.keyFor !== undefined;
  }

  /** A fresh search nonce. */
  nonce(): Uint8Array {
    const bytes = new Uint8Array(HANDSHAKE_NONCE_BYTES);
    this.fill(bytes);
    return bytes;
  }

  /** A gateway's advertisement: every `intervalMs` it sends one. */
  advertise(intervalMs: number): Uint8Array {
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, Math.min(0xffff_ffff, Math.max(0, Math.round(intervalMs))));
    return withCrc(header(BROADCAST_ADDRESS, this.address, DiscoveryType.ADVERTISE), body);
  }

  /** A node's search with `nonce` (undefined when this end has no key of its own). */
  search(nonce: Uint8Array): Uint8Array | undefined {
    const frame = header(BROADCAST_ADDRESS, this.address, DiscoveryType.SEARCH);
    if (this.keyFor === undefined) return withCrc(frame, nonce);
    const key = this.keyFor(BROADCAST_ADDRESS);
    return key && sealHandshake(key, frame, nonce, new Uint8Array(0));
  }

  /** A gateway's answer to `node`'s search with `nonce`, heard at `uplinkRssi`; undefined without the node's key. */
  gwinfo(
    node: number,
    nonce: Uint8Array,
    uplinkRssi: number | undefined,
    load: number,
  ): Uint8Array | undefined {
    const frame = header(node, this.address, DiscoveryType.GWINFO);
    const body = Uint8Array.of(rssiByte(uplinkRssi), Math.min(255, Math.max(0, load)));
    if (this.keyFor === undefined) {
      const plain = new Uint8Array(nonce.length + body.length);
      plain.set(nonce);
      plain.set(body, nonce.length);
      return withCrc(frame, plain);
    }
    const key = this.keyFor(node);
    return key && sealHandshake(key, frame, this.nonce(), body, nonce);
  }

  /**
   * What `bytes` are. A GWINFO is believed only when it answers `searching`,
   * the nonce of the search this node is running (none: every GWINFO is
   * stale). `defect: undefined` means a frame for another radio.
   */
  decode(bytes: Uint8Array, searching?: Uint8Array): DiscoveryHeard {
    if (!isDiscoveryFrame(bytes)) return { ok: false, defect: 'kind' };
    const dst = bytes[0];
    const src = bytes[1];
    const type = bytes[2] & 0x0f;
    switch (type) {
      case DiscoveryType.ADVERTISE: {
        const body = checkedBody(bytes);
        if (body === undefined) return { ok: false, defect: 'crc' };
        if (dst !== BROADCAST_ADDRESS || body.length < 4) return { ok: false, defect: 'short' };
        const intervalMs = new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
        return { ok: true, message: { type: 'advertise', gateway: src, intervalMs } };
      }
      case DiscoveryType.SEARCH: {
        if (dst !== BROADCAST_ADDRESS) return { ok: false, defect: 'short' };
        if (this.keyFor === undefined) {
          const body = checkedBody(bytes);
          if (body === undefined) return { ok: false, defect: 'crc' };
          if (body.length !== HANDSHAKE_NONCE_BYTES) return { ok: false, defect: 'short' };
          return { ok: true, message: { type: 'search', node: src, nonce: body } };
        }
        const key = this.keyFor(src);
        if (key === undefined) return { ok: false, defect: 'unknown-node' };
        const opened = openHandshake(key, bytes);
        if (opened === undefined) return { ok: false, defect: 'auth' };
        return { ok: true, message: { type: 'search', node: src, nonce: opened.nonce } };
      }
      case DiscoveryType.GWINFO: {
        if (dst !== this.address) return { ok: false, defect: undefined };
        let body: Uint8Array;
        if (this.keyFor === undefined) {
          const plain = checkedBody(bytes);
          if (plain === undefined) return { ok: false, defect: 'crc' };
          if (plain.length < HANDSHAKE_NONCE_BYTES + 2) return { ok: false, defect: 'short' };
          const echoed = plain.subarray(0, HANDSHAKE_NONCE_BYTES);
          if (searching === undefined || !sameBytes(echoed, searching))
            return { ok: false, defect: 'replay' };
          body = plain.subarray(HANDSHAKE_NONCE_BYTES);
        } else {
          const key = this.keyFor(src);
          if (key === undefined) return { ok: false, defect: 'unknown-node' };
          if (searching === undefined) return { ok: false, defect: 'replay' };
          const opened = openHandshake(key, bytes, searching);
          if (opened === undefined) return { ok: false, defect: 'auth' };
          if (opened.body.length < 2) return { ok: false, defect: 'short' };
          body = opened.body;
        }
        return {
          ok: true,
          message: {
            type: 'gwinfo',
            gateway: src,
            node: dst,
            uplinkRssi: readRssi(body[0] as number),
            load: body[1] as number,
          },
        };
      }
      default:
        return { ok: false, defect: 'kind' };
    }
  }
}

/** Bytes on air of a GWINFO on a secure link (the longest discovery frame): header, nonce, body, tag. */
export const GWINFO_BYTES = HEADER_BYTES + HANDSHAKE_NONCE_BYTES + 2 + 5;

/**
 * The spread of gateways' answers to one search, in ms: each waits a random
 * time up to this before answering, so that two gateways that heard the same
 * search rarely collide on a half-duplex channel.
 */
export function answerSpreadMs(airtimeMs: (bytes: number) => number): number {
  return Math.max(20, 8 * airtimeMs(GWINFO_BYTES));
}
