/**
 * A fake clock for the Supervisor and what runs on it: timers fire only when
 * a test moves time with `until()`, and the jitter is fixed, so every time a
 * test asserts is exact.
 */
import type { SupervisorClock } from '../../src/client/supervisor.ts';

export class FakeClock implements SupervisorClock {
  t = 0;
  jitter = 0.5;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }
  random(): number {
    return this.jitter;
  }
  /** Moves time to `target`, running each timer due on the way (and the promises it settles). */
  async until(target: number): Promise<void> {
    for (;;) {
      await settle();
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (first === undefined || entry[1].at < first[1].at) first = entry;
      if (first === undefined || first[1].at > target) break;
      this.timers.delete(first[0]);
      this.t = first[1].at;
      first[1].fn();
    }
    this.t = target;
    await settle();
  }
}

/**
 * Lets everything pending run before the clock moves: promise chains, and the
 * supervisor's batched writes, which go out at the end of a turn of the event
 * loop (setImmediate), so a write and its answer take two turns.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}
