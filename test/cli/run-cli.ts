// Runs the `steadfast` command as a child process (through tsx, as in a
// source checkout), with its own environment and working directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestContext } from 'node:test';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment variables; STEADFAST_* from the test's own environment are removed. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill after this many ms. Default 60,000. */
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
}

const MAIN = resolve('src/cli/main.ts');
const TSX = resolve('node_modules/tsx/dist/loader.mjs');

export function steadfast(args: string[], options: RunOptions = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('STEADFAST_')) delete env[key];
  // No config file from the machine running the tests.
  env.XDG_CONFIG_HOME = '/nonexistent-steadfast-test';
  Object.assign(env, options.env);
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      env,
      cwd: options.cwd ?? process.cwd(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

/** Resolves once `text` appears on the child's stderr (or rejects after `ms`). */
export function stderrShows(child: ChildProcess, text: RegExp, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`stderr never showed ${text}: ${seen}`)), ms);
    child.stderr?.on('data', (d) => {
      seen += d;
      if (text.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** A CLI process that keeps running: its output so far, and how it ended. */
export interface Background {
  child: ChildProcess;
  out: () => string;
  ended: Promise<Run>;
}

/** Starts `steadfast ARGS` and keeps it running; killed (SIGKILL, by its PID) if the test ends first. */
export function background(t: TestContext, timeoutMs: number, args: string[]): Background {
  let out = '';
  let spawned: ChildProcess | undefined;
  const ended = steadfast(args, {
    timeoutMs,
    onSpawn: (child) => {
      spawned = child;
      child.stdout?.on('data', (d) => (out += d));
      child.stderr?.on('data', (d) => (out += d));
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    },
  });
  // steadfast() spawns synchronously, before it returns.
  if (spawned === undefined) throw new Error('steadfast did not spawn');
  return { child: spawned, out: () => out, ended };
}

/** Waits until the process's output matches `text`; fails if it exits first or after `ms`. */
export async function shows(process: Background, text: RegExp, what: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!text.test(process.out())) {
    if (Date.now() > deadline) throw new Error(`${what}: ${text} never showed; output:\n${process.out()}`);
    if (process.child.exitCode !== null)
      throw new Error(`${what}: exited ${process.child.exitCode}:\n${process.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
