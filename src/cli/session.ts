/**
 * How the commands use sessions. While a command runs, its session is kept
 * across outages (that is what makes `sub` lose nothing when the broker
 * restarts); when it ends, the session is removed from the broker, unless
 * `-c` or `-x` asked to keep it (mosquitto_sub's "disable clean session").
 *
 * The first connect fails at once on a refusal that waiting will not heal
 * (nothing listens on the port, unknown host, a certificate that does not
 * verify, a peer that is not an MQTT broker), as mosquitto_pub does, unless
 * `--retry` asks to wait; other failures are retried until
 * `--connect-timeout`, saying what the command is waiting for.
 */
import { type Client, createClient } from '../node.ts';
import { type FlagSpec, type ParsedFlags, switchFlag, UsageError } from './args.ts';
import type { ConnectionSettings } from './config.ts';
import { clientOptions } from './config.ts';
import { type CliFailure, connectFailure, describeError, hopelessConnectFailure } from './exit.ts';

/** How a command talks about its connection: flags every client command takes. */
export const RUNTIME_FLAGS: FlagSpec[] = [
  {
    key: 'retry',
    names: ['--retry'],
    help: 'wait for the broker (up to --connect-timeout) even when it refuses the connection or is not there',
  },
  {
    key: 'debug',
    names: ['-d', '--debug'],
    help: 'say what the client does (connects, outages, acks) on stderr',
  },
  {
    key: 'quiet',
    names: ['--quiet'],
    help: 'print no runtime errors or status lines (usage errors still show)',
  },
];

/** What RUNTIME_FLAGS asked for. */
export interface Runtime {
  retry: boolean;
  /** A line for -d, else nothing. */
  debug(line: string): void;
  /** A status line on stderr (waiting, down, up), unless --quiet. */
  status(line: string): void;
}

export function runtimeFrom(flags: ParsedFlags): Runtime {
  const quiet = switchFlag(flags, 'quiet');
  const debug = switchFlag(flags, 'debug') && !quiet;
  return {
    retry: switchFlag(flags, 'retry'),
    debug: debug ? (line) => console.error(`debug: ${line}`) : () => {},
    status: quiet ? () => {} : (line) => console.error(line),
  };
}

/**
 * Connects; with `keepSession` false the first connect starts clean and the
 * session ends with the command. Rejects at once for a hopeless first connect
 * (see above) unless `runtime.retry`.
 */
export async function openClient(
  settings: ConnectionSettings,
  runtime: Runtime,
  keepSession = false,
): Promise<Client> {
  if (keepSession && settings.clientId === undefined) {
    throw new UsageError('-c (keep the session) needs a fixed client id: add -i ID');
  }
  const options = clientOptions(settings);
  if (!keepSession) {
    // A fixed id may find a stale session: discard it on the first connect. A random id cannot
    // (and Mosquitto 2.0 does not persist a session that began with clean start across its restart).
    if (settings.clientId !== undefined) options.cleanInit = true;
    // If the command dies without saying goodbye, the broker forgets the session after this.
    if (settings.protocolVersion === 5) options.properties = { sessionExpiryInterval: 300 };
  }
  if (settings.sessionExpiry !== undefined) {
    options.properties = { ...options.properties, sessionExpiryInterval: settings.sessionExpiry };
  }
  const client = createClient(options);
  runtime.debug(
    `connecting to ${settings.url} as ${client.clientId}, MQTT ${settings.protocolVersion === 5 ? '5.0' : '3.1.1'}, keepalive ${settings.keepalive} s`,
  );
  let giveUp!: (error: CliFailure) => void;
  const hopeless = new Promise<never>((_, reject) => (giveUp = reject));
  let lastReason: string | undefined;
  const offDown = client.on('down', ({ cause, wasUp }) => {
    if (wasUp) return;
    const failure = hopelessConnectFailure(cause);
    if (failure !== undefined && !runtime.retry) return giveUp(connectFailure(settings.url, failure));
    const reason = failure?.reason ?? describeError(cause).message;
    if (reason !== lastReason) {
      lastReason = reason;
      runtime.status(
        `waiting for the broker at ${settings.url}: ${reason} (retrying for up to ${settings.connectTimeout} s)`,
      );
    }
  });
  client.start();
  try {
    await Promise.race([client.ready(options.readyTimeout), hopeless]);
  } catch (error) {
    await client.end();
    throw error;
  } finally {
    offDown();
  }
  runtime.debug(`connected${client.server ? `: ${describeServer(client)}` : ''}`);
  return client;
}

/** Says the outages and reconnections of a client that was connected (sub, and -d for the others). */
export function reportConnection(client: Client, say: (line: string) => void, url: string): void {
  let waitingFor: string | undefined;
  client.on('down', ({ cause, wasUp }) => {
    const reason = hopelessConnectFailure(cause)?.reason ?? describeError(cause).message;
    if (wasUp) {
      waitingFor = undefined;
      say(`down: ${cause.message}`);
    } else if (reason !== waitingFor) {
      waitingFor = reason;
      say(`waiting for the broker at ${url}: ${reason} (retrying; Ctrl-C to stop)`);
    }
  });
  client.on('up', ({ sessionPresent, outageMs }) => {
    waitingFor = undefined;
    const after = outageMs === undefined ? '' : ` after ${(outageMs / 1000).toFixed(1)} s`;
    say(`up${after}${sessionPresent ? ', session resumed' : ''}`);
  });
}

function describeServer(client: Client): string {
  const s = client.server;
  if (s === undefined) return '';
  return `receive maximum ${s.receiveMaximum}, maximum QoS ${s.maximumQoS}, maximum packet size ${s.maximumPacketSize}`;
}

/** Disconnects; without `keepSession`, also removes the session from the broker. */
export async function closeClient(
  client: Client,
  settings: ConnectionSettings,
  keepSession = false,
): Promise<void> {
  if (keepSession || settings.sessionExpiry !== undefined) return client.end();
  if (settings.protocolVersion === 5) {
    if (client.connected) return client.end(0, { sessionExpiryInterval: 0 });
    return client.end();
  }
  // MQTT 3.1.1 has no session expiry: a clean connect with the same id removes it.
  const id = client.clientId;
  const wasUp = client.connected;
  await client.end();
  if (!wasUp) return;
  try {
    const options = clientOptions({
      ...settings,
      clientId: id,
      connectTimeout: Math.min(settings.connectTimeout, 3),
    });
    const cleaner = createClient({ ...options, clean: true }).start();
    try {
      await cleaner.ready(options.readyTimeout);
    } finally {
      await cleaner.end();
    }
  } catch {
    // Best effort: the broker keeps an empty session, which is harmless.
  }
}
