/**
 * One radio attached to a SimulatedMedium: the `Radio` driver interface, plus
 * position and movement. Transmissions are queued one at a time, wait for
 * the duty cycle, then occupy the channel for their time on air.
 *
 * Duty cycle rule modelled (the LoRaWAN "Toff" rule, as in the LoRaWAN
 * Regional Parameters for EU868 and Semtech's LMIC band bookkeeping): after a
 * frame of time on air T, the radio stays silent for T (1/dc - 1), so a frame
 * that starts at s lets the next start no earlier than s + T / dc. This meets
 * the ETSI EN 300 220 limit over any window (the rule is stricter than the
 * regulation's one-hour average: it allows no burst of back-to-back frames).
 */
import { localError } from '../../errors.ts';
import type { Radio, RadioHandlers, RadioStats } from '../types.ts';
import type { RadioProfile } from './profiles.ts';
import { checkPath, checkPosition, type Position, positionOnPath, type Waypoint } from './propagation.ts';

/** The counters of a simulated radio: `RadioStats` plus what happened to frames sent to it. */
export interface SimulatedRadioStats extends RadioStats {
  /** Frames in range that loss or interference took. */
  framesLost: number;
  /** Frames delivered with at least one bit flipped (also counted in framesReceived). */
  framesCorrupted: number;
  /** Frames lost because another frame overlapped them at this receiver without capture. */
  framesCollided: number;
  /** Frames this radio missed because it was transmitting (half-duplex). */
  framesMissedWhileSending: number;
  /** Frames on this radio's channel that reached it below its sensitivity. */
  framesOutOfRange: number;
  /** Bits flipped in frames delivered to this radio. */
  bitsFlipped: number;
  /** Modelled milliseconds transmissions waited for the duty cycle. */
  dutyCycleWaitMs: number;
  /** Modelled milliseconds the receiver was off (`standby`): a sleeping node's radio. */
  standbyMs: number;
}

/** What a SimulatedRadio needs from its medium: the contract between `SimulatedRadio` and `SimulatedMedium`. */
export interface MediumPort {
  readonly timeScale: number;
  /** Modelled ms since the medium started. */
  now(): number;
  /** Waits `modelMs` modelled ms; rejects when `signal` says the radio closed. */
  sleep(modelMs: number, signal: { cancel?: (error: Error) => void }): Promise<void>;
  /** Puts `frame` on the air from `start` (modelled ms); resolves when it has left the antenna. */
  transmit(radio: SimulatedRadio, frame: Uint8Array, start: number, notBefore: number): Promise<void>;
  /** The radio closed: stop its transmission and forget it. */
  detach(radio: SimulatedRadio): void;
}

/** Per-radio settings given to `medium.attach()`. */
export interface AttachOptions {
  /** A name unique on the medium; it also keys the radio's random streams. Default `node-N` (N counts attachments). */
  name?: string;
  /** What kind of radio. Default: the medium's profile. */
  profile?: RadioProfile;
  /** Where it stands, metres. Default { x: 0, y: 0 }. */
  position?: Position;
  /** A path to follow; `atMs` counts modelled ms from the attachment. Overrides `position`. Default none (the radio stays at `position`). */
  path?: readonly Waypoint[];
  /** Transmit power, dBm EIRP. Default: the profile's. */
  txPowerDbm?: number;
  /** Receiver sensitivity, dBm. Default: the profile's. */
  sensitivityDbm?: number;
  /** Probability of losing a frame sent to this radio. Default: the medium's `loss`. */
  loss?: number;
  /** Bit error rate of frames sent to this radio. Default: the medium's `bitErrorRate`. */
  bitErrorRate?: number;
}

type RadioState = 'attached' | 'open' | 'closed';

/** A radio attached to a SimulatedMedium (`medium.attach()`): a `Radio` whose frames go through the medium's model. */
export class SimulatedRadio implements Radio {
  /** The name given at attachment (or `node-N`). */
  readonly id: string;
  readonly name: string;
  readonly profile: RadioProfile;
  readonly mtu: number;
  readonly dutyCycle: number;
  readonly txPowerDbm: number;
  readonly sensitivityDbm: number;
  readonly loss: number | undefined;
  readonly bitErrorRate: number | undefined;
  readonly stats: SimulatedRadioStats = {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    airtimeMs: 0,
    framesLost: 0,
    framesCorrupted: 0,
    framesCollided: 0,
    framesMissedWhileSending: 0,
    framesOutOfRange: 0,
    bitsFlipped: 0,
    dutyCycleWaitMs: 0,
    standbyMs: 0,
  };

  private state: RadioState = 'attached';
  /** Modelled time the receiver went off (standby), or undefined while it is on. */
  private standbySince: number | undefined;
  private handlers: RadioHandlers | undefined;
  private fixed: Position = { x: 0, y: 0 };
  private path: Waypoint[] | undefined;
  private pathOrigin = 0;
  /** Modelled time before which the duty cycle forbids the next transmission. */
  private notBefore = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly waiting: { cancel?: (error: Error) => void } = {};

  /** @internal Radios are made by `SimulatedMedium.attach`. */
  constructor(
    private readonly medium: MediumPort,
    id: string,
    profile: RadioProfile,
    options: AttachOptions,
  ) {
    this.id = id;
    this.profile = profile;
    this.name = `sim ${id} ${profile.label}`;
    this.mtu = profile.mtu;
    this.dutyCycle = profile.dutyCycle;
    this.txPowerDbm = options.txPowerDbm ?? profile.txPowerDbm;
    this.sensitivityDbm = options.sensitivityDbm ?? profile.sensitivityDbm;
    this.loss = options.loss;
    this.bitErrorRate = options.bitErrorRate;
    if (options.position) this.fixed = checkPosition(options.position);
    if (options.path) this.follow(options.path);
  }

  /** Wall-clock ms one frame occupies the air (modelled airtime / timeScale): what the link layer should wait. */
  airtimeMs(bytes: number): number {
    return this.profile.airtimeMs(bytes) / this.medium.timeScale;
  }

  /** True while open and not in standby: only a listening radio hears frames. */
  get listening(): boolean {
    return this.state === 'open' && this.standbySince === undefined;
  }

  /** Receiver off (`true`) or on; the time off is counted in `stats.standbyMs` (modelled). */
  standby(on: boolean): void {
    if (on && this.standbySince === undefined) this.standbySince = this.medium.now();
    else if (!on && this.standbySince !== undefined) {
      this.stats.standbyMs += this.medium.now() - this.standbySince;
      this.standbySince = undefined;
    }
  }

  /** Modelled ms the receiver has been off so far, the current standby included. */
  get standbyMsNow(): number {
    return (
      this.stats.standbyMs + (this.standbySince === undefined ? 0 : this.medium.now() - this.standbySince)
    );
  }

  /** True once the radio was closed (by its owner or because the medium closed). */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Modelled time (ms since the medium started) at which the duty cycle next allows a transmission. */
  get nextTransmitAtMs(): number {
    return this.notBefore;
  }

  async open(handlers: RadioHandlers): Promise<void> {
    if (this.state === 'closed') throw localError('LINK_ERROR', `${this.name}: radio is closed`);
    this.handlers = handlers;
    this.state = 'open';
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.state === 'closed')
      return Promise.reject(localError('LINK_ERROR', `${this.name}: radio is closed`));
    if (frame.length > this.mtu) {
      return Promise.reject(
        localError(
          'LINK_ERROR',
          `${this.name}: frame of ${frame.length} bytes exceeds the MTU of ${this.mtu}`,
        ),
      );
    }
    const copy = frame.slice(); // the caller may reuse its buffer while the frame waits
    const sent = this.queue.then(() => this.transmit(copy));
    this.queue = sent.catch(() => {});
    return sent;
  }

  private async transmit(frame: Uint8Array): Promise<void> {
    if (this.state === 'closed') throw localError('LINK_ERROR', `${this.name}: radio is closed`);
    const requested = this.medium.now();
    if (this.notBefore > requested) {
      await this.medium.sleep(this.notBefore - requested, this.waiting);
      this.stats.dutyCycleWaitMs += this.notBefore - requested;
    }
    // A timer may fire a little early (Node rounds): never start before the rule allows.
    const start = Math.max(this.medium.now(), this.notBefore);
    const notBefore = this.notBefore;
    const airtime = this.profile.airtimeMs(frame.length);
    this.notBefore = start + airtime / this.dutyCycle;
    this.stats.framesSent++;
    this.stats.bytesSent += frame.length;
    this.stats.airtimeMs += airtime;
    await this.medium.transmit(this, frame, start, notBefore);
  }

  /** Stops listening, rejects queued sends and detaches from the medium. Safe to call more than once. */
  async close(): Promise<void> {
    this.shutdown(localError('LINK_ERROR', `${this.name}: radio closed`));
  }

  /** @internal The medium went away: close, and tell the owner why. */
  mediumClosed(error: Error): void {
    const handlers = this.handlers;
    const wasClosed = this.state === 'closed';
    this.shutdown(error);
    if (!wasClosed) handlers?.close?.(error);
  }

  private shutdown(error: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.handlers = undefined;
    this.waiting.cancel?.(error);
    this.medium.detach(this);
  }

  /** @internal A frame reached this radio (already decided by the medium). */
  deliver(frame: Uint8Array, rssi: number): void {
    if (!this.listening || !this.handlers) return;
    this.stats.framesReceived++;
    this.handlers.receive(frame, rssi);
  }

  /** Puts the radio at `position` (metres) and stops any path. */
  moveTo(position: Position): void {
    this.fixed = checkPosition(position);
    this.path = undefined;
  }

  /** Follows `path` from now on: waypoint `atMs` counts modelled ms from this call; the radio stays at the last waypoint. */
  follow(path: readonly Waypoint[]): void {
    this.path = checkPath(path);
    this.pathOrigin = this.medium.now();
  }

  /** Where the radio is at modelled time `atMs` (default now). */
  positionAt(atMs: number = this.medium.now()): Position {
    return this.path ? positionOnPath(this.path, atMs - this.pathOrigin) : this.fixed;
  }
}
