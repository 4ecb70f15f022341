/**
 * The streams of one endpoint: the current stream to each peer, and the
 * streams on their way out (replaced, closed, lingering) that still owe
 * their peer a RESET. Delivers each stream's events to its owner and moves
 * a stream out of `current` once it is over. Portable.
 */
import type { StreamHandlers } from './endpoint-types.ts';
import type { Stream, StreamEvent } from './stream.ts';

/** A stream and whoever owns it. */
export interface StreamEntry {
  stream: Stream;
  /** Undefined while a gateway has not yet accepted the stream. */
  handlers: StreamHandlers | undefined;
  /** Gateway: withdraws the open request. */
  request?: AbortController;
}

export class StreamTable {
  private readonly current = new Map<number, StreamEntry>();
  /** Streams replaced or closed that still linger or owe their RESET. */
  private retiring: StreamEntry[] = [];

  /** The current stream to `peer`. */
  get(peer: number): StreamEntry | undefined {
    return this.current.get(peer);
  }

  /** Every current stream. */
  currentEntries(): StreamEntry[] {
    return [...this.current.values()];
  }

  /** Streams on their way out; they go first when frames are chosen (a RESET precedes a new OPEN). */
  retiringEntries(): StreamEntry[] {
    return [...this.retiring];
  }

  /** Every stream, current and retiring. */
  all(): StreamEntry[] {
    return [...this.current.values(), ...this.retiring];
  }

  /** Makes `stream` the current one to its peer (the caller has retired any earlier one). */
  add(stream: Stream, handlers: StreamHandlers | undefined): StreamEntry {
    const entry: StreamEntry = { stream, handlers };
    this.current.set(stream.config.peer, entry);
    return entry;
  }

  /** The stream a frame from `peer` in `epoch` belongs to, current or retiring. */
  find(peer: number, epoch: number): StreamEntry | undefined {
    const entry = this.current.get(peer);
    if (entry !== undefined && entry.stream.epoch === epoch) return entry;
    return this.retiring.find((e) => e.stream.config.peer === peer && e.stream.epoch === epoch);
  }

  /** Ends the current stream to `peer` (if any) with `reason` and moves it to the retiring list. */
  retire(peer: number, reason: number): void {
    const entry = this.current.get(peer);
    if (entry === undefined) return;
    this.current.delete(peer);
    entry.request?.abort();
    if (entry.stream.state !== 'closed' && entry.stream.state !== 'closing') entry.stream.abort(reason);
    this.dispatch(entry);
    if (!entry.stream.finished) this.retiring.push(entry);
  }

  /**
   * Ends every stream with `peer` without a RESET: the peer opened a new
   * stream, so it has left the old ones already. A RESET for an old stream
   * could even hit the new one, when a restarted peer happened to pick the
   * same epoch (4 bits, random at start).
   */
  supersede(peer: number, message: string): void {
    for (const entry of this.all()) {
      if (entry.stream.config.peer !== peer) continue;
      entry.request?.abort();
      entry.stream.fail(message);
      this.dispatch(entry);
    }
    this.current.delete(peer);
    this.retiring = this.retiring.filter((e) => e.stream.config.peer !== peer);
  }

  /** Aborts every retiring stream to `peer` that has not ended yet, so each owes its RESET now. */
  abortRetiring(peer: number, reason: number): void {
    for (const entry of this.retiring) {
      if (entry.stream.config.peer !== peer || entry.stream.state === 'closed') continue;
      entry.stream.abort(reason);
      this.dispatch(entry);
    }
  }

  /** Ends every stream without a word to the peers (the radio is gone) and forgets them. */
  failAll(message: string): void {
    for (const entry of this.all()) {
      entry.request?.abort();
      entry.stream.fail(message);
      this.dispatch(entry);
    }
    this.current.clear();
    this.retiring = [];
  }

  /** Delivers the stream's events to its owner; a stream that is over leaves `current`, a finished one the table. */
  dispatch(entry: StreamEntry): void {
    const events: StreamEvent[] = entry.stream.takeEvents();
    const { stream } = entry;
    if (stream.state === 'closed' || stream.state === 'closing') {
      // A stream on its way out no longer counts as the peer's current one.
      const peer = stream.config.peer;
      if (this.current.get(peer) === entry) {
        this.current.delete(peer);
        if (!stream.finished) this.retiring.push(entry);
      }
    }
    if (stream.finished) this.retiring = this.retiring.filter((e) => e !== entry);
    const handlers = entry.handlers;
    if (handlers === undefined) return;
    for (const event of events) {
      switch (event.type) {
        case 'open':
          handlers.open?.();
          break;
        case 'data':
          handlers.data(event.bytes);
          break;
        case 'drain':
          handlers.drain?.();
          break;
        case 'closed':
          handlers.closed(event.end);
          break;
        default: {
          const unknown: never = event;
          throw new Error(`unreachable: ${String(unknown)}`);
        }
      }
    }
  }
}
