// Parent side of worker-main.ts: starts a client process (in a namespace
// when given one), sends it commands and waits for what it reports. Events
// are kept for the wrapper's life, across kill -9 and restarts, so they can be
// fed to the checker as they come or all at the end.
import { type ExitEvent, JsonChild, type WaitOptions } from './child.ts';
import type { FaultNet, Side } from './netns.ts';
import { type WorkerConfig, type WorkerEvent, workerArgs } from './worker-protocol.ts';

/** Options for {@link Worker.start}: the client's configuration plus where to run it. */
export interface WorkerOptions extends WorkerConfig {
  /** Name in logs and errors. Default: the client id. */
  name?: string;
  /** Run inside a namespace of this FaultNet. Default: the test's own namespace. */
  net?: FaultNet;
  /** Which namespace of `net`. Default `'client'`. */
  side?: Side;
}

/** Options for {@link Worker.publish}. */
export interface PublishSeries {
  topic: string;
  qos: 0 | 1 | 2;
  /** Number of messages. */
  count: number;
  /** First sequence number. Default 0. */
  from?: number;
  /** ms between publishes (they never wait for each other). Default 0. */
  interval?: number;
  /** Pad payloads to this many bytes. Default: no padding. */
  size?: number;
}

export type AnyWorkerEvent = WorkerEvent | ExitEvent;

const MAIN = new URL('./worker-main.ts', import.meta.url).pathname;

export class Worker {
  readonly child: JsonChild<WorkerEvent>;

  private constructor(readonly options: WorkerOptions) {
    this.child = new JsonChild<WorkerEvent>({
      name: options.name ?? options.clientId,
      net: options.net,
      side: options.side ?? 'client',
      argv: [process.execPath, '--import', 'tsx', MAIN, ...workerArgs(options)],
    });
  }

  /** Starts the worker and waits until it takes commands (its client is started, not necessarily up). */
  static async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    await worker.child.start();
    return worker;
  }

  get name(): string {
    return this.child.options.name;
  }

  /** Whether the process is running (false after a crash, a kill -9 or `end`). */
  get running(): boolean {
    return this.child.running;
  }

  /** Every event so far, over every run. */
  get events(): readonly AnyWorkerEvent[] {
    return this.child.events;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Calls `listener` with every event from now on; returns a function that stops it. */
  on(listener: (event: AnyWorkerEvent) => void): () => void {
    return this.child.on(listener);
  }

  /** See {@link JsonChild.waitFor}. */
  waitFor(accept: (event: AnyWorkerEvent) => boolean, options?: WaitOptions): Promise<AnyWorkerEvent> {
    return this.child.waitFor(accept, options);
  }

  /** Waits for the next `up` (or the first since event index `from`). */
  async waitUp(options: WaitOptions = {}): Promise<AnyWorkerEvent & { ev: 'up' }> {
    return (await this.waitFor((e) => e.ev === 'up', { what: "'up'", ...options })) as AnyWorkerEvent & {
      ev: 'up';
    };
  }

  /** Waits for the next `down` of a connection that was up (or the first since `from`). */
  async waitDown(options: WaitOptions = {}): Promise<AnyWorkerEvent & { ev: 'down' }> {
    const event = await this.waitFor((e) => e.ev === 'down' && e.wasUp, { what: "'down'", ...options });
    return event as AnyWorkerEvent & { ev: 'down' };
  }

  /** Subscribes and waits for the SUBACK; rejects if the worker reports the subscribe failed. */
  async subscribe(filter: string, qos: 0 | 1 | 2, timeoutMs = 20_000): Promise<void> {
    const from = this.events.length;
    this.child.send({ cmd: 'subscribe', filter, qos });
    const event = await this.waitFor(
      (e) => (e.ev === 'subscribed' && e.filter === filter) || (e.ev === 'error' && e.cmd === 'subscribe'),
      { from, timeoutMs, what: `SUBACK for ${filter}` },
    );
    if (event.ev === 'error') throw new Error(`${this.name}: subscribe ${filter} failed: ${event.message}`);
  }

  /**
   * Starts a series of publishes and returns at once; `pub`/`acked` events
   * follow. Wait for the end with {@link waitPublished}.
   */
  publish(series: PublishSeries): void {
    this.child.send({ cmd: 'publish', ...series });
  }

  /** Waits until every publish of the series on `topic` has settled (`pubdone`). */
  async waitPublished(topic: string, options: WaitOptions = {}): Promise<void> {
    await this.waitFor((e) => e.ev === 'pubdone' && e.topic === topic, {
      what: `all publishes on ${topic} to settle`,
      from: 0,
      ...options,
    });
  }

  /** Ends the client cleanly (DISCONNECT) and waits for the process to exit. No-op when not running. */
  async end(timeoutMs = 10_000): Promise<void> {
    if (!this.child.running) return;
    this.child.send({ cmd: 'end' });
    await this.child.waitExit(timeoutMs);
  }

  /** SIGKILL: the client gets no chance to do anything. Events it wrote are kept. */
  kill9(): Promise<void> {
    return this.child.kill9();
  }

  /** Starts the worker again with the same arguments (same client id, same store): kill it first. */
  restart(): Promise<void> {
    return this.child.restart();
  }

  /** The worker's stderr, for failure messages. */
  logTail(chars?: number): string {
    return this.child.logTail(chars);
  }
}
