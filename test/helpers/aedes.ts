// An in-process Aedes 1.x broker (MQTT 3.1.1 only) on a free loopback port,
// for tests that want a second broker implementation or broker-side hooks.
import { createServer, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';

/** A running in-process Aedes broker started by {@link startAedes}. */
export interface AedesBroker {
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** The Aedes instance, for hooks (`authenticate`, `authorizePublish`, ...) and events. */
  readonly aedes: Aedes;
  /** Closes every client connection, the listener and the broker. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an Aedes broker (`await Aedes.createBroker(options)`) served over
 * `node:net` on 127.0.0.1, on a port chosen by the kernel.
 *
 * @param options passed to Aedes; default Aedes' own defaults (in-memory persistence).
 */
export async function startAedes(options?: AedesOptions): Promise<AedesBroker> {
  const aedes = await Aedes.createBroker(options);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Port 0 binds directly: no window for another process to take the port.
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('startAedes: no port');
  const port = address.port;

  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await closed;
      })();
      return stopping;
    },
  };
}
