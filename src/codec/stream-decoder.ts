/**
 * The streaming decoder's framing: bytes arrive in chunks of any size; whole
 * packets come out. A packet that lies inside one chunk is parsed in place:
 * its payload is a view of that chunk, never a copy. A packet split across
 * chunks is gathered into one buffer of exactly its size, which is only
 * allocated once the header has shown it within `maximumPacketSize`.
 *
 * Which packets it can read is a table of readers given by the caller, so a
 * client bundle carries only the packets a broker sends (client-role.ts) and
 * the public `PacketDecoder` (decoder.ts) all of them.
 */
import { type MqttError, remoteError } from '../errors.ts';
import { MAX_PACKET_SIZE, PACKET_TYPE_NAME } from './constants.ts';
import type { Packet, ProtocolVersion } from './types.ts';
import { Reader } from './wire.ts';

/** Options for `PacketDecoder` and `decode`. */
export interface DecoderOptions {
  /**
   * The protocol version of the connection. Default 5. Decoding a CONNECT
   * switches the decoder to the version the CONNECT declares.
   */
  protocolVersion?: ProtocolVersion;
  /**
   * The largest packet accepted, fixed header included; a larger one fails
   * with PACKET_TOO_LARGE as soon as its header is read, before its body is
   * buffered. Default 268,435,460, the largest MQTT can express.
   */
  maximumPacketSize?: number;
}

/**
 * Reads the body of one packet type. `flags` is the low nibble of the fixed
 * header; `decoder` is there for CONNECT, which switches the stream's version.
 */
export type PacketReader = (
  r: Reader,
  flags: number,
  version: ProtocolVersion,
  decoder: StreamDecoder,
) => Packet;

/** A reader per packet type number (1 CONNECT ... 15 AUTH); index 0 is never used. */
export type PacketReaders = readonly PacketReader[];

const EMPTY = new Uint8Array(0);

/** Required low-nibble flags per packet type; -1 where they vary (PUBLISH). */
const FIXED_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/** A streaming decoder over a table of readers: `push()` bytes as they arrive, then `next()` until it returns undefined. */
export class StreamDecoder {
  protocolVersion: ProtocolVersion;
  maximumPacketSize: number;

  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  // Fixed header being read: first byte (-1 before it), remaining length so far.
  #firstByte = -1;
  #remainingLength = 0;
  #lengthBytes = 0;
  #headerDone = false;
  // A packet that spans chunks, being gathered.
  #body: Uint8Array | null = null;
  #filled = 0;
  #failure: MqttError | undefined;
  readonly #reader = new Reader();
  readonly #readers: PacketReaders;

  /** The version given at construction; a CONNECT may switch `protocolVersion`, `reset()` restores it. */
  readonly #initialVersion: ProtocolVersion;

  constructor(readers: PacketReaders, options: DecoderOptions = {}) {
    this.#readers = readers;
    this.protocolVersion = options.protocolVersion ?? 5;
    this.#initialVersion = this.protocolVersion;
    this.maximumPacketSize = options.maximumPacketSize ?? MAX_PACKET_SIZE;
  }

  /** Adds received bytes. Call `next()` until it returns undefined to take the packets out. */
  push(chunk: Uint8Array): void {
    if (this.#pos < this.#chunk.length) {
      // The caller pushed again before draining: keep the unread bytes (rare, so a copy is fine).
      const rest = this.#chunk.subarray(this.#pos);
      const merged = new Uint8Array(rest.length + chunk.length);
      merged.set(rest);
      merged.set(chunk, rest.length);
      this.#chunk = merged;
    } else {
      this.#chunk = chunk;
    }
    this.#pos = 0;
  }

  /**
   * The next whole packet, or undefined when more bytes are needed. Throws an
   * MqttError (side 'remote') for bytes that break the protocol; after that the
   * decoder keeps throwing the same error until `reset()`, because the stream
   * can no longer be trusted and the connection must be closed.
   */
  next(): Packet | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return this.#step();
    } catch (error) {
      this.#failure = error as MqttError;
      throw error;
    }
  }

  /** Forgets all buffered bytes and any failure: for a new connection. */
  reset(): void {
    this.protocolVersion = this.#initialVersion;
    this.#chunk = EMPTY;
    this.#pos = 0;
    this.#body = null;
    this.#filled = 0;
    this.#failure = undefined;
    this.#resetHeader();
  }

  /** Bytes received and not yet returned as packets. */
  get bufferedBytes(): number {
    const header = this.#firstByte < 0 ? 0 : 1 + this.#lengthBytes;
    return this.#chunk.length - this.#pos + (this.#body === null ? header : header + this.#filled);
  }

  #resetHeader(): void {
    this.#firstByte = -1;
    this.#remainingLength = 0;
    this.#lengthBytes = 0;
    this.#headerDone = false;
  }

  #step(): Packet | undefined {
    const chunk = this.#chunk;
    if (this.#body !== null) return this.#gather(chunk);
    while (!this.#headerDone) {
      if (this.#pos >= chunk.length) return undefined;
      const b = chunk[this.#pos++];
      if (this.#firstByte < 0) {
        this.#checkFirstByte(b);
        this.#firstByte = b;
      } else {
        this.#addLengthByte(b);
      }
    }
    const length = this.#remainingLength;
    if (chunk.length - this.#pos >= length) {
      const start = this.#pos;
      this.#pos = start + length;
      const first = this.#firstByte;
      this.#resetHeader();
      return this.#parse(first, chunk, start, start + length);
    }
    this.#body = new Uint8Array(length);
    this.#filled = 0;
    return this.#gather(chunk);
  }

  #gather(chunk: Uint8Array): Packet | undefined {
    const body = this.#body!;
    const n = Math.min(body.length - this.#filled, chunk.length - this.#pos);
    if (n > 0) {
      body.set(n === chunk.length ? chunk : chunk.subarray(this.#pos, this.#pos + n), this.#filled);
      this.#filled += n;
      this.#pos += n;
    }
    if (this.#filled < body.length) return undefined;
    const first = this.#firstByte;
    this.#body = null;
    this.#resetHeader();
    return this.#parse(first, body, 0, body.length);
  }

  #checkFirstByte(b: number): void {
    const type = b >> 4;
    const flags = b & 0x0f;
    if (type === 0 || (type === 15 && this.protocolVersion === 4)) {
      throw remoteError('MALFORMED_PACKET', `reserved packet type ${type}`);
    }
    const expected = FIXED_FLAGS[type];
    if (expected >= 0 && flags !== expected) {
      throw remoteError(
        'MALFORMED_PACKET',
        `${PACKET_TYPE_NAME[type]} has invalid fixed header flags ${flags}`,
      );
    }
  }

  #addLengthByte(b: number): void {
    if (this.#lengthBytes === 4)
      throw remoteError('MALFORMED_PACKET', 'remaining length is longer than 4 bytes');
    if (b === 0 && this.#lengthBytes > 0) {
      throw remoteError('MALFORMED_PACKET', 'remaining length is not minimally encoded');
    }
    this.#remainingLength += (b & 0x7f) * 128 ** this.#lengthBytes;
    this.#lengthBytes++;
    if (b & 0x80) {
      // A fourth byte that announces a fifth is already malformed (at most four bytes, 1.5.5 / 2.2.3):
      // fail now rather than wait for a byte that may never come.
      if (this.#lengthBytes === 4)
        throw remoteError('MALFORMED_PACKET', 'remaining length is longer than 4 bytes');
      return;
    }
    this.#headerDone = true;
    const total = 1 + this.#lengthBytes + this.#remainingLength;
    if (total > this.maximumPacketSize) {
      throw remoteError(
        'PACKET_TOO_LARGE',
        `a ${total}-byte packet exceeds the maximum packet size of ${this.maximumPacketSize}`,
      );
    }
  }

  #parse(first: number, buf: Uint8Array, start: number, end: number): Packet {
    const r = this.#reader.reset(buf, start, end);
    return this.#readers[first >> 4](r, first & 0x0f, this.protocolVersion, this);
  }
}
