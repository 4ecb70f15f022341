/**
 * How the commands use sessions. While a command runs, its session is kept
 * across outages (that is what makes `sub` lose nothing when the broker
 * restarts); when it ends, the session is removed from the broker, unless
 * `-c` asked to keep it (mosquitto_sub's "disable clean session").
 */
import { type Client, connect } from '../node.ts';
import { UsageError } from './args.ts';
import type { ConnectionSettings } from './config.ts';
import { clientOptions } from './config.ts';

/** Connects; with `keepSession` false the first connect starts clean and the session ends with the command. */
export async function openClient(settings: ConnectionSettings, keepSession = false): Promise<Client> {
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
  return connect(options);
}

/** Disconnects; without `keepSession`, also removes the session from the broker. */
export async function closeClient(
  client: Client,
  settings: ConnectionSettings,
  keepSession = false,
): Promise<void> {
  if (keepSession) return client.end();
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
    const cleaner = await connect({ ...options, clean: true });
    await cleaner.end();
  } catch {
    // Best effort: the broker keeps an empty session, which is harmless.
  }
}
