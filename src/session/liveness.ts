/**
 * Is the link alive? Keepalive pings and the deadline by which the broker
 * must have said something, from the times packets went each way. Pure: the
 * Session passes `now`.
 *
 * The rule ("silence deadline"): a PINGREQ goes out when we have sent nothing
 * OR received nothing for a keepalive period (so a half-open link is probed
 * while the application keeps publishing into it), and the link is dead when
 * the broker has said nothing for 1.5 x keepalive since its last packet, the
 * interval after which the broker itself gives up on us [MQTT-3.1.2-24]. A
 * PINGREQ is always given at least half a keepalive to be answered. With an
 * explicit `responseTimeout` (mqtt_as's response_time), the deadline is that
 * long after the PINGREQ instead.
 *
 * Unanswered requests are evidence too: a QoS 1/2 PUBLISH, PUBREL,
 * SUBSCRIBE, UNSUBSCRIBE or PINGREQ sent after the broker's last packet must
 * be answered within the response timeout (default 1.5 x keepalive), so with
 * a short `responseTimeout` a dead link under traffic is found that fast.
 */

/** Packet types (high nibble of the first byte) that the broker must answer. */
const CONNECT = 1;
const PUBLISH = 3;
const PUBREL = 6;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
const PINGREQ = 12;

function expectsAnswer(firstByte: number): boolean {
  const type = firstByte >> 4;
  if (type === PUBLISH) return ((firstByte >> 1) & 3) > 0;
  // CONNECT too: its CONNACK gives the first answer time, before any request is judged by it.
  return (
    type === CONNECT || type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE || type === PINGREQ
  );
}

export class Liveness {
  /** Keepalive in ms; 0 turns pings and the silence deadline off. */
  keepaliveMs: number;
  #lastSent = 0;
  #lastReceived = 0;
  #pingSentAt: number | undefined;
  /** When the first packet needing an answer went out since the broker's last packet. */
  #awaitingSince: number | undefined;
  /** Smoothed time the broker takes to answer (ms), as TCP smooths its RTT (gain 1/8). */
  #answerTime: number | undefined;

  constructor(
    keepaliveSeconds: number,
    private readonly responseTimeout: number | undefined,
  ) {
    this.keepaliveMs = keepaliveSeconds * 1000;
  }

  /** A connection starts (or ends): both directions count as fresh. */
  reset(now: number): void {
    this.#lastSent = now;
    this.#lastReceived = now;
    this.#pingSentAt = undefined;
    this.#awaitingSince = undefined;
  }

  /** Bytes went out; `firstByte` is their first packet's. */
  sent(now: number, firstByte: number): void {
    this.#lastSent = now;
    if (this.#awaitingSince === undefined && expectsAnswer(firstByte)) this.#awaitingSince = now;
  }

  /** Anything from the broker proves the link is alive. */
  received(now: number): void {
    if (this.#awaitingSince !== undefined) {
      const sample = now - this.#awaitingSince;
      this.#answerTime =
        this.#answerTime === undefined ? sample : this.#answerTime + (sample - this.#answerTime) / 8;
    }
    this.#lastReceived = now;
    this.#pingSentAt = undefined;
    this.#awaitingSince = undefined;
  }

  /** Whether a PINGREQ should go out now (then call {@link pinged}). */
  pingDue(now: number): boolean {
    return this.keepaliveMs > 0 && this.#pingSentAt === undefined && now >= this.#nextPing();
  }

  pinged(now: number): void {
    this.#pingSentAt = now;
  }

  /** The time by which the broker must have sent something, or the link is dead. */
  deadAt(): number {
    let at = Number.POSITIVE_INFINITY;
    const k = this.keepaliveMs;
    if (this.#pingSentAt !== undefined) {
      at =
        this.responseTimeout !== undefined
          ? this.#pingSentAt + this.responseTimeout
          : Math.max(this.#lastReceived + 1.5 * k, this.#pingSentAt + 0.5 * k);
    }
    const answerWithin = this.responseTimeout ?? (k > 0 ? 1.5 * k : undefined);
    if (this.#awaitingSince !== undefined && answerWithin !== undefined) {
      at = Math.min(at, this.#awaitingSince + answerWithin);
    }
    return at;
  }

  /** The next time something is due: a ping, or the dead-link deadline. */
  nextDeadline(): number {
    const ping =
      this.keepaliveMs > 0 && this.#pingSentAt === undefined ? this.#nextPing() : Number.POSITIVE_INFINITY;
    return Math.min(ping, this.deadAt());
  }

  /**
   * Since when a packet that needs an answer has gone unanswered (no packet
   * at all from the broker since it went out); undefined when none is.
   */
  get awaitingSince(): number | undefined {
    return this.#awaitingSince;
  }

  /** The broker's smoothed answer time in ms over this and earlier connections; undefined before any. */
  get answerTime(): number | undefined {
    return this.#answerTime;
  }

  /** How long the broker has been silent, for the error message. */
  silentFor(now: number): number {
    return now - this.#lastReceived;
  }

  #nextPing(): number {
    return Math.min(this.#lastSent, this.#lastReceived) + this.keepaliveMs;
  }
}
