/**
 * Where a client stands, as one tagged union: `client.status` gives the
 * current one and the `status` event each change (as nats.js's status
 * stream). The Supervisor moves through these states, and nothing else
 * holds its phase.
 *
 * ```
 * idle ─start()─▶ opening ─CONNACK─▶ connected
 *                  ▲  │                 │ outage
 *                  │  │ failed          ▼
 *                  │  └──────────────▶ quiet ─▶ backoff ─┐
 *                  └─────────────────────────────────────┘
 *   any ─end() or a refusal no retry can fix─▶ stopped
 * ```
 */
import type { MqttError } from '../errors.ts';

/**
 * Where a client stands (`client.status`, and the `status` event at each
 * change): `idle`, `opening`, `connected`, `quiet`, `backoff` or `stopped`.
 * A `switch` on `state` narrows it to the data of that state.
 */
export type ClientStatus =
  /** Made and not started yet (`createClient()` before `start()`). */
  | { readonly state: 'idle' }
  /** Opening a connection to `server`: the link, then CONNECT until the broker's CONNACK. */
  | { readonly state: 'opening'; readonly server: string }
  /** Connected to `server`: the broker accepted (CONNACK); `up` follows. */
  | { readonly state: 'connected'; readonly server: string }
  /**
   * A connection that had opened ended (`cause`); the client stays down for
   * `ms` (the quiet period, resetting the link meanwhile) so that every hop
   * sees the link die before the next attempt.
   */
  | { readonly state: 'quiet'; readonly cause: MqttError; readonly ms: number }
  /** Waiting `ms` (exponential backoff with jitter) before the next attempt, after `failures` failed ones in a row. */
  | { readonly state: 'backoff'; readonly cause: MqttError; readonly ms: number; readonly failures: number }
  /** Closed for good: `end()` (`cause` CLIENT_CLOSED) or a refusal no retry can fix. Nothing follows. */
  | { readonly state: 'stopped'; readonly cause: MqttError };

/** The state names, for a `switch` or a lookup table. */
export type ClientState = ClientStatus['state'];
