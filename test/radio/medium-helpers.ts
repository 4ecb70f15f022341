/** Shared bits of the simulated-medium tests. */
import type { SimulatedRadio } from '../../src/radio/medium/index.ts';

export interface Heard {
  frame: Uint8Array;
  rssi: number | undefined;
}

/** Opens `radio` and collects what it hears. */
export async function listen(radio: { open: SimulatedRadio['open'] }): Promise<Heard[]> {
  const heard: Heard[] = [];
  await radio.open({ receive: (frame, rssi) => heard.push({ frame, rssi }) });
  return heard;
}

/** A frame whose first two bytes number it, the rest a fixed pattern. */
export function numbered(i: number, length: number): Uint8Array {
  const frame = new Uint8Array(length);
  frame[0] = i >> 8;
  frame[1] = i & 0xff;
  for (let j = 2; j < length; j++) frame[j] = (j * 37 + 11) & 0xff;
  return frame;
}

/** Sends `count` numbered frames one after the other. */
export async function sendMany(radio: SimulatedRadio, count: number, length = 16): Promise<void> {
  for (let i = 0; i < count; i++) await radio.send(numbered(i, length));
}

/** Bits that differ between two frames of the same length. */
export function bitDifference(a: Uint8Array, b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i] ^ b[i];
    while (x) {
      bits += x & 1;
      x >>= 1;
    }
  }
  return bits;
}

/** Polls `predicate` every 5 ms until it holds; fails after `timeoutMs` (generous: the machine is shared). */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
