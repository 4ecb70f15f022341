// Last-resort cleanup for everything the fault harness creates: child
// processes, network namespaces, temp directories. Tests clean up with
// t.after(); this runs the same teardown synchronously when the process exits
// or is interrupted before that, so a failing or killed test run leaves no
// broker, worker or namespace behind. Only what was registered here is
// touched, and processes only by their PID.

/** Teardown steps run in this order: processes before namespaces, namespaces before files. */
export type CleanupStage = 'process' | 'netns' | 'files';

const STAGES: CleanupStage[] = ['process', 'netns', 'files'];
const pending = new Map<CleanupStage, Set<() => void>>(STAGES.map((s) => [s, new Set()]));
let hooked = false;

function runAll(): void {
  for (const stage of STAGES) {
    const steps = pending.get(stage)!;
    for (const step of [...steps]) {
      try {
        step();
      } catch {
        // best effort: one failed step must not keep the others from running
      }
    }
    steps.clear();
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      // Die by the signal as usual unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * Registers a synchronous teardown step to run at process exit (or on
 * SIGINT/SIGTERM/SIGHUP). Returns a function that unregisters it, to call
 * once the resource has been released normally.
 */
export function onExit(stage: CleanupStage, step: () => void): () => void {
  hook();
  const steps = pending.get(stage)!;
  steps.add(step);
  return () => steps.delete(step);
}

/** Sends SIGKILL to `pid` if it still exists; never throws. */
export function killPid(pid: number | undefined): void {
  if (pid === undefined || pid <= 1) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
