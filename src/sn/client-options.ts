/** The options and public types of {@link SnClient}. */
import type { SnQoS, SnTopic } from './codec/index.ts';

/** Tretry suggested by the specification: 10 to 15 seconds. */
export const DEFAULT_SN_RETRY_INTERVAL_MS = 10_000;
/** Nretry suggested by the specification: 3 to 5. */
export const DEFAULT_SN_RETRIES = 5;
/** Keepalive announced in CONNECT when none is given, seconds. */
export const DEFAULT_SN_KEEPALIVE_S = 60;

/** The will a device registers in the CONNECT dialogue. */
export interface SnWill {
  topic: string;
  payload: Uint8Array;
  /** Default 0. */
  qos?: 0 | 1 | 2;
  /** Default false. */
  retain?: boolean;
}

/** Options of {@link SnClient}. */
export interface SnClientOptions {
  /** 1 to 23 characters. Required. */
  clientId: string;
  /** Keepalive in seconds (CONNECT Duration); a PINGREQ goes out at this interval. Default 60. */
  keepalive?: number;
  /** Default true. */
  cleanSession?: boolean;
  /** Will for the will dialogue. Default none. */
  will?: SnWill;
  /** Tretry, milliseconds. Default 10 000. */
  retryInterval?: number;
  /** Nretry. Default 5. */
  retries?: number;
  /** Pre-defined topic ids the device shares with the gateway (id to name), to name what arrives. Default none. */
  predefinedTopics?: ReadonlyMap<number, string>;
  /**
   * CONNECT again when the gateway shows it lost this client (see the module comment), and carry
   * on with what was in flight. Default true; false: pending requests reject (TIMEOUT, REFUSED).
   */
  reconnect?: boolean;
}

/** Where the client is; `reconnecting` holds requests until the gateway has accepted it again. */
export type SnClientPhase = 'new' | 'connected' | 'reconnecting' | 'asleep' | 'disconnected' | 'closed';

/** A message the gateway delivered. `topic` is the name when known (registered or short). */
export interface SnReceived {
  topic: string | undefined;
  topicRef: SnTopic;
  data: Uint8Array;
  qos: SnQoS;
  retain: boolean;
  dup: boolean;
}
