/**
 * The sending half of a stream: bytes the application wrote, cut into
 * frames of at most `payloadSize`, a window of frames in flight, and which
 * of them must go again. Selective repeat: a frame the peer reports holding
 * (selective ack) is never sent twice. Portable, no clock of its own.
 */
import { MAX_WINDOW, SEQ_MODULO, seqDistance } from './frame.ts';

/** One DATA frame sent and not yet acknowledged. */
export interface InflightFrame {
  seq: number;
  payload: Uint8Array;
  /** Times it was handed to the radio. */
  transmissions: number;
  /**
   * When it last left the antenna; undefined until its first transmission
   * has (on a full-duplex line it can be acknowledged before that).
   */
  sentAt: number | undefined;
  /** The peer said it holds this frame (it is waiting for an earlier one). */
  sacked: boolean;
  /** Waiting in the retransmission queue. */
  queued: boolean;
}

/** What an acknowledgement did. */
export interface AckResult {
  /** Frames it acknowledged for the first time. */
  acked: number;
  /** Round trip of the newest of them, if it was sent only once (Karn's rule). */
  rttSample: number | undefined;
}

export class SendWindow {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already cut into frames. */
  private offset = 0;
  private unsent = 0;
  private readonly inflight: InflightFrame[] = [];
  private retransmits: InflightFrame[] = [];
  /** Sequence number of inflight[0] (or of the next new frame when none is in flight). */
  private base = 0;

  constructor(
    private readonly window: number,
    private readonly payloadSize: number,
  ) {}

  /** Queues bytes; they are cut into frames as the window allows. */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.unsent += bytes.length;
  }

  /** Bytes written and not yet acknowledged. */
  get bufferedAmount(): number {
    let bytes = this.unsent;
    for (const frame of this.inflight) bytes += frame.payload.length;
    return bytes;
  }

  /** Frames in flight. */
  get inflightCount(): number {
    return this.inflight.length;
  }

  /** Nothing waits to be sent or acknowledged. */
  get idle(): boolean {
    return this.unsent === 0 && this.inflight.length === 0;
  }

  /** A new frame may be cut now. */
  get canSendNew(): boolean {
    return this.unsent > 0 && this.inflight.length < this.window;
  }

  get hasRetransmit(): boolean {
    return this.retransmits.length > 0;
  }

  /** Cuts the next frame from the written bytes and puts it in flight. */
  takeNew(): InflightFrame {
    const size = Math.min(this.payloadSize, this.unsent);
    const payload = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0];
      const n = Math.min(size - filled, chunk.length - this.offset);
      payload.set(chunk.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.offset += n;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.unsent -= size;
    const seq = (this.base + this.inflight.length) % SEQ_MODULO;
    const frame: InflightFrame = {
      seq,
      payload,
      transmissions: 0,
      sentAt: undefined,
      sacked: false,
      queued: false,
    };
    this.inflight.push(frame);
    return frame;
  }

  /** The next frame to send again, if any. */
  takeRetransmit(): InflightFrame | undefined {
    const frame = this.retransmits.shift();
    if (frame !== undefined) frame.queued = false;
    return frame;
  }

  /** Every frame in flight the peer does not hold goes again (a poll went unanswered, or the answer shows holes). */
  markLost(): void {
    for (const frame of this.inflight) {
      if (frame.sacked || frame.queued || frame.transmissions === 0) continue;
      frame.queued = true;
      this.retransmits.push(frame);
    }
  }

  /**
   * The peer expects `next` and holds the frames set in `sack` (bit i: the
   * frame `next + 1 + i`). Returns undefined when `next` lies outside the
   * window (a stale or corrupt acknowledgement).
   */
  acknowledge(next: number, sack: number, now: number): AckResult | undefined {
    const acked = seqDistance(next, this.base);
    if (acked > this.inflight.length) return undefined;
    let rttSample: number | undefined;
    for (const frame of this.inflight.splice(0, acked)) {
      // Acknowledged before it had even left: no round trip to measure (taking
      // `now - 0` as one once pushed the timeout up to the heartbeat).
      if (frame.transmissions === 1 && frame.sentAt !== undefined) rttSample = now - frame.sentAt;
    }
    this.base = next;
    if (acked > 0) this.retransmits = this.retransmits.filter((frame) => this.inflight.includes(frame));
    for (let i = 0; i < MAX_WINDOW; i++) {
      if ((sack & (1 << i)) === 0) continue;
      const frame = this.inflight[i + 1];
      if (frame === undefined) break;
      frame.sacked = true;
      if (frame.queued) {
        frame.queued = false;
        this.retransmits = this.retransmits.filter((f) => f !== frame);
      }
    }
    return { acked, rttSample };
  }
}

/**
 * Retransmission timeout from measured round trips (RFC 6298's smoothed
 * mean and variance), doubled per unanswered poll, within the link's bounds.
 */
export class RtoEstimator {
  private srtt: number | undefined;
  private rttvar = 0;
  private backoff = 1;

  constructor(
    private readonly initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The smoothed round trip, once one has been measured. */
  get smoothedRtt(): number | undefined {
    return this.srtt;
  }

  sample(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  /** The current timeout, backoff included. */
  get rto(): number {
    const base = this.srtt === undefined ? this.initialMs : this.srtt + 4 * this.rttvar;
    return Math.min(this.maxMs, Math.max(this.minMs, base) * this.backoff);
  }

  /**
   * A poll went unanswered: wait longer next time. By half, not double: on a
   * radio a lost frame is noise far more often than congestion, and the
   * jitter already separates two senders that collided.
   */
  backOff(): void {
    if (this.rto < this.maxMs) this.backoff *= 1.5;
  }

  /** An answer came: back to the measured timeout. */
  answered(): void {
    this.backoff = 1;
  }
}
