/**
 * One share of the storm bench's fleet, in its own process (bench/storm.ts
 * forks several, so the clients' own work spreads over the cores). Over IPC it
 * gets a `FleetJob`, opens that many idle clients without waiting for them,
 * answers `{ ready: true }`, and on `{ cmd: 'end' }` ends them and exits.
 * Each client is used with its library's defaults except the keepalive
 * (see bench/lib/contenders.ts).
 */
import { type BenchClient, type Lib, openClient } from '../lib/contenders.ts';
import { sleep } from '../lib/report.ts';

export interface FleetJob {
  cmd: 'start';
  lib: Lib;
  url: string;
  count: number;
  /** Client ids are `<idPrefix><n>`. */
  idPrefix: string;
  /** Seconds. */
  keepalive: number;
}

/** Clients opened per tick: the first connects are not what is measured, so they are spread out. */
const BATCH = 100;
const BATCH_GAP_MS = 20;
/** How long `end` may take before the process exits anyway. */
const END_GRACE_MS = 3000;

const clients: BenchClient[] = [];

async function start(job: FleetJob): Promise<void> {
  for (let i = 0; i < job.count; i++) {
    clients.push(
      await openClient(
        job.lib,
        { url: job.url, clientId: `${job.idPrefix}${i}`, keepalive: job.keepalive },
        false,
      ),
    );
    if (i % BATCH === BATCH - 1) await sleep(BATCH_GAP_MS);
  }
  process.send?.({ ready: true });
}

async function end(): Promise<void> {
  await Promise.race([Promise.allSettled(clients.map((c) => c.end())), sleep(END_GRACE_MS)]);
  process.exit(0);
}

process.on('message', (msg: FleetJob | { cmd: 'end' }) => {
  const run = msg.cmd === 'start' ? start(msg) : end();
  run.catch((error: unknown) => {
    console.error('storm fleet:', error);
    process.exit(1);
  });
});
// The parent gone (killed, crashed): do not linger with thousands of sockets.
process.on('disconnect', () => process.exit(0));
