// AP outage: the device's link goes down mid-stream, long enough for the
// device to notice, then comes back. Nothing may be lost or doubled.
import { test } from 'node:test';
import { FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: link down until the device notices, then up`, {
    ...FAULT_TEST,
    skip: FAULT_SKIP,
  }, async (t) => {
    const s = await Scenario.start(t, { version });
    s.startStreams();
    await s.waitFlowing();
    const from = s.device.events.length;
    await s.net.linkDown();
    await s.device.waitDown({ from, timeoutMs: 15_000 });
    await s.net.linkUp();
    await s.assertReconnected(from);
    await s.waitDelivered();
    s.assertDelivery(await s.finish());
  });
}
