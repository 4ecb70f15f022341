/** Links for Node: TCP, TLS and WebSocket (through `ws`), and choosing one from a broker URL. */
import { type TcpLinkOptions, tcpLink } from './tcp.ts';
import { type TlsLinkOptions, type TlsOptions, tlsLink } from './tls.ts';
import type { Link } from './types.ts';
import { type BrokerAddress, parseBrokerUrl, websocketUrl } from './url.ts';
import { type NodeWebSocketLinkOptions, nodeWebsocketLink } from './websocket-node.ts';

export { type TcpLinkOptions, tcpLink } from './tcp.ts';
export { type TlsLinkOptions, type TlsMaterial, type TlsOptions, tlsLink } from './tls.ts';
export { type NodeWebSocketLinkOptions, nodeWebsocketLink } from './websocket-node.ts';

/** Options for {@link linkForUrl}; each applies only to the links that have it. */
export interface UrlLinkOptions extends TlsOptions {
  /** How long `open()` may take, in ms; 0 for no limit. Default `30000`. */
  connectTimeout?: number;
  /** TCP and TLS: disable Nagle's algorithm. Default `true`. */
  noDelay?: boolean;
  /** TLS: SNI and certificate name. Default the URL's host (not sent when it is an IP address). */
  servername?: string;
  /** TLS: ALPN protocols to offer. Default none. */
  alpnProtocols?: string[];
  /** WebSocket: subprotocols. Default `['mqtt']`. */
  protocols?: string[];
  /** WebSocket: extra HTTP headers for the upgrade request. Default none. */
  headers?: Record<string, string>;
}

/**
 * The link a broker URL asks for: `mqtt://`/`tcp://` → {@link tcpLink},
 * `mqtts://`/`ssl://`/`tls://` → {@link tlsLink}, `ws://`/`wss://` →
 * {@link nodeWebsocketLink}. Credentials in the URL are not the link's
 * business (MQTT sends them in CONNECT): read them from `parseBrokerUrl`.
 *
 * @param url a broker URL, or an address already parsed by `parseBrokerUrl`.
 * @throws MqttError INVALID_URL for a URL `parseBrokerUrl` rejects.
 */
export function linkForUrl(url: string | BrokerAddress, options: UrlLinkOptions = {}): Link {
  const address = typeof url === 'string' ? parseBrokerUrl(url) : url;
  const { host, port } = address;
  const { connectTimeout, noDelay, ca, cert, key, rejectUnauthorized } = options;
  switch (address.protocol) {
    case 'mqtt': {
      const tcp: TcpLinkOptions = { host, port, noDelay, connectTimeout };
      return tcpLink(tcp);
    }
    case 'mqtts': {
      const tls: TlsLinkOptions = {
        host,
        port,
        noDelay,
        connectTimeout,
        ca,
        cert,
        key,
        rejectUnauthorized,
        servername: options.servername,
        alpnProtocols: options.alpnProtocols,
      };
      return tlsLink(tls);
    }
    case 'ws':
    case 'wss': {
      const ws: NodeWebSocketLinkOptions = {
        url: websocketUrl(address),
        connectTimeout,
        protocols: options.protocols,
        headers: options.headers,
        ca,
        cert,
        key,
        rejectUnauthorized,
      };
      return nodeWebsocketLink(ws);
    }
    default: {
      const unknown: never = address.protocol;
      throw new Error(`unreachable: ${unknown}`);
    }
  }
}
