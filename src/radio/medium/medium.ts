/**
 * SimulatedMedium: the shared air that simulated radios attach to.
 *
 * A frame put on the air by one radio reaches every other listening radio on
 * the same channel. For each receiver, in this order:
 *   1. Range: RSSI = tx power - path loss (log-distance) [+ shadowing]; below
 *      the receiver's sensitivity the frame is not heard at all.
 *   2. Half-duplex: a receiver that transmitted at any moment while the frame
 *      was on the air hears nothing of it.
 *   3. Collision: if another heard frame overlaps it in time, it survives only
 *      if it is at least `captureThresholdDb` stronger than the strongest
 *      overlapping one (capture effect); otherwise it is lost. Two frames of
 *      similar strength are therefore both lost. Only frames above the
 *      receiver's sensitivity count as interferers.
 *   4. Interference: a Gilbert-Elliott burst or an `interfere()` burst that
 *      overlaps the frame loses it with the burst's loss probability.
 *   5. Loss: lost with probability `loss` (per frame and receiver).
 *   6. Bit errors: each bit flips with the bit error rate (plus the burst's).
 * Frames that get through are handed to the receiver when they end on the air,
 * with their RSSI.
 *
 * Time: all decisions are made in modelled time (`now()`), which runs
 * `timeScale` times faster than the wall clock. Airtime, duty-cycle waits,
 * paths and burst schedules are all in modelled ms; only `Radio.airtimeMs()`
 * answers in wall-clock ms, because that is what the link layer waits.
 *
 * Randomness: every (frame, receiver) decision draws from its own stream,
 * seeded from the medium seed, the sender's name, the sender's frame number and
 * the receiver's name. Loss and bit errors therefore repeat exactly for the
 * same seed and the same frames, however deliveries interleave. Collisions,
 * duty-cycle waits and positions on a path depend on when frames are sent, so
 * they repeat when the sends happen at the same (modelled) times.
 */
import { localError } from '../../errors.ts';
import { combineBitErrorRates, flipBits } from './bit-errors.ts';
import { ScaledClock, type TimerHandle, type WallClock } from './clock.ts';
import { type BurstOptions, Interference, type InterferenceOptions } from './interference.ts';
import { lora, type RadioProfile } from './profiles.ts';
import { distanceM, type PathLossOptions, pathLossDb } from './propagation.ts';
import { gaussian, hashString, mixSeed, prng } from './random.ts';
import { type AttachOptions, type MediumPort, SimulatedRadio } from './sim-radio.ts';

/** Options for `new SimulatedMedium()`; every one has a default. */
export interface MediumOptions {
  /** Seed for every random decision. Default 1. */
  seed?: number;
  /** How many times faster than the modelled radios the medium runs (waits are divided by it). Default 1. */
  timeScale?: number;
  /** The radio profile of radios attached without one. Default `lora()` (SF7, 125 kHz, CR 4/5, 1% duty cycle). */
  profile?: RadioProfile;
  /** Probability that a frame is lost at a receiver, independently per frame and receiver. Default 0. */
  loss?: number;
  /** Probability that each bit of a delivered frame is flipped. Default 0. */
  bitErrorRate?: number;
  /** Gilbert-Elliott bursts of interference. Default: none. */
  burst?: BurstOptions;
  /** The path-loss model. Default: exponent 2.7, free-space loss at 1 m, no shadowing. */
  pathLoss?: PathLossOptions;
  /** Wall-clock source in ms. Default `performance.now()`. */
  wallClock?: WallClock;
}

/** Why a frame did not reach a receiver. */
export type DropReason = 'out-of-range' | 'half-duplex' | 'collision' | 'interference' | 'loss';

/** What happened on the medium, for tracing, demos and tests. Times are modelled ms. */
export type MediumEvent =
  | { type: 'transmit'; from: string; atMs: number; endMs: number; bytes: number; notBeforeMs: number }
  | { type: 'deliver'; from: string; to: string; atMs: number; rssi: number; bitsFlipped: number }
  | { type: 'drop'; from: string; to: string; atMs: number; rssi: number; reason: DropReason }
  | { type: 'interference'; atMs: number; endMs: number; radios: readonly string[] | undefined }
  | { type: 'close'; atMs: number };

/** Totals over every radio that was ever attached. Airtime in modelled ms. */
export interface MediumStats {
  radios: number;
  transmissions: number;
  bytesSent: number;
  airtimeMs: number;
  deliveries: number;
  lost: number;
  corrupted: number;
  collided: number;
  missedWhileSending: number;
  outOfRange: number;
  bitsFlipped: number;
}

interface Interval {
  start: number;
  end: number;
}

/** A radio as the medium tracks it. */
interface Station {
  radio: SimulatedRadio;
  key: number;
  frames: number;
  /** Its own recent transmissions (for half-duplex). */
  sent: Interval[];
  /** Frames it heard above sensitivity that may still overlap a pending one. */
  heard: Reception[];
}

interface Transmission extends Interval {
  from: Station;
  frame: Uint8Array;
  receptions: Reception[];
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Reception {
  tx: Transmission;
  at: Station;
  rssi: number;
  random: () => number;
}

function checkProbability(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw localError('INVALID_ARGUMENT', `${name} must be a probability in [0, 1], got ${value}`);
  }
}

/** A shared piece of simulated air: radios attach to it, and it decides the fate of every frame they send (see the module comment). */
export class SimulatedMedium implements MediumPort {
  readonly seed: number;
  readonly timeScale: number;
  readonly profile: RadioProfile;
  private loss: number;
  private bitErrorRate: number;
  private readonly pathLoss: PathLossOptions;
  private readonly clock: ScaledClock;
  private readonly interference: Interference;
  private readonly stations = new Map<SimulatedRadio, Station>();
  private readonly names = new Set<string>();
  private readonly pending = new Set<Transmission>();
  private readonly listeners = new Set<(event: MediumEvent) => void>();
  private attachments = 0;
  private isClosed = false;
  private readonly totals: MediumStats = {
    radios: 0,
    transmissions: 0,
    bytesSent: 0,
    airtimeMs: 0,
    deliveries: 0,
    lost: 0,
    corrupted: 0,
    collided: 0,
    missedWhileSending: 0,
    outOfRange: 0,
    bitsFlipped: 0,
  };

  constructor(options: MediumOptions = {}) {
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale > 0 && Number.isFinite(timeScale))) {
      throw localError('INVALID_ARGUMENT', `timeScale must be a positive number, got ${timeScale}`);
    }
    checkProbability('loss', options.loss);
    checkProbability('bitErrorRate', options.bitErrorRate);
    const burst = options.burst;
    if (burst) {
      if (!(burst.meanGoodMs > 0 && burst.meanBadMs > 0)) {
        throw localError('INVALID_ARGUMENT', 'burst.meanGoodMs and burst.meanBadMs must be positive');
      }
      checkProbability('burst.lossInBurst', burst.lossInBurst);
      checkProbability('burst.bitErrorRateInBurst', burst.bitErrorRateInBurst);
    }
    this.seed = (options.seed ?? 1) >>> 0;
    this.timeScale = timeScale;
    this.profile = options.profile ?? lora();
    this.loss = options.loss ?? 0;
    this.bitErrorRate = options.bitErrorRate ?? 0;
    this.pathLoss = { ...options.pathLoss };
    this.clock = new ScaledClock(timeScale, options.wallClock);
    this.interference = new Interference(burst, (key) => mixSeed(this.seed, hashString(key), 0x6e015e));
  }

  /** Modelled ms since the medium started. */
  now(): number {
    return this.clock.now();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Attaches a new radio. Throws INVALID_ARGUMENT for a name already in use, LINK_ERROR once the medium is closed. */
  attach(options: AttachOptions = {}): SimulatedRadio {
    if (this.isClosed) throw localError('LINK_ERROR', 'the simulated medium is closed');
    checkProbability('loss', options.loss);
    checkProbability('bitErrorRate', options.bitErrorRate);
    this.attachments++;
    const id = options.name ?? `node-${this.attachments}`;
    if (this.names.has(id)) throw localError('INVALID_ARGUMENT', `a radio named ${id} is already attached`);
    const radio = new SimulatedRadio(this, id, options.profile ?? this.profile, options);
    this.names.add(id);
    this.stations.set(radio, { radio, key: hashString(id), frames: 0, sent: [], heard: [] });
    this.totals.radios++;
    return radio;
  }

  /** The attached radios. */
  radios(): SimulatedRadio[] {
    return [...this.stations.keys()];
  }

  /** Starts a burst of interference now, lasting `durationMs` modelled ms. */
  interfere(options: InterferenceOptions): void {
    if (!(options.durationMs >= 0)) throw localError('INVALID_ARGUMENT', 'durationMs must be >= 0');
    checkProbability('loss', options.loss);
    checkProbability('bitErrorRate', options.bitErrorRate);
    const atMs = this.now();
    this.interference.add(atMs, options);
    this.emit({ type: 'interference', atMs, endMs: atMs + options.durationMs, radios: options.radios });
  }

  /** Changes the medium-wide loss or bit error rate from now on (for frames not yet decided). */
  update(options: { loss?: number; bitErrorRate?: number }): void {
    checkProbability('loss', options.loss);
    checkProbability('bitErrorRate', options.bitErrorRate);
    if (options.loss !== undefined) this.loss = options.loss;
    if (options.bitErrorRate !== undefined) this.bitErrorRate = options.bitErrorRate;
  }

  /** Calls `listener` for every medium event; returns a function that stops it. */
  observe(listener: (event: MediumEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Totals for the whole medium, a snapshot. */
  get stats(): MediumStats {
    return { ...this.totals };
  }

  /** Closes every radio (their `close` handlers hear why) and stops every timer. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const error = localError('LINK_ERROR', 'the simulated medium was closed');
    for (const radio of [...this.stations.keys()]) radio.mediumClosed(error);
    for (const tx of this.pending) tx.reject(error);
    this.pending.clear();
    this.clock.cancelAll();
    this.emit({ type: 'close', atMs: this.now() });
    this.listeners.clear();
  }

  /** @internal */
  sleep(modelMs: number, signal: { cancel?: (error: Error) => void }): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.after(modelMs, () => {
        signal.cancel = undefined;
        resolve();
      });
      signal.cancel = (error) => {
        signal.cancel = undefined;
        this.clock.cancel(timer);
        reject(error);
      };
    });
  }

  /** @internal */
  transmit(radio: SimulatedRadio, frame: Uint8Array, start: number, notBefore: number): Promise<void> {
    const from = this.stations.get(radio);
    if (!from) return Promise.reject(localError('LINK_ERROR', `${radio.name}: radio is closed`));
    const airtime = radio.profile.airtimeMs(frame.length);
    const frameNumber = from.frames++;
    return new Promise<void>((resolve, reject) => {
      const tx: Transmission = {
        start,
        end: start + airtime,
        from,
        frame,
        receptions: [],
        timer: undefined,
        resolve,
        reject,
      };
      from.sent.push(tx);
      for (const at of this.stations.values()) {
        if (at === from || !at.radio.listening || at.radio.profile.channel !== radio.profile.channel)
          continue;
        const random = prng(mixSeed(this.seed, from.key, frameNumber, at.key));
        const rssi = this.rssi(from.radio, at.radio, start, random);
        if (rssi < at.radio.sensitivityDbm) {
          at.radio.stats.framesOutOfRange++;
          this.totals.outOfRange++;
          this.emitDrop(tx, at, rssi, 'out-of-range');
          continue;
        }
        const reception: Reception = { tx, at, rssi, random };
        tx.receptions.push(reception);
        at.heard.push(reception);
      }
      this.totals.transmissions++;
      this.totals.bytesSent += frame.length;
      this.totals.airtimeMs += airtime;
      this.emit({
        type: 'transmit',
        from: radio.id,
        atMs: start,
        endMs: tx.end,
        bytes: frame.length,
        notBeforeMs: notBefore,
      });
      this.pending.add(tx);
      tx.timer = this.clock.after(tx.end - this.now(), () => this.finish(tx));
    });
  }

  /** @internal */
  detach(radio: SimulatedRadio): void {
    const station = this.stations.get(radio);
    if (!station) return;
    this.stations.delete(radio);
    this.names.delete(radio.id);
    const error = localError('LINK_ERROR', `${radio.name}: radio closed`);
    for (const tx of this.pending) {
      if (tx.from !== station) continue;
      // The carrier stops now: receivers lose the frame, and it interferes only until now.
      tx.end = Math.max(tx.start, this.now());
      tx.receptions = [];
      if (tx.timer) this.clock.cancel(tx.timer);
      this.pending.delete(tx);
      tx.reject(error);
    }
  }

  /** Received signal strength in dBm: tx power - log-distance path loss (+ seeded shadowing). */
  private rssi(from: SimulatedRadio, to: SimulatedRadio, atMs: number, random: () => number): number {
    const d = distanceM(from.positionAt(atMs), to.positionAt(atMs));
    let rssi = from.txPowerDbm - pathLossDb(d, from.profile.frequencyHz, this.pathLoss);
    const sigma = this.pathLoss.shadowingSigmaDb ?? 0;
    if (sigma > 0) rssi += sigma * gaussian(random);
    return rssi;
  }

  /** The frame has left the antenna: decide its fate at every receiver, then release the sender. */
  private finish(tx: Transmission): void {
    this.pending.delete(tx);
    for (const reception of tx.receptions) this.decide(reception);
    this.prune();
    tx.resolve();
  }

  private decide(reception: Reception): void {
    const { tx, at } = reception;
    const radio = at.radio;
    if (!radio.listening) return;
    // Draw both numbers whatever happens, so the stream stays aligned for the bit errors that follow.
    const lossDraw = reception.random();
    const burstDraw = reception.random();
    if (at.sent.some((own) => own.start < tx.end && own.end > tx.start)) {
      radio.stats.framesMissedWhileSending++;
      this.totals.missedWhileSending++;
      this.emitDrop(tx, at, reception.rssi, 'half-duplex');
      return;
    }
    let strongest = Number.NEGATIVE_INFINITY;
    for (const other of at.heard) {
      if (other.tx !== tx && other.tx.start < tx.end && other.tx.end > tx.start)
        strongest = Math.max(strongest, other.rssi);
    }
    if (reception.rssi - strongest < radio.profile.captureThresholdDb) {
      radio.stats.framesCollided++;
      this.totals.collided++;
      this.emitDrop(tx, at, reception.rssi, 'collision');
      return;
    }
    const burst = this.interference.effect(radio.id, tx.start, tx.end);
    if (burst && burstDraw < burst.loss) {
      this.countLost(tx, reception, 'interference');
      return;
    }
    if (lossDraw < (radio.loss ?? this.loss)) {
      this.countLost(tx, reception, 'loss');
      return;
    }
    const frame = tx.frame.slice();
    const ber = combineBitErrorRates(radio.bitErrorRate ?? this.bitErrorRate, burst?.bitErrorRate ?? 0);
    const bitsFlipped = flipBits(frame, ber, reception.random);
    if (bitsFlipped > 0) {
      radio.stats.framesCorrupted++;
      radio.stats.bitsFlipped += bitsFlipped;
      this.totals.corrupted++;
      this.totals.bitsFlipped += bitsFlipped;
    }
    this.totals.deliveries++;
    this.emit({
      type: 'deliver',
      from: tx.from.radio.id,
      to: radio.id,
      atMs: tx.end,
      rssi: reception.rssi,
      bitsFlipped,
    });
    try {
      radio.deliver(frame, reception.rssi);
    } catch (error) {
      // The receiver's handler threw: other receivers still get the frame; the error is not swallowed.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  private countLost(tx: Transmission, reception: Reception, reason: DropReason): void {
    reception.at.radio.stats.framesLost++;
    this.totals.lost++;
    this.emitDrop(tx, reception.at, reception.rssi, reason);
  }

  /** Forgets transmissions that ended before every frame still on the air began: they can overlap nothing more. */
  private prune(): void {
    let horizon = this.now();
    for (const tx of this.pending) horizon = Math.min(horizon, tx.start);
    for (const station of this.stations.values()) {
      if (station.sent.length > 0) station.sent = station.sent.filter((i) => i.end >= horizon);
      if (station.heard.length > 0) station.heard = station.heard.filter((r) => r.tx.end >= horizon);
    }
    this.interference.prune(horizon);
  }

  private emitDrop(tx: Transmission, at: Station, rssi: number, reason: DropReason): void {
    if (this.listeners.size === 0) return;
    this.emit({ type: 'drop', from: tx.from.radio.id, to: at.radio.id, atMs: tx.end, rssi, reason });
  }

  private emit(event: MediumEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
