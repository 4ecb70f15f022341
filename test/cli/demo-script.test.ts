/**
 * The demo's script for short and long runs: short runs get shorter faults and
 * leave out, and say so, the ones that do not fit; 30 s and more run every
 * fault at full length.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildScript, FAULT_KINDS } from '../../src/cli/demo/script.ts';

function check(durationMs: number, restart: boolean) {
  const script = buildScript(durationMs, restart);
  let t = 0;
  for (const fault of script.faults) {
    assert.ok(fault.at > t, `${fault.kind} starts after the previous fault and a gap`);
    t = fault.at + fault.lengthMs;
  }
  assert.ok(t < durationMs, 'the last fault ends before publishing stops');
  return script;
}

test('30 s and longer: every fault at full length, repeated each minute', () => {
  const script = check(30_000, true);
  assert.deepEqual(
    script.faults.map((f) => f.kind),
    ['link-drop', 'half-open', 'broker-restart', 'loss'],
  );
  for (const f of script.faults) assert.equal(f.lengthMs, FAULT_KINDS[f.kind].lengthMs);
  assert.deepEqual(script.leftOut, []);
  assert.equal(check(180_000, true).faults.length, 12);
});

test('short runs: shorter faults, the half-open period left out first and said', () => {
  const twenty = check(20_000, true);
  assert.equal(twenty.faults.length, 4);
  const halfOpen = twenty.faults.find((f) => f.kind === 'half-open');
  assert.ok(halfOpen !== undefined && halfOpen.lengthMs >= 6000, 'half-open outlasts keepalive detection');
  const ten = check(10_000, true);
  assert.deepEqual(
    ten.faults.map((f) => f.kind),
    ['link-drop', 'broker-restart', 'loss'],
  );
  assert.match(ten.leftOut.join('\n'), /half-open link: left out/);
  // Without a broker to restart (--url), the rest still fits.
  assert.deepEqual(
    check(10_000, false).faults.map((f) => f.kind),
    ['link-drop', 'loss'],
  );
});
