/**
 * The receiving half of a stream: which frame comes next, and the frames
 * that came early (selective repeat), handed up in order once the gap
 * closes. Portable, no clock.
 */
import { MAX_WINDOW, SEQ_MODULO, seqDistance } from './frame.ts';

export class ReceiveWindow {
  /** The next sequence number expected: the acknowledgement every frame carries. */
  next = 0;
  private readonly early = new Map<number, Uint8Array>();

  /** Frames past a gap are held: an answer must say which (a selective ack). */
  get holdsEarly(): boolean {
    return this.early.size > 0;
  }

  /**
   * A DATA frame arrived. Returns the payloads now in order (none when it
   * came early), or undefined for a frame that had already arrived.
   */
  receive(seq: number, payload: Uint8Array): Uint8Array[] | undefined {
    const ahead = seqDistance(seq, this.next);
    if (ahead === 0) {
      const inOrder = [payload];
      this.next = (this.next + 1) % SEQ_MODULO;
      for (let held = this.early.get(this.next); held !== undefined; held = this.early.get(this.next)) {
        this.early.delete(this.next);
        inOrder.push(held);
        this.next = (this.next + 1) % SEQ_MODULO;
      }
      return inOrder;
    }
    if (ahead < MAX_WINDOW && !this.early.has(seq)) {
      this.early.set(seq, payload);
      return [];
    }
    return undefined;
  }

  /** Bit i set: the frame `next + 1 + i` arrived early. */
  sackBits(): number {
    let bits = 0;
    for (const seq of this.early.keys()) bits |= 1 << (seqDistance(seq, this.next) - 1);
    return bits & 0xff;
  }
}
