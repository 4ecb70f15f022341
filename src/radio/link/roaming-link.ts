/**
 * `roamingLink()`: a radio Link that finds its gateway instead of naming
 * one, and moves between gateways as an ordinary outage. Each `open()`
 * searches (discovery.ts: a SEARCH, the GWINFO answers of every gateway
 * that holds this node's key), ranks what answered (gateway-table.ts) and
 * opens a stream to the best, falling back to the next when one does not
 * accept. While a stream is open it keeps the ranking fresh (the RSSI of
 * the stream's own frames; a search every `searchIntervalMs`, and one when
 * an advertisement names a gateway it does not know), and when another
 * gateway is clearly better (`hysteresisDb`, `minDwellMs`) it ends the
 * stream with an error, so the Client goes through its usual outage: quiet
 * period, reopen (through the better gateway), session resumed at the
 * broker, whose takeover closes the old gateway's connection. A node that
 * walks out of range simply sees its link time out and reopens elsewhere.
 * Portable: imports nothing from Node.
 */
import { MqttError } from '../../errors.ts';
import type { Connection, Link, LinkHandlers } from '../../links/types.ts';
import type { Radio } from '../types.ts';
import { type LinkClock, realClock } from './clock.ts';
import { defaultNonceSource } from './codec.ts';
import { answerSpreadMs, DiscoveryCodec, type DiscoveryMessage } from './discovery.ts';
import { RadioEndpoint } from './endpoint.ts';
import type { EndpointEvent, EndpointStats, StreamHandle } from './endpoint-types.ts';
import { FRAME_OVERHEAD, MAX_ADDRESS, ResetReason } from './frame.ts';
import { GatewayTable, type RankedGateway } from './gateway-table.ts';
import { parseKey } from './keys.ts';
import { NodeSleep } from './node-sleep.ts';
import { ECHO_BYTES, HANDSHAKE_OVERHEAD, NodeKey, SECURE_OVERHEAD } from './secure-frame.ts';
import type { StreamStats } from './stream.ts';
import { openStreamConnection } from './stream-connection.ts';
import { type LinkTiming, type LinkTimingOptions, linkTiming } from './timing.ts';

/** Options for {@link roamingLink}. Timing options default from the radio, as for `radioLink`. */
export interface RoamingLinkOptions extends LinkTimingOptions {
  /** The radio driver. The link opens it on first use. */
  radio: Radio;
  /** This node's address, 0-254, the same at every gateway of the site (each one's keys file). */
  address: number;
  /** This node's key (16 bytes or 32 hex digits), the one every gateway's keys file holds for it. Required unless `insecure`. Default none. */
  key?: Uint8Array | string;
  /** Unsecured frames (see `radioLink`): any radio can pose as a gateway. Default false. */
  insecure?: boolean;
  /** The gateway addresses this node may use. Default: any that answers its search. */
  gateways?: readonly number[];
  /**
   * How long a search waits for answers, in ms. Default: the initial
   * retransmission timeout plus the gateways' answer spread (8 airtimes of
   * an answer, at least 20 ms): about 80 ms on an nRF24.
   */
  searchWindowMs?: number;
  /** Between searches while a stream is open, in ms (0: none). Default 10 heartbeats (20 s on an nRF24). */
  searchIntervalMs?: number;
  /** How much better (dB of mean RSSI) another gateway must be before the node moves early. Default 6. */
  hysteresisDb?: number;
  /** Least time between two early moves, in ms. Default 3 search intervals (one minute on an nRF24). */
  minDwellMs?: number;
  /** RSSI samples averaged per gateway. Default 8. */
  samples?: number;
  /** Samples a gateway needs before the node moves to it early. Default 3. */
  minSamples?: number;
  /** Searches in a row a gateway may miss before it is forgotten. Default 3. */
  maxMisses?: number;
  /** Time for timers. Default the platform's. */
  clock?: LinkClock;
  /** [0, 1) for jitter, nonces, epochs. Default Math.random. */
  random?: () => number;
  /** Every frame in and out and every defect, for logs. Default none. */
  observe?: (event: EndpointEvent) => void;
  /** What the link decided (searches, choices, moves), for logs and tests. Default none. */
  onRoam?: (event: RoamEvent) => void;
  /** Random bytes for nonces. Default `crypto.getRandomValues`. */
  nonces?: (bytes: Uint8Array) => void;
}

/** What the link decided. */
export type RoamEvent =
  | { type: 'search'; answers: RankedGateway[] }
  | { type: 'open'; gateway: number; previous: number | undefined }
  | { type: 'refused'; gateway: number; error: Error }
  | { type: 'move'; from: number; to: number; fromRssi: number | undefined; toRssi: number | undefined };

/** Counters of a roaming link. */
export interface RoamStats {
  /** Searches sent. */
  searches: number;
  /** Streams opened. */
  opens: number;
  /** Streams opened through another gateway than the last one. */
  handovers: number;
  /** Early moves: a stream ended because another gateway was clearly better. */
  moves: number;
  /** Gateways that did not accept a stream. */
  refusals: number;
}

/** A roaming Link, with what a node may want to print. */
export interface RoamingLink extends Link {
  readonly timing: LinkTiming;
  readonly stats: EndpointStats;
  readonly roamStats: RoamStats;
  readonly secure: boolean;
  /** The gateway of the current (or last) stream. */
  readonly gateway: number | undefined;
  /** The gateways heard, best first. */
  gateways(): RankedGateway[];
  readonly streamStats: StreamStats | undefined;
  /** As `RadioLink.sleep`: sleeps through the current gateway; no searches while asleep. */
  sleep(ms: number): Promise<void>;
  /** Wakes now. */
  wake(): void;
  /** True while asleep. */
  readonly asleep: boolean;
  /** Stops the link for good and closes the radio. */
  close(): Promise<void>;
}

/**
 * A Link from node `address` to whichever gateway serves it best.
 *
 * @throws MqttError INVALID_ARGUMENT for a bad address, a radio MTU too small, bad timing, a bad key, or
 *   neither `key` nor `insecure`.
 */
export function roamingLink(options: RoamingLinkOptions): RoamingLink {
  const { radio, address } = options;
  if (!Number.isInteger(address) || address < 0 || address > MAX_ADDRESS)
    throw new MqttError('INVALID_ARGUMENT', `roaming link address must be an integer 0-${MAX_ADDRESS}`);
  if (options.insecure === true && options.key !== undefined)
    throw new MqttError('INVALID_ARGUMENT', 'roaming link: give a key or insecure: true, not both');
  if (options.insecure !== true && options.key === undefined)
    throw new MqttError(
      'INVALID_ARGUMENT',
      'roaming link: a key is required (steadfast keygen makes one), or insecure: true for unsecured frames',
    );
  const allowed = options.gateways === undefined ? undefined : new Set(options.gateways);
  const key = options.key === undefined ? undefined : new NodeKey(parseKey(options.key));
  const mayUse = (peer: number) => peer !== address && (allowed === undefined || allowed.has(peer));
  const keyFor = key === undefined ? undefined : (peer: number) => (peer === address ? undefined : key);
  const smallest =
    key === undefined ? FRAME_OVERHEAD + 8 : Math.max(SECURE_OVERHEAD + 8, HANDSHAKE_OVERHEAD + ECHO_BYTES);
  if (radio.mtu < smallest)
    throw new MqttError('INVALID_ARGUMENT', `radio MTU ${radio.mtu} is too small (at least ${smallest})`);
  const timing = linkTiming(radio, options);
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const nonces = options.nonces ?? defaultNonceSource(random);
  const searchWindowMs =
    options.searchWindowMs ?? timing.initialRtoMs + answerSpreadMs((bytes) => radio.airtimeMs(bytes));
  const searchIntervalMs = options.searchIntervalMs ?? 10 * timing.heartbeatMs;
  const table = new GatewayTable({
    samples: options.samples ?? 8,
    minSamples: options.minSamples ?? 3,
    hysteresisDb: options.hysteresisDb ?? 6,
    minDwellMs: options.minDwellMs ?? 3 * searchIntervalMs,
    maxMisses: options.maxMisses ?? 3,
  });
  for (const [name, value] of Object.entries({ searchWindowMs, searchIntervalMs })) {
    if (!Number.isFinite(value) || value < 0)
      throw new MqttError('INVALID_ARGUMENT', `roaming link ${name} must be a finite number >= 0`);
  }
  const discovery = new DiscoveryCodec(address, keyFor, nonces);
  const roamStats: RoamStats = { searches: 0, opens: 0, handovers: 0, moves: 0, refusals: 0 };
  const name = `radio ${address}->roaming ${radio.name}`;

  /** The nonce of the search running now, and what resolves it. */
  let search: { nonce: Uint8Array; done: Promise<void> } | undefined;
  let current: { gateway: number; handle: StreamHandle | undefined; handlers: LinkHandlers } | undefined;
  let lastGateway: number | undefined;
  let lastStream: StreamHandle | undefined;
  let monitor: unknown;
  let searchTimer: unknown;
  let lastAdvertSearchAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  const sleeper = new NodeSleep(radio, name);

  const endpoint = new RadioEndpoint({
    radio,
    address,
    timing,
    clock,
    random,
    observe: (event) => {
      // The current stream's own authenticated frames keep its gateway's quality fresh.
      if (event.type === 'frame' && event.direction === 'in' && event.frame.src === current?.gateway)
        table.heard(event.frame.src, event.rssi, clock.now());
      options.observe?.(event);
    },
    security: keyFor === undefined ? undefined : { keyFor, nonces },
    onDiscovery: (bytes, rssi) => heardDiscovery(bytes, rssi),
  });

  function heardDiscovery(bytes: Uint8Array, rssi: number | undefined) {
    const heard = discovery.decode(bytes, search?.nonce);
    if (!heard.ok) return heard.defect;
    const message: DiscoveryMessage = heard.message;
    switch (message.type) {
      case 'gwinfo': {
        if (!mayUse(message.gateway)) return undefined;
        // Both directions, averaged: the same scale as the downlink-only samples of a stream's frames (the
        // weaker of the two would rank every other gateway a few dB below the current one, by noise alone).
        const quality =
          rssi === undefined || message.uplinkRssi === undefined
            ? (rssi ?? message.uplinkRssi)
            : (rssi + message.uplinkRssi) / 2;
        table.heard(message.gateway, quality, clock.now(), message.load);
        return undefined;
      }
      case 'advertise': {
        // A hint only (unauthenticated): search, at most once per search interval / 4.
        const now = clock.now();
        if (!mayUse(message.gateway) || table.has(message.gateway) || current === undefined) return undefined;
        if (now - lastAdvertSearchAt < Math.max(4 * searchWindowMs, searchIntervalMs / 4)) return undefined;
        lastAdvertSearchAt = now;
        void roamCheck();
        return undefined;
      }
      case 'search':
        return undefined;
      default: {
        const unknown: never = message;
        throw new Error(`unreachable: ${String(unknown)}`);
      }
    }
  }

  /** Sends a SEARCH and collects answers for the search window (one search at a time). */
  function runSearch(): Promise<void> {
    if (search !== undefined) return search.done;
    const nonce = discovery.nonce();
    const bytes = discovery.search(nonce);
    table.searching();
    const done = new Promise<void>((resolve) => {
      if (bytes === undefined || !endpoint.sendControl(bytes)) return resolve();
      roamStats.searches++;
      searchTimer = clock.setTimeout(resolve, searchWindowMs);
    }).then(() => {
      search = undefined;
      searchTimer = undefined;
      table.searched(current?.gateway);
      options.onRoam?.({ type: 'search', answers: table.ranked() });
    });
    search = { nonce, done };
    return done;
  }

  /** While a stream is open: search, and move when another gateway is clearly better. */
  async function roamCheck(): Promise<void> {
    // A sleeping node's receiver is off: no searches (the next wake's check will do).
    if (closed || current === undefined || sleeper.asleep) return;
    await runSearch();
    const here = current;
    if (closed || here === undefined || here.handle === undefined) return;
    const better = table.betterThan(here.gateway, clock.now());
    if (better === undefined) return;
    const fromRssi = table.ranked().find((g) => g.address === here.gateway)?.rssi;
    roamStats.moves++;
    options.onRoam?.({ type: 'move', from: here.gateway, to: better.address, fromRssi, toRssi: better.rssi });
    current = undefined;
    stopMonitor();
    // The old gateway is told at once (it drops its broker connection); the Client sees an outage and reopens.
    here.handle.abort(ResetReason.CLOSED);
    here.handlers.close(
      new MqttError('CONNECTION_LOST', `${name}: moving to gateway ${better.address} (a better signal)`),
    );
  }

  function startMonitor(): void {
    stopMonitor();
    if (searchIntervalMs <= 0) return;
    const tick = () => {
      monitor = clock.setTimeout(
        () => {
          void roamCheck().then(() => {
            if (current !== undefined) tick();
          });
        },
        searchIntervalMs * (0.9 + 0.2 * random()),
      );
    };
    tick();
  }

  function stopMonitor(): void {
    if (monitor !== undefined) clock.clearTimeout(monitor);
    monitor = undefined;
  }

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
    // What is left of the last stream goes first (its RESET precedes the new OPEN).
    if (lastGateway !== undefined && lastStream?.stream.state !== 'closed') endpoint.reset(lastGateway);
    await runSearch();
    const tried = new Set<number>();
    let lastError: Error | undefined;
    for (;;) {
      if (signal?.aborted) throw new MqttError('ABORTED', `${name}: open aborted`);
      if (closed) throw new MqttError('LINK_ERROR', `${name}: the link was closed`);
      const candidate = table.ranked().find((g) => !tried.has(g.address) && mayUse(g.address));
      if (candidate === undefined) break;
      tried.add(candidate.address);
      const gateway = candidate.address;
      const entry: { gateway: number; handle: StreamHandle | undefined; handlers: LinkHandlers } = {
        gateway,
        handle: undefined,
        handlers,
      };
      try {
        const connection = await openStreamConnection(
          endpoint,
          gateway,
          `${name} via ${gateway}`,
          handlers,
          signal,
          {
            created: (handle) => {
              entry.handle = handle;
              lastStream = handle;
            },
            ended: (end) => {
              if (current === entry) {
                current = undefined;
                stopMonitor();
              }
              if (end.by === 'timeout') table.failed(gateway);
            },
          },
        );
        const previous = lastGateway;
        roamStats.opens++;
        if (previous !== undefined && previous !== gateway) roamStats.handovers++;
        lastGateway = gateway;
        current = entry;
        table.moved(clock.now());
        options.onRoam?.({ type: 'open', gateway, previous });
        startMonitor();
        return connection;
      } catch (error) {
        if (error instanceof MqttError && error.code === 'ABORTED') throw error;
        roamStats.refusals++;
        table.failed(gateway);
        lastError = error instanceof Error ? error : new Error(String(error));
        options.onRoam?.({ type: 'refused', gateway, error: lastError });
      }
    }
    throw new MqttError(
      'LINK_ERROR',
      tried.size === 0
        ? `${name}: no gateway answered the search`
        : `${name}: no gateway accepted the stream`,
      { cause: lastError },
    );
  }

  return {
    name,
    timing,
    roamStats,
    get stats() {
      return endpoint.stats;
    },
    secure: keyFor !== undefined,
    get gateway() {
      return lastGateway;
    },
    gateways: () => table.ranked(),
    get streamStats() {
      return lastStream?.stream.stats;
    },
    open,
    sleep: (ms) => sleeper.sleep(ms),
    wake: () => sleeper.wake(),
    get asleep() {
      return sleeper.asleep;
    },
    async reset() {
      if (!closed && lastGateway !== undefined) endpoint.reset(lastGateway);
    },
    async close() {
      closed = true;
      stopMonitor();
      if (searchTimer !== undefined) clock.clearTimeout(searchTimer);
      current = undefined;
      await endpoint.close();
    },
  };
}
