/**
 * Bursts of interference: a Gilbert-Elliott channel run in modelled time, plus
 * bursts triggered on demand (`medium.interfere(...)`).
 *
 * The Gilbert-Elliott model is a two-state Markov chain, Good and Bad, each
 * with its own error behaviour. Here it runs in continuous time: the chain
 * stays in Good for an exponentially distributed time with mean `meanGoodMs`,
 * then in Bad for a time with mean `meanBadMs`, and so on. The dwell times are
 * drawn from a stream seeded by the medium's seed (and the receiver's name
 * when each receiver has its own interference), so the burst schedule is a
 * fixed function of the seed and modelled time, whatever the traffic.
 * In the long run the channel is Bad a fraction meanBad / (meanGood + meanBad)
 * of the time; for frames much shorter than a dwell time this is the packet
 * Gilbert-Elliott chain with p(G->B) ~ airtime / meanGoodMs and
 * p(B->G) ~ airtime / meanBadMs.
 *
 * A frame whose time on air overlaps a Bad period is lost with probability
 * `lossInBurst`, and if it survives its bits flip at `bitErrorRateInBurst`.
 */
import { exponential, prng } from './random.ts';

/** Gilbert-Elliott interference: bursts at random times, from the medium's seed. */
export interface BurstOptions {
  /** Mean time between bursts (Good state dwell), modelled ms. */
  meanGoodMs: number;
  /** Mean burst length (Bad state dwell), modelled ms. */
  meanBadMs: number;
  /** Probability that a frame overlapping a burst is lost. Default 1. */
  lossInBurst?: number;
  /** Bit error rate of a frame that overlaps a burst and is not lost. Default 0. */
  bitErrorRateInBurst?: number;
  /**
   * One interference process for the whole medium (true) or one per receiver
   * (false: a noise source near one radio does not disturb another). Default false.
   */
  shared?: boolean;
}

/** One burst of interference started by hand with `medium.interfere()`. */
export interface InterferenceOptions {
  /** How long the burst lasts, modelled ms. */
  durationMs: number;
  /** Probability that a frame overlapping the burst is lost. Default 1. */
  loss?: number;
  /** Bit error rate for frames that overlap it and are not lost. Default 0. */
  bitErrorRate?: number;
  /** Names of the receivers it disturbs. Default: every radio. */
  radios?: readonly string[];
}

/** What interference does to one frame at one receiver. */
export interface InterferenceEffect {
  loss: number;
  bitErrorRate: number;
}

interface Interval {
  start: number;
  end: number;
}

/** The Bad periods of one Gilbert-Elliott chain, generated lazily as modelled time goes on. */
class BurstTimeline {
  private readonly random: () => number;
  private readonly bad: Interval[] = [];
  /** Everything before this time has been generated. */
  private generatedTo = 0;

  constructor(
    seed: number,
    private readonly meanGoodMs: number,
    private readonly meanBadMs: number,
  ) {
    this.random = prng(seed);
    // Start in the stationary distribution, so a run does not begin with a guaranteed quiet spell.
    if (this.random() < meanBadMs / (meanGoodMs + meanBadMs)) {
      const end = exponential(this.random, meanBadMs);
      this.bad.push({ start: 0, end });
      this.generatedTo = end;
    }
  }

  overlaps(start: number, end: number): boolean {
    while (this.generatedTo <= end) {
      const badStart = this.generatedTo + exponential(this.random, this.meanGoodMs);
      const badEnd = badStart + exponential(this.random, this.meanBadMs);
      this.bad.push({ start: badStart, end: badEnd });
      this.generatedTo = badEnd;
    }
    return this.bad.some((b) => b.start < end && b.end > start);
  }

  /** Forgets Bad periods that ended before `t` (no frame that old is still being decided). */
  prune(t: number): void {
    let i = 0;
    while (i < this.bad.length && this.bad[i].end < t) i++;
    if (i > 0) this.bad.splice(0, i);
  }
}

interface ManualBurst extends Interval, InterferenceEffect {
  radios: ReadonlySet<string> | undefined;
}

/** All interference on a medium: the seeded Gilbert-Elliott process and bursts triggered by hand. */
export class Interference {
  private readonly timelines = new Map<string, BurstTimeline>();
  private manual: ManualBurst[] = [];

  constructor(
    private readonly burst: BurstOptions | undefined,
    private readonly seedFor: (key: string) => number,
  ) {}

  /** Adds a burst over [startMs, startMs + durationMs) of modelled time. */
  add(startMs: number, options: InterferenceOptions): void {
    this.manual.push({
      start: startMs,
      end: startMs + options.durationMs,
      loss: options.loss ?? 1,
      bitErrorRate: options.bitErrorRate ?? 0,
      radios: options.radios ? new Set(options.radios) : undefined,
    });
  }

  /** The worst interference a frame on the air over [start, end) meets at `receiver`, or undefined. */
  effect(receiver: string, start: number, end: number): InterferenceEffect | undefined {
    let loss = -1;
    let bitErrorRate = 0;
    if (this.burst && this.timeline(receiver).overlaps(start, end)) {
      loss = this.burst.lossInBurst ?? 1;
      bitErrorRate = this.burst.bitErrorRateInBurst ?? 0;
    }
    for (const m of this.manual) {
      if (m.start < end && m.end > start && (!m.radios || m.radios.has(receiver))) {
        loss = Math.max(loss, m.loss);
        bitErrorRate = Math.max(bitErrorRate, m.bitErrorRate);
      }
    }
    return loss < 0 ? undefined : { loss, bitErrorRate };
  }

  prune(t: number): void {
    for (const timeline of this.timelines.values()) timeline.prune(t);
    this.manual = this.manual.filter((m) => m.end >= t);
  }

  private timeline(receiver: string): BurstTimeline {
    const key = this.burst?.shared ? '*' : receiver;
    let timeline = this.timelines.get(key);
    if (!timeline) {
      const burst = this.burst as BurstOptions;
      timeline = new BurstTimeline(this.seedFor(key), burst.meanGoodMs, burst.meanBadMs);
      this.timelines.set(key, timeline);
    }
    return timeline;
  }
}
