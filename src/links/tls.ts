/** A Link over TLS (node:tls). Node only. */
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { MqttError } from '../errors.ts';
import { openSocket } from './node-socket.ts';
import { DEFAULT_CONNECT_TIMEOUT, linkError } from './opening.ts';
import { hostPort } from './tcp.ts';
import type { Link } from './types.ts';

/** PEM text or DER bytes, one or several (as node:tls takes them). */
export type TlsMaterial = string | Buffer | Array<string | Buffer>;

/** TLS settings shared by every link that can speak TLS (tls, wss). */
export interface TlsOptions {
  /** Trusted CA certificates, replacing Node's default root store. Default: Node's root store. */
  ca?: TlsMaterial;
  /** Client certificate chain for mutual TLS. Default none. */
  cert?: TlsMaterial;
  /** Private key of `cert`. Default none. */
  key?: TlsMaterial;
  /**
   * Reject a broker whose certificate does not verify against `ca` or does
   * not match the host name. Turn off only for a test broker. Default `true`.
   */
  rejectUnauthorized?: boolean;
}

/** Options for {@link tlsLink}. */
export interface TlsLinkOptions extends TlsOptions {
  /** Host name or IP address of the broker. */
  host: string;
  /** TLS port of the broker (usually 8883). */
  port: number;
  /**
   * Name sent in SNI and checked against the certificate. Default `host`,
   * except that an IP address is not sent in SNI (RFC 6066 forbids it) and
   * is checked against the certificate's IP SANs instead.
   */
  servername?: string;
  /** ALPN protocol names to offer, e.g. `['mqtt']` (AWS IoT on port 443 wants `x-amzn-mqtt-ca`). Default none. */
  alpnProtocols?: string[];
  /** Disable Nagle's algorithm. Default `true`. */
  noDelay?: boolean;
  /** How long `open()` may take, in ms, TLS handshake included; 0 for no limit. Default `30000`. */
  connectTimeout?: number;
}

/**
 * A Link to `host:port` over TLS. `open()` resolves after the handshake
 * (`secureConnect`), so a certificate that does not verify rejects the open
 * with LINK_ERROR whose `cause` is the TLS error.
 */
export function tlsLink(options: TlsLinkOptions): Link {
  const { host, port } = options;
  const name = `tls ${hostPort(host, port)}`;
  const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
  return {
    name,
    concurrentOpens: true,
    open(handlers, signal) {
      return openSocket(
        {
          name,
          timeoutMs: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
          readyEvent: 'secureConnect',
          connect: () =>
            // tls.connect does not take noDelay; set before connecting, it applies once connected.
            connect({
              host,
              port,
              servername,
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              ALPNProtocols: options.alpnProtocols,
              rejectUnauthorized: options.rejectUnauthorized ?? true,
            }).setNoDelay(options.noDelay ?? true),
          // TLS 1.3 finishes the client's handshake before the broker checks
          // our certificate, so its refusal arrives after open: same wording.
          describeError: (err) => tlsError(name, err),
        },
        handlers,
        signal,
      );
    },
  };
}

/** Says plainly when a TLS error is a certificate problem, the commonest TLS misconfiguration. */
function tlsError(name: string, err: Error): MqttError {
  const code = String((err as { code?: unknown }).code ?? '');
  if (/ALERT.*CERTIFICATE/.test(code)) {
    return linkError(name, err, `certificate problem: the broker refused our client certificate (${code})`);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_|INVALID_CA|HOSTNAME|ALTNAME/.test(code)) {
    return linkError(
      name,
      err,
      `certificate problem: the broker's certificate was not accepted (${err.message})`,
    );
  }
  return linkError(name, err);
}
