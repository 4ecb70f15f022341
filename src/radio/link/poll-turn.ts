/**
 * Whose turn it is to talk on a half-duplex radio, for one stream
 * (stream.ts): a sender sets `poll` on the last frame of its burst and then
 * keeps quiet until the answer (or its timeout); a receiver answers polls,
 * and holds back while the peer is mid-burst, so the two ends rarely talk at
 * once. The Stream reads the fields when it picks a frame and a deadline.
 * Portable: imports nothing but types.
 */
import { type Frame, FrameKind } from './frame.ts';
import type { LinkTiming } from './timing.ts';

export class PollTurn {
  /** A frame of ours asked for an answer; cleared by any frame from the peer or its timeout. */
  pending = false;
  /** When the pending poll is given up (set once the frame has left). */
  deadline = Number.POSITIVE_INFINITY;
  /** The frame being transmitted carries a poll (its deadline starts when it has left). */
  transmitting = false;
  /** The peer polled us (or its burst ended without the poll): an answer is due at `answerAt`. */
  answerAt = Number.POSITIVE_INFINITY;
  /** The answer owed is to a poll (more frames do not push it back). */
  private polled = false;
  /** The peer is mid-burst (its last frame had no poll): keep quiet until then. */
  holdUntil = 0;

  constructor(private readonly timing: LinkTiming) {}

  /** A frame of ours that asks for an answer is going out. */
  ask(): void {
    this.pending = true;
    this.transmitting = true;
  }

  /** Nothing more to wait for: the poll was answered, or given up. */
  done(): void {
    this.pending = false;
    this.deadline = Number.POSITIVE_INFINITY;
  }

  /** A DATA or ACK of ours goes out: it is the answer owed, if one was. */
  answering(): void {
    this.answerAt = Number.POSITIVE_INFINITY;
    this.polled = false;
  }

  /** The pending poll's time is up at `now` (its frame has left and no answer came). */
  expired(now: number): boolean {
    return this.pending && !this.transmitting && now >= this.deadline;
  }

  /** A DATA or ACK frame of the peer's arrived at `now`: when to answer it. */
  heard(frame: Frame, now: number): void {
    if (frame.poll) {
      this.answerAt = Math.min(
        this.answerAt,
        now + (frame.kind === FrameKind.DATA ? this.timing.ackDelayMs : 0),
      );
      this.polled = true;
      this.holdUntil = 0;
    } else if (frame.kind === FrameKind.DATA) {
      // More frames of the peer's burst follow; talking now would collide with them. Should
      // the burst's last frame (the poll) be lost, answer anyway once the burst is over.
      this.holdUntil = now + this.timing.burstGapMs;
      if (!this.polled) this.answerAt = this.holdUntil + this.timing.ackDelayMs;
    }
  }
}
