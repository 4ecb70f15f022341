/**
 * The streaming decoder. Bytes arrive in chunks of any size; whole packets
 * come out. A packet that lies inside one chunk is parsed in place: its
 * payload is a view of that chunk, never a copy. A packet split across
 * chunks is gathered into one buffer of exactly its size, which is only
 * allocated once the header has shown it within `maximumPacketSize`.
 */
import { type MqttError, remoteError } from '../errors.ts';
import { readAck, readDisconnect } from './ack.ts';
import { readConnack, readConnect } from './connect.ts';
import { MAX_PACKET_SIZE, PACKET_TYPE_NAME } from './constants.ts';
import { readPublish } from './publish.ts';
import { readSuback, readSubscribe, readUnsubscribe } from './subscribe.ts';
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

const EMPTY = new Uint8Array(0);

/** Required low-nibble flags per packet type; -1 where they vary (PUBLISH). */
const FIXED_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/** A streaming decoder: `push()` bytes as they arrive, in chunks of any size, then `next()` until it returns undefined. */
export class PacketDecoder {
  protocolVersion: ProtocolVersion;
  maximumPacketSize: number;

  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  // Fixed header being read: first byte (-1 before it), remaining length so far.
  private firstByte = -1;
  private remainingLength = 0;
  private lengthBytes = 0;
  private headerDone = false;
  // A packet that spans chunks, being gathered.
  private body: Uint8Array | null = null;
  private filled = 0;
  private failure: MqttError | undefined;
  private readonly reader = new Reader();

  /** The version given at construction; a CONNECT may switch `protocolVersion`, `reset()` restores it. */
  private readonly initialVersion: ProtocolVersion;

  constructor(options: DecoderOptions = {}) {
    this.protocolVersion = options.protocolVersion ?? 5;
    this.initialVersion = this.protocolVersion;
    this.maximumPacketSize = options.maximumPacketSize ?? MAX_PACKET_SIZE;
  }

  /** Adds received bytes. Call `next()` until it returns undefined to take the packets out. */
  push(chunk: Uint8Array): void {
    if (this.pos < this.chunk.length) {
      // The caller pushed again before draining: keep the unread bytes (rare, so a copy is fine).
      const rest = this.chunk.subarray(this.pos);
      const merged = new Uint8Array(rest.length + chunk.length);
      merged.set(rest);
      merged.set(chunk, rest.length);
      this.chunk = merged;
    } else {
      this.chunk = chunk;
    }
    this.pos = 0;
  }

  /**
   * The next whole packet, or undefined when more bytes are needed. Throws an
   * MqttError (side 'remote') for bytes that break the protocol; after that the
   * decoder keeps throwing the same error until `reset()`, because the stream
   * can no longer be trusted and the connection must be closed.
   */
  next(): Packet | undefined {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.step();
    } catch (error) {
      this.failure = error as MqttError;
      throw error;
    }
  }

  /** Forgets all buffered bytes and any failure: for a new connection. */
  reset(): void {
    this.protocolVersion = this.initialVersion;
    this.chunk = EMPTY;
    this.pos = 0;
    this.body = null;
    this.filled = 0;
    this.failure = undefined;
    this.resetHeader();
  }

  /** Bytes received and not yet returned as packets. */
  get bufferedBytes(): number {
    const header = this.firstByte < 0 ? 0 : 1 + this.lengthBytes;
    return this.chunk.length - this.pos + (this.body === null ? header : header + this.filled);
  }

  private resetHeader(): void {
    this.firstByte = -1;
    this.remainingLength = 0;
    this.lengthBytes = 0;
    this.headerDone = false;
  }

  private step(): Packet | undefined {
    const chunk = this.chunk;
    if (this.body !== null) return this.gather(chunk);
    while (!this.headerDone) {
      if (this.pos >= chunk.length) return undefined;
      const b = chunk[this.pos++];
      if (this.firstByte < 0) {
        this.checkFirstByte(b);
        this.firstByte = b;
      } else {
        this.addLengthByte(b);
      }
    }
    const length = this.remainingLength;
    if (chunk.length - this.pos >= length) {
      const start = this.pos;
      this.pos = start + length;
      const first = this.firstByte;
      this.resetHeader();
      return this.parse(first, chunk, start, start + length);
    }
    this.body = new Uint8Array(length);
    this.filled = 0;
    return this.gather(chunk);
  }

  private gather(chunk: Uint8Array): Packet | undefined {
    const body = this.body!;
    const n = Math.min(body.length - this.filled, chunk.length - this.pos);
    if (n > 0) {
      body.set(n === chunk.length ? chunk : chunk.subarray(this.pos, this.pos + n), this.filled);
      this.filled += n;
      this.pos += n;
    }
    if (this.filled < body.length) return undefined;
    const first = this.firstByte;
    this.body = null;
    this.resetHeader();
    return this.parse(first, body, 0, body.length);
  }

  private checkFirstByte(b: number): void {
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

  private addLengthByte(b: number): void {
    if (this.lengthBytes === 4)
      throw remoteError('MALFORMED_PACKET', 'remaining length is longer than 4 bytes');
    if (b === 0 && this.lengthBytes > 0) {
      throw remoteError('MALFORMED_PACKET', 'remaining length is not minimally encoded');
    }
    this.remainingLength += (b & 0x7f) * 128 ** this.lengthBytes;
    this.lengthBytes++;
    if (b & 0x80) {
      // A fourth byte that announces a fifth is already malformed (at most four bytes, 1.5.5 / 2.2.3):
      // fail now rather than wait for a byte that may never come.
      if (this.lengthBytes === 4)
        throw remoteError('MALFORMED_PACKET', 'remaining length is longer than 4 bytes');
      return;
    }
    this.headerDone = true;
    const total = 1 + this.lengthBytes + this.remainingLength;
    if (total > this.maximumPacketSize) {
      throw remoteError(
        'PACKET_TOO_LARGE',
        `a ${total}-byte packet exceeds the maximum packet size of ${this.maximumPacketSize}`,
      );
    }
  }

  private parse(first: number, buf: Uint8Array, start: number, end: number): Packet {
    const r = this.reader.reset(buf, start, end);
    const version = this.protocolVersion;
    const type = first >> 4;
    switch (type) {
      case 3:
        return readPublish(r, first & 0x0f, version);
      case 4:
        return readAck(r, 'puback', version);
      case 5:
        return readAck(r, 'pubrec', version);
      case 6:
        return readAck(r, 'pubrel', version);
      case 7:
        return readAck(r, 'pubcomp', version);
      case 1: {
        const packet = readConnect(r);
        this.protocolVersion = packet.protocolVersion;
        return packet;
      }
      case 2:
        return readConnack(r, version);
      case 8:
        return readSubscribe(r, version);
      case 9:
        return readSuback(r, 'suback', version);
      case 10:
        return readUnsubscribe(r, version);
      case 11:
        return readSuback(r, 'unsuback', version);
      case 12:
        r.done('PINGREQ');
        return { type: 'pingreq' };
      case 13:
        r.done('PINGRESP');
        return { type: 'pingresp' };
      case 14:
        return readDisconnect(r, 'disconnect', version);
      default:
        return readDisconnect(r, 'auth', version);
    }
  }
}

/**
 * Decodes exactly one whole packet. Trailing bytes, or too few, are
 * MALFORMED_PACKET. A CONNECT is decoded with the version it declares.
 */
export function decode(
  bytes: Uint8Array,
  version: ProtocolVersion,
  options: Omit<DecoderOptions, 'protocolVersion'> = {},
): Packet {
  const decoder = new PacketDecoder({ ...options, protocolVersion: version });
  decoder.push(bytes);
  const packet = decoder.next();
  if (packet === undefined) throw remoteError('MALFORMED_PACKET', 'bytes end before the packet does');
  if (decoder.bufferedBytes > 0) throw remoteError('MALFORMED_PACKET', 'bytes follow the packet');
  return packet;
}
