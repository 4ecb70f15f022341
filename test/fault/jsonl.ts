// The child side of the JSON-lines protocol (see child.ts for the parent
// side): commands come one per line on stdin, events go one per line to
// stdout. Events are written with a synchronous write, so when the process is
// killed with SIGKILL every event it reported is already in the pipe: a test
// can trust that "not reported" means "did not happen before the kill".
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Writes one event line to stdout, synchronously. */
export function emit(event: object): void {
  const line = Buffer.from(`${JSON.stringify(event)}\n`);
  let offset = 0;
  while (offset < line.length) {
    try {
      offset += writeSync(1, line, offset);
    } catch (error) {
      // stdout is a non-blocking pipe: when the parent is slow to read, wait
      // for room instead of losing the event.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** A command as received: `cmd` names it; `id`, when present, asks for an `ok`/`error` reply. */
export interface Command {
  cmd: string;
  id?: number;
  [key: string]: unknown;
}

/**
 * Reads commands from stdin and runs `handle` on each, in order. A command
 * with an `id` is answered `{ev:'ok', id}` once `handle` has resolved, or
 * `{ev:'error', id, message}`; a failing command without an id is reported
 * as `{ev:'error', cmd, message}`. `onClose` runs when stdin ends (the
 * parent went away).
 */
export function serveCommands(handle: (command: Command) => Promise<void> | void, onClose: () => void): void {
  const lines = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    chain = chain.then(async () => {
      let command: Command | undefined;
      try {
        command = JSON.parse(line) as Command;
        await handle(command);
        if (command.id !== undefined) emit({ ev: 'ok', id: command.id });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        emit({ ev: 'error', id: command?.id, cmd: command?.cmd, message });
      }
    });
  });
  lines.on('close', onClose);
}

/** Parses `--name value` pairs (and bare `--flag` as `'true'`). */
export function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      flags.set(arg.slice(2), 'true');
    } else {
      flags.set(arg.slice(2), next);
      i++;
    }
  }
  return flags;
}
