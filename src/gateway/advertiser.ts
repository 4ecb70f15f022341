/**
 * The gateway's side of discovery (src/radio/link/discovery.ts), one per
 * radio: an ADVERTISE every interval (the first at a random point in the
 * first interval, so gateways started together do not keep colliding), and
 * a GWINFO for every search from a node the gateway may serve, after a
 * random wait within the answer spread so that gateways that heard the same
 * search rarely answer at once. At most one answer per node per spread: a
 * replayed or repeated search costs one frame, not one per copy.
 */
import type { LinkClock } from '../radio/link/clock.ts';
import { answerSpreadMs, type DiscoveryCodec, type DiscoveryMessage } from '../radio/link/discovery.ts';
import type { RadioEndpoint } from '../radio/link/endpoint.ts';
import type { FrameDefect } from '../radio/link/frame.ts';
import type { Radio } from '../radio/types.ts';

/** Counters of one radio's discovery. */
export interface AdvertiserStats {
  /** Advertisements sent. */
  advertisements: number;
  /** Searches heard from nodes this gateway may serve (authenticated on a secure link). */
  searches: number;
  /** Answers (GWINFO) sent. */
  answers: number;
}

export interface AdvertiserOptions {
  radio: Radio;
  endpoint: RadioEndpoint;
  codec: DiscoveryCodec;
  clock: LinkClock;
  random: () => number;
  /** Ms between advertisements; 0: none (searches are still answered). */
  intervalMs: number;
  /** Nodes served now, told in each answer. */
  load: () => number;
}

export class Advertiser {
  readonly stats: AdvertiserStats = { advertisements: 0, searches: 0, answers: 0 };
  private readonly spreadMs: number;
  private advertiseTimer: unknown;
  private readonly answering = new Map<number, unknown>();
  private closed = false;

  constructor(private readonly options: AdvertiserOptions) {
    this.spreadMs = answerSpreadMs((bytes) => options.radio.airtimeMs(bytes));
  }

  /** Starts advertising (after the radio is open). */
  start(): void {
    const { intervalMs } = this.options;
    if (intervalMs > 0) this.schedule(this.options.random() * intervalMs);
  }

  /** A discovery frame heard on this radio; returns why it was dropped, if it was. */
  heard(bytes: Uint8Array, rssi: number | undefined): FrameDefect | undefined {
    const heard = this.options.codec.decode(bytes);
    if (!heard.ok) return heard.defect;
    const message: DiscoveryMessage = heard.message;
    // Advertisements of other gateways and answers to nodes are not for a gateway.
    if (message.type !== 'search' || this.closed) return undefined;
    this.stats.searches++;
    if (this.answering.has(message.node)) return undefined;
    const answer = this.options.codec.gwinfo(message.node, message.nonce, rssi, this.options.load());
    if (answer === undefined) return 'unknown-node';
    const timer = this.options.clock.setTimeout(() => {
      this.answering.delete(message.node);
      if (this.closed) return;
      if (this.options.endpoint.sendControl(answer)) this.stats.answers++;
    }, this.options.random() * this.spreadMs);
    this.answering.set(message.node, timer);
    return undefined;
  }

  /** Stops advertising and answering. */
  close(): void {
    this.closed = true;
    this.options.clock.clearTimeout(this.advertiseTimer);
    for (const timer of this.answering.values()) this.options.clock.clearTimeout(timer);
    this.answering.clear();
  }

  private schedule(ms: number): void {
    this.advertiseTimer = this.options.clock.setTimeout(() => {
      if (this.closed) return;
      if (this.options.endpoint.sendControl(this.options.codec.advertise(this.options.intervalMs)))
        this.stats.advertisements++;
      // Jitter of a tenth, so two gateways never lock into the same slot.
      this.schedule(this.options.intervalMs * (0.95 + 0.1 * this.options.random()));
    }, ms);
  }
}
