/**
 * Sleeping nodes, the link layer's part: a node asks to sleep with a poll
 * (an ACK with poll) whose body, after the selective-ack byte, says
 * SLEEP_REQUEST and for how long; the gateway grants it only when it has
 * nothing waiting for the node, answering with SLEEP_GRANTED and the time
 * it grants (its cap). Then neither end sends on the stream until the node
 * wakes: the node's radio is off (no heartbeat), the gateway holds what the
 * broker sends and waits the granted time plus its usual silence limit
 * before it gives up on the node. Any frame from the node wakes it at the
 * gateway; on waking, the node polls at once, and the gateway's answer
 * carries what it held.
 *
 * ```
 * ACK body: sack (1) | SLEEP_REQUEST or SLEEP_GRANTED (1) | milliseconds (u32)
 * ```
 *
 * An ACK body of one byte (every ACK of an older peer) is no sleep at all.
 * `StreamSleep` is one stream's part of it: what was asked, granted and
 * owed; the Stream (stream.ts) asks it when it builds frames and deadlines.
 * Portable: nothing from Node.
 */
import { type Frame, FrameKind } from './frame.ts';
import type { StreamConfig, StreamEvent, StreamStats } from './stream-types.ts';

/** The ACK body's second byte: what the sleep part says. */
export const SleepMark = {
  /** Node to gateway: "may I sleep this long?" */
  REQUEST: 1,
  /** Gateway to node: "yes, this long". */
  GRANTED: 2,
} as const;
export type SleepMark = (typeof SleepMark)[keyof typeof SleepMark];

/** Bytes of an ACK body with a sleep part. */
const SLEEP_BODY_BYTES = 6;

/** An ACK body with the selective-ack bits and a sleep part. */
export function sleepBody(sack: number, mark: SleepMark, ms: number): Uint8Array {
  const body = new Uint8Array(SLEEP_BODY_BYTES);
  body[0] = sack;
  body[1] = mark;
  new DataView(body.buffer).setUint32(2, Math.min(0xffff_ffff, Math.max(0, Math.round(ms))));
  return body;
}

/** The sleep part of an ACK body, if it has one. */
export function readSleep(payload: Uint8Array): { mark: SleepMark; ms: number } | undefined {
  if (payload.length < SLEEP_BODY_BYTES) return undefined;
  const mark = payload[1];
  if (mark !== SleepMark.REQUEST && mark !== SleepMark.GRANTED) return undefined;
  const ms = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(2);
  return { mark, ms };
}

/** What the sleep part needs of its stream when a frame arrives. */
export interface SleepContext {
  /** Nothing of ours is waiting for the peer's acknowledgement. */
  idle: boolean;
  /** The stream's retransmission timeout now, in ms. */
  rtoMs: number;
}

/** One stream's sleep state (see the module comment); the Stream owns one and reads its fields. */
export class StreamSleep {
  /** Initiator: the sleep asked for by `sleep()` and not granted yet, in ms. */
  wanted: number | undefined;
  /**
   * Initiator: asleep until then (no frame goes out, silence is not counted);
   * responder: the node sleeps until then, so nothing is sent to it and its
   * silence counts from then. -Infinity when awake.
   */
  until = Number.NEGATIVE_INFINITY;
  /** When the current sleep began (its length goes into `stats.asleepMs`). */
  private since = 0;
  /** Initiator: a sleep request is out; an answer without the grant delays the next until `retryAt`. */
  private asked = false;
  retryAt = 0;
  /** The wait before the next request after a refusal: from one retransmission timeout, doubling up to a heartbeat. */
  private backoffMs = 0;
  /** Initiator: just woke: poll at once, so the gateway sends what it held. */
  wakeDue = false;
  /** Responder: the sleep to grant in the answer owed to a node's sleep request. */
  grantDue: number | undefined;

  constructor(
    private readonly config: StreamConfig,
    private readonly stats: StreamStats,
    private readonly emit: (event: StreamEvent) => void,
  ) {}

  /** True while the stream sleeps (initiator) or its node does (responder). */
  get asleep(): boolean {
    return this.until !== Number.NEGATIVE_INFINITY;
  }

  /** The sleep is over (its time is up, `wake()`, or, at the gateway, the node spoke). */
  wakeUp(now: number): void {
    this.stats.asleepMs += Math.max(0, now - this.since);
    this.until = Number.NEGATIVE_INFINITY;
    if (this.config.role === 'initiator') {
      this.wakeDue = true;
      this.emit({ type: 'awake' });
    }
  }

  /** Sleeps from `now` for `ms`. */
  fallAsleep(now: number, ms: number): void {
    this.since = now;
    this.until = now + ms;
    this.stats.sleeps++;
    if (this.config.role === 'initiator') this.emit({ type: 'asleep', untilMs: this.until });
  }

  /** The sleep part of a frame of the peer's: a node's request (responder) or the grant (initiator). */
  received(frame: Frame, now: number, stream: SleepContext): void {
    // DATA carries stream bytes, never a sleep part.
    const sleep = frame.kind === FrameKind.ACK ? readSleep(frame.payload) : undefined;
    if (this.config.role === 'initiator' && this.asked && sleep?.mark !== SleepMark.GRANTED) {
      // Not granted (the gateway had data, or grants no sleep): ask again later, backing off.
      this.asked = false;
      this.backoffMs = Math.min(this.config.timing.heartbeatMs, Math.max(stream.rtoMs, 2 * this.backoffMs));
      this.retryAt = now + this.backoffMs;
    }
    if (sleep === undefined) return;
    if (this.config.role === 'responder') {
      const cap = this.config.maxSleepMs ?? 0;
      // Granted only with nothing waiting for the node: what the broker sends later is held.
      if (sleep.mark === SleepMark.REQUEST && frame.poll && cap > 0 && stream.idle)
        this.grantDue = Math.min(sleep.ms, cap);
      return;
    }
    if (sleep.mark !== SleepMark.GRANTED || this.wanted === undefined) return;
    // Written since the request: stay up and ask again once it is through.
    this.asked = false;
    this.backoffMs = 0;
    if (!stream.idle) return;
    const ms = Math.min(this.wanted, sleep.ms);
    this.wanted = undefined;
    this.fallAsleep(now, ms);
  }

  /** Initiator: the body of the request going out now (the stream has checked it is due). */
  request(sack: number): Uint8Array {
    this.asked = true;
    return sleepBody(sack, SleepMark.REQUEST, this.wanted ?? 0);
  }

  /**
   * Responder: the body of the grant owed, for an answer going out now, or
   * undefined. Granted only when nothing waits for the node; from then on
   * nothing goes to it until it speaks, and its silence counts from `heardAt`.
   */
  takeGrant(sack: number, heardAt: number, idle: boolean): Uint8Array | undefined {
    const grant = this.grantDue;
    this.grantDue = undefined;
    if (grant === undefined || !idle) return undefined;
    this.fallAsleep(heardAt, grant);
    return sleepBody(sack, SleepMark.GRANTED, grant);
  }
}
