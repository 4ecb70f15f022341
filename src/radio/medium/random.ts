/**
 * Seeded randomness for the simulated medium (and the project's tests and
 * soak): mulberry32, a small 32-bit PRNG with good statistical quality for
 * simulation, plus helpers that derive independent streams from a seed.
 *
 * The medium gives every (transmission, receiver) pair its own stream, keyed
 * by the seed, the sender's name, the sender's frame number and the
 * receiver's name. So a frame's fate does not depend on how deliveries to
 * other radios interleave: a run with the same events draws the same numbers.
 */

/** A small deterministic PRNG (mulberry32): the same sequence for the same seed. Values in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units of `text`: a stable 32-bit key for a radio name. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Mixes several 32-bit values into one seed (the murmur3 finaliser applied
 * after each part), so that neighbouring inputs give unrelated streams.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h ^= part >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A standard normal deviate (Box-Muller) drawn from `random`. */
export function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An exponential deviate with the given mean (inverse transform). */
export function exponential(random: () => number, mean: number): number {
  return -mean * Math.log(1 - random());
}
