// Small process and port helpers shared by the broker starters (mosquitto.ts, ejabberd.ts).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
