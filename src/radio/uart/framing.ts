/**
 * How radio frames travel over a UART byte stream: each frame, followed by
 * its CRC-16 (optional), is COBS-encoded and ends with a 0x00 delimiter.
 *
 *   frame bytes | CRC-16 big-endian (2, optional)  ->  COBS (+1)  ->  0x00 (+1)
 *
 * A transparent radio modem cuts the stream into air packets wherever it
 * likes and a UART line drops or garbles bytes; the delimiter lets the
 * receiver find the next frame after any damage, and the CRC (or, without
 * it, COBS's own rules and the link layer's CRC) rejects a frame that was
 * truncated, garbled, or glued to the next one when a delimiter was lost.
 *
 * Some modems (EBYTE E22 with "RSSI byte" enabled) write one byte of signal
 * strength after every air packet they receive. The sender keeps one frame
 * per air packet, so that byte always follows a frame's delimiter, and the
 * decoder reads the byte after each delimiter as the RSSI of that frame.
 *
 * Pure: no Node, no timers (the driver decides when to stop waiting for an
 * RSSI byte).
 */
import { cobsDecode, cobsEncodeInto, cobsMaxEncodedLength } from './cobs.ts';
import { crc16 } from './crc16.ts';

/** The frame delimiter on the UART. */
export const DELIMITER = 0x00;

/** Bytes of CRC appended to each frame when the check is on. */
const CRC_BYTES = 2;

/** Bytes on the UART for a frame of `length` bytes, delimiter included (worst case). */
export function encodedFrameLength(length: number, checksum: boolean): number {
  return cobsMaxEncodedLength(length + (checksum ? CRC_BYTES : 0)) + 1;
}

/** The largest frame whose encoding fits `packetSize` bytes; 0 when none does. */
export function largestFrame(packetSize: number, checksum: boolean): number {
  let length = Math.max(0, packetSize);
  while (length > 0 && encodedFrameLength(length, checksum) > packetSize) length--;
  return length;
}

/** The bytes to write on the UART for one frame. */
export function encodeFrame(frame: Uint8Array, checksum: boolean): Uint8Array {
  let body = frame;
  if (checksum) {
    body = new Uint8Array(frame.length + CRC_BYTES);
    body.set(frame);
    const crc = crc16(frame);
    body[frame.length] = crc >>> 8;
    body[frame.length + 1] = crc & 0xff;
  }
  const out = new Uint8Array(cobsMaxEncodedLength(body.length) + 1);
  const end = cobsEncodeInto(body, out, 0);
  out[end] = DELIMITER;
  return out.subarray(0, end + 1);
}

/** Why the decoder threw bytes away. */
export type RejectReason =
  /** Not a valid COBS encoding (truncated or garbled). */
  | 'cobs'
  /** Decoded, but the CRC does not match (garbled, or two frames glued together). */
  | 'crc'
  /** More bytes than the largest frame before a delimiter (a lost delimiter, or line noise). */
  | 'oversize';

export interface FrameDecoderOptions {
  /** The most bytes one encoded frame may have, delimiter excluded. */
  maxEncoded: number;
  /** Whether frames carry a CRC-16 (must match the sender). */
  checksum: boolean;
  /** Whether the byte after each delimiter is an RSSI byte from the modem. */
  rssiByte: boolean;
  /** A frame passed every check. */
  frame(frame: Uint8Array, rssi?: number): void;
  /** Bytes were discarded, and why. */
  reject(reason: RejectReason): void;
}

/**
 * Turns UART bytes, in chunks of any size, back into frames. Never hands up
 * a frame that failed a check, and resynchronises at the next delimiter.
 */
export class FrameDecoder {
  readonly #options: FrameDecoderOptions;
  readonly #buffer: Uint8Array;
  #length = 0;
  /** Bytes are being skipped until the next delimiter (after an oversize segment). */
  #skipping = false;
  /** The next byte is the RSSI of the segment that just ended. */
  #awaitingRssi = false;
  /** A good frame waiting for its RSSI byte. */
  #held: Uint8Array | undefined;

  constructor(options: FrameDecoderOptions) {
    this.#options = options;
    this.#buffer = new Uint8Array(options.maxEncoded);
  }

  /** Whether a frame is waiting for its RSSI byte (see {@link release}). */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Feeds bytes from the UART. */
  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (this.#awaitingRssi) {
        this.#awaitingRssi = false;
        this.#rssi(byte);
        continue;
      }
      if (byte === DELIMITER) {
        this.#endSegment();
        continue;
      }
      if (this.#skipping) continue;
      if (this.#length === this.#buffer.length) {
        this.#skipping = true;
        this.#length = 0;
        this.#options.reject('oversize');
        continue;
      }
      this.#buffer[this.#length++] = byte;
    }
  }

  /**
   * Hands up a held frame without an RSSI value (the RSSI byte is late or
   * lost). The byte after the delimiter is still taken as the RSSI byte when
   * it comes, so the next frame is not shifted by one.
   */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#options.frame(held);
  }

  /** Forgets a partial frame (after the port was reopened). */
  reset(): void {
    this.#length = 0;
    this.#skipping = false;
    this.#awaitingRssi = false;
    this.#held = undefined;
  }

  #endSegment(): void {
    const length = this.#length;
    const skipped = this.#skipping;
    this.#length = 0;
    this.#skipping = false;
    // Two delimiters in a row (or line idle) carry nothing.
    if (length === 0 && !skipped) return;
    if (this.#options.rssiByte) this.#awaitingRssi = true;
    if (skipped) return;
    const frame = this.#check(this.#buffer.subarray(0, length));
    if (frame === undefined) return;
    if (this.#options.rssiByte) this.#held = frame;
    else this.#options.frame(frame);
  }

  #check(encoded: Uint8Array): Uint8Array | undefined {
    const body = cobsDecode(encoded);
    if (body === undefined) {
      this.#options.reject('cobs');
      return undefined;
    }
    if (!this.#options.checksum) return body;
    const length = body.length - CRC_BYTES;
    const sent = length < 0 ? -1 : ((body[length] as number) << 8) | (body[length + 1] as number);
    if (sent !== crc16(body, 0, Math.max(0, length))) {
      this.#options.reject('crc');
      return undefined;
    }
    return body.subarray(0, length);
  }

  #rssi(byte: number): void {
    const held = this.#held;
    this.#held = undefined;
    // EBYTE's formula: dBm = -(256 - byte).
    if (held !== undefined) this.#options.frame(held, byte - 256);
  }
}
