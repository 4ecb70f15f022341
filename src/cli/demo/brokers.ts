/**
 * The brokers the demo can run against: Aedes embedded in this process (the
 * default, MQTT 3.1.1 only), a local Mosquitto it starts itself, or any
 * broker given by URL (which the demo cannot restart).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { parseBrokerUrl } from '../../links/url.ts';
import { CliFailure, EXIT } from '../exit.ts';
import { correctPubrelRecords, type OutgoingUpdate } from './aedes-pubrel.ts';

export interface DemoBroker {
  /** For people: "Aedes (embedded, MQTT 3.1.1 only)". */
  readonly description: string;
  /** Where the faulty link forwards to. */
  readonly host: string;
  readonly port: number;
  /** The scheme the clients speak through the link: mqtt, mqtts, ws or wss. */
  readonly protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  /** ws(s) path. */
  readonly path?: string;
  readonly username?: string;
  readonly password?: string;
  /** The MQTT version used unless -V says otherwise. */
  readonly defaultVersion: 4 | 5;
  /** Versions it speaks. */
  readonly versions: (4 | 5)[];
  /** What the demo changed about the broker, said at the start and in the report. Default none. */
  readonly notes?: string[];
  /** Whether the demo can take it down and bring it back with the sessions kept. */
  readonly restartable: boolean;
  /** Takes the broker down (connections dropped, port closed), sessions kept. */
  stopForRestart(): Promise<void>;
  /** Brings it back on the same port. */
  startAgain(): Promise<void>;
  /** Stops it for good and removes what it left behind. */
  close(): Promise<void>;
}

/**
 * Aedes in this process. Its "restart" closes the listener and drops every
 * connection, then listens again with the same broker instance, whose
 * in-memory persistence keeps the sessions (subscriptions, queued QoS 1/2
 * messages, in-flight state): what a broker with persistence does across a
 * restart.
 *
 * Its persistence carries one correction (aedes-pubrel.ts): without it Aedes
 * 1.x re-sends some QoS 2 messages after their PUBREL, which the demo would
 * show as duplicates that are no client's doing.
 */
function loadAedes() {
  return Promise.all([import('aedes'), import('aedes-persistence')]);
}

export async function startAedes(): Promise<DemoBroker> {
  let modules: Awaited<ReturnType<typeof loadAedes>>;
  try {
    modules = await loadAedes();
  } catch {
    throw new CliFailure(
      'the embedded broker (the npm packages "aedes" and "aedes-persistence", optional dependencies of steadfast-mqtt) is not installed: install steadfast-mqtt without --omit=optional, or use --broker mosquitto, or --url URL for a broker of your own',
      EXIT.USAGE,
    );
  }
  const [{ Aedes }, persistenceModule] = modules;
  // Aedes's public `persistence` option: the demo builds the memory persistence itself, corrects it
  // and hands it over, so nothing reaches into the broker's internals.
  // A CommonJS module whose export is the factory; its types declare that as an ES default export.
  const memoryPersistence = persistenceModule.default as unknown as () => object;
  const persistence = memoryPersistence();
  correctPubrelRecords(persistence as unknown as OutgoingUpdate);
  const aedes = await Aedes.createBroker({ persistence });
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  async function listen(): Promise<void> {
    const s = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ port, host: '127.0.0.1' }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const address = s.address();
    if (address !== null && typeof address === 'object') port = address.port;
    server = s;
  }

  async function stopListening(): Promise<void> {
    const s = server;
    server = undefined;
    if (s === undefined) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await listen();
  return {
    description: 'Aedes (embedded in this process, MQTT 3.1.1 only)',
    notes: [
      'The embedded broker (Aedes) carries a small fix so that it never delivers a QoS 2 message twice (docs/cli.md explains it).',
    ],
    host: '127.0.0.1',
    get port() {
      return port;
    },
    protocol: 'mqtt',
    defaultVersion: 4,
    versions: [4],
    restartable: true,
    stopForRestart: stopListening,
    startAgain: listen,
    async close() {
      await stopListening();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** A broker of the user's: the demo runs its traffic through the faulty link to it. */
export function externalBroker(url: string): DemoBroker {
  const address = parseBrokerUrl(url);
  const broker: DemoBroker = {
    description: `${address.host}:${address.port} (${address.protocol}, from --url)`,
    host: address.host,
    port: address.port,
    protocol: address.protocol,
    defaultVersion: 5,
    versions: [4, 5],
    restartable: false,
    async stopForRestart() {},
    async startAgain() {},
    async close() {},
  };
  return Object.assign(
    broker,
    address.path === undefined ? {} : { path: address.path },
    address.username === undefined ? {} : { username: address.username },
    address.password === undefined ? {} : { password: address.password },
  );
}
