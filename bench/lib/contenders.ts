/**
 * steadfast-mqtt and MQTT.js behind one small interface, each used the way
 * its documentation shows: ours with `publish()` promises and a subscription
 * callback, MQTT.js with `publish(..., callback)` and its 'message' event.
 * Both speak MQTT 5 with a clean session unless told otherwise.
 *
 * Ours is measured as built, like MQTT.js's published JavaScript: src/node.ts
 * bundled by esbuild (no minification) into node_modules/.cache. Run through
 * tsx instead, every function and class would be wrapped by esbuild's
 * `keepNames` helper (an Object.defineProperty per closure created), which
 * no user's build has and which costs both time and memory per client.
 * BENCH_OURS=src measures the TypeScript sources through tsx instead;
 * BENCH_OURS_ROOT=<dir> builds <dir>/src/node.ts instead of this tree's
 * (e.g. an older version from `git archive`, for before/after numbers).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import mqtt from 'mqtt';

type OursModule = typeof import('../../src/node.ts');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let oursModule: OursModule | undefined;

/** steadfast-mqtt's Node entry point, built once per process (see above). */
export async function loadOurs(): Promise<OursModule> {
  if (oursModule !== undefined) return oursModule;
  if (process.env.BENCH_OURS === 'src') {
    oursModule = await import('../../src/node.ts');
    return oursModule;
  }
  const dir = join(ROOT, 'node_modules/.cache/steadfast-bench');
  const file = join(dir, `steadfast-${process.pid}.mjs`);
  mkdirSync(dir, { recursive: true });
  buildSync({
    entryPoints: [join(process.env.BENCH_OURS_ROOT ?? ROOT, 'src/node.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outfile: file,
    logLevel: 'error',
  });
  process.once('exit', () => rmSync(file, { force: true }));
  oursModule = (await import(pathToFileURL(file).href)) as OursModule;
  return oursModule;
}

export type Lib = 'ours' | 'mqttjs';
export type QoS = 0 | 1 | 2;

export const LIB_NAME: Record<Lib, string> = { ours: 'steadfast', mqttjs: 'mqtt.js' };

export interface ClientSettings {
  url: string;
  clientId?: string;
  /** Seconds. Default 60 (both libraries' default). */
  keepalive?: number;
  /** Default true: the broker keeps no session between runs. */
  clean?: boolean;
  /** Ms before a reconnect. Default 1,000 (both libraries' default). */
  reconnectPeriod?: number;
  /** Ours only, see ClientOptions. */
  quietPeriod?: number;
  /** Ours only (MQTT.js sends none unless asked). Default: ours's default (on). */
  topicAliases?: boolean;
  reconnectPeriodMax?: number;
  /** Ours only: see ClientOptions.maxInflight (MQTT.js has no such cap). */
  maxInflight?: number;
}

export interface BenchClient {
  readonly lib: Lib;
  /** Publishes; `done` runs when the QoS flow completes (QoS 0: handed to the socket). */
  publish(topic: string, payload: Uint8Array, qos: QoS, done: () => void): void;
  /** Subscribes; `onMessage` gets every message on `filter`. */
  subscribe(filter: string, qos: QoS, onMessage: (topic: string, payload: Uint8Array) => void): Promise<void>;
  /** Resolves on every (re)connection. */
  onUp(listener: () => void): void;
  end(): Promise<void>;
}

/** Creates a client and waits for its first CONNACK (or never waits, with `wait: false`). */
export async function openClient(lib: Lib, s: ClientSettings, wait = true): Promise<BenchClient> {
  const client = lib === 'ours' ? oursClient(await loadOurs(), s) : mqttjsClient(s);
  if (wait) await new Promise<void>((resolve) => client.onUp(resolve));
  return client;
}

function oursClient(ours: OursModule, s: ClientSettings): BenchClient {
  const client = ours.createClient({
    url: s.url,
    protocolVersion: 5,
    clean: s.clean ?? true,
    keepalive: s.keepalive ?? 60,
    reconnectPeriod: s.reconnectPeriod ?? 1000,
    ...(s.clientId === undefined ? {} : { clientId: s.clientId }),
    ...(s.quietPeriod === undefined ? {} : { quietPeriod: s.quietPeriod }),
    ...(s.reconnectPeriodMax === undefined ? {} : { reconnectPeriodMax: s.reconnectPeriodMax }),
    ...(s.topicAliases === undefined ? {} : { topicAliases: s.topicAliases }),
    ...(s.maxInflight === undefined ? {} : { maxInflight: s.maxInflight }),
  });
  let ended = false;
  // A publication still pending when the benchmark ends its client rejects with CLIENT_CLOSED: expected.
  const fail = (error: unknown) => {
    if (!ended) throw error;
  };
  const adapter: BenchClient = {
    lib: 'ours',
    publish(topic, payload, qos, done) {
      client.publish(topic, payload, { qos }).then(done, fail);
    },
    async subscribe(filter, qos, onMessage) {
      await client.subscribe(filter, { qos, onMessage: (m) => onMessage(m.topic, m.payload) });
    },
    onUp(listener) {
      client.on('up', () => listener());
    },
    end: () => {
      ended = true;
      return client.end();
    },
  };
  client.start();
  return adapter;
}

function mqttjsClient(s: ClientSettings): BenchClient {
  const clean = s.clean ?? true;
  const client = mqtt.connect(s.url, {
    protocolVersion: 5,
    clean,
    keepalive: s.keepalive ?? 60,
    reconnectPeriod: s.reconnectPeriod ?? 1000,
    ...(s.clientId === undefined ? {} : { clientId: s.clientId }),
    ...(clean ? {} : { properties: { sessionExpiryInterval: 0xffff_ffff } }),
  });
  // Errors (refused while the broker is away) are followed by reconnects: not fatal here.
  client.on('error', () => {});
  const handlers = new Map<string, (topic: string, payload: Uint8Array) => void>();
  client.on('message', (topic, payload) => {
    for (const [prefix, handler] of handlers) if (topic.startsWith(prefix)) handler(topic, payload);
  });
  return {
    lib: 'mqttjs',
    publish(topic, payload, qos, done) {
      client.publish(topic, payload as Buffer, { qos }, (error) => {
        // Any error settles the publish: a broker's refusal (Mosquitto answers 0x97 Quota exceeded
        // to a client that ignores its Receive Maximum), or MQTT.js failing what it had in flight
        // when a clean-session connection closed ("Connection closed", an outage in the recovery
        // bench). The message is then missing at the subscriber and the benchmark reports it as
        // lost instead of dying on it.
        void error;
        done();
      });
    },
    async subscribe(filter, qos, onMessage) {
      // Benchmarks subscribe to a plain topic or `prefix/#`.
      handlers.set(filter.replace(/#$/, ''), onMessage);
      await client.subscribeAsync(filter, { qos });
    },
    onUp(listener) {
      client.on('connect', () => listener());
    },
    // Forced: a graceful end waits for every in-flight message, which a benchmark that stops mid-stream never needs.
    end: () => client.endAsync(true),
  };
}
