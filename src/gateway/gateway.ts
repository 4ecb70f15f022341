/**
 * The gateway: owns one radio or several (an nRF24 and a LoRa modem, say:
 * one link endpoint each, one node table) and, for every node it hears, one broker
 * connection (TCP or TLS) over which it relays the node's MQTT bytes
 * unchanged, in both directions. The node's MQTT session lives in the
 * broker, so every failure here is just an outage the node's Client
 * resumes from:
 * - a node silent past its link timeout: its broker connection is dropped
 *   abruptly (no DISCONNECT), so the broker publishes its will;
 * - the broker unreachable: the node's OPEN is answered with RESET, its
 *   Client backs off and tries again;
 * - the broker closes a node's connection: what it sent is still delivered,
 *   then the node's stream is reset;
 * - the gateway restarts: nodes' frames meet no stream and are answered
 *   with RESET (or go unanswered while it is down): an outage.
 * Node only (broker connections through node:net / node:tls).
 */
import { MqttError } from '../errors.ts';
import { linkForUrl, type UrlLinkOptions } from '../links/node.ts';
import type { Connection, Link } from '../links/types.ts';
import { type LinkClock, realClock } from '../radio/link/clock.ts';
import { defaultNonceSource } from '../radio/link/codec.ts';
import { DiscoveryCodec } from '../radio/link/discovery.ts';
import { RadioEndpoint } from '../radio/link/endpoint.ts';
import type { EndpointEvent, OpenRequest, StreamHandle } from '../radio/link/endpoint-types.ts';
import { FrameKind, kindName, MAX_ADDRESS, ResetReason, resetReasonText } from '../radio/link/frame.ts';
import { type StreamEnd, type StreamStats, zeroStreamStats } from '../radio/link/stream.ts';
import { type LinkTiming, type LinkTimingOptions, linkTiming } from '../radio/link/timing.ts';
import type { Radio } from '../radio/types.ts';
import { Advertiser, type AdvertiserStats } from './advertiser.ts';
import { ConnectGate } from './connect-gate.ts';
import type { GatewayKeys } from './keys-file.ts';
import type { GatewayLogger, GatewayLogLevel, GatewayStatus, NodeStatus } from './log.ts';

/** Options for {@link startGateway}. The timing options default from the radio, as on the nodes. */
export interface GatewayOptions extends LinkTimingOptions {
  /**
   * The radio the gateway owns (a UART modem, a simulated radio), or several:
   * each gets its own link endpoint and timing (from its airtime and duty
   * cycle), all serve the one node table, so a node's addresses and keys are
   * the same on every radio and a node that opens on another radio replaces
   * its stream there. Opened by `startGateway`. Required.
   */
  radio: Radio | readonly Radio[];
  /**
   * The nodes it serves (`readKeysFile()`): each address's key and the
   * client ids its CONNECT may name. Frames from any other address are
   * dropped unanswered; a CONNECT naming another client id is refused.
   * Required unless `insecure`. Default none.
   */
  keys?: GatewayKeys;
  /**
   * Unsecured frames: anyone with a radio may speak for any node, and
   * CONNECTs (passwords too) cross the air in clear. A warning is logged at
   * start. Default false: `keys` is required.
   */
  insecure?: boolean;
  /**
   * How long a new stream may take to deliver its MQTT CONNECT before it is
   * reset, in ms. No broker connection is opened before the CONNECT.
   * Default: the gateway's link timeout on the radio the node speaks through.
   */
  connectDeadlineMs?: number;
  /**
   * The longest link timeout a node may announce (how long the gateway
   * keeps a silent node's broker connection), in ms. Default: 4 × the
   * gateway's own link timeout on the radio the node speaks through.
   */
  maxNodeLinkTimeoutMs?: number;
  /**
   * Ms between the gateway's advertisements on each radio (nodes that hear
   * one search, docs/radio.md "Discovery"); 0 for none (searches are still
   * answered). Default: 10 heartbeats of that radio's timing (20 s on an
   * nRF24, about 15 minutes on LoRa SF7 under a 1% duty cycle).
   */
  advertiseIntervalMs?: number;
  /**
   * The longest sleep the gateway grants a node, in ms (docs/radio.md,
   * "Sleeping nodes"): it keeps the node's broker connection that long plus
   * the node's link timeout, holding what the broker sends (up to
   * `maxBufferedBytes`) for the node's wake. 0: no sleeping. Default
   * 3,600,000 (an hour).
   */
  maxSleepMs?: number;
  /** The gateway's address on the radio, 0-254. Default 0. */
  address?: number;
  /**
   * Where nodes' connections go: a broker URL (`mqtt://host:1883`,
   * `mqtts://host:8883`), or a function making the Link for a node.
   */
  broker: string | ((node: number) => Link);
  /** TLS material and socket options for a broker URL (ca, cert, key, servername, connectTimeout...). Default none. */
  brokerOptions?: UrlLinkOptions;
  /** Most nodes served at once; an OPEN beyond is answered with RESET. Default 254. */
  maxNodes?: number;
  /**
   * Broker bytes waiting for a node's radio beyond which its stream is reset
   * (a node that cannot keep up with what it subscribed to). Default 262,144.
   */
  maxBufferedBytes?: number;
  /** Receives log entries (frames at `debug`). Default: none. */
  logger?: GatewayLogger;
  /** Time for the radio link. Default the platform's. */
  clock?: LinkClock;
  /** [0, 1) for jitter. Default Math.random. */
  random?: () => number;
  /**
   * How long `close()` waits for the RESETs that tell the nodes the gateway
   * is going (a duty cycle may hold them), in ms. Default 2,000.
   */
  closeGraceMs?: number;
  /**
   * The radio stopped for good (the port vanished, the simulated medium
   * went away): the gateway can serve no node until it is started again
   * with a new radio. Called once. Default none (a `warn` log entry only).
   */
  onRadioClosed?: (error?: Error) => void;
}

/** The longest sleep granted by default: an hour. */
const DEFAULT_MAX_SLEEP_MS = 3_600_000;

/** Per-node bookkeeping, kept across the node's streams. */
interface NodeRecord {
  node: number;
  state: NodeStatus['state'];
  streams: number;
  rssi: number | undefined;
  lastHeardAt: number;
  lastEnd: string | undefined;
  framesIn: number;
  framesOut: number;
  retransmissions: number;
  /** Counters of the node's finished streams. */
  done: StreamStats;
  /** The radio of the node's current (or last) stream. */
  radio: string | undefined;
  stream: OpenRequest['stream'] | undefined;
  broker: Connection | undefined;
}

/** One radio the gateway owns, with its endpoint and the timing derived from it. */
interface GatewayRadio {
  radio: Radio;
  endpoint: RadioEndpoint;
  timing: LinkTiming;
  advertiser: Advertiser;
}

/** A running gateway (see the module comment): made and started by {@link startGateway}. */
export class Gateway {
  private readonly radios: readonly GatewayRadio[];
  private readonly nodes = new Map<number, NodeRecord>();
  private readonly clock: LinkClock;
  private readonly startedAt: number;
  private readonly brokerName: string;
  private readonly makeLink: (node: number) => Link;
  private closed = false;
  /** The timing on the first radio (each radio has its own: {@link timings}). */
  readonly timing: LinkTiming;
  /** The timing on each radio, in the order given. */
  readonly timings: readonly LinkTiming[];
  readonly address: number;

  /** Use {@link startGateway}, which also opens the radio. */
  constructor(private readonly options: GatewayOptions) {
    const address = options.address ?? 0;
    if (!Number.isInteger(address) || address < 0 || address > MAX_ADDRESS)
      throw new MqttError('INVALID_ARGUMENT', `gateway address must be an integer 0-${MAX_ADDRESS}`);
    this.address = address;
    this.clock = options.clock ?? realClock;
    this.startedAt = this.clock.now();
    const radios: readonly Radio[] = Array.isArray(options.radio)
      ? (options.radio as readonly Radio[])
      : [options.radio as Radio];
    if (radios.length === 0) throw new MqttError('INVALID_ARGUMENT', 'gateway: give at least one radio');
    if (new Set(radios).size !== radios.length)
      throw new MqttError('INVALID_ARGUMENT', 'gateway: the same radio given twice');
    if (options.insecure === true && options.keys !== undefined)
      throw new MqttError('INVALID_ARGUMENT', 'gateway: give keys or insecure: true, not both');
    if (options.insecure !== true && options.keys === undefined)
      throw new MqttError(
        'INVALID_ARGUMENT',
        'gateway: keys are required (a keys file, see steadfast keygen), or insecure: true for unsecured frames',
      );
    const keys = options.keys;
    const broker = options.broker;
    if (typeof broker === 'string') {
      const link = linkForUrl(broker, options.brokerOptions);
      this.brokerName = link.name;
      this.makeLink = () => link;
    } else {
      this.brokerName = 'custom link';
      this.makeLink = broker;
    }
    const random = options.random ?? Math.random;
    const discovery = new DiscoveryCodec(
      address,
      keys === undefined ? undefined : (peer) => keys.get(peer)?.key,
      defaultNonceSource(random),
    );
    this.radios = radios.map((radio) => {
      const timing = linkTiming(radio, options);
      let advertiser: Advertiser | undefined;
      const endpoint = new RadioEndpoint({
        radio,
        address,
        timing,
        clock: this.clock,
        random: options.random,
        security: keys === undefined ? undefined : { keyFor: (peer) => keys.get(peer)?.key },
        maxPeerTimeoutMs: options.maxNodeLinkTimeoutMs ?? 4 * timing.linkTimeoutMs,
        maxPeerSleepMs: options.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS,
        onOpen: (request) => this.opened(request, radio, timing),
        observe: (event) => this.observed(event),
        onDiscovery: (bytes, rssi) => advertiser?.heard(bytes, rssi),
        onRadioClosed: (error) => {
          advertiser?.close();
          if (this.closed) return;
          this.log('warn', undefined, `radio ${radio.name} stopped${error ? `: ${error.message}` : ''}`);
          options.onRadioClosed?.(error);
        },
      });
      const intervalMs = options.advertiseIntervalMs ?? 10 * timing.heartbeatMs;
      if (!Number.isFinite(intervalMs) || intervalMs < 0)
        throw new MqttError('INVALID_ARGUMENT', 'gateway advertiseIntervalMs must be a finite number >= 0');
      advertiser = new Advertiser({
        radio,
        endpoint,
        codec: discovery,
        clock: this.clock,
        random,
        intervalMs,
        load: () => [...this.nodes.values()].filter((r) => r.state !== 'down').length,
      });
      return { radio, endpoint, timing, advertiser };
    });
    this.timings = this.radios.map((r) => r.timing);
    this.timing = this.timings[0] as LinkTiming;
  }

  /** Opens the radios (all of them, or none: one that fails closes the others). */
  async start(): Promise<void> {
    try {
      await Promise.all(this.radios.map((r) => r.endpoint.start()));
    } catch (error) {
      await Promise.all(this.radios.map((r) => r.endpoint.close({ graceMs: 0 }).catch(() => {})));
      throw error;
    }
    for (const r of this.radios) r.advertiser.start();
    if (this.options.insecure === true)
      this.log(
        'warn',
        undefined,
        'radio frames are NOT secured (insecure): anyone with a radio can speak for any node and read its CONNECT',
      );
    this.log(
      'info',
      undefined,
      `listening on ${this.radios.map((r) => r.radio.name).join(', ')} as ${this.address}, relaying to ${this.brokerName}`,
    );
  }

  /** Discovery counters of each radio, in the order given. */
  discoveryStats(): AdvertiserStats[] {
    return this.radios.map((r) => ({ ...r.advertiser.stats }));
  }

  /** Per-node counters and state, and the radio's. */
  status(): GatewayStatus {
    const now = this.clock.now();
    const radios = this.radios.map(({ radio, endpoint }) => ({
      name: radio.name,
      radioStats: { ...radio.stats },
      ...endpointCounters(endpoint),
    }));
    const total = (key: keyof RadioCounters): number => radios.reduce((sum, r) => sum + r[key], 0);
    return {
      address: this.address,
      radio: radios.map((r) => r.name).join(', '),
      broker: this.brokerName,
      uptimeMs: now - this.startedAt,
      radioStats: {
        framesSent: radios.reduce((sum, r) => sum + r.radioStats.framesSent, 0),
        bytesSent: radios.reduce((sum, r) => sum + r.radioStats.bytesSent, 0),
        framesReceived: radios.reduce((sum, r) => sum + r.radioStats.framesReceived, 0),
        airtimeMs: radios.reduce((sum, r) => sum + r.radioStats.airtimeMs, 0),
      },
      corrupted: total('corrupted'),
      malformed: total('malformed'),
      unknownStream: total('unknownStream'),
      authFailed: total('authFailed'),
      replayed: total('replayed'),
      unknownNode: total('unknownNode'),
      radios,
      nodes: [...this.nodes.values()]
        .sort((a, b) => a.node - b.node)
        .map((record) => {
          const live = record.stream?.stats ?? zeroStreamStats();
          return {
            node: record.node,
            state: record.state,
            radio: record.radio,
            streams: record.streams,
            rssi: record.rssi,
            rttMs: record.stream?.smoothedRttMs,
            framesIn: record.framesIn,
            framesOut: record.framesOut,
            retransmissions: record.retransmissions,
            duplicates: record.done.duplicates + live.duplicates,
            heartbeats: record.done.heartbeats + live.heartbeats,
            bytesUp: record.done.bytesReceived + live.bytesReceived,
            bytesDown: record.done.bytesSent + live.bytesSent,
            silentMs: now - record.lastHeardAt,
            lastEnd: record.lastEnd,
          };
        }),
    };
  }

  /**
   * Sends every node a RESET (so its Client sees the outage at once, not
   * after its link timeout, and resumes when a gateway is back), drops every
   * broker connection (abruptly: the brokers publish the wills) and closes
   * the radio.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.radios) r.advertiser.close();
    await Promise.all(
      this.radios.map((r) =>
        r.endpoint.close({ resetReason: ResetReason.SHUTDOWN, graceMs: this.options.closeGraceMs }),
      ),
    );
    for (const record of this.nodes.values()) this.dropBroker(record);
    this.log('info', undefined, 'closed');
  }

  private record(node: number): NodeRecord {
    let record = this.nodes.get(node);
    if (record === undefined) {
      record = {
        node,
        state: 'down',
        streams: 0,
        rssi: undefined,
        lastHeardAt: this.clock.now(),
        lastEnd: undefined,
        framesIn: 0,
        framesOut: 0,
        retransmissions: 0,
        done: zeroStreamStats(),
        radio: undefined,
        stream: undefined,
        broker: undefined,
      };
      this.nodes.set(node, record);
    }
    return record;
  }

  private log(level: GatewayLogLevel, node: number | undefined, message: string): void {
    this.options.logger?.({ level, node, message });
  }

  private observed(event: EndpointEvent): void {
    switch (event.type) {
      case 'frame': {
        const { frame } = event;
        const node = event.direction === 'in' ? frame.src : frame.dst;
        if (node === this.address) return;
        const record = this.record(node);
        if (event.direction === 'in') {
          record.framesIn++;
          record.lastHeardAt = this.clock.now();
          if (event.rssi !== undefined) record.rssi = event.rssi;
        } else {
          record.framesOut++;
          if (event.retransmission) record.retransmissions++;
        }
        if (this.options.logger === undefined) return;
        const detail =
          frame.kind === FrameKind.DATA
            ? ` seq ${frame.seq} ack ${frame.ack} ${frame.payload.length} B`
            : ` ack ${frame.ack}`;
        const rssi = event.rssi === undefined ? '' : ` rssi ${event.rssi.toFixed(0)} dBm`;
        this.log(
          'debug',
          node,
          `${event.direction === 'in' ? '<' : '>'} ${kindName(frame.kind)} epoch ${frame.epoch}${detail}` +
            `${frame.poll ? ' poll' : ''}${event.retransmission ? ' (retransmission)' : ''}${rssi}`,
        );
        return;
      }
      case 'defect':
        this.log(
          'debug',
          undefined,
          `dropped a ${event.size}-byte frame: ${event.defect === 'crc' ? 'CRC mismatch' : event.defect}`,
        );
        return;
      case 'reset-reply':
        this.log('debug', event.peer, `frame for unknown stream (epoch ${event.epoch}): RESET`);
        return;
      default: {
        const unknown: never = event;
        throw new Error(`unreachable: ${String(unknown)}`);
      }
    }
  }

  /** A node asks for a stream: open its broker connection first, then accept (or refuse). */
  private opened(request: OpenRequest, radio: Radio, timing: LinkTiming): void {
    const { peer: node } = request;
    const record = this.record(node);
    const active = [...this.nodes.values()].filter((r) => r.state !== 'down' && r.node !== node).length;
    if (active >= (this.options.maxNodes ?? MAX_ADDRESS)) {
      this.log('warn', node, 'OPEN refused: the gateway is full');
      request.refuse(ResetReason.GATEWAY_FULL);
      return;
    }
    // A new stream replaces the node's old one: its broker connection goes (abruptly).
    this.dropBroker(record);
    this.retireStream(record);
    record.state = 'connecting';
    record.streams++;
    record.stream = request.stream;
    record.radio = radio.name;
    const rssi = request.rssi === undefined ? '' : ` (rssi ${request.rssi.toFixed(0)} dBm)`;
    const on = this.radios.length > 1 ? ` on ${radio.name}` : '';
    this.log('info', node, `OPEN${on}${rssi}, link timeout ${request.linkTimeoutMs} ms: waiting for CONNECT`);
    const allowed = this.options.keys?.get(node)?.clientIds;
    let handle: StreamHandle | undefined;
    const gate = new ConnectGate({
      deadlineMs: this.options.connectDeadlineMs ?? timing.linkTimeoutMs,
      clock: this.clock,
      // The gateway may read the stream's first packet: the CONNECT (its password is never logged).
      check: (clientId) => allowed === undefined || allowed.has(clientId),
      refused: (why, reason) => {
        this.log('warn', node, `${why}: RESET`);
        record.state = 'down';
        record.lastEnd = why;
        this.retireStream(record);
        handle?.abort(reason);
      },
      connect: (clientId, bytes) =>
        this.connectBroker(record, handle as StreamHandle, clientId, bytes, request.signal),
    });
    handle = request.accept({
      data: (bytes) => gate.push(bytes),
      closed: (end) => {
        gate.cancel();
        this.streamEnded(record, record.broker, end);
      },
    });
  }

  /** The node's CONNECT passed: its broker connection opens, the CONNECT and what followed go through. */
  private connectBroker(
    record: NodeRecord,
    handle: StreamHandle,
    clientId: string,
    first: Uint8Array,
    signal: AbortSignal,
  ): (bytes: Uint8Array) => void {
    const { node } = record;
    this.log('info', node, `CONNECT as "${clientId}": connecting to ${this.brokerName}`);
    let connection: Connection | undefined;
    /** Node bytes that came after the CONNECT, before the broker connection was up. */
    const queued: Uint8Array[] = [];
    const maxBuffered = this.options.maxBufferedBytes ?? 262_144;
    this.makeLink(node)
      .open(
        {
          data: (bytes) => {
            handle.write(bytes);
            if (handle.bufferedAmount > maxBuffered) {
              this.log('warn', node, `more than ${maxBuffered} B waiting for the radio: stream reset`);
              handle.abort(ResetReason.OVERFLOW);
            }
          },
          close: (error) => {
            if (record.broker !== connection) return;
            record.broker = undefined;
            this.log('info', node, `broker closed the connection${error ? `: ${error.message}` : ''}`);
            // What the broker sent last (a DISCONNECT) still goes to the node, then RESET.
            handle.close(ResetReason.BROKER_CLOSED);
          },
        },
        signal,
      )
      .then(
        (opened) => {
          connection = opened;
          if (signal.aborted || this.closed || handle.stream.state === 'closed') {
            opened.close();
            return;
          }
          record.broker = opened;
          record.state = 'open';
          this.log('info', node, 'broker connected');
          opened.write(first);
          for (const bytes of queued.splice(0)) opened.write(bytes);
        },
        (error: unknown) => {
          if (signal.aborted) return;
          const message = error instanceof Error ? error.message : String(error);
          this.log('warn', node, `broker unreachable (${message}): RESET`);
          record.state = 'down';
          record.lastEnd = `broker unreachable: ${message}`;
          this.retireStream(record);
          handle.abort(ResetReason.BROKER_UNREACHABLE);
        },
      );
    return (bytes) => {
      if (record.broker !== undefined && record.broker === connection) record.broker.write(bytes);
      else queued.push(bytes);
    };
  }

  private streamEnded(record: NodeRecord, connection: Connection | undefined, end: StreamEnd): void {
    const why = describeEnd(end);
    record.lastEnd = why;
    if (record.broker === connection) {
      // Abruptly, with no DISCONNECT: the broker publishes the node's will.
      this.dropBroker(record);
      record.state = 'down';
      this.retireStream(record);
    }
    this.log(
      end.by === 'timeout' ? 'warn' : 'info',
      record.node,
      `stream ended (${why}): broker connection dropped`,
    );
  }

  private dropBroker(record: NodeRecord): void {
    const broker = record.broker;
    record.broker = undefined;
    broker?.close();
  }

  /** Folds the finished stream's counters into the node's totals. */
  private retireStream(record: NodeRecord): void {
    const stream = record.stream;
    if (stream === undefined) return;
    record.stream = undefined;
    for (const key of Object.keys(record.done) as (keyof StreamStats)[])
      record.done[key] += stream.stats[key];
  }
}

/** The frame counters an endpoint keeps, per radio in the status. */
type RadioCounters = Pick<
  GatewayStatus,
  'corrupted' | 'malformed' | 'unknownStream' | 'authFailed' | 'replayed' | 'unknownNode'
>;

function endpointCounters(endpoint: RadioEndpoint): RadioCounters {
  const { stats } = endpoint;
  return {
    corrupted: stats.corrupted,
    malformed: stats.malformed,
    unknownStream: stats.unknownStream,
    authFailed: stats.authFailed,
    replayed: stats.replayed,
    unknownNode: stats.unknownNode,
  };
}

function describeEnd(end: StreamEnd): string {
  switch (end.by) {
    case 'local':
      return 'closed by the gateway';
    case 'peer':
      return `reset by the node: ${resetReasonText(end.reason)}`;
    case 'timeout':
      return `node silent for ${Math.round(end.silentMs)} ms`;
    case 'aborted':
      return `aborted: ${resetReasonText(end.reason)}`;
    case 'radio':
      return end.message;
    default: {
      const unknown: never = end;
      return String(unknown);
    }
  }
}

/** Starts a gateway: opens its radios and begins answering nodes. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const gateway = new Gateway(options);
  await gateway.start();
  return gateway;
}
