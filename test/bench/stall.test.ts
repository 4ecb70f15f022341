// The throughput benchmark's stall rule, on a fake clock: a run whose sender is done and whose
// receiver gets nothing new for STALL_MS ends with what was lost, for every contender (the raw
// writer too: it once waited the whole 120 s run timeout for a QoS 0 message Mosquitto dropped).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STALL_MS, StallWatch } from '../../bench/throughput.ts';

test('StallWatch: no stall while the sender is busy or messages arrive; then the rate up to the last arrival', () => {
  let now = 1_000;
  const tally = { count: 0 };
  const watch = new StallWatch(tally, () => now);
  now += 5 * STALL_MS;
  assert.equal(watch.stalled(false), false, 'the sender is not done');
  tally.count = 50;
  now += 500;
  assert.equal(watch.stalled(true), false, 'an arrival just now');
  const lastArrival = now;
  now += STALL_MS / 2;
  assert.equal(watch.stalled(true), false);
  now += STALL_MS;
  assert.equal(watch.stalled(true), true);
  const r = watch.result(60);
  assert.equal(r.lost, 10);
  assert.equal(r.rate, 50 / ((lastArrival - 1_000) / 1000));
});

test('StallWatch: a complete run has no lost count', () => {
  let now = 0;
  const tally = { count: 0 };
  const watch = new StallWatch(tally, () => now);
  tally.count = 10;
  now = 2_000;
  assert.equal(watch.stalled(true), false);
  const r = watch.result(10);
  assert.equal(r.lost, undefined);
  assert.equal(r.rate, 5);
});
