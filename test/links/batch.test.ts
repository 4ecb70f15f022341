import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatBytes, contiguousRuns } from '../../src/links/batch.ts';

test('contiguousRuns: adjacent views of one buffer become one view, with no copy', () => {
  const slab = new Uint8Array(16).map((_, i) => i);
  const runs = contiguousRuns([slab.subarray(0, 3), slab.subarray(3, 5), slab.subarray(5, 9)]);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].buffer, slab.buffer);
  assert.deepEqual([...runs[0]], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

test('contiguousRuns: a gap, another buffer or an earlier offset starts a new run; order kept', () => {
  const slab = new Uint8Array(16).map((_, i) => i);
  const other = Uint8Array.of(100, 101);
  const chunks = [
    slab.subarray(0, 2),
    slab.subarray(2, 4),
    slab.subarray(5, 6), // gap
    other,
    slab.subarray(6, 7), // adjacent to 5..6 but not to `other`
    slab.subarray(0, 1), // before
  ];
  const runs = contiguousRuns(chunks).map((r) => [...r]);
  assert.deepEqual(runs, [[0, 1, 2, 3], [5], [100, 101], [6], [0]]);
  assert.deepEqual([...concatBytes(contiguousRuns(chunks))], [0, 1, 2, 3, 5, 100, 101, 6, 0]);
  assert.equal(contiguousRuns([other])[0], other);
  assert.equal(concatBytes([other]), other);
});
