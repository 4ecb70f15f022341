/**
 * Bit errors: each bit of a frame flips independently with probability
 * `bitErrorRate` (a binary symmetric channel). Rather than drawing once per
 * bit, the gap to the next flipped bit is drawn from the geometric
 * distribution, gap = floor(ln(U) / ln(1 - BER)), which gives exactly the same
 * distribution with one draw per flip.
 */

/** Flips bits of `frame` in place; returns how many flipped. */
export function flipBits(frame: Uint8Array, bitErrorRate: number, random: () => number): number {
  if (bitErrorRate <= 0 || frame.length === 0) return 0;
  const bits = frame.length * 8;
  if (bitErrorRate >= 1) {
    for (let i = 0; i < frame.length; i++) frame[i] ^= 0xff;
    return bits;
  }
  const logKeep = Math.log(1 - bitErrorRate);
  let flipped = 0;
  let bit = -1;
  for (;;) {
    bit += 1 + Math.floor(Math.log(1 - random()) / logKeep);
    if (bit >= bits) return flipped;
    frame[bit >> 3] ^= 0x80 >> (bit & 7);
    flipped++;
  }
}

/** The bit error rate of two independent error sources together: 1 - (1 - a)(1 - b). */
export function combineBitErrorRates(a: number, b: number): number {
  return 1 - (1 - a) * (1 - b);
}
