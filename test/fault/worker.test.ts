// The worker processes themselves, with both client libraries: a round trip,
// and kill -9 + restart with the same arguments resuming the session (what
// the client-kill tests and the soak build on). Needs root (namespaces).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { NsBroker } from './broker.ts';
import { DeliveryChecker, formatReport } from './checker.ts';
import { FaultNet } from './netns.ts';
import { FAST, FAULT_SKIP } from './scenario.ts';
import { Worker, type WorkerOptions } from './worker.ts';

const OPTS = { skip: FAULT_SKIP, timeout: 60_000 };

interface Setup {
  net: FaultNet;
  broker: NsBroker;
  /** Starts a worker that is ended before the broker and the namespaces go. */
  worker(options: WorkerOptions): Promise<Worker>;
}

async function setUp(t: TestContext): Promise<Setup> {
  const net = await FaultNet.create();
  const workers: Worker[] = [];
  let broker: NsBroker | undefined;
  t.after(async () => {
    for (const w of workers) await w.end().catch(() => w.kill9());
    await broker?.destroy();
    await net.destroy();
  });
  broker = await NsBroker.start({ net });
  return {
    net,
    broker,
    async worker(options) {
      const w = await Worker.start(options);
      workers.push(w);
      return w;
    },
  };
}

for (const lib of ['steadfast', 'mqttjs'] as const) {
  test(`${lib}: round trip, then kill -9 and restart resume the session`, OPTS, async (t) => {
    const { net, broker, worker } = await setUp(t);
    const w = await worker({ lib, net, url: broker.url, clientId: `w-${lib}`, version: 4, ...FAST });
    await w.waitUp({ from: 0 });
    await w.subscribe('w/q1', 1);
    w.publish({ topic: 'w/q1', qos: 1, count: 10 });
    await w.waitPublished('w/q1');
    let got = 0;
    await w.waitFor((e) => e.ev === 'recv' && ++got === 10, { from: 0, what: '10 messages' });
    const checker = new DeliveryChecker();
    checker.recordAll(w.events);
    const report = checker.report();
    assert.equal(report.byQos[1].received, 10, formatReport(report));

    await w.kill9();
    const from = w.events.length;
    await w.restart();
    const up = await w.waitUp({ from });
    assert.ok(up.sessionPresent, 'the restarted worker resumed its session');
  });
}

test('steadfast: --store loads the file store', OPTS, async (t) => {
  const { net, broker, worker } = await setUp(t);
  const dir = mkdtempSync(join(tmpdir(), 'sfm-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'device.store');
  const w = await worker({ net, url: broker.url, clientId: 'w-store', store: file, ...FAST });
  await w.waitUp({ from: 0 });
});

test('a worker with bad arguments exits with a clear error', { timeout: 20_000 }, async () => {
  await assert.rejects(
    Worker.start({ lib: 'mqttjs', url: 'mqtt://127.0.0.1:1', clientId: 'x', store: '/nonexistent' }),
    /--store is for the steadfast worker only/,
  );
});
