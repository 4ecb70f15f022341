/**
 * The medium's clock. Modelled time runs `timeScale` times faster than the
 * wall clock: `now()` is modelled ms since the medium started, and a wait of
 * `ms` modelled milliseconds takes `ms / timeScale` wall-clock milliseconds.
 * Every timer the medium starts goes through here, so `cancelAll()` leaves
 * nothing running.
 */

/** Where wall-clock time comes from; `performance.now()` unless a test passes its own. */
export type WallClock = () => number;

/** A running timer; `cancel` stops it. */
export interface TimerHandle {
  timer?: ReturnType<typeof setTimeout>;
  immediate?: unknown;
}

/**
 * `setImmediate` where the engine has it (Node, Bun, Deno): a wait shorter than
 * a millisecond of wall clock polls on it instead of sleeping a whole
 * millisecond in `setTimeout`, so sub-millisecond airtimes (nRF24 frames, high
 * time scales) run at their modelled speed rather than one frame per ms.
 */
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
const clearImmediateFn = (globalThis as { clearImmediate?: (handle: unknown) => void }).clearImmediate;

function stop(handle: TimerHandle): void {
  if (handle.timer !== undefined) clearTimeout(handle.timer);
  if (handle.immediate !== undefined) clearImmediateFn?.(handle.immediate);
}

export class ScaledClock {
  private readonly origin: number;
  private readonly timers = new Set<TimerHandle>();

  constructor(
    readonly timeScale: number,
    private readonly wall: WallClock = () => performance.now(),
  ) {
    this.origin = wall();
  }

  /** Modelled ms since the medium started. */
  now(): number {
    return (this.wall() - this.origin) * this.timeScale;
  }

  /**
   * Runs `fn` once `modelMs` modelled milliseconds have passed. Timers may fire
   * a little early by `now()` (Node rounds to its own millisecond loop time):
   * those are re-armed, so when `fn` runs the modelled time has really been
   * reached and a radio reacting at once does not overlap the frame it reacts to.
   */
  after(modelMs: number, fn: () => void): TimerHandle {
    const handle: TimerHandle = {};
    const target = this.now() + modelMs;
    const fire = () => {
      this.timers.delete(handle);
      handle.timer = undefined;
      handle.immediate = undefined;
      const left = target - this.now();
      if (left > 0) arm(left);
      else fn();
    };
    const arm = (ms: number) => {
      const wallMs = ms / this.timeScale;
      if (wallMs < 1 && immediate) handle.immediate = immediate(fire);
      else handle.timer = setTimeout(fire, wallMs);
      this.timers.add(handle);
    };
    arm(modelMs);
    return handle;
  }

  cancel(handle: TimerHandle): void {
    stop(handle);
    this.timers.delete(handle);
  }

  cancelAll(): void {
    for (const handle of this.timers) stop(handle);
    this.timers.clear();
  }
}
