// The broker dies mid-stream, by kill -9 (it keeps only what autosave wrote)
// or by a graceful restart (it saves everything), and comes back on the same
// port with the same persistence. Losses and duplicates the checker can
// blame on the broker's kill -9 are reported, not failed: both clients go
// through the tracing proxy so the checker sees when the broker acknowledged
// each message (a QoS 2 PUBREC just before the kill, then a PUBCOMP from the
// restarted broker that no longer knows the message, is the broker's loss).
import { test } from 'node:test';
import { FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: broker kill -9 mid-stream, restart after the device noticed`, {
    ...FAULT_TEST,
    skip: FAULT_SKIP,
  }, async (t) => {
    const s = await Scenario.start(t, { version, trace: true });
    s.startStreams();
    await s.waitFlowing();
    const from = s.device.events.length;
    await s.killBroker();
    await s.device.waitDown({ from });
    await s.broker.start();
    await s.assertReconnected(from);
    await s.waitDelivered();
    s.assertDelivery(await s.finish());
  });
}

test('MQTT 5: graceful broker restart mid-stream', { ...FAULT_TEST, skip: FAULT_SKIP }, async (t) => {
  const s = await Scenario.start(t, { version: 5 });
  s.startStreams();
  await s.waitFlowing();
  const from = s.device.events.length;
  await s.broker.restart();
  await s.assertReconnected(from);
  await s.waitDelivered();
  s.assertDelivery(await s.finish());
});
