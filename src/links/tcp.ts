/** A Link over plain TCP (node:net). Node only. */
import { connect } from 'node:net';
import { openSocket } from './node-socket.ts';
import { DEFAULT_CONNECT_TIMEOUT } from './opening.ts';
import type { Link } from './types.ts';

/** Options for {@link tcpLink}. */
export interface TcpLinkOptions {
  /** Host name or IP address of the broker. */
  host: string;
  /** TCP port of the broker (usually 1883). */
  port: number;
  /**
   * Disable Nagle's algorithm, so small packets (PINGREQ, PUBACK) go out at
   * once instead of waiting for more data. Default `true`.
   */
  noDelay?: boolean;
  /** How long `open()` may take, in ms, DNS lookup included; 0 for no limit. Default `30000`. */
  connectTimeout?: number;
}

/**
 * A Link to `host:port` over TCP. `open()` resolves once the TCP connection
 * is established; it rejects with LINK_ERROR (refused, unreachable, DNS
 * failure: `cause` has the system error), TIMEOUT or ABORTED, and then
 * leaves no socket behind.
 */
export function tcpLink(options: TcpLinkOptions): Link {
  const { host, port } = options;
  const name = `tcp ${hostPort(host, port)}`;
  return {
    name,
    concurrentOpens: true,
    open(handlers, signal) {
      return openSocket(
        {
          name,
          timeoutMs: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
          readyEvent: 'connect',
          connect: () => connect({ host, port, noDelay: options.noDelay ?? true }),
        },
        handlers,
        signal,
      );
    },
  };
}

/** `host:port`, with an IPv6 literal in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
