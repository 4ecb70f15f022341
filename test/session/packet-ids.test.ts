import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketIds } from '../../src/session/packet-ids.ts';

test('packet ids: taken in order from 1, released ids come back only after the rest', () => {
  const ids = new PacketIds();
  assert.equal(ids.size, 0);
  assert.equal(ids.has(1), false);
  assert.deepEqual([ids.take(), ids.take(), ids.take()], [1, 2, 3]);
  assert.equal(ids.size, 3);
  ids.release(2);
  ids.release(2); // twice: still one release
  assert.equal(ids.size, 2);
  assert.equal(ids.has(2), false);
  assert.equal(ids.take(), 4);
});

test('packet ids: wrap past 65,535, skip ids in use, none left when all are taken', () => {
  const ids = new PacketIds();
  for (let i = 1; i <= 65_535; i++) assert.equal(ids.take(), i);
  assert.equal(ids.size, 65_535);
  assert.equal(ids.take(), undefined);
  ids.release(7);
  ids.release(40_000);
  assert.equal(ids.take(), 7);
  assert.equal(ids.take(), 40_000);
  assert.equal(ids.take(), undefined);
  ids.clear();
  assert.equal(ids.size, 0);
  assert.equal(ids.has(7), false);
});

test('packet ids: claimed ids (restored flows) are skipped; non-ids are never in use', () => {
  const ids = new PacketIds();
  ids.claim(1);
  ids.claim(1);
  ids.claim(3);
  assert.equal(ids.size, 2);
  assert.deepEqual([ids.take(), ids.take()], [2, 4]);
  for (const bad of [0, -1, 65_536, 1.5, Number.NaN]) {
    ids.claim(bad);
    ids.release(bad);
    assert.equal(ids.has(bad), false);
  }
  assert.equal(ids.size, 4);
});
