/**
 * steadfast-mqtt: the runtime-neutral core. Client, codec, session engine and
 * the WebSocket link over the platform WebSocket; runs in browsers, Deno, Bun
 * and Node 22+ (which has a global WebSocket). In Node, the `node` export
 * condition loads ./node.ts instead, which adds TCP, TLS and `ws`.
 *
 * @module steadfast-mqtt
 */
import { Client, connect as connectWith } from './client/client.ts';
import type { ClientOptions } from './client/options.ts';
import { localError } from './errors.ts';
import { websocketUrl } from './links/url.ts';
import { websocketLink } from './links/websocket.ts';

export * from './client/index.ts';
export { type ErrorSide, MqttError, type MqttErrorCode, type MqttErrorOptions } from './errors.ts';
export * from './links/index.ts';
export * from './public-codec.ts';
// Types the API hands out (`client.server`, `client.stats`) and that a SessionStore implements against.
export type { ServerCapabilities, SessionStats } from './session/session.ts';
export type { OutboundMessage, OutboundState } from './session/types.ts';

/** Browser link factory: ws:// and wss:// through the platform WebSocket. */
export const browserLinkFactory: NonNullable<ClientOptions['linkFactory']> = (address) => {
  if (address.protocol !== 'ws' && address.protocol !== 'wss') {
    throw localError(
      'INVALID_URL',
      `${address.protocol}:// needs Node (import from steadfast-mqtt/node); use ws:// or wss://`,
    );
  }
  return websocketLink({ url: websocketUrl(address) });
};

/** Connects to a broker (`url` as a string, or full options) and resolves once connected. */
export function connect(
  url: string | (ClientOptions & { readyTimeout?: number }),
  options: ClientOptions & { readyTimeout?: number } = {},
): Promise<Client> {
  const merged = typeof url === 'string' ? { ...options, url } : url;
  return connectWith({ linkFactory: browserLinkFactory, ...merged });
}

/**
 * Creates a client without connecting it: subscribe first (nothing the broker
 * kept for the session can then arrive before its subscription), then call
 * `start()` and await `ready()`.
 */
export function createClient(url: string | ClientOptions, options: ClientOptions = {}): Client {
  const merged = typeof url === 'string' ? { ...options, url } : url;
  return new Client({ linkFactory: browserLinkFactory, ...merged });
}
