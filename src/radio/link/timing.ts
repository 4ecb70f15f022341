/**
 * The link layer's clocks: retransmission timeout, heartbeat, link timeout,
 * all derived from the radio's airtime and duty cycle unless given, so the
 * same defaults give milliseconds and seconds on an nRF24L01 and minutes on
 * LoRa SF12 under a 1% duty cycle. Portable: imports nothing from Node.
 */
import { localError } from '../../errors.ts';
import type { Radio } from '../types.ts';
import { FRAME_OVERHEAD, MAX_WINDOW } from './frame.ts';

/** Tuning for a radio link; every value is derived from the radio when left out. */
export interface LinkTimingOptions {
  /** Frames sent before waiting for an acknowledgement, 1-8. Default 4. */
  window?: number;
  /**
   * Time between handing a frame to the driver and the peer's driver handing
   * it up, beyond the airtime (serial ports, scheduling), in ms. Default 25.
   */
  latencyMs?: number;
  /**
   * Retransmission timeout before a round trip has been measured, in ms.
   * Default: latency × 2 + a full frame + (a full frame + an ACK) / duty
   * cycle, i.e. the longest the peer may have to wait before it may answer.
   */
  initialRtoMs?: number;
  /** The smallest retransmission timeout, in ms. Default: latency × 2 + a full frame + an ACK. */
  minRtoMs?: number;
  /** The largest retransmission timeout after backing off, in ms. Default the heartbeat. */
  maxRtoMs?: number;
  /**
   * Idle time after which the node sends a heartbeat (an ACK that asks for
   * one back), in ms. Default: the largest of 2,000, twice the initial
   * retransmission timeout, and 5 × an ACK's airtime / duty cycle (so
   * heartbeats use at most a fifth of the duty-cycle budget).
   */
  heartbeatMs?: number;
  /**
   * Silence after which the link is declared dead (an outage reported to the
   * Client; on the gateway, the node's broker connection is dropped), in ms.
   * Default: the larger of 4 heartbeats and a heartbeat + 4 initial
   * retransmission timeouts.
   */
  linkTimeoutMs?: number;
  /**
   * How long a receiver holds the acknowledgement a poll asked for, hoping
   * to carry it on an answer (a PUBACK from the broker), in ms. Default
   * latency + an ACK's airtime.
   */
  ackDelayMs?: number;
  /**
   * How long a receiver keeps quiet after a frame of the peer's burst that
   * did not poll, waiting for the next one, in ms. Default latency + 1.5 × a
   * full frame's airtime.
   */
  burstGapMs?: number;
  /** After `close()`, how long unacknowledged bytes (a DISCONNECT) are still retried, in ms. Default: the heartbeat. */
  lingerMs?: number;
}

/** The timing in force: every option of {@link LinkTimingOptions} resolved. */
export type LinkTiming = Required<LinkTimingOptions>;

/** What the timing needs to know about a radio. */
export type RadioAirtime = Pick<Radio, 'mtu' | 'airtimeMs' | 'dutyCycle'>;

/** The link timing for `radio`, with `options` taking precedence over the derived defaults. */
export function linkTiming(radio: RadioAirtime, options: LinkTimingOptions = {}): LinkTiming {
  const duty = radio.dutyCycle > 0 && radio.dutyCycle <= 1 ? radio.dutyCycle : 1;
  const frameMs = radio.airtimeMs(radio.mtu);
  const ackMs = radio.airtimeMs(FRAME_OVERHEAD + 1);
  const latencyMs = options.latencyMs ?? 25;
  const initialRtoMs = options.initialRtoMs ?? 2 * latencyMs + frameMs + (frameMs + ackMs) / duty;
  const minRtoMs = options.minRtoMs ?? 2 * latencyMs + frameMs + ackMs;
  const heartbeatMs = options.heartbeatMs ?? Math.max(2000, 2 * initialRtoMs, (5 * ackMs) / duty);
  const linkTimeoutMs = options.linkTimeoutMs ?? Math.max(4 * heartbeatMs, heartbeatMs + 4 * initialRtoMs);
  const timing: LinkTiming = {
    window: options.window ?? 4,
    latencyMs,
    initialRtoMs,
    minRtoMs,
    maxRtoMs: options.maxRtoMs ?? heartbeatMs,
    heartbeatMs,
    linkTimeoutMs,
    ackDelayMs: options.ackDelayMs ?? latencyMs + ackMs,
    burstGapMs: options.burstGapMs ?? latencyMs + 1.5 * frameMs,
    lingerMs: options.lingerMs ?? heartbeatMs,
  };
  if (!Number.isInteger(timing.window) || timing.window < 1 || timing.window > MAX_WINDOW)
    throw localError('INVALID_ARGUMENT', `radio link window must be an integer 1-${MAX_WINDOW}`);
  for (const [key, value] of Object.entries(timing)) {
    if (!Number.isFinite(value) || value < 0)
      throw localError('INVALID_ARGUMENT', `radio link ${key} must be a finite number >= 0, got ${value}`);
  }
  if (timing.linkTimeoutMs <= timing.heartbeatMs)
    throw localError('INVALID_ARGUMENT', 'radio link linkTimeoutMs must be longer than heartbeatMs');
  return timing;
}
