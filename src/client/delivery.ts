/**
 * Delivery to the application: the receiving half of the promise.
 *
 * A message the broker hands us is acknowledged when the application has
 * taken it, never on arrival: every subscription it matched has handed it to
 * its consumer and the consumer came back (a callback returned or its promise
 * settled; a `for await` body asked for the next message). Until then it is
 * held here and counted against one client-wide bound. QoS 1/2 messages need
 * no room check: the broker may not send more of them than our Receive
 * Maximum (MQTT 5) or its own in-flight window (3.1.1) before we acknowledge,
 * so holding acknowledgements back is what stops it. QoS 0 messages beyond
 * the bound are dropped and counted.
 *
 * A message no subscription claims (it arrived before the application
 * subscribed, as a resumed session's queue does right after CONNACK) is held
 * for `unclaimedTimeout`: a subscription made meanwhile that matches it, or a
 * `message` listener, takes it. After that it is acknowledged and dropped
 * (counted), so that unclaimed messages never fill the broker's window and
 * freeze the session. Only the first `unclaimedTimeout` after the client's
 * first connection holds them: later, a message nobody claims comes from a
 * subscription the broker keeps and the application no longer makes, and
 * holding each one would throttle every other subscription to a window per
 * timeout; it is acknowledged and dropped at once.
 */

import type { Message } from './message.ts';

/** Bounds on what the client holds for the application; see the ClientOptions of the same names. */
export interface DeliveryLimits {
  maxBufferedMessages: number;
  maxBufferedBytes: number;
  unclaimedTimeout: number;
}

/** Messages held at once for the application, across every subscription. */
export const DEFAULT_MAX_BUFFERED_MESSAGES = 1000;
/** Bytes (topic + payload) held at once for the application: 16 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** How long a message no subscription claims waits for one, in ms. */
export const DEFAULT_UNCLAIMED_TIMEOUT = 30_000;

/** Counters of the receiving side, part of `client.stats`. */
export interface DeliveryStats {
  /** Messages received and not yet taken by the application (unclaimed ones included). */
  buffered: number;
  /** Their bytes (topic + payload). */
  bufferedBytes: number;
  /** Of `buffered`, messages that no subscription has claimed yet. */
  unclaimed: number;
  /** QoS 0 messages dropped because the buffer was full, since the client was made. */
  droppedInbound: number;
  /** Messages no subscription or listener claimed within `unclaimedTimeout`, acknowledged and dropped. */
  unclaimedDropped: number;
}

/**
 * One inbound message on its way to the application. Each holder (a
 * subscription, the unclaimed list, the listeners) has a claim and lets it go
 * once, in one of three ways; when the last claim goes the message leaves the
 * buffer and, unless the client is closing, is acknowledged: at once when the
 * client dropped it (no holder's consumer took it: unclaimed too long, or its
 * subscription ended), and, when a consumer took it, only with automatic
 * acknowledgement (with `manualAck` the application acknowledges by hand).
 */
export class Delivered {
  readonly message: Message;
  readonly size: number;
  /** When it arrived (the client's clock): an unclaimed one waits until this + unclaimedTimeout. */
  readonly arrivedAt: number;
  #claims = 0;
  #settled = false;
  #taken = false;
  #abandoned = false;
  readonly #owner: Delivery;
  /** Sends the acknowledgement; undefined for QoS 0. */
  readonly #ack: (() => void) | undefined;
  readonly #autoAck: boolean;

  /** @internal */
  constructor(
    owner: Delivery,
    message: Message,
    arrivedAt: number,
    ack: (() => void) | undefined,
    autoAck: boolean,
  ) {
    this.#owner = owner;
    this.message = message;
    this.size = message.topic.length + message.payload.length;
    this.arrivedAt = arrivedAt;
    this.#ack = ack;
    this.#autoAck = autoAck;
  }

  /** A holder has it. */
  claim(): void {
    this.#claims++;
  }

  /** A holder's consumer has taken it (the callback returned, the loop came back for the next). */
  take(): void {
    this.#taken = true;
    this.#let();
  }

  /** A holder drops it without a consumer taking it (unclaimed too long, its subscription ended). */
  discard(): void {
    this.#let();
  }

  /** The client is closing: no acknowledgement, so the broker delivers it again to the next connection. */
  abandon(): void {
    this.#abandoned = true;
    this.#let();
  }

  #let(): void {
    if (--this.#claims > 0 || this.#settled) return;
    this.#settled = true;
    this.#owner.release(this);
    if (this.#abandoned || (this.#taken && !this.#autoAck)) return;
    this.#ack?.();
  }
}

/** Something that can take messages: a Subscription. */
export interface Claimant {
  /** Whether the message belongs to it. */
  claims(message: Message): boolean;
  /** Hands it over (the claimant has already been counted with `claim()`). */
  deliver(item: Delivered): void;
}

/** Timers, from the client's clock. */
export interface DeliveryClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export class Delivery {
  #buffered = 0;
  #bufferedBytes = 0;
  #droppedInbound = 0;
  #unclaimedDropped = 0;
  /** Oldest first, so the expiry timer only looks at the head. */
  #unclaimed: Delivered[] = [];
  #timer: unknown;
  /** Unclaimed messages are held until then: `unclaimedTimeout` after the first connection came up. */
  #holdUntil = Number.POSITIVE_INFINITY;

  constructor(
    private readonly limits: DeliveryLimits,
    private readonly clock: DeliveryClock,
    /** False with `manualAck`: a message the application took is acknowledged by the application. */
    private readonly autoAck: boolean,
  ) {}

  get stats(): DeliveryStats {
    return {
      buffered: this.#buffered,
      bufferedBytes: this.#bufferedBytes,
      unclaimed: this.#unclaimed.length,
      droppedInbound: this.#droppedInbound,
      unclaimedDropped: this.#unclaimedDropped,
    };
  }

  /**
   * A message arrived. `ack` acknowledges it to the broker (QoS 1/2). `claimants`
   * are the subscriptions it matches; `listening` whether `message` listeners
   * (which have just seen it) take it when no subscription does. Returns false
   * when it was dropped (QoS 0, buffer full).
   */
  arrive(
    message: Message,
    ack: (() => void) | undefined,
    claimants: readonly Pick<Claimant, 'deliver'>[],
    listening: boolean,
  ): boolean {
    if (message.qos === 0 && this.#full(message)) {
      this.#droppedInbound++;
      return false;
    }
    const item = new Delivered(this, message, this.clock.now(), ack, this.autoAck);
    this.#buffered++;
    this.#bufferedBytes += item.size;
    if (claimants.length === 0) {
      if (listening) {
        item.claim();
        item.take();
      } else {
        this.#hold(item);
      }
      return true;
    }
    for (let i = 0; i < claimants.length; i++) item.claim();
    for (const c of claimants) c.deliver(item);
    return true;
  }

  /** The client is connected; the first time, the window for holding unclaimed messages starts. */
  connected(): void {
    if (this.#holdUntil === Number.POSITIVE_INFINITY)
      this.#holdUntil = this.clock.now() + this.limits.unclaimedTimeout;
  }

  /** A subscription was made: it takes the unclaimed messages it matches, oldest first. */
  offerUnclaimed(claimant: Claimant): void {
    if (this.#unclaimed.length === 0) return;
    const kept: Delivered[] = [];
    const taken: Delivered[] = [];
    for (const item of this.#unclaimed) (claimant.claims(item.message) ? taken : kept).push(item);
    if (taken.length === 0) return;
    this.#unclaimed = kept;
    this.#rearm();
    for (const item of taken) {
      item.claim();
      claimant.deliver(item);
    }
  }

  /** A `message` listener was added: every unclaimed message goes to `emit`, then counts as taken. */
  drainUnclaimed(emit: (message: Message) => void): void {
    const items = this.#unclaimed;
    if (items.length === 0) return;
    this.#unclaimed = [];
    this.#rearm();
    for (const item of items) {
      item.claim();
      emit(item.message);
      item.take();
    }
  }

  /** @internal A message left the buffer. */
  release(item: Delivered): void {
    this.#buffered--;
    this.#bufferedBytes -= item.size;
  }

  /** The client is closing: unclaimed messages are let go without an ack (the broker keeps them). */
  close(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const item of this.#unclaimed.splice(0)) {
      item.claim();
      item.abandon();
    }
  }

  #full(message: Message): boolean {
    const size = message.topic.length + message.payload.length;
    return (
      this.#buffered >= this.limits.maxBufferedMessages ||
      this.#bufferedBytes + size > this.limits.maxBufferedBytes
    );
  }

  #hold(item: Delivered): void {
    if (this.limits.unclaimedTimeout <= 0 || this.clock.now() >= this.#holdUntil) {
      this.#unclaimedDropped++;
      item.claim();
      item.discard();
      return;
    }
    item.message.compact();
    this.#unclaimed.push(item);
    if (this.#timer === undefined) this.#rearm();
  }

  #rearm(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const head = this.#unclaimed[0];
    if (head === undefined || !Number.isFinite(this.limits.unclaimedTimeout)) return;
    const wait = Math.max(0, head.arrivedAt + this.limits.unclaimedTimeout - this.clock.now());
    this.#timer = this.clock.setTimeout(() => this.#expire(), wait);
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.clock.now();
    while (this.#unclaimed.length > 0 && this.#unclaimed[0].arrivedAt + this.limits.unclaimedTimeout <= now) {
      const item = this.#unclaimed.shift()!;
      this.#unclaimedDropped++;
      item.claim();
      item.discard();
    }
    this.#rearm();
  }
}
