/**
 * What a RadioEndpoint offers its owner (a node's RadioLink, the gateway):
 * the handle of each stream, the open requests a gateway answers, the
 * events it reports for logs, its options, and how a dropped frame is
 * counted. Portable: nothing from Node.
 */
import type { Radio } from '../types.ts';
import type { LinkClock } from './clock.ts';
import type { NonceSource } from './codec.ts';
import type { Frame, FrameDefect, ResetReason } from './frame.ts';
import type { NodeKey } from './secure-frame.ts';
import type { Stream, StreamEnd } from './stream.ts';
import type { LinkTiming } from './timing.ts';

/** What a stream tells its owner. */
export interface StreamHandlers {
  /** Initiator: the peer accepted the stream. Default: nothing is called. */
  open?(): void;
  /** Stream bytes, in order, each exactly once. */
  data(bytes: Uint8Array): void;
  /** Everything written has been acknowledged (after `write()` returned false). Default: nothing is called. */
  drain?(): void;
  /** The stream ended; called once. */
  closed(end: StreamEnd): void;
  /** Node: the gateway granted the sleep asked for; the stream is quiet until `untilMs` (the clock's). Default nothing. */
  asleep?(untilMs: number): void;
  /** Node: the sleep is over (its time is up, or `wake()`). Default nothing. */
  awake?(): void;
}

/** The owner's side of one stream. */
export interface StreamHandle {
  readonly peer: number;
  /** State and counters. */
  readonly stream: Stream;
  /** Queues bytes; false past the high-water mark (`drain` follows). */
  write(bytes: Uint8Array): boolean;
  readonly bufferedAmount: number;
  /** Retries what is unacknowledged for the linger time, then sends RESET with `reason` (default CLOSED). */
  close(reason?: ResetReason): void;
  /** Sends RESET with `reason` (default CLOSED) at once. */
  abort(reason?: ResetReason): void;
  /** Node: asks the gateway to let it sleep `ms` (stream-sleep.ts); `asleep` follows when granted. */
  sleep(ms: number): void;
  /** Node: ends a sleep early, or drops a request not granted yet. */
  wake(): void;
}

/** A node asked for a stream (gateway side). Answer with `accept` or `refuse`. */
export interface OpenRequest {
  readonly peer: number;
  /** Signal strength of the OPEN, in dBm, when the radio reports it. */
  readonly rssi: number | undefined;
  /** The link timeout the node announced. */
  readonly linkTimeoutMs: number;
  /** The stream it would open (state and counters). */
  readonly stream: Stream;
  /** Aborted when the request is withdrawn (the node opened again, or the endpoint closed). */
  readonly signal: AbortSignal;
  /** Opens the stream (ACCEPT goes out); throws LINK_ERROR when the request was withdrawn. */
  accept(handlers: StreamHandlers): StreamHandle;
  /** Answers with RESET and `reason`. */
  refuse(reason: ResetReason): void;
}

/** What the endpoint saw, for logs. */
export type EndpointEvent =
  | {
      type: 'frame';
      direction: 'in' | 'out';
      frame: Frame;
      size: number;
      rssi?: number;
      retransmission: boolean;
    }
  | { type: 'defect'; defect: FrameDefect; size: number; rssi?: number }
  | { type: 'reset-reply'; peer: number; epoch: number };

/** Counters for frames that did not reach a stream. */
export interface EndpointStats {
  /** Frames heard, good or not. */
  framesHeard: number;
  /** Failed the CRC: never delivered. */
  corrupted: number;
  /** Passed the CRC but were no frame (too short, unknown kind, bad body). */
  malformed: number;
  /** Good frames addressed to someone else. */
  notForUs: number;
  /** Good frames for a stream we do not have (answered with RESET, or REJECT on a secure link). */
  unknownStream: number;
  /** Secure links: the tag did not match (corrupted or forged); dropped without a word. */
  authFailed: number;
  /** Secure links: a frame counter already seen (a replay, or a frame heard twice); dropped. */
  replayed: number;
  /** Secure links: a REJECT that answers no frame this end sent lately (a recording, or an answer to a corrupted frame); ignored. */
  rejectsIgnored: number;
  /** Secure links: from an address with no key (refused nodes); dropped. */
  unknownNode: number;
}

/** Keys for a secure endpoint. */
export interface EndpointSecurity {
  /** The key shared with `peer` (a node's own key, on a node, for its gateway), or undefined: that peer is refused. */
  keyFor(peer: number): NodeKey | undefined;
  /** Random bytes for the handshake nonces. Default `crypto.getRandomValues`, or `random` where there is none. */
  nonces?: NonceSource;
}

/** Options for a {@link RadioEndpoint}. */
export interface EndpointOptions {
  /** The radio this endpoint owns; `start()` opens it, `close()` closes it. */
  radio: Radio;
  /** This end's address, 0-254. */
  address: number;
  /** Retransmission, heartbeat and link timeouts (see `linkTiming()`). */
  timing: LinkTiming;
  /** Time for timers and round trips. Default the platform's (`performance.now()`, `setTimeout`). */
  clock?: LinkClock;
  /** [0, 1): jitter, nonces, epochs. Default Math.random. */
  random?: () => number;
  /**
   * Authenticated, encrypted frames (secure-frame.ts) with these keys.
   * Default none: unsecured frames with a CRC, which anyone may forge.
   */
  security?: EndpointSecurity;
  /** Gateway: the longest sleep granted to a node, in ms (0: none). Default 0. */
  maxPeerSleepMs?: number;
  /** Gateway: the longest link timeout a node may announce; more is cut to this, in ms. Default: no limit. */
  maxPeerTimeoutMs?: number;
  /**
   * Gateway: a node asks for a stream. Default none: every OPEN is answered
   * with RESET. On a secure link it is called at the first frame under the
   * new stream's key (an OPEN alone may be a replay), and must accept or
   * refuse at once.
   */
  onOpen?(request: OpenRequest): void;
  /** Every frame in and out, and every defect. Default none. */
  observe?(event: EndpointEvent): void;
  /**
   * A discovery frame was heard (discovery.ts: an advertisement, a search,
   * an answer); returns why it was dropped, if it was. Default none: they
   * are ignored.
   */
  onDiscovery?(bytes: Uint8Array, rssi: number | undefined): FrameDefect | undefined;
  /** The radio stopped for good (not called for `close()`). Default none. */
  onRadioClosed?(error?: Error): void;
}

/** Options for `RadioEndpoint.close()`. */
export interface EndpointCloseOptions {
  /**
   * Send every peer a RESET with this reason before the radio closes, so it
   * sees the outage at once rather than after its link timeout. Default
   * none: streams end without a word.
   */
  resetReason?: ResetReason;
  /** How long to wait for those RESETs to go out (a duty cycle may hold them), in ms. Default 2,000. */
  graceMs?: number;
}

/** Counts a frame that was dropped, under the stat its defect belongs to. */
export function countDefect(stats: EndpointStats, defect: FrameDefect): void {
  switch (defect) {
    case 'crc':
      stats.corrupted++;
      return;
    case 'auth':
      stats.authFailed++;
      return;
    case 'replay':
      stats.replayed++;
      return;
    case 'stale-reject':
      stats.rejectsIgnored++;
      return;
    case 'unknown-node':
      stats.unknownNode++;
      return;
    case 'short':
    case 'kind':
      stats.malformed++;
      return;
    default: {
      const unknown: never = defect;
      throw new Error(`unreachable: ${String(unknown)}`);
    }
  }
}
