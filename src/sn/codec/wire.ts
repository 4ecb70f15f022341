/**
 * Wire primitives shared by the MQTT-SN encoder and decoder: the Flags byte, the length header
 * (1- or 3-byte form) and a bounds-checked reader. Portable: no Node, no globals.
 */
import { localError, remoteError } from '../../errors.ts';
import {
  SN_QOS_MINUS_ONE_BITS,
  SN_SHORT_TOPIC_LENGTH,
  SnFlag,
  SnReturnCode,
  type SnReturnCodeValue,
  SnTopicIdTypeBits,
} from './constants.ts';
import type { SnQoS } from './types.ts';

/** The QoS bits of a Flags byte for `qos` (-1 is 0b11). */
export function qosBits(qos: SnQoS): number {
  return (qos === -1 ? SN_QOS_MINUS_ONE_BITS : qos) << SnFlag.QosShift;
}

/** The QoS a Flags byte carries. */
export function qosOf(flags: number): SnQoS {
  const bits = (flags & SnFlag.QosMask) >> SnFlag.QosShift;
  return bits === SN_QOS_MINUS_ONE_BITS ? -1 : (bits as 0 | 1 | 2);
}

/** The QoS of a Flags byte where -1 is not allowed (SUBSCRIBE, SUBACK, WILLTOPIC). */
export function qosNoMinusOne(flags: number, what: string): 0 | 1 | 2 {
  const qos = qosOf(flags);
  if (qos === -1) throw malformed(`${what} with QoS -1`);
  return qos;
}

/** The TopicIdType bits of a Flags byte; 0b11 is reserved. */
export function topicIdTypeOf(flags: number, what: string): number {
  const bits = flags & SnFlag.TopicIdTypeMask;
  if (
    bits !== SnTopicIdTypeBits.Normal &&
    bits !== SnTopicIdTypeBits.Predefined &&
    bits !== SnTopicIdTypeBits.Short
  )
    throw malformed(`${what} with the reserved TopicIdType 0b11`);
  return bits;
}

/** A MALFORMED_PACKET error from the peer's side. */
export function malformed(why: string): Error {
  return remoteError('MALFORMED_PACKET', `malformed MQTT-SN message: ${why}`);
}

/** An INVALID_ARGUMENT error for a value the encoder cannot carry. */
export function invalid(why: string): Error {
  return localError('INVALID_ARGUMENT', `MQTT-SN: ${why}`);
}

/** A return code from the wire; reserved values are malformed. */
export function returnCodeOf(byte: number): SnReturnCodeValue {
  if (byte > SnReturnCode.RejectedNotSupported) throw malformed(`reserved return code ${byte}`);
  return byte as SnReturnCodeValue;
}

/** The two bytes of a short topic name; only ASCII, so that one character is one byte. */
export function shortTopicBytes(name: string): [number, number] {
  if (name.length !== SN_SHORT_TOPIC_LENGTH)
    throw invalid(`a short topic name has two characters, not "${name}"`);
  const a = name.charCodeAt(0);
  const b = name.charCodeAt(1);
  if (a === 0 || b === 0 || a >= 0x80 || b >= 0x80)
    throw invalid(`a short topic name is two ASCII characters, not "${name}"`);
  return [a, b];
}

/** Reads a short topic name from two bytes. */
export function shortTopicName(a: number, b: number): string {
  if (a === 0 || b === 0 || a >= 0x80 || b >= 0x80)
    throw malformed('a short topic name is two ASCII characters');
  return String.fromCharCode(a, b);
}

/** Checks that `n` fits in 16 bits. */
export function checkU16(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw invalid(`${what} must be an integer 0..65535, not ${n}`);
  return n;
}

/** Checks that `n` fits in 8 bits. */
export function checkU8(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw invalid(`${what} must be an integer 0..255, not ${n}`);
  return n;
}

/** A bounds-checked cursor over one message body. */
export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly what: string,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) throw malformed(`${this.what} is too short`);
    return this.buf[this.pos++];
  }

  u16(): number {
    if (this.pos + 2 > this.end) throw malformed(`${this.what} is too short`);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }

  /** The rest of the body, copied (the caller may reuse its datagram buffer). */
  rest(): Uint8Array {
    const out = this.buf.slice(this.pos, this.end);
    this.pos = this.end;
    return out;
  }

  /** Nothing may follow the fields a fixed-size message has. */
  done(): void {
    if (this.pos !== this.end) throw malformed(`${this.what} has ${this.end - this.pos} bytes too many`);
  }
}
