// Process, port and clean-up helpers shared by the broker starters (mosquitto.ts, ejabberd.ts).
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';

/** Whether something accepts TCP connections on 127.0.0.1:`port` (within a second). */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A log file's contents from `from` on ('' when it does not exist yet). */
export function readTail(file: string, from = 0): string {
  try {
    return readFileSync(file, 'utf8').slice(from);
  } catch {
    return '';
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Broker processes and temp directories a test process started: killed and
 * removed when it exits (or takes SIGINT/SIGTERM/SIGHUP), whatever the tests did.
 */
export class ExitCleanup {
  readonly #live = new Set<ChildProcess>();
  readonly #dirs = new Set<string>();
  #hooked = false;

  /** Kill `proc` at exit unless it has exited by then. */
  child(proc: ChildProcess): void {
    this.#hook();
    this.#live.add(proc);
    proc.once('exit', () => this.#live.delete(proc));
  }

  /** Remove `path` at exit unless `forgetDir` says it is gone. */
  dir(path: string): void {
    this.#hook();
    this.#dirs.add(path);
  }

  forgetDir(path: string): void {
    this.#dirs.delete(path);
  }

  #killAllSync = (): void => {
    for (const child of this.#live) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.#live.clear();
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  };

  #hook(): void {
    if (this.#hooked) return;
    this.#hooked = true;
    process.once('exit', this.#killAllSync);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        this.#killAllSync();
        // Keep the default behaviour (die by the signal) unless someone else handles it.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
}
