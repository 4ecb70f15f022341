/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): rewrites a
 * frame so that it contains no 0x00 byte, at a cost of one byte per 254 bytes
 * (so exactly one byte for any frame a radio modem carries). A 0x00 can then
 * mark the end of every frame on a byte stream, and a receiver that lost or
 * garbled bytes finds the next frame at the next 0x00: a resync costs at most
 * one frame. Pure functions on Uint8Array; imports nothing.
 */

/** The largest COBS encoding of `length` bytes (without the 0x00 delimiter). */
export function cobsMaxEncodedLength(length: number): number {
  return length + 1 + Math.floor(length / 254);
}

/** Encodes `data` into `out` at `offset`; returns the offset after the last byte written. */
export function cobsEncodeInto(data: Uint8Array, out: Uint8Array, offset: number): number {
  let codeAt = offset;
  let write = offset + 1;
  let code = 1;
  for (const byte of data) {
    if (byte === 0) {
      out[codeAt] = code;
      codeAt = write++;
      code = 1;
      continue;
    }
    out[write++] = byte;
    code++;
    if (code === 0xff) {
      // A full block of 254 non-zero bytes carries no implied zero.
      out[codeAt] = code;
      codeAt = write++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return write;
}

/**
 * Decodes one COBS block sequence (delimiter already removed). Returns
 * undefined when the bytes cannot be a COBS encoding: a 0x00 inside, or a
 * block that claims more bytes than there are (a truncated frame).
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  if (encoded.length === 0) return undefined;
  const out = new Uint8Array(encoded.length);
  let read = 0;
  let write = 0;
  while (read < encoded.length) {
    const code = encoded[read++] as number;
    if (code === 0) return undefined;
    const end = read + code - 1;
    if (end > encoded.length) return undefined;
    while (read < end) {
      const byte = encoded[read++] as number;
      if (byte === 0) return undefined;
      out[write++] = byte;
    }
    // Every block but a full one and the last one stands for a 0x00.
    if (code !== 0xff && read < encoded.length) out[write++] = 0;
  }
  return out.subarray(0, write);
}
