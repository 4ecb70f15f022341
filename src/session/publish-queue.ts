/**
 * The outbound queue and its bounds: messages accepted by `publish()` and not
 * sent yet, in publish order, and the accounting of everything the client
 * holds (queued and in flight) against a limit in messages and in bytes.
 *
 * When a new message does not fit, the oldest queued QoS 0 messages are
 * dropped first (they promise nothing). If it still does not fit, the policy
 * decides: 'wait' parks the message (and every later one, to keep the order)
 * until room frees up, so `publish()` simply takes longer (back-pressure);
 * 'reject' refuses it with QUEUE_FULL.
 */

import type { OutboundRecord } from './types.ts';

export interface QueueLimits {
  /** Messages held at once (queued + in flight). */
  maxMessages: number;
  /** Bytes held at once (topic + payload of queued and in-flight messages). */
  maxBytes: number;
  /** What happens to a message that does not fit once QoS 0 messages are dropped. */
  whenFull: 'wait' | 'reject';
}

/** Default bounds: generous, yet a long outage cannot exhaust memory. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = {
  maxMessages: 100_000,
  maxBytes: 64 * 1024 * 1024,
  whenFull: 'wait',
};

export type OfferResult = 'accepted' | 'waiting' | 'rejected';

function sizeOf(record: OutboundRecord<unknown>): number {
  return record.message.topic.length + record.message.payload.byteLength;
}

export class PublishQueue<P> {
  /** Accepted, not sent yet, oldest first; `head` saves shifting the array on every send. */
  #items: OutboundRecord<P>[] = [];
  #head = 0;
  /** Parked by the 'wait' policy, oldest first; not yet accepted (so not stored either). */
  #waiting: OutboundRecord<P>[] = [];
  /** Messages held: queued plus in flight. */
  heldMessages = 0;
  heldBytes = 0;
  /** QoS 0 messages dropped to make room, since the session began. */
  dropped = 0;

  constructor(
    private readonly limits: QueueLimits,
    /** A queued QoS 0 message was dropped to make room. */
    private readonly onDrop: (record: OutboundRecord<P>) => void,
    /** A message was accepted (queued): the store hears of it here. */
    private readonly onAccept: (record: OutboundRecord<P>) => void,
  ) {}

  /** Messages queued (accepted, not sent). */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Messages parked by the 'wait' policy. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  peek(): OutboundRecord<P> | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Takes the oldest queued message out (it stays held until `release`). */
  shift(): OutboundRecord<P> {
    const record = this.#items[this.#head];
    this.#items[this.#head++] = undefined as unknown as OutboundRecord<P>; // let it be collected
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return record;
  }

  /** A new message from `publish()`. */
  offer(record: OutboundRecord<P>): OfferResult {
    if (this.#waiting.length === 0 && this.#makeRoom(record)) {
      this.#accept(record);
      return 'accepted';
    }
    if (this.limits.whenFull === 'reject') return 'rejected';
    this.#waiting.push(record);
    return 'waiting';
  }

  /** A record restored from a store: accepted whatever the bounds (it was accepted before). */
  restore(record: OutboundRecord<P>, queued: boolean): void {
    this.heldMessages++;
    this.heldBytes += sizeOf(record);
    if (queued) this.#items.push(record);
  }

  /** A held message left the client (completed, failed, or a QoS 0 written): its room frees up. */
  release(record: OutboundRecord<P>): void {
    this.heldMessages--;
    this.heldBytes -= sizeOf(record);
  }

  /** Accepts parked messages that fit now, in order; returns how many. */
  admit(): number {
    let admitted = 0;
    while (this.#waiting.length > 0 && this.#makeRoom(this.#waiting[0])) {
      this.#accept(this.#waiting.shift()!);
      admitted++;
    }
    return admitted;
  }

  /** Queued and parked messages, oldest first (a copy, for status displays). */
  records(): OutboundRecord<P>[] {
    return [...this.#items.slice(this.#head), ...this.#waiting];
  }

  /** Takes a queued or parked message out by its token; undefined when it is not here (it left). */
  remove(token: P): OutboundRecord<P> | undefined {
    const parked = this.#waiting.findIndex((r) => r.token === token);
    if (parked >= 0) return this.#waiting.splice(parked, 1)[0];
    for (let i = this.#head; i < this.#items.length; i++) {
      if (this.#items[i].token === token) {
        const record = this.#items.splice(i, 1)[0];
        this.release(record);
        return record;
      }
    }
    return undefined;
  }

  /** Empties the queue and the parking; returns what was there. */
  clear(): { queued: OutboundRecord<P>[]; parked: OutboundRecord<P>[] } {
    const queued = this.#items.slice(this.#head);
    const parked = this.#waiting;
    for (const r of queued) this.release(r);
    this.#items = [];
    this.#head = 0;
    this.#waiting = [];
    return { queued, parked };
  }

  #accept(record: OutboundRecord<P>): void {
    this.heldMessages++;
    this.heldBytes += sizeOf(record);
    this.#items.push(record);
    this.onAccept(record);
  }

  /** True when `record` fits, after dropping the oldest queued QoS 0 messages if need be. */
  #makeRoom(record: OutboundRecord<P>): boolean {
    const size = sizeOf(record);
    const limits = this.limits;
    // An empty client always takes one message, however large, or it would wait forever.
    // (A loop, not a closure: this runs for every publication.)
    while (
      this.heldMessages !== 0 &&
      (this.heldMessages >= limits.maxMessages || this.heldBytes + size > limits.maxBytes)
    ) {
      if (!this.#dropOldestQos0()) return false;
    }
    return true;
  }

  #dropOldestQos0(): boolean {
    for (let i = this.#head; i < this.#items.length; i++) {
      const record = this.#items[i];
      if (record.message.qos === 0) {
        this.#items.splice(i, 1);
        this.release(record);
        this.dropped++;
        this.onDrop(record);
        return true;
      }
    }
    return false;
  }
}
