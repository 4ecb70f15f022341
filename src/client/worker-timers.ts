/**
 * Timers from a dedicated Web Worker, for pages that must stay connected in a
 * hidden tab. Browsers throttle a hidden page's own timers (Chrome: at most
 * one wake-up a second after a few seconds hidden, once a minute for chained
 * timers after five minutes), so a 30 s keepalive can fire minutes late and
 * the broker drops the connection. A dedicated worker's timers are not
 * throttled that way; the worker only counts time and posts back, the client
 * still runs on the page. One worker serves every client of the page.
 *
 * Where there is no Worker (Node, small engines), or the page may not start
 * one (a Content Security Policy without `worker-src blob:`), the page's own
 * timers are used; a worker that fails after it started hands its pending
 * timers back to them.
 */
import type { SupervisorClock } from './supervisor.ts';

/** The worker: `[0, id, ms]` arms timer `id`, `[1, id]` clears it; it posts `id` when one fires. */
const WORKER_SOURCE =
  'const t=new Map;onmessage=e=>{const[o,i,m]=e.data;if(o===0)t.set(i,setTimeout(()=>{t.delete(i);postMessage(i)},m));else{clearTimeout(t.get(i));t.delete(i)}}';

interface Pending {
  callback: () => void;
  at: number;
  /** The page's own timer, once the worker failed. */
  fallback?: ReturnType<typeof setTimeout>;
}

let shared: SupervisorClock | undefined;

/** Whether this runtime can run worker timers: a browser page with Worker, Blob and object URLs. */
export function canUseWorkerTimers(): boolean {
  return (
    typeof Worker === 'function' &&
    typeof Blob === 'function' &&
    typeof URL !== 'undefined' &&
    typeof URL.createObjectURL === 'function' &&
    typeof document !== 'undefined'
  );
}

/** The page's worker clock (made on first use), or undefined where workers cannot be used. */
export function workerClock(): SupervisorClock | undefined {
  if (shared !== undefined) return shared;
  if (!canUseWorkerTimers()) return undefined;
  let worker: Worker;
  try {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    worker = new Worker(url);
  } catch {
    return undefined;
  }
  const pending = new Map<number, Pending>();
  let failed = false;
  let next = 1;
  const now = () => globalThis.performance.now();
  const fire = (id: number) => {
    const entry = pending.get(id);
    if (entry === undefined) return;
    pending.delete(id);
    entry.callback();
  };
  const arm = (id: number, entry: Pending) => {
    entry.fallback = setTimeout(() => fire(id), Math.max(0, entry.at - now()));
  };
  worker.onmessage = (event: MessageEvent<number>) => fire(event.data);
  worker.onerror = () => {
    failed = true;
    worker.terminate();
    for (const [id, entry] of pending) arm(id, entry);
  };
  shared = {
    now,
    setTimeout(callback, ms) {
      const id = next++;
      const entry: Pending = { callback, at: now() + ms };
      pending.set(id, entry);
      if (failed) arm(id, entry);
      else worker.postMessage([0, id, ms]);
      return id;
    },
    clearTimeout(handle) {
      const id = handle as number;
      const entry = pending.get(id);
      if (entry === undefined) return;
      pending.delete(id);
      if (entry.fallback !== undefined) clearTimeout(entry.fallback);
      else if (!failed) worker.postMessage([1, id]);
    },
    random: Math.random,
  };
  return shared;
}

/** The clock for the `timers` option: the worker's in a browser page unless told 'main'. */
export function clockFor(timers: 'auto' | 'main' | 'worker' | undefined): SupervisorClock | undefined {
  return timers === 'main' ? undefined : workerClock();
}
