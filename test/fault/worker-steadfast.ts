// The worker's steadfast-mqtt client (the client under test).

import { topicMatches } from '../../src/codec/topic.ts';
import type { NodeClientOptions } from '../../src/node.ts';
import type { WorkerClient, WorkerClientHandlers, WorkerConfig } from './worker-protocol.ts';

/** Loads `FileStore` from src/store/file.ts only when asked for, so the worker runs without it. */
async function fileStore(path: string): Promise<unknown> {
  // A computed specifier keeps the type checker from requiring the module to exist.
  const specifier = new URL('../../src/store/file.ts', import.meta.url).href;
  let FileStore: new (path: string) => unknown;
  try {
    ({ FileStore } = (await import(specifier)) as { FileStore: new (path: string) => unknown });
  } catch (error) {
    throw new Error(`--store needs FileStore from src/store/file.ts, which failed to load: ${String(error)}`);
  }
  if (typeof FileStore !== 'function') throw new Error('src/store/file.ts does not export a FileStore class');
  return new FileStore(path);
}

/** Makes a steadfast-mqtt client for `config` (not started yet). */
export async function steadfastClient(config: WorkerConfig): Promise<WorkerClient> {
  const { createClient } = await import('../../src/node.ts');
  // Options this version of the client may not know yet (store, quietPeriod...) go in untyped.
  const options: NodeClientOptions & Record<string, unknown> = {
    url: config.url,
    clientId: config.clientId,
    protocolVersion: config.version ?? 5,
    clean: config.clean ?? false,
  };
  if (config.keepalive !== undefined) options.keepalive = config.keepalive;
  if (config.responseTimeout !== undefined) options.responseTimeout = config.responseTimeout;
  if (config.reconnectPeriod !== undefined) options.reconnectPeriod = config.reconnectPeriod;
  if (config.reconnectPeriodMax !== undefined) options.reconnectPeriodMax = config.reconnectPeriodMax;
  if (config.connectTimeout !== undefined) options.connectTimeout = config.connectTimeout;
  if (config.store !== undefined) Object.assign(options, { store: await fileStore(config.store) });
  Object.assign(options, config.options);
  const client = createClient(options);
  // A message is received where the client decides its ack: by the callback of a subscription
  // this process made (the ack waits for it, so a kill -9 before it runs brings the message back,
  // as the delivery contract says), or by the 'message' listener for one no such subscription
  // claims (a resumed session's, after a restart: taken, and acked, as the listener returns).
  const filters: string[] = [];
  let handlers: WorkerClientHandlers | undefined;

  return {
    start(h: WorkerClientHandlers) {
      handlers = h;
      client.on('up', ({ sessionPresent }) => h.up(sessionPresent));
      client.on('down', ({ cause, wasUp }) => h.down(`${cause.code}: ${cause.message}`, wasUp));
      client.on('message', (m) => {
        if (!filters.some((f) => topicMatches(f, m.topic))) h.message(m.topic, m.payload, m.qos, m.dup);
      });
      client.start();
    },
    async publish(topic, payload, qos) {
      await client.publish(topic, payload, { qos });
    },
    async subscribe(filter, qos) {
      filters.push(filter);
      const subscription = await client.subscribe(filter, {
        qos,
        onMessage: (m) => handlers?.message(m.topic, m.payload, m.qos, m.dup),
      });
      return [...subscription.granted];
    },
    async end() {
      await client.end();
    },
  };
}
