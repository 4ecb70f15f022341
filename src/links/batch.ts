/**
 * A turn's writes, joined without copying where they already sit side by
 * side: the codec carves packets one after another out of a shared slab
 * (codec/encode.ts), so a turn of small packets is usually one run of
 * adjacent bytes, and a view over that run replaces the copy into a freshly
 * zeroed array that a join would make. Runtime-neutral (no Node APIs).
 */

/**
 * `chunks` with each run of neighbours that are adjacent in one ArrayBuffer
 * merged into a single view (no bytes copied). Order is kept. The input is
 * not modified; with one chunk it is returned as is.
 */
export function contiguousRuns(chunks: readonly Uint8Array[]): Uint8Array[] {
  if (chunks.length <= 1) return chunks as Uint8Array[];
  const runs: Uint8Array[] = [];
  let first = chunks[0];
  let end = first.byteOffset + first.byteLength;
  let merged = false;
  for (let i = 1; i < chunks.length; i++) {
    const c = chunks[i];
    if (c.buffer === first.buffer && c.byteOffset === end) {
      end += c.byteLength;
      merged = true;
      continue;
    }
    runs.push(merged ? new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset) : first);
    first = c;
    end = c.byteOffset + c.byteLength;
    merged = false;
  }
  runs.push(merged ? new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset) : first);
  return runs;
}

/** The chunks copied into one array, in order (one chunk: returned as is). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}
