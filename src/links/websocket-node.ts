/**
 * The WebSocket link for Node 20, which has no global WebSocket: the same
 * link as in browsers, with the `ws` package's class (it implements the
 * WHATWG API, `binaryType = 'arraybuffer'` included) and the TLS and header
 * options only a Node client can set.
 *
 * `ws` is an optional peer dependency, loaded on the first `ws://` or
 * `wss://` connection, so that TCP and TLS users need not install it.
 */
import { createRequire } from 'node:module';
import type { ClientOptions, WebSocket as WsWebSocket } from 'ws';
import { localError } from '../errors.ts';
import type { TlsOptions } from './tls.ts';
import type { Link } from './types.ts';
import { type WebSocketConstructor, type WebSocketLinkOptions, websocketLink } from './websocket.ts';

/** Options for {@link nodeWebsocketLink}: those of `websocketLink` except the class, plus TLS and headers. */
export interface NodeWebSocketLinkOptions extends Omit<WebSocketLinkOptions, 'WebSocket'>, TlsOptions {
  /** Extra HTTP headers for the upgrade request (e.g. an `Authorization` token). Default none. */
  headers?: Record<string, string>;
  /**
   * How long `close()` waits for the broker's close frame before dropping the
   * TCP connection, in ms. `ws` itself waits 30 s, too long to hold a dead
   * connection during an outage. Default `5000`.
   */
  closeTimeout?: number;
}

/**
 * A WebSocket Link for Node, using `ws`. `ca`, `cert`, `key` and
 * `rejectUnauthorized` (default `true`) apply to `wss://` URLs.
 */
export function nodeWebsocketLink(options: NodeWebSocketLinkOptions): Link {
  const { ca, cert, key, rejectUnauthorized, headers, closeTimeout, ...rest } = options;
  // closeTimeout is a ws 8 option that @types/ws does not list yet.
  const wsOptions: ClientOptions & { closeTimeout: number } = {
    ca,
    cert,
    key,
    rejectUnauthorized: rejectUnauthorized ?? true,
    headers,
    // MQTT payloads are usually small or already compressed; permessage-deflate
    // would cost CPU and memory per connection for little gain.
    perMessageDeflate: false,
    closeTimeout: closeTimeout ?? 5000,
  };
  // The link calls `new WebSocket(url, protocols)`, as in a browser; this
  // constructor carries the Node-only options into ws's third argument.
  function ConfiguredWebSocket(url: string, protocols?: string | string[]): WsWebSocket {
    return new (loadWs())(url, protocols, wsOptions);
  }
  return websocketLink({ ...rest, WebSocket: ConfiguredWebSocket as unknown as WebSocketConstructor });
}

let wsClass: typeof WsWebSocket | undefined;

/** Loads `ws` once; its absence is a LINK_ERROR that says what to install. */
function loadWs(): typeof WsWebSocket {
  if (wsClass === undefined) {
    try {
      wsClass = (createRequire(import.meta.url)('ws') as { WebSocket: typeof WsWebSocket }).WebSocket;
    } catch {
      throw localError('LINK_ERROR', "WebSocket links in Node need the 'ws' package: npm install ws");
    }
  }
  return wsClass;
}
