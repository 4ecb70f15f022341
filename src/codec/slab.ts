/** Where encoded packets live: regions of a shared slab (see below). Runtime-neutral. */

/*
 * Small packets are carved out of a shared slab, as Node's Buffer pool does:
 * allocating (and zero-filling) a fresh ArrayBuffer per packet costs more
 * than encoding a 1 KiB PUBLISH. Each packet gets its own region, never
 * reused, so views stay valid; `bytes.buffer` is the slab, so use
 * `byteOffset`/`byteLength` when going through `.buffer`.
 */
const SLAB_SIZE = 32 * 1024;
const SLAB_MAX_PACKET = 4 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/** `size` bytes for one packet: a region of the slab up to 4 KiB, else an array of its own. */
export function allocate(size: number): Uint8Array {
  if (size > SLAB_MAX_PACKET) return new Uint8Array(size);
  if (slabUsed + size > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  // No gap between regions: packets encoded one after another are adjacent in the slab, so a
  // writer can send a run of them as one view (links/batch.ts contiguousRuns) instead of copying them together.
  slabUsed += size;
  return out;
}
