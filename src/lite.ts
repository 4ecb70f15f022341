/**
 * steadfast-mqtt/lite: the MQTT 3.1.1-only client for small browser bundles
 * (QoS 0/1/2, keepalive, reconnect with backoff, session resume; see
 * src/lite/client.ts for what it leaves to the full client). Imports nothing
 * from Node; in Node, give it a link from `steadfast-mqtt/node` instead of a URL.
 *
 * @module steadfast-mqtt/lite
 */

import type { WebSocketConstructor } from './links/websocket.ts';
import { LiteClient } from './lite/client.ts';
import type { LiteOptions } from './lite/message.ts';
import { liteWebsocketLink } from './lite/websocket.ts';

export { type ErrorSide, MqttError, type MqttErrorCode } from './errors.ts';
export type { Connection, Link, LinkHandlers } from './links/types.ts';
export { LiteClient } from './lite/client.ts';
export { type LiteEvents, LiteMessage, type LiteOptions } from './lite/message.ts';
export { liteWebsocketLink } from './lite/websocket.ts';

/**
 * Connects to a broker's websocket listener (`ws://` or `wss://`, path
 * included) and resolves once connected; rejects with the first attempt's
 * error (LINK_ERROR, TIMEOUT, CONNECTION_REFUSED). Later outages are
 * handled by the client itself.
 */
export async function connect(
  url: string,
  options: Omit<LiteOptions, 'link'> & {
    /** The WebSocket class (e.g. the `ws` package's in Node 20). Default `globalThis.WebSocket`. */
    WebSocket?: WebSocketConstructor;
  } = {},
): Promise<LiteClient> {
  const client = new LiteClient({ ...options, link: liteWebsocketLink(url, options.WebSocket) });
  await client.start();
  return client;
}
