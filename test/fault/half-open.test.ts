// Half-open connection: every packet is silently dropped both ways (no RST,
// no ICMP). The OS would take many minutes to notice; the device must notice
// within keepalive + responseTimeout (a PINGREQ is due after a keepalive
// period without traffic, and dead after responseTimeout without an answer).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAST, FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

const SLACK_MS = 1500;

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: blackhole both ways is noticed within keepalive + responseTimeout`, {
    ...FAULT_TEST,
    skip: FAULT_SKIP,
  }, async (t) => {
    const s = await Scenario.start(t, { version });
    s.startStreams();
    await s.waitFlowing();
    const from = s.device.events.length;
    const start = Date.now();
    await s.net.blackhole();
    const down = await s.device.waitDown({ from, timeoutMs: 30_000 });
    const bound = FAST.keepalive! * 1000 + FAST.responseTimeout! + SLACK_MS;
    assert.ok(
      down.t - start <= bound,
      `down after ${down.t - start} ms, more than ${bound} ms\n${s.timeline()}`,
    );
    await s.net.clearBlackhole();
    await s.assertReconnected(from);
    await s.waitDelivered();
    s.assertDelivery(await s.finish());
  });
}
