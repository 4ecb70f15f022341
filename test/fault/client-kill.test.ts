// The device's own process dies: kill -9 at random instants mid-stream, three
// times, each followed by a restart with the same client id and the same
// FileStore. Every QoS 1/2 message the dead process had accepted is re-sent
// from the store by the next one, and no inbound QoS 2 message is delivered
// twice, whatever instant the kill landed on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAULT_SKIP, FAULT_TEST, Scenario, TOPICS } from './scenario.ts';

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: client process kill -9 and restart with the file store`, {
    ...FAULT_TEST,
    skip: FAULT_SKIP,
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-client-kill-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const s = await Scenario.start(t, {
      version,
      device: { store: join(dir, 'device.store') },
      interval: 30,
    });
    s.startStreams();
    await s.waitFlowing();
    const kills: number[] = [];
    let lastStart = 0;
    for (let round = 1; round <= 3; round++) {
      const wait = Math.round(100 + Math.random() * 900);
      kills.push(wait);
      await sleep(wait);
      const from = s.device.events.length;
      lastStart = from;
      await s.device.kill9();
      await s.device.restart();
      // The new process publishes from a fresh range; what the dead one held is the store's.
      for (const [topic, qos] of [
        [TOPICS.up1, 1],
        [TOPICS.up2, 2],
      ] as const) {
        s.device.publish({ topic, qos, count: 20, from: round * 10_000, interval: 30 });
      }
      const up = await s.device.waitUp({ from, timeoutMs: 30_000 });
      if (!up.sessionPresent) throw new Error(`round ${round}: the session was not resumed`);
    }
    t.diagnostic(`kills after ${kills.join(', ')} ms`);
    // The last process's own series must settle before the streams are judged complete.
    for (const topic of [TOPICS.up1, TOPICS.up2]) {
      await s.device.waitFor((e) => e.ev === 'pubdone' && e.topic === topic, {
        from: lastStart,
        timeoutMs: 30_000,
        what: `the last series on ${topic}`,
      });
    }
    await s.waitDelivered();
    s.assertDelivery(await s.finish());
  });
}
