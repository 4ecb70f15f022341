/**
 * The vocabulary of a stream (stream.ts): its states, how it ends, the
 * events it reports, its counters and what it is created with. Split from
 * the state machine so the owners (endpoint, gateway, radio link) can name
 * them without it. Portable: types and one constructor of counters.
 */
import type { LinkTiming } from './timing.ts';

/** Where a stream is in its life (see the state diagram in the module comment). */
export type StreamState = 'opening' | 'accepting' | 'open' | 'closing' | 'closed';

/** Why a stream ended. */
export type StreamEnd =
  | { by: 'local' }
  | { by: 'peer'; reason: number }
  | { by: 'timeout'; silentMs: number }
  | { by: 'aborted'; reason: number }
  | { by: 'radio'; message: string };

/** What a stream tells its owner, taken with `takeEvents()`. */
export type StreamEvent =
  | { type: 'open' }
  /** Initiator: the gateway granted the sleep asked for; the stream is quiet until `untilMs`. */
  | { type: 'asleep'; untilMs: number }
  /** Initiator: the sleep is over. */
  | { type: 'awake' }
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'drain' }
  | { type: 'closed'; end: StreamEnd };

/** Counters per stream; the gateway reports them per node. */
export interface StreamStats {
  framesSent: number;
  framesReceived: number;
  /** DATA frames sent again. */
  retransmissions: number;
  /** DATA frames received that had already arrived. */
  duplicates: number;
  /** Stream bytes written by the application and acknowledged by the peer... */
  bytesSent: number;
  /** ...and delivered in order to the application. */
  bytesReceived: number;
  /** Heartbeat polls sent. */
  heartbeats: number;
  /** Sleeps granted (node: its requests the gateway granted; gateway: the ones it granted). */
  sleeps: number;
  /** Time spent asleep (node) or holding for a sleeping node (gateway), in ms. */
  asleepMs: number;
}

/** What a stream is created with. */
export interface StreamConfig {
  local: number;
  peer: number;
  epoch: number;
  nonce: number;
  /** The node opens; the gateway responds. */
  role: 'initiator' | 'responder';
  /** Bytes of stream per DATA frame: the radio's MTU minus the frame overhead. */
  payloadSize: number;
  /** The link layer's bytes per DATA frame beyond the payload (the MTU announced is their sum). Default 8 (unsecured). */
  frameOverhead?: number;
  timing: LinkTiming;
  /** [0, 1), for retransmission jitter. */
  random: () => number;
  /**
   * Initiator: send an ACK as soon as the stream is accepted. A secure
   * gateway takes a stream for real only at its first frame under the new
   * key (an OPEN alone may be a replay), so this tells it at once. Default false.
   */
  confirmOpen?: boolean;
  /** Responder: the longest sleep it grants a node, in ms. Default: 0, no sleep. */
  maxSleepMs?: number;
  now: number;
}

/** Stream counters at zero (a new stream's, or a total to add streams into). */
export function zeroStreamStats(): StreamStats {
  return {
    framesSent: 0,
    framesReceived: 0,
    retransmissions: 0,
    duplicates: 0,
    bytesSent: 0,
    bytesReceived: 0,
    heartbeats: 0,
    sleeps: 0,
    asleepMs: 0,
  };
}
