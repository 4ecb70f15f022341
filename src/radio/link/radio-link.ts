/**
 * `radioLink()`: a Link over a packet radio, so a node runs the same Client
 * as on TCP: `connect({ link: radioLink({ radio, address: 7 }) })`. Each
 * `open()` is a new stream to the gateway (OPEN, ACCEPT); the stream's end
 * (a RESET from the gateway, or silence past the link timeout) closes the
 * Connection with an MqttError, which the Client treats as any outage.
 * Portable: imports nothing from Node.
 */
import { MqttError } from '../../errors.ts';
import type { Connection, Link, LinkHandlers } from '../../links/types.ts';
import type { Radio } from '../types.ts';
import type { LinkClock } from './clock.ts';
import { RadioEndpoint } from './endpoint.ts';
import type { EndpointEvent, EndpointSecurity, EndpointStats, StreamHandle } from './endpoint-types.ts';
import { FRAME_OVERHEAD, MAX_ADDRESS } from './frame.ts';
import { parseKey } from './keys.ts';
import { NodeSleep } from './node-sleep.ts';
import { ECHO_BYTES, HANDSHAKE_OVERHEAD, NodeKey, SECURE_OVERHEAD } from './secure-frame.ts';
import type { StreamStats } from './stream.ts';
import { openStreamConnection } from './stream-connection.ts';

export { streamEndError } from './stream-connection.ts';

import { type LinkTiming, type LinkTimingOptions, linkTiming } from './timing.ts';

/** Options for {@link radioLink}. The timing options default from the radio's airtime and duty cycle. */
export interface RadioLinkOptions extends LinkTimingOptions {
  /** The radio driver (a UART modem, the simulated medium...). The link opens it on first use. */
  radio: Radio;
  /** This node's address, 0-254, unique among the gateway's nodes. */
  address: number;
  /** The gateway's address. Default 0. */
  gateway?: number;
  /** Time for timers and round trips. Default the platform's (`performance.now()`, `setTimeout`). */
  clock?: LinkClock;
  /** [0, 1) for jitter, nonces and epochs. Default Math.random. */
  random?: () => number;
  /** Every frame in and out and every defect, for logs. Default none. */
  observe?: (event: EndpointEvent) => void;
  /**
   * This node's key, shared with the gateway (its keys file): 16 bytes, or
   * 32 hex digits (`steadfast keygen` makes one). Every frame is then
   * authenticated and encrypted (docs/radio.md, "Security"). Required
   * unless `insecure` is set. Default none.
   */
  key?: Uint8Array | string;
  /**
   * Unsecured frames (a public CRC: anyone with a radio can speak for this
   * node and read its CONNECT, password included). Only for a gateway also
   * started insecure. Default false: a `key` is required.
   */
  insecure?: boolean;
  /** Random bytes for the handshake nonces. Default `crypto.getRandomValues`, or `random` where the platform has none. */
  nonces?: (bytes: Uint8Array) => void;
}

/** A Link over a radio, with what a node may want to print. */
export interface RadioLink extends Link {
  /** The timing in force (given or derived). */
  readonly timing: LinkTiming;
  /** Frames that never reached a stream (corrupted, forged and replayed ones among them). */
  readonly stats: EndpointStats;
  /** True when frames are authenticated and encrypted. */
  readonly secure: boolean;
  /** Counters of the current (or last) stream. */
  readonly streamStats: StreamStats | undefined;
  /**
   * Asks the gateway to let the node sleep `ms` (docs/radio.md, "Sleeping
   * nodes"): resolves once granted, when nothing is in flight either way; the
   * radio's receiver is then off and no heartbeat goes out until the time is
   * up (or `wake()`), while the gateway keeps the broker connection and holds
   * what the broker sends. Choose MQTT keepalive longer than the sleep.
   */
  sleep(ms: number): Promise<void>;
  /** Wakes now. */
  wake(): void;
  /** True while asleep. */
  readonly asleep: boolean;
  /** Stops the link for good and closes the radio. */
  close(): Promise<void>;
}

/** The node's keys from its options: its own key, for its gateway only. */
function nodeSecurity(options: RadioLinkOptions, gateway: number): EndpointSecurity | undefined {
  if (options.insecure === true) {
    if (options.key !== undefined)
      throw new MqttError('INVALID_ARGUMENT', 'radio link: give a key or insecure: true, not both');
    return undefined;
  }
  if (options.key === undefined)
    throw new MqttError(
      'INVALID_ARGUMENT',
      'radio link: a key is required (steadfast keygen makes one), or insecure: true for unsecured frames',
    );
  const key = new NodeKey(parseKey(options.key));
  return { keyFor: (peer) => (peer === gateway ? key : undefined), nonces: options.nonces };
}

function checkAddress(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_ADDRESS)
    throw new MqttError(
      'INVALID_ARGUMENT',
      `radio link ${name} must be an integer 0-${MAX_ADDRESS}, got ${value}`,
    );
}

/**
 * A Link from node `address` to `gateway` over `radio`.
 *
 * @throws MqttError INVALID_ARGUMENT for a bad address, a radio MTU under 16 bytes (18 secure), bad
 *   timing, a bad key, or neither `key` nor `insecure`.
 */
export function radioLink(options: RadioLinkOptions): RadioLink {
  const { radio, address } = options;
  const gateway = options.gateway ?? 0;
  checkAddress('address', address);
  checkAddress('gateway', gateway);
  if (address === gateway)
    throw new MqttError('INVALID_ARGUMENT', 'radio link address and gateway must differ');
  const security = nodeSecurity(options, gateway);
  const overhead = security === undefined ? FRAME_OVERHEAD : SECURE_OVERHEAD;
  // A handshake frame must fit too: header, nonce, body (an OPEN's 5 bytes), tag.
  const smallest = Math.max(overhead + 8, HANDSHAKE_OVERHEAD + ECHO_BYTES);
  if (radio.mtu < (security === undefined ? overhead + 8 : smallest))
    throw new MqttError(
      'INVALID_ARGUMENT',
      `radio MTU ${radio.mtu} is too small (at least ${security === undefined ? overhead + 8 : smallest})`,
    );
  const timing = linkTiming(radio, options);
  const name = `radio ${address}->${gateway} ${radio.name}`;
  const endpoint = new RadioEndpoint({
    radio,
    address,
    timing,
    clock: options.clock,
    random: options.random,
    observe: options.observe,
    security,
  });
  let current: StreamHandle | undefined;
  let closed = false;
  const sleeper = new NodeSleep(radio, name);

  async function open(handlers: LinkHandlers, signal?: AbortSignal): Promise<Connection> {
    if (closed) throw new MqttError('LINK_ERROR', `${name}: the link was closed`);
    if (signal?.aborted) throw new MqttError('ABORTED', `${name}: open aborted`);
    try {
      await endpoint.start();
    } catch (error) {
      throw new MqttError('LINK_ERROR', `${name}: could not open the radio: ${String(error)}`, {
        cause: error,
      });
    }
    if (signal?.aborted) throw new MqttError('ABORTED', `${name}: open aborted`);
    return openStreamConnection(endpoint, gateway, name, handlers, signal, {
      created: (handle) => {
        current = handle;
        sleeper.attach(handle);
      },
      ended: sleeper.ended,
      asleep: sleeper.fellAsleep,
      awake: sleeper.wokeUp,
    });
  }

  return {
    name,
    timing,
    get stats() {
      return endpoint.stats;
    },
    secure: security !== undefined,
    get streamStats() {
      return current?.stream.stats;
    },
    open,
    sleep: (ms) => sleeper.sleep(ms),
    wake: () => sleeper.wake(),
    get asleep() {
      return sleeper.asleep;
    },
    /** Belt and braces: whatever is left of the last stream is dropped and the gateway is told. */
    async reset() {
      if (!closed && current !== undefined) endpoint.reset(gateway);
    },
    async close() {
      closed = true;
      await endpoint.close();
    },
  };
}
