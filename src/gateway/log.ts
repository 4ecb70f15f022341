/** What the gateway tells its operator: log entries per node, and the status it reports on demand. */
import type { RadioStats } from '../radio/types.ts';

/** How much a log entry matters: frames at `debug`, stream and broker events at `info`, failures at `warn`. */
export type GatewayLogLevel = 'debug' | 'info' | 'warn';

/** One log entry. Frames are logged at `debug`, stream and broker events at `info`, failures at `warn`. */
export interface GatewayLogEntry {
  level: GatewayLogLevel;
  /** The node it concerns, when it concerns one. */
  node?: number;
  message: string;
}

/** Receives the gateway's log entries. */
export type GatewayLogger = (entry: GatewayLogEntry) => void;

/** A logger that prints entries at `level` and above to the console, as `gateway node 7: ...`. */
export function consoleLogger(level: GatewayLogLevel = 'info'): GatewayLogger {
  const rank = { debug: 0, info: 1, warn: 2 } as const;
  return (entry) => {
    if (rank[entry.level] < rank[level]) return;
    const who = entry.node === undefined ? 'gateway' : `gateway node ${entry.node}`;
    (entry.level === 'warn' ? console.warn : console.log)(`${who}: ${entry.message}`);
  };
}

/** One node as the gateway sees it. Counters add up over every stream the node opened. */
export interface NodeStatus {
  node: number;
  /** `connecting`: the broker connection is being opened; `open`: relaying; `down`: no stream now. */
  state: 'connecting' | 'open' | 'down';
  /** The radio its current (or last) stream runs on (a gateway may own several). */
  radio: string | undefined;
  /** Streams the node opened (one per MQTT connection). */
  streams: number;
  /** Signal strength of the last frame heard from it, dBm, when the radio reports it. */
  rssi: number | undefined;
  /** Smoothed round trip over the radio, ms, once measured. */
  rttMs: number | undefined;
  framesIn: number;
  framesOut: number;
  retransmissions: number;
  duplicates: number;
  heartbeats: number;
  /** MQTT bytes relayed node -> broker. */
  bytesUp: number;
  /** MQTT bytes relayed broker -> node (acknowledged by the node). */
  bytesDown: number;
  /** Ms since the last frame from it. */
  silentMs: number;
  /** Why its last stream ended, if one did. */
  lastEnd: string | undefined;
}

/** One of the gateway's radios: its counters and the frames its endpoint dropped. */
export interface GatewayRadioStatus {
  name: string;
  radioStats: RadioStats;
  corrupted: number;
  malformed: number;
  unknownStream: number;
  authFailed: number;
  replayed: number;
  unknownNode: number;
}

/** What `gateway.status()` returns: the radios' counters and one entry per node heard. */
export interface GatewayStatus {
  address: number;
  /** The radios' names, comma-separated. */
  radio: string;
  broker: string;
  uptimeMs: number;
  /** Summed over the radios (each one's: `radios`). */
  radioStats: RadioStats;
  /** Frames that failed the CRC (never relayed). */
  corrupted: number;
  /** Frames that passed the CRC but made no sense. */
  malformed: number;
  /** Frames for streams the gateway did not know (answered with RESET). */
  unknownStream: number;
  /** Secure links: frames whose tag did not match (corrupted or forged), dropped. */
  authFailed: number;
  /** Secure links: replayed frames (a counter already seen), dropped. */
  replayed: number;
  /** Secure links: frames from addresses not in the keys file, dropped unanswered. */
  unknownNode: number;
  /** Each radio's own counters, in the order the radios were given. */
  radios: GatewayRadioStatus[];
  nodes: NodeStatus[];
}

/** The status as a few lines of text, one per node, for a terminal. */
export function formatStatus(status: GatewayStatus): string {
  const lines = [
    `gateway ${status.address} on ${status.radio} -> ${status.broker}, up ${(status.uptimeMs / 1000).toFixed(0)} s`,
  ];
  for (const radio of status.radios) {
    const r = radio.radioStats;
    const which = status.radios.length > 1 ? `radio ${radio.name}` : 'radio';
    lines.push(
      `${which}: ${r.framesSent} frames out (${r.bytesSent} B, ${(r.airtimeMs / 1000).toFixed(1)} s on air), ${r.framesReceived} in, ${radio.corrupted} corrupted, ${radio.unknownStream} for unknown streams, ${radio.authFailed} failed authentication, ${radio.replayed} replayed, ${radio.unknownNode} from unknown nodes`,
    );
  }
  for (const n of status.nodes) {
    const rssi = n.rssi === undefined ? '' : ` rssi ${n.rssi.toFixed(0)} dBm`;
    const rtt = n.rttMs === undefined ? '' : ` rtt ${n.rttMs.toFixed(0)} ms`;
    const on = status.radios.length > 1 && n.radio !== undefined ? ` on ${n.radio}` : '';
    lines.push(
      `node ${n.node}: ${n.state}${on}${rssi}${rtt}, ${n.streams} streams, frames ${n.framesIn} in / ${n.framesOut} out, ` +
        `${n.retransmissions} retransmitted, ${n.bytesUp} B up / ${n.bytesDown} B down, silent ${(n.silentMs / 1000).toFixed(1)} s` +
        (n.lastEnd ? `, last end: ${n.lastEnd}` : ''),
    );
  }
  return lines.join('\n');
}
