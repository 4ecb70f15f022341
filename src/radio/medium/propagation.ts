/**
 * Where radios are and how strong they hear each other: positions (fixed or
 * following a path over modelled time) and the log-distance path-loss model.
 */
import { localError } from '../../errors.ts';

/** A point in metres. */
export interface Position {
  x: number;
  y: number;
  /** Height in metres. Default 0. */
  z?: number;
}

/** A point on a path: the radio is at (x, y, z) at modelled time `atMs` (ms since the medium started). */
export interface Waypoint extends Position {
  atMs: number;
}

/** The log-distance path-loss model. */
export interface PathLossOptions {
  /**
   * Path-loss exponent n: 2 in free space, 2.7 to 3.5 in built-up areas, 4 to
   * 6 indoors through walls. Default 2.7.
   */
  exponent?: number;
  /** Reference distance d0 in metres. Default 1. */
  referenceDistanceM?: number;
  /** Loss at d0 in dB. Default: the free-space loss at d0 for the sender's frequency. */
  referenceLossDb?: number;
  /**
   * Standard deviation of log-normal shadowing in dB, drawn afresh for each
   * frame and receiver from the seeded stream. Default 0 (no shadowing).
   */
  shadowingSigmaDb?: number;
}

/** Speed of light used in the free-space formula, m/s. */
const SPEED_OF_LIGHT = 299_792_458;

/**
 * Free-space path loss (Friis) in dB:
 * FSPL = 20 log10(d) + 20 log10(f) + 20 log10(4 pi / c)  (d in m, f in Hz; the constant is -147.55 dB).
 * 31.2 dB at 1 m and 868 MHz, 40.3 dB at 1 m and 2.476 GHz.
 */
export function freeSpaceLossDb(distanceM: number, frequencyHz: number): number {
  return (
    20 * Math.log10(distanceM) +
    20 * Math.log10(frequencyHz) +
    20 * Math.log10((4 * Math.PI) / SPEED_OF_LIGHT)
  );
}

/**
 * Log-distance path loss in dB (Rappaport, Wireless Communications, 4.9):
 * PL(d) = PL(d0) + 10 n log10(d / d0), for d >= d0 (closer than d0 counts as d0).
 */
export function pathLossDb(distanceM: number, frequencyHz: number, options: PathLossOptions = {}): number {
  const n = options.exponent ?? 2.7;
  const d0 = options.referenceDistanceM ?? 1;
  const pl0 = options.referenceLossDb ?? freeSpaceLossDb(d0, frequencyHz);
  return pl0 + 10 * n * Math.log10(Math.max(distanceM, d0) / d0);
}

export function distanceM(a: Position, b: Position): number {
  return Math.hypot(a.x - b.x, a.y - b.y, (a.z ?? 0) - (b.z ?? 0));
}

/** Checks a path: at least one waypoint, finite coordinates, times increasing. */
export function checkPath(path: readonly Waypoint[]): Waypoint[] {
  if (path.length === 0) throw localError('INVALID_ARGUMENT', 'a path needs at least one waypoint');
  for (let i = 0; i < path.length; i++) {
    const w = path[i];
    if (![w.atMs, w.x, w.y, w.z ?? 0].every(Number.isFinite)) {
      throw localError('INVALID_ARGUMENT', `waypoint ${i} has a non-finite value`);
    }
    if (i > 0 && w.atMs < path[i - 1].atMs) {
      throw localError('INVALID_ARGUMENT', `waypoint ${i} is earlier than waypoint ${i - 1}`);
    }
  }
  return path.map((w) => ({ ...w }));
}

export function checkPosition(position: Position): Position {
  if (![position.x, position.y, position.z ?? 0].every(Number.isFinite)) {
    throw localError('INVALID_ARGUMENT', 'a position needs finite x, y (and z)');
  }
  return { ...position };
}

/**
 * Where a radio following `path` is at modelled time `atMs`: linear
 * interpolation between waypoints, holding the first position before the
 * path starts and the last one after it ends.
 */
export function positionOnPath(path: readonly Waypoint[], atMs: number): Position {
  if (atMs <= path[0].atMs) return path[0];
  for (let i = 1; i < path.length; i++) {
    const b = path[i];
    if (atMs <= b.atMs) {
      const a = path[i - 1];
      const f = b.atMs === a.atMs ? 1 : (atMs - a.atMs) / (b.atMs - a.atMs);
      return {
        x: a.x + f * (b.x - a.x),
        y: a.y + f * (b.y - a.y),
        z: (a.z ?? 0) + f * ((b.z ?? 0) - (a.z ?? 0)),
      };
    }
  }
  return path[path.length - 1];
}
