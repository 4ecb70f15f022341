/**
 * What the Supervisor is told when it is made: its options (every one filled
 * in by the Client from ClientOptions and the defaults) and the hooks by
 * which it reports to the Client.
 */
import type { MqttError } from '../errors.ts';
import type { Link } from '../links/types.ts';
import type { SessionStore } from '../session/store.ts';
import type { ClientStatus } from './status.ts';
import type { SupervisorClock } from './supervisor-clock.ts';

export interface SupervisorOptions {
  links: Link[];
  /** Clean start on this attempt? Asked anew for every connection. */
  clean: (attempt: ConnectionAttempt) => boolean;
  /**
   * Is this attempt (a clean one) only to discard the broker's stale session
   * (MQTT 3.1.1 cleanInit)? Asked with `clean`. Default never.
   */
  discard?: (attempt: ConnectionAttempt) => boolean;
  reconnectPeriod: number;
  reconnectPeriodMax: number;
  connectTimeout: number;
  /** Ms to stay down after a connection ends, before the next attempt (and its backoff). */
  quietPeriod: number;
  /** Ms a write may go without any progress in draining before the link is declared dead. */
  writeTimeout: number;
  /**
   * Ms a connection must stay up before the backoff starts over; one that ends
   * sooner counts as a failed attempt. Default 0: any CONNACK resets it.
   */
  resetBackoffAfter?: number;
  /** Ms between fresh open attempts while one is pending (links with concurrent opens); 0 for one at a time. */
  openRetryInterval?: number;
  /** Ms a request may go unanswered before a fresh connection is tried beside it; 0 for never. */
  stallProbeAfter?: number;
  /** Its `sync()` is the write barrier before every link write. */
  store?: SessionStore;
  clock?: SupervisorClock;
}

export interface ConnectionAttempt {
  /** Connections that reached CONNACK so far. */
  established: number;
}

export interface SupervisorHooks {
  /** A connection ended (or failed to start); `wasUp` when it had reached CONNACK. */
  down(cause: MqttError, wasUp: boolean): void;
  /** The attempt failed in a way retrying cannot fix (e.g. bad credentials before ever connecting). */
  fatal(cause: MqttError): void;
  /** The status changed (`connected` before the `up` it leads to; after a `down`, the state it leads to). */
  status(status: ClientStatus): void;
}
