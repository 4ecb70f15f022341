// Random packet loss (20 % both ways) for a few seconds mid-stream. TCP
// retransmits through most of it; whether the device also has to reconnect
// is up to chance, so only delivery is asserted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

test('MQTT 5: 20 % loss both ways for 3 s mid-stream', { ...FAULT_TEST, skip: FAULT_SKIP }, async (t) => {
  const s = await Scenario.start(t, { version: 5 });
  s.startStreams();
  await s.waitFlowing();
  await s.net.loss(0.2);
  await sleep(3000); // the fault lasts a fixed time: there is no event to wait for
  const { iptablesDropped } = await s.net.stats();
  await s.net.clearLoss();
  assert.ok(iptablesDropped > 0, 'the loss rules dropped nothing');
  const outages = s.device.events.filter((e) => e.ev === 'down' && e.wasUp).length;
  t.diagnostic(`${iptablesDropped} packets dropped, ${outages} outage(s) noticed by the device`);
  await s.waitDelivered();
  s.assertDelivery(await s.finish());
});
