/**
 * Links that run in any JavaScript runtime: the Link interface, the
 * WebSocket link (WHATWG API) and broker URL parsing. Node's TCP, TLS and
 * `ws`-based links are in `./node.ts`.
 */
export type { Connection, Link, LinkHandlers } from './types.ts';
export {
  type BrokerAddress,
  type BrokerProtocol,
  parseBrokerUrl,
  redactUrl,
  websocketUrl,
} from './url.ts';
export {
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketLinkOptions,
  websocketLink,
} from './websocket.ts';
