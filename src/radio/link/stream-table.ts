/**
 * The streams of one endpoint: the current stream to each peer, the
 * streams on their way out (replaced, closed, lingering) that still owe
 * their peer a RESET, and on a secure gateway the stream each node has
 * asked for but not yet proved (pending: an OPEN may be a replay, so it
 * replaces nothing until a frame under the new stream's key arrives).
 * Delivers each stream's events to its owner and moves a stream out of
 * `current` once it is over. Portable.
 */
import type { SecureStreamState } from './codec.ts';
import type { StreamHandlers } from './endpoint-types.ts';
import type { Stream, StreamEvent } from './stream.ts';

/** A stream and whoever owns it. */
export interface StreamEntry {
  stream: Stream;
  /** Undefined while a gateway has not yet accepted the stream. */
  handlers: StreamHandlers | undefined;
  /** Gateway: withdraws the open request. */
  request?: AbortController;
  /** Secure links: the stream's nonces, cipher and recent frames. */
  secure?: SecureStreamState;
}

export class StreamTable {
  private readonly current = new Map<number, StreamEntry>();
  /** Streams replaced or closed that still linger or owe their RESET. */
  private retiring: StreamEntry[] = [];
  /** Secure gateway: per node, the stream it opened that no frame under its key has confirmed yet. */
  private readonly pending = new Map<number, StreamEntry>();

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

  /** Every stream, current, pending and retiring. */
  all(): StreamEntry[] {
    return [...this.current.values(), ...this.pending.values(), ...this.retiring];
  }

  /** Streams waiting for their first proven frame. */
  pendingEntries(): StreamEntry[] {
    return [...this.pending.values()];
  }

  /** The pending stream of `peer`. */
  pendingFor(peer: number): StreamEntry | undefined {
    return this.pending.get(peer);
  }

  /** Makes `stream` the current one to its peer (the caller has retired any earlier one). */
  add(stream: Stream, handlers: StreamHandlers | undefined, secure?: SecureStreamState): StreamEntry {
    const entry: StreamEntry = { stream, handlers, secure };
    this.current.set(stream.config.peer, entry);
    return entry;
  }

  /** Adds a stream the node has yet to prove, replacing (silently) an earlier unproven one. */
  addPending(stream: Stream, secure: SecureStreamState): StreamEntry {
    const peer = stream.config.peer;
    const earlier = this.pending.get(peer);
    if (earlier !== undefined) {
      earlier.stream.fail('replaced by a newer OPEN');
      this.pending.delete(peer);
    }
    const entry: StreamEntry = { stream, handlers: undefined, secure };
    this.pending.set(peer, entry);
    return entry;
  }

  /** The pending `entry` proved itself: every other stream with its peer ends (no RESET), it becomes current. */
  promote(entry: StreamEntry, message: string): void {
    const peer = entry.stream.config.peer;
    this.pending.delete(peer);
    this.supersede(peer, message);
    this.current.set(peer, entry);
  }

  /** Every stream a frame from `peer` in `epoch` may belong to: current, pending, then retiring. */
  candidates(peer: number, epoch: number): StreamEntry[] {
    const found: StreamEntry[] = [];
    const current = this.current.get(peer);
    if (current !== undefined && current.stream.epoch === epoch) found.push(current);
    const pending = this.pending.get(peer);
    if (pending !== undefined && pending.stream.epoch === epoch) found.push(pending);
    for (const e of this.retiring)
      if (e.stream.config.peer === peer && e.stream.epoch === epoch) found.push(e);
    return found;
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
    this.pending.delete(peer);
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
    this.pending.clear();
    this.retiring = [];
  }

  /** Delivers the stream's events to its owner; a stream that is over leaves `current`, a finished one the table. */
  dispatch(entry: StreamEntry): void {
    const { stream } = entry;
    if (stream.state === 'closed' || stream.state === 'closing') {
      // A stream on its way out no longer counts as the peer's current one.
      const peer = stream.config.peer;
      const holder = this.current.get(peer) === entry ? this.current : this.pending;
      if (holder.get(peer) === entry) {
        holder.delete(peer);
        if (!stream.finished) this.retiring.push(entry);
      }
    }
    if (stream.finished) this.retiring = this.retiring.filter((e) => e !== entry);
    const handlers = entry.handlers;
    // Nobody to tell yet: the events wait for the owner (a secure gateway accepts after the first frame).
    if (handlers === undefined) return;
    const events: StreamEvent[] = stream.takeEvents();
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
        case 'asleep':
          handlers.asleep?.(event.untilMs);
          break;
        case 'awake':
          handlers.awake?.();
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
