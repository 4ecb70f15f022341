// A half-open stretch that heals before anything declares the link dead: every
// packet is silently dropped both ways for 10 s, at the client's default
// settings (keepalive 60 s: no deadline comes near). TCP's retransmission
// backoff alone would resume the old connection seconds after the heal; the
// stall probe opens a fresh connection each second while requests go
// unanswered, so the client is through within a second of the heal, in both
// directions, and nothing is lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_SKIP, FAULT_TEST, Scenario } from './scenario.ts';

const DARK_MS = 10_000;
/** The goal (1 s) plus what two processes and a namespace add to the measurement. */
const RECOVERY_BOUND_MS = 1300;
/** The defaults, over the harness's fast settings. */
const DEFAULTS = { keepalive: 60, reconnectPeriod: 1000, reconnectPeriodMax: 30_000, connectTimeout: 30_000 };

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: a 10 s half-open stretch at the defaults: through within a second of the heal, both ways`, {
    ...FAULT_TEST,
    skip: FAULT_SKIP,
  }, async (t) => {
    const s = await Scenario.start(t, {
      version,
      device: { ...DEFAULTS, responseTimeout: undefined },
      count: 400,
      interval: 50,
    });
    s.startStreams();
    await s.waitFlowing();
    await s.net.blackhole();
    await new Promise((resolve) => setTimeout(resolve, DARK_MS));
    const from = s.device.events.length;
    await s.net.clearBlackhole();
    const healedAt = Date.now();
    const acked = await s.device.waitFor((e) => e.ev === 'acked', {
      from,
      timeoutMs: 20_000,
      what: 'a publish acked after the heal',
    });
    const received = await s.device.waitFor((e) => e.ev === 'recv', {
      from,
      timeoutMs: 20_000,
      what: 'a message received after the heal',
    });
    const up = s.device.events.slice(from).find((e) => e.ev === 'up');
    const at = (e: { t?: number }) => (e.t ?? Number.NaN) - healedAt;
    const recovery = { acked: at(acked as { t?: number }), received: at(received as { t?: number }) };
    t.diagnostic(
      `after the heal: first ack ${recovery.acked} ms, first message ${recovery.received} ms, ${up ? 'moved to a fresh connection' : 'same connection'}`,
    );
    assert.ok(
      recovery.acked <= RECOVERY_BOUND_MS,
      `first ack ${recovery.acked} ms after the heal\n${s.timeline()}`,
    );
    assert.ok(
      recovery.received <= RECOVERY_BOUND_MS,
      `first message ${recovery.received} ms after the heal\n${s.timeline()}`,
    );
    await s.waitDelivered();
    s.assertDelivery(await s.finish());
  });
}
