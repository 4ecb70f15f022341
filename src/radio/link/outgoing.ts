/**
 * The sending half of a RadioEndpoint: the radio is half-duplex with one
 * antenna, so one frame is on the air at a time. This holds what waits
 * outside the streams (RESET replies, discovery frames), picks the next
 * frame (replies, then discovery, then retiring, pending and, in turn, the
 * current streams), seals it, puts it on the air, and keeps the one timer
 * the streams' deadlines need. Split from endpoint.ts, which owns the
 * streams, what is heard and the radio's life (`OutgoingHost`).
 * Portable: the clock is injected, nothing comes from Node.
 */
import type { Radio } from '../types.ts';
import type { LinkClock } from './clock.ts';
import type { FrameCodec } from './codec.ts';
import type { EndpointOptions } from './endpoint-types.ts';
import type { Frame } from './frame.ts';
import type { StreamEntry, StreamTable } from './stream-table.ts';

/** Frames that could not be sealed skipped in one go before the radio is left idle until the next timer. */
const MAX_UNSEALABLE = 64;

/** What the endpoint sends next: a stream's frame (or a reply lent a stream's key), or a discovery frame's bytes. */
type OutgoingFrame =
  | { frame: Frame; owner: StreamEntry | undefined; reply?: boolean }
  | { control: Uint8Array };

/** A RESET (or REJECT) that belongs to no stream's own flow; `entry` lends its key on a secure link. */
export interface Reply {
  frame: Frame;
  entry?: StreamEntry;
}

/** What the sending half uses of its endpoint. */
export interface OutgoingHost {
  readonly radio: Radio;
  readonly clock: LinkClock;
  readonly codec: FrameCodec;
  readonly table: StreamTable;
  readonly options: EndpointOptions;
  /** True once the radio is closed (by `close()` or by itself): nothing more is sent. */
  closed(): boolean;
  /** Sending failed: the radio is gone. */
  radioFailed(error: Error): void;
}

/** The endpoint's transmitter (see the module comment). */
export class Outgoing {
  /** RESET (REJECT) replies to frames of unknown streams, and the second RESETs of a graceful close. */
  readonly replies: Reply[] = [];
  /** Discovery frames, already encoded (discovery.ts): they belong to no stream. */
  readonly controls: Uint8Array[] = [];
  private sending = false;
  private turn = 0;
  private timer: unknown;
  /** Resolved when nothing is left to send (a graceful close waits for the RESETs). */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly host: OutgoingHost) {}

  /** Resolves once nothing is left to send, or after `ms`. */
  idle(ms: number): Promise<void> {
    const { clock } = this.host;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(resolve, ms);
      this.idleWaiters.push(() => {
        clock.clearTimeout(timer);
        resolve();
      });
      this.pump();
    });
  }

  /** Resolves every `idle()` waiting. */
  wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Sends the next frame if the radio is free; otherwise arms the timer for the streams' next deadline. */
  pump(): void {
    if (this.sending || this.host.closed()) return;
    const { clock, codec, table } = this.host;
    const now = clock.now();
    let next = this.nextFrame(now);
    if (next !== undefined && 'control' in next) return this.transmit(next.control);
    let bytes: Uint8Array | undefined;
    // A frame that cannot be sealed (a RESET for a stream whose ACCEPT never came) is not sent.
    for (let tries = 0; next !== undefined && tries < MAX_UNSEALABLE; tries++) {
      if ('control' in next) return this.transmit(next.control);
      bytes = codec.encode(next.frame, next.owner);
      if (bytes !== undefined) break;
      if (next.owner !== undefined && next.reply !== true) table.dispatch(next.owner);
      next = this.nextFrame(now);
    }
    if (next === undefined || bytes === undefined || 'control' in next) {
      this.wakeIdle();
      return this.arm(now);
    }
    const { frame, reply } = next;
    // A reply's entry only lent its key: the frame is not the stream's own.
    const owner = reply === true ? undefined : next.owner;
    this.host.options.observe?.({
      type: 'frame',
      direction: 'out',
      frame,
      size: bytes.length,
      retransmission: owner?.stream.pollRetransmitted === true,
    });
    this.transmit(bytes, frame, owner);
  }

  clearTimer(): void {
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The next frame to send and the stream it is from: RESET replies, retiring streams, then round robin. */
  private nextFrame(now: number): OutgoingFrame | undefined {
    const reply = this.replies.shift();
    if (reply !== undefined) return { frame: reply.frame, owner: reply.entry, reply: true };
    const control = this.controls.shift();
    if (control !== undefined) return { control };
    const { table } = this.host;
    // Retiring streams first: their RESET must precede a new stream's OPEN.
    const entries = [
      ...table.retiringEntries(),
      ...table.pendingEntries(),
      ...this.rotate(table.currentEntries()),
    ];
    for (const entry of entries) {
      const frame = entry.stream.poll(now);
      if (frame !== undefined) return { frame, owner: entry };
    }
    return undefined;
  }

  /** Puts `bytes` on the air; `frame` and `owner` when they are a stream's own frame. */
  private transmit(bytes: Uint8Array, frame?: Frame, owner?: StreamEntry): void {
    const { clock, radio, table } = this.host;
    this.clearTimer();
    this.sending = true;
    radio.send(bytes).then(
      () => {
        this.sending = false;
        if (this.host.closed()) return;
        const at = clock.now();
        if (owner !== undefined && frame !== undefined) {
          owner.stream.sent(frame, at);
          table.dispatch(owner);
        }
        // Bytes written while the frame was on its way, and answers heard meanwhile, are handled now.
        this.tickAll(at);
        this.pump();
      },
      (error: unknown) => {
        this.sending = false;
        this.host.radioFailed(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private rotate<T>(items: T[]): T[] {
    if (items.length < 2) return items;
    this.turn = (this.turn + 1) % items.length;
    return [...items.slice(this.turn), ...items.slice(0, this.turn)];
  }

  private tickAll(now: number): void {
    const { table } = this.host;
    for (const entry of table.all()) {
      entry.stream.tick(now);
      table.dispatch(entry);
    }
  }

  private arm(now: number): void {
    let deadline = Number.POSITIVE_INFINITY;
    for (const entry of this.host.table.all()) deadline = Math.min(deadline, entry.stream.nextDeadline());
    this.clearTimer();
    if (deadline === Number.POSITIVE_INFINITY) return;
    // At least 1 ms: a deadline already due was just tried by pump().
    this.timer = this.host.clock.setTimeout(this.onTimer, Math.max(1, deadline - now));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.host.closed() || this.sending) return;
    this.tickAll(this.host.clock.now());
    this.pump();
  };
}
