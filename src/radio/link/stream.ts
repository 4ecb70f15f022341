/**
 * One reliable, in-order byte stream between a node and its gateway: the
 * open handshake, selective-repeat ARQ with polls, heartbeats, link
 * supervision and the reset rule. Sans-IO: frames and bytes in, frames
 * (through `poll`), events and a deadline out; `now` is always passed in.
 * Its parts: the send and receive windows (send-window.ts,
 * receive-window.ts), the turn-taking (poll-turn.ts), sleeping nodes
 * (stream-sleep.ts).
 *
 * The exchange is shaped for half-duplex radios: a sender sends up to a
 * window of frames and sets `poll` on the last, then keeps quiet until the
 * answer (or its retransmission timeout); a receiver answers polls only, so
 * the two ends rarely talk at once. States:
 *
 * ```
 * initiator: opening --ACCEPT (or any frame of the stream)--> open
 * responder: accepting --accept()--> open        (refuse() -> closed)
 * open --close()/end()--> closing --all acked or linger over--> RESET sent, finished
 * any --RESET received / silence past linkTimeout / abort()--> closed
 * ```
 */
import {
  acceptBody,
  FRAME_OVERHEAD,
  type Frame,
  FrameKind,
  MAX_WINDOW,
  openBody,
  ResetReason,
  readAcceptBody,
} from './frame.ts';
import { PollTurn } from './poll-turn.ts';
import { ReceiveWindow } from './receive-window.ts';
import { type InflightFrame, RtoEstimator, SendWindow } from './send-window.ts';
import { StreamSleep } from './stream-sleep.ts';
import {
  type StreamConfig,
  type StreamEnd,
  type StreamEvent,
  type StreamState,
  type StreamStats,
  zeroStreamStats,
} from './stream-types.ts';
import type { LinkTiming } from './timing.ts';

export {
  type StreamConfig,
  type StreamEnd,
  type StreamEvent,
  type StreamState,
  type StreamStats,
  zeroStreamStats,
} from './stream-types.ts';

/** One stream's state machine, sans-IO (see the module comment); the endpoint drives it with a clock and a radio. */
export class Stream {
  state: StreamState;
  readonly stats: StreamStats = zeroStreamStats();
  /** The RESET has gone out (or needs none): the endpoint may forget this stream. */
  finished = false;
  private events: StreamEvent[] = [];
  private readonly window: SendWindow;
  private readonly rto: RtoEstimator;
  private readonly timing: LinkTiming;
  private lastHeardAt: number;
  /** Half-duplex turn-taking: our poll awaiting its answer, the answer we owe (poll-turn.ts). */
  private readonly turn: PollTurn;
  private openRetryAt = 0;
  private acceptDue = false;
  /** Initiator with `confirmOpen`: the ACK that confirms the stream is due. */
  private confirmDue = false;
  private resetDue: number | undefined;
  private lingerUntil = Number.POSITIVE_INFINITY;
  /** A poll went unanswered while only frames the peer holds were in flight: poll with an ACK. */
  private probeDue = false;
  /** The RESET reason sent once a lingering close is over. */
  private resetReason: number = ResetReason.CLOSED;
  /** The DATA frame being transmitted: its send time is taken when it has left. */
  private sending: InflightFrame | undefined;
  private wantDrain = false;
  private closedEmitted = false;
  /** Receiving: the next sequence number expected, and frames that came early. */
  private readonly receiving = new ReceiveWindow();
  /** The last frame `poll()` returned was a DATA frame sent again. */
  pollRetransmitted = false;
  /** The peer's link timeout, announced in its OPEN (responder only). */
  peerTimeoutMs: number | undefined;
  /** Sleeping nodes: what was asked, granted and owed (stream-sleep.ts). */
  private readonly dozing: StreamSleep;

  constructor(readonly config: StreamConfig) {
    this.timing = config.timing;
    this.state = config.role === 'initiator' ? 'opening' : 'accepting';
    this.window = new SendWindow(config.timing.window, config.payloadSize);
    this.rto = new RtoEstimator(config.timing.initialRtoMs, config.timing.minRtoMs, config.timing.maxRtoMs);
    this.lastHeardAt = config.now;
    this.turn = new PollTurn(config.timing);
    this.dozing = new StreamSleep(config, this.stats, (event) => this.events.push(event));
  }

  /** The stream's epoch (0-15): frames of other epochs belong to other streams. */
  get epoch(): number {
    return this.config.epoch;
  }

  /** The OPEN's nonce, which the ACCEPT must echo. */
  get nonce(): number {
    return this.config.nonce;
  }

  /** The smoothed round trip over the radio in ms, once one has been measured. */
  get smoothedRttMs(): number | undefined {
    return this.rto.smoothedRtt;
  }

  /** Bytes written and not yet acknowledged by the peer. */
  get bufferedAmount(): number {
    return this.window.bufferedAmount;
  }

  /** Events since the last call. */
  takeEvents(): StreamEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  /** Queues stream bytes; returns false past the high-water mark (a `drain` event follows). */
  write(bytes: Uint8Array): boolean {
    if (this.state === 'closing' || this.state === 'closed') return false;
    this.window.write(bytes);
    const ok = this.window.bufferedAmount <= this.config.payloadSize * MAX_WINDOW * 2;
    if (!ok) this.wantDrain = true;
    return ok;
  }

  /** True while the stream sleeps (initiator) or its node does (responder). */
  get asleep(): boolean {
    return this.dozing.asleep;
  }

  /**
   * Initiator: asks the gateway to let the node sleep `ms` (stream-sleep.ts):
   * asked once nothing is in flight either way; an `asleep` event follows
   * when granted, `awake` when it is over. Asking again replaces the wish.
   */
  sleep(ms: number): void {
    if (this.config.role !== 'initiator' || this.state !== 'open') return;
    this.dozing.wanted = ms;
  }

  /** Initiator: ends a sleep early (or drops a wish to sleep not granted yet). */
  wake(now: number): void {
    this.dozing.wanted = undefined;
    if (this.asleep && this.config.role === 'initiator') this.wakeUp(now);
  }

  private wakeUp(now: number): void {
    // Initiator: silence counts from the wake; the first poll tells the gateway to send what it held.
    if (this.config.role === 'initiator') this.lastHeardAt = now;
    this.dozing.wakeUp(now);
  }

  /** Responder: the stream is accepted; ACCEPT goes out. */
  accept(): void {
    if (this.state !== 'accepting') return;
    this.state = 'open';
    this.acceptDue = true;
  }

  /**
   * Ends the stream from this side: what was written is still retried for
   * the linger time, then a RESET with `reason` tells the peer. The
   * `closed` event comes at once.
   */
  close(now: number, reason: ResetReason = ResetReason.CLOSED): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.emitClosed({ by: 'local' });
    if (!wasOpen || this.window.idle) return this.abort(reason);
    this.state = 'closing';
    this.lingerUntil = now + this.timing.lingerMs;
    this.resetReason = reason;
  }

  /** Ends the stream at once; a RESET with `reason` goes out. */
  abort(reason: number = ResetReason.CLOSED): void {
    this.emitClosed({ by: 'aborted', reason });
    this.state = 'closed';
    this.resetDue = reason;
  }

  /** The radio is gone: the stream ends without a word to the peer. */
  fail(message: string): void {
    this.emitClosed({ by: 'radio', message });
    this.state = 'closed';
    this.resetDue = undefined;
    this.finished = true;
  }

  private emitClosed(end: StreamEnd): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.events.push({ type: 'closed', end });
  }

  /** A frame of this stream (right peer, right epoch) arrived. */
  receive(frame: Frame, now: number): void {
    if (this.state === 'closed') return;
    this.stats.framesReceived++;
    this.lastHeardAt = now;
    // Whatever the node sends, it is awake.
    if (this.config.role === 'responder' && this.asleep) this.wakeUp(now);
    switch (frame.kind) {
      case FrameKind.OPEN:
        // The peer did not hear our ACCEPT: say it again.
        if (this.state === 'open') this.acceptDue = true;
        return;
      case FrameKind.ACCEPT:
        if (this.state === 'opening' && readAcceptBody(frame.payload) === this.config.nonce) this.opened();
        return;
      case FrameKind.REJECT:
        // The codec turns a REJECT it believes into a RESET; any other never reaches a stream.
        return;
      case FrameKind.RESET:
        this.state = 'closed';
        this.finished = true;
        this.emitClosed({ by: 'peer', reason: frame.payload[0] ?? ResetReason.UNKNOWN_STREAM });
        return;
      case FrameKind.ACK:
      case FrameKind.DATA:
        if (this.state === 'accepting') return;
        // Our ACCEPT was lost but the gateway already talks on this stream: it is open.
        if (this.state === 'opening') this.opened();
        this.receiveAck(frame, now);
        if (frame.kind === FrameKind.DATA) this.receiveData(frame);
        this.dozing.received(frame, now, { idle: this.window.idle, rtoMs: this.rto.rto });
        this.turn.heard(frame, now);
        return;
      default: {
        const unknown: never = frame.kind;
        throw new Error(`unreachable: ${unknown}`);
      }
    }
  }

  private opened(): void {
    this.state = 'open';
    this.confirmDue = this.config.confirmOpen === true;
    this.turn.done();
    this.rto.answered();
    this.events.push({ type: 'open' });
  }

  private receiveAck(frame: Frame, now: number): void {
    const sack = frame.kind === FrameKind.ACK ? (frame.payload[0] ?? 0) : 0;
    const before = this.window.bufferedAmount;
    const result = this.window.acknowledge(frame.ack, sack, now);
    if (result !== undefined && result.acked > 0) {
      this.stats.bytesSent += before - this.window.bufferedAmount;
      if (result.rttSample !== undefined) this.rto.sample(result.rttSample);
    }
    // The answer to our poll: whatever it does not cover was lost. A poll still
    // on its way (its send() not yet resolved) can already be answered on a
    // full-duplex line, where the peer gets bytes as they are written: when
    // nothing is left in flight (the answer covers the poll frame, or it was a
    // heartbeat), the poll has nothing more to learn, so the window opens now
    // rather than at its timeout. Otherwise a frame heard mid-transmission may
    // predate the poll and is not taken for its answer.
    if (this.turn.pending && (!this.turn.transmitting || this.window.inflightCount === 0)) {
      this.turn.done();
      this.rto.answered();
      this.window.markLost();
    }
    if (this.wantDrain && this.window.bufferedAmount === 0) {
      this.wantDrain = false;
      this.events.push({ type: 'drain' });
    }
  }

  private receiveData(frame: Frame): void {
    const inOrder = this.receiving.receive(frame.seq, frame.payload);
    if (inOrder === undefined) this.stats.duplicates++;
    else for (const bytes of inOrder) this.deliver(bytes);
  }

  private deliver(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.stats.bytesReceived += bytes.length;
    // After a local close the bytes are acknowledged (so the peer can finish) but go nowhere.
    if (!this.closedEmitted) this.events.push({ type: 'data', bytes });
  }

  /** The frame to transmit now, if any. The caller reports with `sent()` when it has left. */
  poll(now: number): Frame | undefined {
    this.pollRetransmitted = false;
    if (this.resetDue !== undefined) {
      const reason = this.resetDue;
      this.resetDue = undefined;
      this.finished = true;
      return this.frame(FrameKind.RESET, false, 0, new Uint8Array([reason]));
    }
    switch (this.state) {
      case 'closed':
      case 'accepting':
        return undefined;
      case 'opening':
        if (now < this.openRetryAt || this.turn.pending) return undefined;
        this.turn.ask();
        return this.frame(
          FrameKind.OPEN,
          true,
          0,
          openBody({
            nonce: this.config.nonce,
            linkTimeoutMs: this.timing.linkTimeoutMs,
            mtu: this.config.payloadSize + (this.config.frameOverhead ?? FRAME_OVERHEAD),
          }),
        );
      case 'open':
      case 'closing':
        break;
      default: {
        const unknown: never = this.state;
        throw new Error(`unreachable: ${unknown}`);
      }
    }
    if (this.acceptDue) {
      this.acceptDue = false;
      return this.frame(FrameKind.ACCEPT, false, 0, acceptBody(this.config.nonce));
    }
    if (this.confirmDue) {
      this.confirmDue = false;
      return this.ack(false);
    }
    if (this.asleep) {
      if (this.config.role === 'responder' || now < this.dozing.until) return undefined;
      this.wakeUp(now);
    }
    if (this.dozing.wakeDue && !this.turn.pending) {
      this.dozing.wakeDue = false;
      return this.ack(true);
    }
    const answerDue = now >= this.turn.answerAt;
    // An answer owed while we hold early frames says which: only an ACK carries that.
    if (answerDue && this.receiving.holdsEarly) return this.ack(false);
    if (now < this.turn.holdUntil && !answerDue) return undefined;
    if (!this.turn.pending || answerDue) {
      const data = this.window.hasRetransmit
        ? this.window.takeRetransmit()
        : !this.turn.pending && this.window.canSendNew
          ? this.window.takeNew()
          : undefined;
      if (data !== undefined) return this.dataFrame(data);
    }
    if (answerDue) return this.ack(false);
    if (this.turn.pending) return undefined;
    if (this.probeDue) {
      this.probeDue = false;
      return this.ack(true);
    }
    if (
      this.dozing.wanted !== undefined &&
      this.state === 'open' &&
      now >= this.dozing.retryAt &&
      this.window.idle &&
      !this.receiving.holdsEarly
    ) {
      // The request is a poll: its answer (an ACK with the grant, or whatever the gateway still has) comes at once.
      this.turn.ask();
      return this.frame(FrameKind.ACK, true, 0, this.dozing.request(this.receiving.sackBits()));
    }
    if (
      this.state === 'open' &&
      this.config.role === 'initiator' &&
      now >= this.lastHeardAt + this.timing.heartbeatMs
    ) {
      // Idle too long: a heartbeat, which the peer must answer.
      this.stats.heartbeats++;
      return this.ack(true);
    }
    return undefined;
  }

  private dataFrame(data: InflightFrame): Frame {
    // The node's request is answered with data: no sleep this time (it asks again once idle).
    this.dozing.grantDue = undefined;
    this.pollRetransmitted = data.transmissions > 0;
    if (this.pollRetransmitted) this.stats.retransmissions++;
    data.transmissions++;
    // Poll on the last frame of a burst: nothing more may go until the answer.
    const last = !this.window.hasRetransmit && (this.turn.pending || !this.window.canSendNew);
    const frame = this.frame(FrameKind.DATA, last, data.seq, data.payload);
    this.sending = data;
    if (last) this.turn.ask();
    return frame;
  }

  private ack(poll: boolean): Frame {
    if (poll) this.turn.ask();
    const grant = poll
      ? undefined
      : this.dozing.takeGrant(this.receiving.sackBits(), this.lastHeardAt, this.window.idle);
    if (grant !== undefined) return this.frame(FrameKind.ACK, false, 0, grant);
    return this.frame(FrameKind.ACK, poll, 0, new Uint8Array([this.receiving.sackBits()]));
  }

  private frame(kind: FrameKind, poll: boolean, seq: number, payload: Uint8Array): Frame {
    if (kind === FrameKind.DATA || kind === FrameKind.ACK) {
      this.turn.answering();
    }
    this.stats.framesSent++;
    return {
      kind,
      dst: this.config.peer,
      src: this.config.local,
      epoch: this.config.epoch,
      poll,
      seq,
      ack: this.receiving.next,
      payload,
    };
  }

  /** The frame `poll()` returned has left the antenna; timers start now. */
  sent(frame: Frame, now: number): void {
    if (this.sending !== undefined) {
      this.sending.sentAt = now;
      this.sending = undefined;
    }
    if (frame.poll && this.turn.transmitting) {
      this.turn.transmitting = false;
      // Answered while it was still on its way: nothing to wait for.
      if (!this.turn.pending) return;
      // Jitter, so two ends (or two nodes) that collided do not collide again.
      const wait = this.rto.rto * (1 + 0.25 * this.config.random());
      this.turn.deadline = now + wait;
      if (frame.kind === FrameKind.OPEN) this.openRetryAt = now + wait;
    }
  }

  /**
   * Silence that ends the stream. The responder waits for the initiator's
   * own timeout (announced in its OPEN) and a retransmission more, so the
   * node always gives up first and the gateway never drops a node that is
   * still trying.
   */
  private silenceLimit(): number {
    if (this.peerTimeoutMs === undefined) return this.timing.linkTimeoutMs;
    return Math.max(this.peerTimeoutMs, this.timing.linkTimeoutMs) + this.rto.rto;
  }

  /** Timers: unanswered polls, silence, linger. */
  tick(now: number): void {
    if (this.state === 'closed') return;
    if (this.asleep && this.config.role === 'initiator' && now >= this.dozing.until) this.wakeUp(now);
    const silent = now - Math.max(this.lastHeardAt, this.dozing.until);
    if (silent >= this.silenceLimit()) {
      this.emitClosed({ by: 'timeout', silentMs: silent });
      this.state = 'closed';
      this.resetDue = ResetReason.TIMEOUT;
      return;
    }
    if (this.state === 'closing' && (this.window.idle || now >= this.lingerUntil)) {
      this.state = 'closed';
      this.resetDue = this.resetReason;
      return;
    }
    if (this.turn.expired(now)) {
      this.turn.done();
      this.rto.backOff();
      this.window.markLost();
      // Only frames the peer holds are unacknowledged: nothing to resend, so ask for the ack.
      if (!this.window.hasRetransmit && this.window.inflightCount > 0) this.probeDue = true;
    }
  }

  /** When `tick` or `poll` next has something to do. */
  nextDeadline(): number {
    if (this.resetDue !== undefined) return 0;
    if (this.state === 'closed' || this.state === 'accepting') return Number.POSITIVE_INFINITY;
    const sleep = this.dozing;
    let deadline = Math.max(this.lastHeardAt, sleep.until) + this.silenceLimit();
    if (this.acceptDue || this.confirmDue) return 0;
    // Asleep: nothing to send until the node wakes (or, at the gateway, speaks).
    if (this.asleep) return this.config.role === 'initiator' ? Math.min(deadline, sleep.until) : deadline;
    if (sleep.wakeDue && !this.turn.pending) return 0;
    if (sleep.wanted !== undefined && this.state === 'open' && !this.turn.pending && this.window.idle)
      if (!this.receiving.holdsEarly) return Math.max(this.turn.holdUntil, sleep.retryAt);
    if (this.state === 'opening')
      return Math.min(deadline, this.turn.pending ? this.turn.deadline : this.openRetryAt);
    if (this.turn.pending) deadline = Math.min(deadline, this.turn.deadline);
    else if (this.config.role === 'initiator' && this.state === 'open')
      deadline = Math.min(deadline, this.lastHeardAt + this.timing.heartbeatMs);
    deadline = Math.min(deadline, this.turn.answerAt, this.lingerUntil);
    if (this.acceptDue || this.confirmDue || (this.probeDue && !this.turn.pending)) return 0;
    if (!this.turn.pending && (this.window.canSendNew || this.window.hasRetransmit))
      deadline = Math.min(deadline, this.turn.holdUntil);
    return deadline;
  }
}
