// A slow link (64 kbit/s token bucket both ways, tc tbf) for the whole
// stream, with 200-byte payloads: everything still arrives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

test('MQTT 4: 64 kbit/s link both ways', { ...FAULT_TEST, skip: FAULT_SKIP }, async (t) => {
  const s = await Scenario.start(t, { version: 4, size: 200 });
  await s.net.slow(64);
  s.startStreams();
  const delivered = await s.waitDelivered(45_000);
  const stats = await s.net.stats();
  await s.net.clearSlow();
  assert.ok(stats.shaperOverlimits > 0, `the shaper never held anything back: ${JSON.stringify(stats)}`);
  t.diagnostic(`delivered in time: ${delivered}; shaper ${JSON.stringify(stats)}`);
  s.assertDelivery(await s.finish());
});
