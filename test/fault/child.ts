// A child process that takes JSON commands on stdin and reports JSON events
// on stdout, one per line: the plumbing shared by the worker (worker.ts) and
// the proxy (proxy-process.ts) wrappers. Events are kept in order for the
// life of the wrapper, across restarts, so a test can always ask "has this
// happened yet" without racing the child; an unexpected exit fails every
// wait at once, with the child's stderr attached.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { killPid, onExit } from './cleanup.ts';
import type { FaultNet, Side } from './netns.ts';

/** Appended by the wrapper (not the child) when the child process ends. */
export interface ExitEvent {
  ev: 'exit';
  t: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Answer to a command that carried an `id` (see {@link JsonChild.request}). */
export interface ReplyEvent {
  ev: 'ok' | 'error';
  id: number;
  message?: string;
}

/** Options for a {@link JsonChild}. */
export interface JsonChildOptions {
  /** Name for logs and error messages, e.g. `device`. */
  name: string;
  /** Program and arguments. */
  argv: string[];
  /** Run inside a namespace of this FaultNet. Default: the current namespace. */
  net?: FaultNet;
  /** Which namespace of `net`. Default `'client'`. */
  side?: Side;
  /** Working directory. Default: the repository root. */
  cwd?: string;
  /** The event the child writes once it takes commands. Default `'ready'`. */
  readyEvent?: string;
  /** How long to wait for `readyEvent`, in ms. Default 20,000. */
  readyTimeoutMs?: number;
}

/** Options for {@link JsonChild.waitFor}. */
export interface WaitOptions {
  /** Give up after this many ms. Default 20,000. */
  timeoutMs?: number;
  /** Look at events from this index of `events` on. Default: only events after the call. */
  from?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const LOG_DIR = join(tmpdir(), `sfm-logs-${process.pid}`);
let logDirMade = false;

function logDir(): string {
  if (!logDirMade) {
    logDirMade = true;
    mkdirSync(LOG_DIR, { recursive: true });
    // SFM_KEEP_LOGS=1 keeps the logs of a failing run for a look afterwards.
    if (process.env.SFM_KEEP_LOGS !== '1')
      onExit('files', () => rmSync(LOG_DIR, { recursive: true, force: true }));
  }
  return LOG_DIR;
}

let serial = 0;

export class JsonChild<E extends { ev: string }> {
  /** Every event so far, in order, over every run of the child (exits included). */
  readonly events: (E | ExitEvent)[] = [];
  /** The child's stderr (all runs) goes here. */
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(event: E | ExitEvent) => void>();
  private nextId = 1;
  private unregister: () => void = () => {};

  constructor(readonly options: JsonChildOptions) {
    this.logFile = join(logDir(), `${options.name}-${serial++}.log`);
  }

  /** PID of the running child, or undefined. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Starts the child and waits for its ready event. Throws if it is already running. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.options.name}: already running`);
    const { net, side = 'client', argv, cwd = REPO_ROOT } = this.options;
    const stdio: ['pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe'];
    const child = net ? net.spawn(side, argv, { cwd, stdio }) : spawn(argv[0], argv.slice(1), { cwd, stdio });
    this.child = child;
    const from = this.events.length;
    this.unregister = onExit('process', () => killPid(child.pid));
    child.stderr?.on('data', (chunk: Buffer) => appendFileSync(this.logFile, chunk));
    // A command sent just as the child dies fails with EPIPE; the exit event tells the story.
    child.stdin?.on('error', () => {});
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let event: E;
      try {
        event = JSON.parse(line) as E;
      } catch {
        appendFileSync(this.logFile, `[stdout, not JSON] ${line}\n`);
        return;
      }
      this.record(event);
    });
    // The exit event waits for stdout to end, so it always comes after the child's last event.
    const stdoutDone = new Promise<void>((resolve) => lines.once('close', resolve));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.unregister();
        void stdoutDone.then(() => {
          this.record({ ev: 'exit', t: Date.now(), code, signal });
          resolve();
        });
      });
      child.once('error', (error) => {
        appendFileSync(this.logFile, `[spawn error] ${error.message}\n`);
        this.unregister();
        this.record({ ev: 'exit', t: Date.now(), code: null, signal: null });
        resolve();
      });
    });
    const ready = this.options.readyEvent ?? 'ready';
    await this.waitFor((e) => e.ev === ready, {
      from,
      timeoutMs: this.options.readyTimeoutMs ?? 20_000,
      what: `'${ready}'`,
    });
  }

  /** Calls `listener` with every event from now on; returns a function that stops it. */
  on(listener: (event: E | ExitEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes one command line to the child's stdin. */
  send(command: object): void {
    if (!this.running) throw new Error(`${this.options.name}: not running`);
    this.child!.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** Sends a command with a fresh `id` and waits until the child answers it with `ok` (rejects on `error`). */
  async request(command: object, timeoutMs = 10_000): Promise<void> {
    const id = this.nextId++;
    const from = this.events.length;
    this.send({ ...command, id });
    const reply = (await this.waitFor(
      (e) => (e.ev === 'ok' || e.ev === 'error') && (e as unknown as ReplyEvent).id === id,
      { from, timeoutMs, what: `reply to ${JSON.stringify(command)}` },
    )) as unknown as ReplyEvent;
    if (reply.ev === 'error') throw new Error(`${this.options.name}: ${reply.message}`);
  }

  /**
   * Resolves with the first event (from `options.from`, default: from now)
   * that `accept` takes. Rejects after the timeout, or when the child exits
   * first (unless `accept` takes the exit event), with the stderr tail.
   */
  waitFor(accept: (event: E | ExitEvent) => boolean, options: WaitOptions = {}): Promise<E | ExitEvent> {
    const from = options.from ?? this.events.length;
    for (let i = from; i < this.events.length; i++) {
      if (accept(this.events[i])) return Promise.resolve(this.events[i]);
    }
    const timeoutMs = options.timeoutMs ?? 20_000;
    const what = options.what ?? 'an event';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(this.failure(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((event) => {
        if (accept(event)) {
          clearTimeout(timer);
          off();
          resolve(event);
        } else if (event.ev === 'exit') {
          clearTimeout(timer);
          off();
          reject(this.failure(`exited (${JSON.stringify(event)}) while waiting for ${what}`));
        }
      });
    });
  }

  /** SIGKILL the child and wait until it is gone (and its exit event recorded). */
  async kill9(): Promise<void> {
    killPid(this.pid);
    await this.exited;
  }

  /** SIGTERM, SIGKILL after `graceMs`; waits until it is gone. */
  async terminate(graceMs = 5000): Promise<void> {
    const pid = this.pid;
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => killPid(pid), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  /** Waits until the child has exited on its own (e.g. after an `end` command); kills it after `timeoutMs`. */
  async waitExit(timeoutMs = 10_000): Promise<void> {
    const pid = this.pid;
    const timer = setTimeout(() => killPid(pid), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Starts the child again with the same arguments (kill it first). */
  async restart(): Promise<void> {
    if (this.running) await this.kill9();
    await this.start();
  }

  /** The last `chars` characters of the child's stderr. */
  logTail(chars = 3000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  private record(event: E | ExitEvent): void {
    this.events.push(event);
    for (const listener of [...this.listeners]) listener(event);
  }

  private failure(message: string): Error {
    const tail = this.logTail();
    return new Error(`${this.options.name}: ${message}${tail ? `\n--- stderr ---\n${tail}` : ''}`);
  }
}
