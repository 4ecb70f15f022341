// The worker's MQTT.js client, configured as its documentation recommends for
// not losing messages: a fixed client id, clean false (and on MQTT 5 a
// session that outlives the connection), automatic reconnect, and message
// listeners installed before the first CONNECT. For comparison runs (soak).
import mqtt from 'mqtt';
import type { WorkerClient, WorkerClientHandlers, WorkerConfig } from './worker-protocol.ts';

/** Makes an MQTT.js client for `config` (it connects on `start`). */
export async function mqttjsClient(config: WorkerConfig): Promise<WorkerClient> {
  if (config.store !== undefined) throw new Error('--store is for the steadfast worker only');
  const version = config.version ?? 5;
  const options: mqtt.IClientOptions = {
    clientId: config.clientId,
    protocolVersion: version,
    clean: config.clean ?? false,
    reconnectPeriod: config.reconnectPeriod ?? 1000,
    manualConnect: true,
    ...(config.keepalive === undefined ? {} : { keepalive: config.keepalive }),
    ...(config.connectTimeout === undefined ? {} : { connectTimeout: config.connectTimeout }),
    ...(version === 5 && !config.clean ? { properties: { sessionExpiryInterval: 0xffff_ffff } } : {}),
    ...config.options,
  };
  const client = mqtt.connect(config.url, options);
  let up = false;
  let lastError = 'connection closed';

  return {
    start(handlers: WorkerClientHandlers) {
      client.on('connect', (connack) => {
        up = true;
        handlers.up(connack.sessionPresent);
      });
      client.on('error', (error) => {
        lastError = error.message;
      });
      client.on('close', () => {
        handlers.down(lastError, up);
        up = false;
        lastError = 'connection closed';
      });
      client.on('message', (topic, payload, packet) =>
        handlers.message(topic, payload, packet.qos, packet.dup),
      );
      client.connect();
    },
    async publish(topic, payload, qos) {
      await client.publishAsync(topic, payload, { qos });
    },
    async subscribe(filter, qos) {
      const granted = await client.subscribeAsync(filter, { qos });
      return granted.map((g) => g.qos);
    },
    async end() {
      await client.endAsync();
    },
  };
}
