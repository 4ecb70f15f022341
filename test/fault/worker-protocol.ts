// The worker protocol: what a test (or the soak) says to a client process and
// what the process reports back, one JSON object per line. It is the
// contract between worker.ts (parent side), worker-main.ts (child side) and
// checker.ts; each client library plugs in through `WorkerClient`, so
// steadfast-mqtt and MQTT.js are driven and checked the same way.
//
// Payloads are the decimal sequence number, optionally padded with '.' to a
// size, so any subscriber can tell which message it got.

/** Commands, on the worker's stdin. An `id` asks for an `ok`/`error` reply. */
export type WorkerCommand =
  | { cmd: 'subscribe'; filter: string; qos: 0 | 1 | 2; id?: number }
  | {
      cmd: 'publish';
      topic: string;
      qos: 0 | 1 | 2;
      /** First sequence number. Default 0. */
      from?: number;
      count: number;
      /** ms between publish() calls, which never wait for each other. Default 0 (all at once). */
      interval?: number;
      /** Pad the payload with '.' to this many bytes. Default: no padding. */
      size?: number;
      id?: number;
    }
  /** Closes the client cleanly (DISCONNECT), reports `ended`, exits 0. */
  | { cmd: 'end'; id?: number };

/** Events, on the worker's stdout. `t` is the worker's `Date.now()`. */
export type WorkerEvent =
  /** The worker runs and takes commands (the client is started, maybe not connected yet). */
  | { ev: 'ready'; t: number; lib: WorkerLib; clientId: string }
  | { ev: 'up'; t: number; sessionPresent: boolean }
  /** `wasUp` false: a connection attempt failed. */
  | { ev: 'down'; t: number; cause: string; wasUp: boolean }
  | { ev: 'subscribed'; t: number; filter: string; granted: number[] }
  /** publish() was called and returned: the message is in the client's hands. */
  | { ev: 'pub'; t: number; topic: string; seq: number; qos: number }
  /** Its promise resolved: the QoS flow completed. */
  | { ev: 'acked'; t: number; topic: string; seq: number; qos: number }
  | { ev: 'failed'; t: number; topic: string; seq: number; qos: number; error: string }
  /** Every message of a `publish` command has settled. */
  | { ev: 'pubdone'; t: number; topic: string; acked: number; failed: number }
  /** A message arrived. `seq` is null when the payload is not a sequence number. */
  | { ev: 'recv'; t: number; topic: string; seq: number | null; qos: number; dup: boolean }
  | { ev: 'ended'; t: number }
  | { ev: 'ok'; id: number }
  | { ev: 'error'; id?: number; cmd?: string; message: string };

/** Which client library a worker runs. */
export type WorkerLib = 'steadfast' | 'mqttjs';

/** How a worker's client is configured (its command line). */
export interface WorkerConfig {
  /** Default `'steadfast'`. */
  lib?: WorkerLib;
  url: string;
  clientId: string;
  /** 4 (MQTT 3.1.1) or 5. Default 5. */
  version?: 4 | 5;
  /** Seconds. Default 60 (the library's default). */
  keepalive?: number;
  /** ms; steadfast only. Default: the library's (keepalive × 1.5). */
  responseTimeout?: number;
  /** ms. Default: the library's. */
  reconnectPeriod?: number;
  /** ms; steadfast only. Default: the library's. */
  reconnectPeriodMax?: number;
  /** ms. Default: the library's. */
  connectTimeout?: number;
  /** Clean session / clean start. Default false (the session is resumed). */
  clean?: boolean;
  /** steadfast only: persist the session in this file (`FileStore` from src/store/file.ts). Default: memory. */
  store?: string;
  /** Extra client options merged over the others, e.g. `{ quietPeriod: 500 }`. Default none. */
  options?: Record<string, unknown>;
}

/** The command-line arguments of worker-main.ts for `config`. */
export function workerArgs(config: WorkerConfig): string[] {
  const args = ['--lib', config.lib ?? 'steadfast', '--url', config.url, '--client-id', config.clientId];
  const numbers: [string, number | undefined][] = [
    ['--version', config.version],
    ['--keepalive', config.keepalive],
    ['--response-timeout', config.responseTimeout],
    ['--reconnect-period', config.reconnectPeriod],
    ['--reconnect-period-max', config.reconnectPeriodMax],
    ['--connect-timeout', config.connectTimeout],
  ];
  for (const [flag, value] of numbers) if (value !== undefined) args.push(flag, String(value));
  if (config.clean) args.push('--clean');
  if (config.store !== undefined) args.push('--store', config.store);
  if (config.options !== undefined) args.push('--options', JSON.stringify(config.options));
  return args;
}

/** Parses what {@link workerArgs} made (the flags of worker-main.ts). */
export function parseWorkerArgs(flags: Map<string, string>): WorkerConfig {
  const url = flags.get('url');
  const clientId = flags.get('client-id');
  if (url === undefined || clientId === undefined) throw new Error('--url and --client-id are required');
  const lib = flags.get('lib') ?? 'steadfast';
  if (lib !== 'steadfast' && lib !== 'mqttjs') throw new Error(`--lib ${lib}: use steadfast or mqttjs`);
  const number = (name: string): number | undefined => {
    const value = flags.get(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`--${name} ${value} is not a number`);
    return n;
  };
  const version = number('version');
  if (version !== undefined && version !== 4 && version !== 5) throw new Error('--version is 4 or 5');
  const options = flags.get('options');
  return {
    lib,
    url,
    clientId,
    version,
    keepalive: number('keepalive'),
    responseTimeout: number('response-timeout'),
    reconnectPeriod: number('reconnect-period'),
    reconnectPeriodMax: number('reconnect-period-max'),
    connectTimeout: number('connect-timeout'),
    clean: flags.get('clean') === 'true',
    store: flags.get('store'),
    options: options === undefined ? undefined : (JSON.parse(options) as Record<string, unknown>),
  };
}

/** The payload for sequence number `seq`: its decimal digits, padded with '.' to `size` bytes. */
export function payloadFor(seq: number, size = 0): string {
  return String(seq).padEnd(size, '.');
}

/** The sequence number in a payload made by {@link payloadFor}, or null. */
export function seqOf(payload: Uint8Array): number | null {
  let n = 0;
  let digits = 0;
  for (const byte of payload) {
    if (byte < 0x30 || byte > 0x39) break;
    n = n * 10 + (byte - 0x30);
    digits++;
  }
  return digits === 0 ? null : n;
}

/** What the worker needs from a client library (see worker-steadfast.ts, worker-mqttjs.ts). */
export interface WorkerClient {
  /** Connects (and keeps reconnecting); reports through `handlers`. */
  start(handlers: WorkerClientHandlers): void;
  /** Resolves when the QoS flow completes. Must call the library's publish synchronously. */
  publish(topic: string, payload: string, qos: 0 | 1 | 2): Promise<void>;
  /** Resolves with the granted QoS / reason codes. */
  subscribe(filter: string, qos: 0 | 1 | 2): Promise<number[]>;
  /** Disconnects cleanly. */
  end(): Promise<void>;
}

export interface WorkerClientHandlers {
  up(sessionPresent: boolean): void;
  down(cause: string, wasUp: boolean): void;
  message(topic: string, payload: Uint8Array, qos: number, dup: boolean): void;
}
