/**
 * steadfast-mqtt for Node: everything in the core, plus TCP, TLS and
 * WebSocket (`ws`) links chosen from the broker URL, and TLS options.
 *
 * @module steadfast-mqtt/node
 */
import { Client, connect as connectWith } from './client/client.ts';
import type { ClientOptions } from './client/options.ts';
import { useRequest } from './client/request.ts';
import { useReasonCodeNames } from './codec/reason-names.ts';
import { linkForUrl, type UrlLinkOptions } from './links/node.ts';

export * from './client/index.ts';
export { type ErrorSide, MqttError, type MqttErrorCode, type MqttErrorOptions } from './errors.ts';
export * from './links/index.ts';
export * from './links/node.ts';
export * from './public-codec.ts';
// Types the API hands out (`client.server`, `client.stats`) and that a SessionStore implements against.
export type { ServerCapabilities, SessionStats } from './session/session.ts';
export type { OutboundMessage, OutboundState } from './session/types.ts';
export { FileStore, type FileStoreOptions } from './store/file.ts';

// Node bundles are not size-bound: every client of this entry has the optional features.
useRequest();
useReasonCodeNames();

/** Client options for Node: the link options (TLS ca/cert/key, servername, ALPN...) sit beside the MQTT ones, as in MQTT.js. */
export type NodeClientOptions = ClientOptions &
  UrlLinkOptions & {
    /**
     * For `connect()`: how long to wait for the first connection, in ms, before
     * rejecting (the client is then ended). Default: no limit.
     */
    readyTimeout?: number;
  };

function withNodeLinks(options: NodeClientOptions): NodeClientOptions {
  const { connectTimeout } = options;
  const linkOptions: UrlLinkOptions = { ...options, connectTimeout: connectTimeout ?? 30_000 };
  return { linkFactory: (address) => linkForUrl(address, linkOptions), ...options };
}

/** Connects to a broker (`url` as a string, or full options) and resolves once connected. */
export function connect(url: string | NodeClientOptions, options: NodeClientOptions = {}): Promise<Client> {
  const merged = typeof url === 'string' ? { ...options, url } : url;
  return connectWith(withNodeLinks(merged));
}

/**
 * Creates a client without connecting it: subscribe first (nothing the broker
 * kept for the session can then arrive before its subscription), then call
 * `start()` and await `ready()`.
 */
export function createClient(url: string | NodeClientOptions, options: NodeClientOptions = {}): Client {
  const merged = typeof url === 'string' ? { ...options, url } : url;
  return new Client(withNodeLinks(merged));
}
