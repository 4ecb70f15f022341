// Faults of the userspace proxy between the device and the broker: a long
// delay with jitter (slow but healthy: no reconnect), and a stall longer than
// the response timeout (the device must give up on the connection, then
// resume once bytes flow again).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAST, FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

test('MQTT 5: 100 ms ± 80 ms delay each way, no outage', { ...FAULT_TEST, skip: FAULT_SKIP }, async (t) => {
  const s = await Scenario.start(t, { version: 5, proxy: true });
  await s.proxy!.delay(100, 80);
  const from = s.device.events.length;
  s.startStreams();
  await s.waitDelivered();
  const report = await s.finish();
  s.assertDelivery(report);
  const downs = s.device.events.slice(from).filter((e) => e.ev === 'down');
  assert.equal(downs.length, 0, `a slow but healthy link was dropped\n${s.timeline()}`);
});

test('MQTT 4: a 6 s stall (longer than the response timeout) mid-stream', {
  ...FAULT_TEST,
  skip: FAULT_SKIP,
}, async (t) => {
  const s = await Scenario.start(t, { version: 4, proxy: true });
  s.startStreams();
  await s.waitFlowing();
  const from = s.device.events.length;
  const start = Date.now();
  await s.proxy!.stall(6000);
  const { down } = await s.assertReconnected(from);
  const bound = FAST.keepalive! * 1000 + FAST.responseTimeout! + 1500;
  assert.ok(
    down.t - start <= bound,
    `down after ${down.t - start} ms, more than ${bound} ms\n${s.timeline()}`,
  );
  await s.waitDelivered();
  s.assertDelivery(await s.finish());
});
