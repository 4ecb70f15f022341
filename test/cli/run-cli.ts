// Runs the `steadfast` command as a child process (through tsx, as in a
// source checkout), with its own environment and working directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

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
