/**
 * The write side of the supervisor's connection: bytes from the session are
 * batched and written once per turn of the event loop, after the store's
 * write barrier, and a write that stops making progress is reported dead.
 * One writer serves every connection of a client, attached to one at a time.
 */
import { concatBytes, contiguousRuns } from '../links/batch.ts';
import type { Connection } from '../links/types.ts';
import type { SessionStore } from '../session/store.ts';
import { deferFlush, type SupervisorClock } from './supervisor-clock.ts';

export interface BatchedWriterHooks {
  /** A batch was written (the stall probe looks whether a request now waits for an answer). */
  wrote(): void;
  /** The link's buffer did not shrink for the write timeout: the link is dead. */
  stalled(): void;
}

export class BatchedWriter {
  #connection: Connection | undefined;
  #batch: Uint8Array[] = [];
  #flushScheduled = false;
  /** Write-progress watch: armed while the link has not drained. */
  #drainTimer: unknown;
  #drainBuffered = 0;
  readonly #clock: SupervisorClock;
  /** Ms a write may go without any progress in draining. */
  readonly #writeTimeout: number;
  /** Its `sync()` is the write barrier before every link write. */
  readonly #store: SessionStore | undefined;
  readonly #hooks: BatchedWriterHooks;

  constructor(
    clock: SupervisorClock,
    writeTimeout: number,
    store: SessionStore | undefined,
    hooks: BatchedWriterHooks,
  ) {
    this.#clock = clock;
    this.#writeTimeout = writeTimeout;
    this.#store = store;
    this.#hooks = hooks;
  }

  /** From now on, batches go to `connection`. */
  attach(connection: Connection): void {
    this.#connection = connection;
  }

  /** The connection ends: what is batched goes out first; nothing is written after. */
  detach(): void {
    this.flush();
    if (this.#drainTimer !== undefined) this.#clock.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#connection = undefined;
    this.#batch = [];
  }

  /** Bytes from the session: written in one batch at the end of this turn (dropped with no connection). */
  write(bytes: Uint8Array): void {
    if (this.#connection === undefined) return;
    this.#batch.push(bytes);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      deferFlush(this.flush);
    }
  }

  /** Writes now what is batched (before a close, so DISCONNECT goes out). */
  readonly flush = (): void => {
    this.#flushScheduled = false;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const connection = this.#connection;
    if (connection === undefined) return;
    // The write barrier: nothing reaches the wire that the store could forget.
    this.#store?.sync();
    // Packets side by side in the codec's slab go as one view; only what is not adjacent is
    // written apart (writev) or, on a link without writev, joined.
    const runs = contiguousRuns(batch);
    const ok =
      runs.length === 1
        ? connection.write(runs[0])
        : connection.writev !== undefined
          ? connection.writev(runs)
          : connection.write(concatBytes(runs));
    if (!ok) this.#watchDrain();
    this.#hooks.wrote();
  };

  /** The link drained (its `drain` handler): the write made it. */
  readonly onDrain = (): void => {
    if (this.#drainTimer === undefined) return;
    this.#clock.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  };

  /**
   * The link is not keeping up. A slow link is fine as long as it makes
   * progress; one whose buffer has not shrunk for the write timeout is dead
   * (a stalled radio, a send window that never opens).
   */
  #watchDrain(): void {
    if (this.#drainTimer !== undefined || this.#connection === undefined) return;
    this.#drainBuffered = this.#connection.bufferedAmount;
    this.#drainTimer = this.#clock.setTimeout(this.#onDrainTimer, this.#writeTimeout);
  }

  readonly #onDrainTimer = (): void => {
    this.#drainTimer = undefined;
    const connection = this.#connection;
    if (connection === undefined || connection.bufferedAmount === 0) return;
    if (connection.bufferedAmount < this.#drainBuffered) return this.#watchDrain();
    this.#hooks.stalled();
  };
}
