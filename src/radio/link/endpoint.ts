/**
 * Binds one Radio to the streams of one address: sends one frame at a time
 * (the radio is half-duplex and has one antenna), asks the streams in turn
 * for their next frame, routes frames heard to the stream they belong to,
 * answers frames of unknown or old streams with RESET, and keeps the one
 * timer the streams need. A node's RadioLink has one stream (to its
 * gateway); a gateway has one per node, opened by the nodes.
 * Portable: the clock is injected, nothing comes from Node.
 */
import { MqttError } from '../../errors.ts';
import type { Radio } from '../types.ts';
import {
  decodeFrame,
  encodeFrame,
  FRAME_OVERHEAD,
  type Frame,
  type FrameDefect,
  FrameKind,
  ResetReason,
  readOpenBody,
  SEQ_MODULO,
} from './frame.ts';
import { Stream, type StreamEnd, type StreamEvent } from './stream.ts';
import type { LinkTiming } from './timing.ts';

/** Time for the link layer, injectable so that a simulated medium can run it on modelled time. */
export interface LinkClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's clock: `performance.now()` and `setTimeout`. */
export const realClock: LinkClock = {
  now: () => globalThis.performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What a stream tells its owner. */
export interface StreamHandlers {
  /** Initiator: the peer accepted the stream. */
  open?(): void;
  /** Stream bytes, in order, each exactly once. */
  data(bytes: Uint8Array): void;
  /** Everything written has been acknowledged (after `write()` returned false). */
  drain?(): void;
  /** The stream ended; called once. */
  closed(end: StreamEnd): void;
}

/** The owner's side of one stream. */
export interface StreamHandle {
  readonly peer: number;
  /** State and counters. */
  readonly stream: Stream;
  /** Queues bytes; false past the high-water mark (`drain` follows). */
  write(bytes: Uint8Array): boolean;
  readonly bufferedAmount: number;
  /** Retries what is unacknowledged for the linger time, then sends RESET with `reason`. */
  close(reason?: ResetReason): void;
  /** Sends RESET with `reason` at once. */
  abort(reason?: ResetReason): void;
}

/** A node asked for a stream (gateway side). Answer with `accept` or `refuse`. */
export interface OpenRequest {
  readonly peer: number;
  /** Signal strength of the OPEN, in dBm, when the radio reports it. */
  readonly rssi: number | undefined;
  /** The link timeout the node announced. */
  readonly linkTimeoutMs: number;
  /** The stream it would open (state and counters). */
  readonly stream: Stream;
  /** Aborted when the request is withdrawn (the node opened again, or the endpoint closed). */
  readonly signal: AbortSignal;
  accept(handlers: StreamHandlers): StreamHandle;
  refuse(reason: ResetReason): void;
}

/** What the endpoint saw, for logs. */
export type EndpointEvent =
  | {
      type: 'frame';
      direction: 'in' | 'out';
      frame: Frame;
      size: number;
      rssi?: number;
      retransmission: boolean;
    }
  | { type: 'defect'; defect: FrameDefect; size: number; rssi?: number }
  | { type: 'reset-reply'; peer: number; epoch: number };

/** Counters for frames that did not reach a stream. */
export interface EndpointStats {
  /** Frames heard, good or not. */
  framesHeard: number;
  /** Failed the CRC: never delivered. */
  corrupted: number;
  /** Passed the CRC but were no frame (too short, unknown kind, bad body). */
  malformed: number;
  /** Good frames addressed to someone else. */
  notForUs: number;
  /** Good frames for a stream we do not have (answered with RESET). */
  unknownStream: number;
}

export interface EndpointOptions {
  radio: Radio;
  /** This end's address, 0-254. */
  address: number;
  timing: LinkTiming;
  clock?: LinkClock;
  /** [0, 1): jitter, nonces, epochs. Default Math.random. */
  random?: () => number;
  /** Gateway: a node asks for a stream. Without it, OPENs are answered with RESET. */
  onOpen?(request: OpenRequest): void;
  /** Every frame in and out, and every defect. */
  observe?(event: EndpointEvent): void;
  /** The radio stopped for good. */
  onRadioClosed?(error?: Error): void;
}

interface Entry {
  stream: Stream;
  handlers: StreamHandlers | undefined;
  /** Gateway: withdraws the open request. */
  request?: AbortController;
}

export class RadioEndpoint {
  readonly stats: EndpointStats = {
    framesHeard: 0,
    corrupted: 0,
    malformed: 0,
    notForUs: 0,
    unknownStream: 0,
  };
  /** Signal strength of the last good frame from each peer. */
  readonly rssi = new Map<number, number>();
  private readonly radio: Radio;
  private readonly clock: LinkClock;
  private readonly random: () => number;
  private readonly current = new Map<number, Entry>();
  /** Streams replaced or closed that still linger or owe their RESET. */
  private retiring: Entry[] = [];
  /** RESET replies to frames of unknown streams. */
  private replies: Frame[] = [];
  private sending = false;
  private turn = 0;
  private timer: unknown;
  private started: Promise<void> | undefined;
  private closed = false;
  private nextEpoch: number;

  constructor(private readonly options: EndpointOptions) {
    this.radio = options.radio;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.nextEpoch = Math.floor(this.random() * SEQ_MODULO);
  }

  get address(): number {
    return this.options.address;
  }

  /** Opens the radio (once). */
  start(): Promise<void> {
    this.started ??= this.radio.open({
      receive: (bytes, rssi) => this.heard(bytes, rssi),
      close: (error) => this.radioClosed(error),
    });
    return this.started;
  }

  /** The current stream to `peer`, if any. */
  streamTo(peer: number): Stream | undefined {
    return this.current.get(peer)?.stream;
  }

  /** Every current stream. */
  streams(): Stream[] {
    return [...this.current.values()].map((entry) => entry.stream);
  }

  /** Initiator: opens a new stream to `peer`, replacing (and resetting) any earlier one. */
  connect(peer: number, handlers: StreamHandlers): StreamHandle {
    if (this.closed) throw new MqttError('LINK_ERROR', `${this.radio.name} is closed`);
    this.reset(peer);
    const epoch = this.nextEpoch;
    this.nextEpoch = (epoch + 1) % SEQ_MODULO;
    const entry = this.add(peer, 'initiator', epoch, this.nonce(), handlers);
    this.pump();
    return this.handle(entry);
  }

  /**
   * Forgets every stream to `peer`: a lingering one stops, and each owes
   * the peer a RESET, so that both ends start the next stream from nothing.
   */
  reset(peer: number): void {
    this.retire(peer, ResetReason.CLOSED);
    for (const entry of this.retiring) {
      if (entry.stream.config.peer !== peer || entry.stream.state === 'closed') continue;
      entry.stream.abort(ResetReason.CLOSED);
      this.dispatch(entry);
    }
    this.pump();
  }

  /** Stops every stream (RESETs are not waited for) and closes the radio. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    for (const entry of [...this.current.values(), ...this.retiring]) {
      entry.request?.abort();
      entry.stream.fail(`${this.radio.name} closed`);
      this.dispatch(entry);
    }
    this.current.clear();
    this.retiring = [];
    await this.radio.close();
  }

  private nonce(): number {
    return Math.floor(this.random() * 0x1_0000_0000) >>> 0;
  }

  private add(
    peer: number,
    role: 'initiator' | 'responder',
    epoch: number,
    nonce: number,
    handlers: StreamHandlers | undefined,
    peerMtu = this.radio.mtu,
  ): Entry {
    const stream = new Stream({
      local: this.options.address,
      peer,
      epoch,
      nonce,
      role,
      payloadSize: Math.min(this.radio.mtu, peerMtu) - FRAME_OVERHEAD,
      timing: this.options.timing,
      random: this.random,
      now: this.clock.now(),
    });
    const entry: Entry = { stream, handlers };
    this.current.set(peer, entry);
    return entry;
  }

  private handle(entry: Entry): StreamHandle {
    const { stream } = entry;
    return {
      peer: stream.config.peer,
      stream,
      write: (bytes) => {
        const ok = stream.write(bytes);
        this.pump();
        return ok;
      },
      get bufferedAmount() {
        return stream.bufferedAmount;
      },
      close: (reason) => {
        stream.close(this.clock.now(), reason);
        this.settle(entry);
      },
      abort: (reason) => this.abortEntry(entry, reason ?? ResetReason.CLOSED),
    };
  }

  private abortEntry(entry: Entry, reason: number): void {
    if (entry.stream.state !== 'closed') entry.stream.abort(reason);
    entry.request?.abort();
    this.settle(entry);
  }

  /** After the owner acted on a stream: deliver its events, move it out of `current` once it is over, send. */
  private settle(entry: Entry): void {
    this.dispatch(entry);
    this.pump();
  }

  /** Moves the current stream to `peer` (if any) to the retiring list, ending it with `reason`. */
  private retire(peer: number, reason: number): void {
    const entry = this.current.get(peer);
    if (entry === undefined) return;
    this.current.delete(peer);
    entry.request?.abort();
    if (entry.stream.state !== 'closed' && entry.stream.state !== 'closing') entry.stream.abort(reason);
    this.dispatch(entry);
    if (!entry.stream.finished) this.retiring.push(entry);
  }

  private dispatch(entry: Entry): void {
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

  private heard(bytes: Uint8Array, rssi: number | undefined): void {
    if (this.closed) return;
    this.stats.framesHeard++;
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) {
      if (decoded.defect === 'crc') this.stats.corrupted++;
      else this.stats.malformed++;
      this.options.observe?.({ type: 'defect', defect: decoded.defect, size: bytes.length, rssi });
      return;
    }
    const { frame } = decoded;
    if (frame.dst !== this.options.address) {
      this.stats.notForUs++;
      return;
    }
    if (rssi !== undefined) this.rssi.set(frame.src, rssi);
    this.options.observe?.({
      type: 'frame',
      direction: 'in',
      frame,
      size: bytes.length,
      rssi,
      retransmission: false,
    });
    const now = this.clock.now();
    if (frame.kind === FrameKind.OPEN) this.heardOpen(frame, rssi, now);
    else {
      const entry = this.find(frame);
      if (entry === undefined) this.replyReset(frame);
      else {
        entry.stream.receive(frame, now);
        this.dispatch(entry);
      }
    }
    this.pump();
  }

  private find(frame: Frame): Entry | undefined {
    const entry = this.current.get(frame.src);
    if (entry !== undefined && entry.stream.epoch === frame.epoch) return entry;
    return this.retiring.find((e) => e.stream.config.peer === frame.src && e.stream.epoch === frame.epoch);
  }

  private heardOpen(frame: Frame, rssi: number | undefined, now: number): void {
    const body = readOpenBody(frame.payload);
    if (body === undefined) {
      this.stats.malformed++;
      return;
    }
    const existing = this.current.get(frame.src);
    if (
      existing !== undefined &&
      existing.stream.nonce === body.nonce &&
      existing.stream.epoch === frame.epoch
    ) {
      existing.stream.receive(frame, now);
      this.dispatch(existing);
      return;
    }
    const onOpen = this.options.onOpen;
    if (onOpen === undefined) {
      this.replyReset(frame);
      return;
    }
    // A new stream from this node: whatever it had before is over.
    this.retire(frame.src, ResetReason.CLOSED);
    const entry = this.add(frame.src, 'responder', frame.epoch, body.nonce, undefined, body.mtu);
    entry.stream.peerTimeoutMs = body.linkTimeoutMs;
    entry.stream.receive(frame, now);
    const request = new AbortController();
    entry.request = request;
    let answered = false;
    onOpen({
      peer: frame.src,
      rssi,
      linkTimeoutMs: body.linkTimeoutMs,
      stream: entry.stream,
      signal: request.signal,
      accept: (handlers) => {
        if (answered || request.signal.aborted)
          throw new MqttError('LINK_ERROR', 'the open request was withdrawn');
        answered = true;
        entry.handlers = handlers;
        entry.stream.accept();
        this.settle(entry);
        return this.handle(entry);
      },
      refuse: (reason) => {
        if (answered || request.signal.aborted) return;
        answered = true;
        this.abortEntry(entry, reason);
      },
    });
  }

  /** A frame for a stream we do not have: tell the sender so it starts over (never in answer to a RESET). */
  private replyReset(frame: Frame): void {
    this.stats.unknownStream++;
    if (frame.kind === FrameKind.RESET || this.replies.length >= 16) return;
    this.options.observe?.({ type: 'reset-reply', peer: frame.src, epoch: frame.epoch });
    this.replies.push({
      kind: FrameKind.RESET,
      dst: frame.src,
      src: this.options.address,
      epoch: frame.epoch,
      poll: false,
      seq: 0,
      ack: 0,
      payload: new Uint8Array([ResetReason.UNKNOWN_STREAM]),
    });
  }

  /** Sends the next frame if the radio is free; otherwise arms the timer for the streams' next deadline. */
  private pump(): void {
    if (this.sending || this.closed) return;
    const now = this.clock.now();
    let frame = this.replies.shift();
    let owner: Entry | undefined;
    if (frame === undefined) {
      // Retiring streams first (their RESET must precede a new stream's OPEN), then round robin.
      const entries = [...this.retiring, ...this.rotate([...this.current.values()])];
      for (const entry of entries) {
        frame = entry.stream.poll(now);
        if (frame !== undefined) {
          owner = entry;
          break;
        }
      }
    }
    if (frame === undefined) return this.arm(now);
    this.clearTimer();
    this.sending = true;
    const sent = frame;
    const retransmission = owner?.stream.pollRetransmitted === true;
    const bytes = encodeFrame(sent);
    this.options.observe?.({
      type: 'frame',
      direction: 'out',
      frame: sent,
      size: bytes.length,
      retransmission,
    });
    this.radio.send(bytes).then(
      () => {
        this.sending = false;
        if (this.closed) return;
        const at = this.clock.now();
        if (owner !== undefined) {
          owner.stream.sent(sent, at);
          this.dispatch(owner);
        }
        this.tickAll(at);
        this.pump();
      },
      (error: unknown) => {
        this.sending = false;
        this.radioClosed(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private rotate<T>(items: T[]): T[] {
    if (items.length < 2) return items;
    this.turn = (this.turn + 1) % items.length;
    return [...items.slice(this.turn), ...items.slice(0, this.turn)];
  }

  private tickAll(now: number): void {
    for (const entry of [...this.current.values(), ...this.retiring]) {
      entry.stream.tick(now);
      this.dispatch(entry);
    }
  }

  private arm(now: number): void {
    let deadline = Number.POSITIVE_INFINITY;
    for (const entry of [...this.current.values(), ...this.retiring])
      deadline = Math.min(deadline, entry.stream.nextDeadline());
    this.clearTimer();
    if (deadline === Number.POSITIVE_INFINITY) return;
    // At least 1 ms: a deadline already due was just tried by pump().
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(1, deadline - now));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.closed || this.sending) return;
    this.tickAll(this.clock.now());
    this.pump();
  };

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private radioClosed(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const message = `${this.radio.name} stopped${error ? `: ${error.message}` : ''}`;
    for (const entry of [...this.current.values(), ...this.retiring]) {
      entry.request?.abort();
      entry.stream.fail(message);
      this.dispatch(entry);
    }
    this.current.clear();
    this.retiring = [];
    this.options.onRadioClosed?.(error);
  }
}
