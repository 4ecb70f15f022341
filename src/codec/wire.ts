/**
 * Wire primitives shared by every packet family: a bounds-checked reader over
 * one packet's bytes, and position-passing writers (no writer object, so the
 * hot path allocates nothing but the packet's own Uint8Array).
 */
import { localError, remoteError } from '../errors.ts';
import { readUtf8, utf8Length, writeUtf8 } from './utf8.ts';

/** The largest value a Variable Byte Integer can hold (268,435,455). */
export const MAX_VARINT = 268_435_455;

export function truncated(): never {
  throw remoteError('MALFORMED_PACKET', 'packet ends before its fields do');
}

/**
 * Reads one packet's body. `end` is the end of the packet, never the end of
 * the chunk, so a field can never be read from the next packet's bytes.
 */
export class Reader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;

  reset(buf: Uint8Array, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) truncated();
    return this.buf[this.pos++];
  }

  u16(): number {
    const p = this.pos;
    if (p + 2 > this.end) truncated();
    this.pos = p + 2;
    return (this.buf[p] << 8) | this.buf[p + 1];
  }

  /** The rest of the packet (a PUBLISH payload): a view, not a copy. */
  rest(): Uint8Array {
    const start = this.pos;
    this.pos = this.end;
    return this.buf.subarray(start, this.end);
  }

  /** Every field has been read: anything left over makes the packet malformed. */
  done(what: string): void {
    if (this.pos !== this.end) {
      throw remoteError('MALFORMED_PACKET', `${this.end - this.pos} unexpected bytes at the end of ${what}`);
    }
  }
}

/*
 * The field readers below are functions rather than Reader methods so that a
 * bundle takes only the ones it calls: the 3.1.1 client codec (client-v4.ts)
 * needs none of them, and a method would drag each one in with the class.
 */

export function readU32(r: Reader): number {
  const p = r.pos;
  if (p + 4 > r.end) truncated();
  r.pos = p + 4;
  const b = r.buf;
  return ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

/** A Variable Byte Integer: at most 4 bytes, minimally encoded [MQTT-1.5.5-1]. */
export function readVarint(r: Reader): number {
  let value = 0;
  let multiplier = 1;
  for (let count = 0; count < 4; count++) {
    const byte = r.u8();
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && count > 0) {
        throw remoteError('MALFORMED_PACKET', 'variable byte integer is not minimally encoded');
      }
      return value;
    }
    multiplier *= 128;
  }
  throw remoteError('MALFORMED_PACKET', 'variable byte integer longer than 4 bytes');
}

/** A length-prefixed UTF-8 string, strictly decoded. */
export function readString(r: Reader): string {
  const len = r.u16();
  const start = r.pos;
  if (start + len > r.end) truncated();
  r.pos = start + len;
  return readUtf8(r.buf, start, start + len);
}

/** Length-prefixed binary data: a view into the received bytes, not a copy. */
export function readBinary(r: Reader): Uint8Array {
  const len = r.u16();
  const start = r.pos;
  if (start + len > r.end) truncated();
  r.pos = start + len;
  return r.buf.subarray(start, start + len);
}

export function varintSize(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    buf[pos++] = byte;
  } while (value > 0);
  return pos;
}

export function writeU16(buf: Uint8Array, pos: number, value: number): number {
  buf[pos] = value >> 8;
  buf[pos + 1] = value;
  return pos + 2;
}

export function writeU32(buf: Uint8Array, pos: number, value: number): number {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
  return pos + 4;
}

/** Size of a length-prefixed UTF-8 string; validates it (at most 65,535 bytes, no U+0000, no lone surrogate). */
export function stringSize(s: string, what: string): number {
  if (typeof s !== 'string') throw localError('INVALID_ARGUMENT', `${what} must be a string`);
  const len = utf8Length(s);
  if (len > 0xffff) throw localError('INVALID_ARGUMENT', `${what} is longer than 65,535 bytes`);
  return 2 + len;
}

/** Writes a length-prefixed UTF-8 string sized by `stringSize`. */
export function writeString(buf: Uint8Array, pos: number, s: string): number {
  const end = writeUtf8(buf, pos + 2, s);
  writeU16(buf, pos, end - pos - 2);
  return end;
}

export function binarySize(data: Uint8Array, what: string): number {
  if (!(data instanceof Uint8Array)) throw localError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
  if (data.length > 0xffff) throw localError('INVALID_ARGUMENT', `${what} is longer than 65,535 bytes`);
  return 2 + data.length;
}

export function writeBinary(buf: Uint8Array, pos: number, data: Uint8Array): number {
  pos = writeU16(buf, pos, data.length);
  buf.set(data, pos);
  return pos + data.length;
}

/** Validates a non-zero 16-bit packet identifier for encoding. */
export function checkPacketId(id: number | undefined, what: string): number {
  if (typeof id !== 'number' || !(id >= 1 && id <= 0xffff) || id % 1 !== 0) {
    throw localError('INVALID_ARGUMENT', `${what} needs a packet identifier from 1 to 65535, got ${id}`);
  }
  return id;
}

/** Reads a packet identifier, which must not be 0 where the protocol requires one. */
export function readPacketId(r: Reader, what: string): number {
  const id = r.u16();
  if (id === 0) throw remoteError('PROTOCOL_ERROR', `${what} has packet identifier 0`);
  return id;
}
