/**
 * Binds one Radio to the streams of one address: opens and closes the
 * streams, routes frames heard to the stream they belong to, answers frames
 * of unknown or old streams with RESET, and owns the radio's life. What goes
 * on the air next (one frame at a time: the radio is half-duplex and has one
 * antenna) and the one timer the streams need live in outgoing.ts; answering
 * OPENs in open-requests.ts. A node's RadioLink has one stream (to its
 * gateway); a gateway has one per node, opened by the nodes.
 * Portable: the clock is injected, nothing comes from Node.
 */
import { MqttError } from '../../errors.ts';
import type { Radio } from '../types.ts';
import { type LinkClock, realClock } from './clock.ts';
import {
  defaultNonceSource,
  type FrameCodec,
  PlainCodec,
  SecureCodec,
  type SecureStreamState,
  streamNonce,
} from './codec.ts';
import { isDiscoveryFrame } from './discovery.ts';
import type {
  EndpointCloseOptions,
  EndpointOptions,
  EndpointStats,
  StreamHandle,
  StreamHandlers,
} from './endpoint-types.ts';
import { countDefect } from './endpoint-types.ts';
import { type Frame, FrameKind, ResetReason, SEQ_MODULO } from './frame.ts';
import { confirmPending, heardOpen, type OpenHost } from './open-requests.ts';
import { Outgoing } from './outgoing.ts';
import { Stream } from './stream.ts';
import { type StreamEntry, StreamTable } from './stream-table.ts';

/** At most this many RESET replies to unknown streams wait for the radio; more are not sent. */
const MAX_PENDING_REPLIES = 16;
/** At most this many discovery frames (searches, advertisements, answers) wait for the radio; more are dropped. */
const MAX_PENDING_CONTROL = 8;

/** One radio and the streams of one address (see the module comment). `radioLink()` and the gateway are built on it. */
export class RadioEndpoint {
  readonly stats: EndpointStats = {
    framesHeard: 0,
    corrupted: 0,
    malformed: 0,
    notForUs: 0,
    unknownStream: 0,
    authFailed: 0,
    replayed: 0,
    rejectsIgnored: 0,
    unknownNode: 0,
  };
  /** Signal strength of the last good frame from each peer. */
  readonly rssi = new Map<number, number>();
  private readonly radio: Radio;
  private readonly clock: LinkClock;
  private readonly random: () => number;
  private readonly table = new StreamTable();
  private readonly codec: FrameCodec;
  /** The sending half: what goes on the air next, and the streams' timer (outgoing.ts). */
  private readonly out: Outgoing;
  private started: Promise<void> | undefined;
  private closed = false;
  /** Set by `close()`: from then on no new stream is opened or accepted. */
  private closing: Promise<void> | undefined;
  private nextEpoch: number;

  /** What the open-request handling (open-requests.ts) may use of this endpoint. */
  private readonly openHost: OpenHost = {
    table: this.table,
    stats: this.stats,
    codec: () => this.codec,
    options: () => this.options,
    closing: () => this.closing !== undefined,
    newStream: (peer, role, epoch, nonce, peerMtu) => this.newStream(peer, role, epoch, nonce, peerMtu),
    add: (peer, role, epoch, nonce, peerMtu) => this.add(peer, role, epoch, nonce, undefined, peerMtu),
    replyReset: (frame) => this.replyReset(frame),
    abortEntry: (entry, reason) => this.abortEntry(entry, reason),
    settle: (entry) => this.settle(entry),
    handle: (entry) => this.handle(entry),
  };

  constructor(private readonly options: EndpointOptions) {
    this.radio = options.radio;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.nextEpoch = Math.floor(this.random() * SEQ_MODULO);
    const security = options.security;
    this.codec =
      security === undefined
        ? new PlainCodec()
        : new SecureCodec(
            (peer) => security.keyFor(peer),
            security.nonces ?? defaultNonceSource(this.random),
          );
    this.out = new Outgoing({
      radio: this.radio,
      clock: this.clock,
      codec: this.codec,
      table: this.table,
      options,
      closed: () => this.closed,
      radioFailed: (error) => this.radioClosed(error),
    });
  }

  /** True when frames are authenticated and encrypted. */
  get secure(): boolean {
    return this.codec.secure;
  }

  /** Link-layer bytes per DATA frame beyond the payload: 8 unsecured, 10 secure. */
  get frameOverhead(): number {
    return this.codec.overhead;
  }

  /** This end's address on the radio. */
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

  /**
   * Queues a discovery frame (discovery.ts), already encoded, for the
   * radio: sent after pending RESET replies and before stream frames.
   * False when the radio is closed or too many are waiting (it is dropped:
   * discovery repeats on its own).
   */
  sendControl(bytes: Uint8Array): boolean {
    if (this.closed || this.closing !== undefined || this.out.controls.length >= MAX_PENDING_CONTROL)
      return false;
    if (bytes.length > this.radio.mtu) return false;
    this.out.controls.push(bytes);
    this.out.pump();
    return true;
  }

  /** The current stream to `peer`, if any. */
  streamTo(peer: number): Stream | undefined {
    return this.table.get(peer)?.stream;
  }

  /** Every current stream. */
  streams(): Stream[] {
    return this.table.currentEntries().map((entry) => entry.stream);
  }

  /** Initiator: opens a new stream to `peer`, replacing (and resetting) any earlier one. */
  connect(peer: number, handlers: StreamHandlers): StreamHandle {
    if (this.closed || this.closing !== undefined)
      throw new MqttError('LINK_ERROR', `${this.radio.name} is closed`);
    this.reset(peer);
    const epoch = this.nextEpoch;
    this.nextEpoch = (epoch + 1) % SEQ_MODULO;
    let entry: StreamEntry;
    if (this.codec instanceof SecureCodec) {
      const nodeNonce = this.codec.nonce();
      const secure = this.codec.streamState(peer, nodeNonce);
      entry = this.add(peer, 'initiator', epoch, streamNonce(nodeNonce), handlers, undefined, secure);
    } else entry = this.add(peer, 'initiator', epoch, this.nonce(), handlers);
    this.out.pump();
    return this.handle(entry);
  }

  /**
   * Forgets every stream to `peer`: a lingering one stops, and each owes
   * the peer a RESET, so that both ends start the next stream from nothing.
   */
  reset(peer: number): void {
    this.table.retire(peer, ResetReason.CLOSED);
    this.table.abortRetiring(peer, ResetReason.CLOSED);
    this.out.pump();
  }

  /**
   * Stops every stream and closes the radio. With `resetReason`, every peer
   * is first sent a RESET (within `graceMs`), so it sees the outage at once;
   * otherwise the streams end without a word.
   */
  close(options: EndpointCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options);
    return this.closing;
  }

  private async shutdown(options: EndpointCloseOptions): Promise<void> {
    if (this.closed) return;
    const reason = options.resetReason;
    if (reason !== undefined && this.started !== undefined) {
      const graceEnd = this.clock.now() + (options.graceMs ?? 2000);
      const told: { frame: Frame; entry: StreamEntry }[] = [];
      for (const entry of this.table.all()) {
        entry.request?.abort();
        if (entry.stream.state !== 'closed') {
          entry.stream.abort(reason);
          told.push({ frame: this.resetFrame(entry.stream.config.peer, entry.stream.epoch, reason), entry });
        }
        this.table.dispatch(entry);
      }
      await this.out.idle(graceEnd - this.clock.now());
      // A RESET is never acknowledged: a second copy, so one lost frame does not leave a node
      // waiting out its link timeout.
      if (!this.closed && told.length > 0 && this.clock.now() < graceEnd) {
        this.out.replies.push(...told);
        await this.out.idle(graceEnd - this.clock.now());
      }
    }
    if (this.closed) return;
    this.closed = true;
    this.out.clearTimer();
    this.table.failAll(`${this.radio.name} closed`);
    this.out.wakeIdle();
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
    secure?: SecureStreamState,
  ): StreamEntry {
    const stream = this.newStream(peer, role, epoch, nonce, peerMtu);
    return this.table.add(stream, handlers, secure);
  }

  private newStream(
    peer: number,
    role: 'initiator' | 'responder',
    epoch: number,
    nonce: number,
    peerMtu: number,
  ): Stream {
    return new Stream({
      local: this.options.address,
      peer,
      epoch,
      nonce,
      role,
      payloadSize: Math.min(this.radio.mtu, peerMtu) - this.codec.overhead,
      frameOverhead: this.codec.overhead,
      confirmOpen: this.codec.secure,
      maxSleepMs: this.options.maxPeerSleepMs,
      timing: this.options.timing,
      random: this.random,
      now: this.clock.now(),
    });
  }

  private handle(entry: StreamEntry): StreamHandle {
    const { stream } = entry;
    return {
      peer: stream.config.peer,
      stream,
      write: (bytes) => {
        const ok = stream.write(bytes);
        this.out.pump();
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
      sleep: (ms) => {
        stream.sleep(ms);
        this.out.pump();
      },
      wake: () => {
        stream.wake(this.clock.now());
        this.settle(entry);
      },
    };
  }

  private abortEntry(entry: StreamEntry, reason: number): void {
    if (entry.stream.state !== 'closed') entry.stream.abort(reason);
    entry.request?.abort();
    this.settle(entry);
  }

  /** After the owner acted on a stream: deliver its events, move it out of `current` once it is over, send. */
  private settle(entry: StreamEntry): void {
    this.table.dispatch(entry);
    this.out.pump();
  }

  private heard(bytes: Uint8Array, rssi: number | undefined): void {
    if (this.closed) return;
    this.stats.framesHeard++;
    // Discovery frames belong to no stream: the owner reads them (discovery.ts).
    if (isDiscoveryFrame(bytes)) {
      const defect = this.options.onDiscovery?.(bytes, rssi);
      if (defect !== undefined) {
        countDefect(this.stats, defect);
        this.options.observe?.({ type: 'defect', defect, size: bytes.length, rssi });
      }
      return;
    }
    const heard = this.codec.decode(bytes, this.options.address, (peer, epoch) =>
      this.table.candidates(peer, epoch),
    );
    if (heard.type === 'defect') {
      countDefect(this.stats, heard.defect);
      this.options.observe?.({ type: 'defect', defect: heard.defect, size: bytes.length, rssi });
      return;
    }
    if (heard.type === 'not-for-us') {
      this.stats.notForUs++;
      return;
    }
    const { frame } = heard;
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
    switch (heard.type) {
      case 'open':
        heardOpen(this.openHost, frame, rssi, now, heard.nodeNonce);
        break;
      case 'unknown-stream':
        this.replyReset(frame, heard.echo);
        break;
      case 'stream': {
        const { entry } = heard;
        // The first frame under a pending stream's key: the node really opened it.
        if (this.table.pendingFor(frame.src) === entry) confirmPending(this.openHost, entry, rssi);
        entry.stream.receive(frame, now);
        this.table.dispatch(entry);
        break;
      }
      default: {
        const unknown: never = heard;
        throw new Error(`unreachable: ${String(unknown)}`);
      }
    }
    this.out.pump();
  }

  /**
   * A frame for a stream we do not have: tell the sender so it starts over
   * (never in answer to a RESET). On a secure link the answer is a REJECT
   * that echoes the frame, so the sender believes it only for a frame it
   * sent in its current stream, and a recorded REJECT is worth nothing.
   */
  private replyReset(frame: Frame, echo?: Uint8Array): void {
    this.stats.unknownStream++;
    if (frame.kind === FrameKind.RESET || this.out.replies.length >= MAX_PENDING_REPLIES) return;
    if (this.codec.secure && echo === undefined) return;
    this.options.observe?.({ type: 'reset-reply', peer: frame.src, epoch: frame.epoch });
    const reply = this.resetFrame(frame.src, frame.epoch, ResetReason.UNKNOWN_STREAM);
    if (echo !== undefined) {
      reply.kind = FrameKind.REJECT;
      reply.payload = echo;
    }
    this.out.replies.push({ frame: reply });
  }

  private resetFrame(peer: number, epoch: number, reason: number): Frame {
    return {
      kind: FrameKind.RESET,
      dst: peer,
      src: this.options.address,
      epoch,
      poll: false,
      seq: 0,
      ack: 0,
      payload: new Uint8Array([reason]),
    };
  }

  private radioClosed(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.out.clearTimer();
    this.table.failAll(`${this.radio.name} stopped${error ? `: ${error.message}` : ''}`);
    this.out.wakeIdle();
    this.options.onRadioClosed?.(error);
  }
}
