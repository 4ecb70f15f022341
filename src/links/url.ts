/**
 * Broker URLs: `mqtt://user:pass@host:1883`, `mqtts://`, `ws://host/mqtt`...
 * Runtime-neutral: only the WHATWG URL global.
 */
import { MqttError } from '../errors.ts';

/** The transport a broker URL asks for. */
export type BrokerProtocol = 'mqtt' | 'mqtts' | 'ws' | 'wss';

/** A broker address from {@link parseBrokerUrl}. */
export interface BrokerAddress {
  /** `mqtt` (TCP), `mqtts` (TLS), `ws` or `wss`; `tcp` is read as `mqtt`, `ssl` and `tls` as `mqtts`. */
  protocol: BrokerProtocol;
  /** Host name or IP address; an IPv6 literal without its brackets (`::1`). */
  host: string;
  /** Port; when the URL has none, 1883, 8883, 80 or 443 by protocol. */
  port: number;
  /** User name from the URL, percent-decoded; absent when the URL has none. */
  username?: string;
  /** Password from the URL, percent-decoded; absent when the URL has none. */
  password?: string;
  /** For `ws` and `wss`: path and query of the HTTP upgrade request. Default `/`, as MQTT.js. */
  path?: string;
}

const SCHEMES: Record<string, BrokerProtocol> = {
  mqtt: 'mqtt',
  tcp: 'mqtt',
  mqtts: 'mqtts',
  ssl: 'mqtts',
  tls: 'mqtts',
  ws: 'ws',
  wss: 'wss',
};

const DEFAULT_PORTS: Record<BrokerProtocol, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/**
 * Parses a broker URL (schemes mqtt, tcp, mqtts, ssl, tls, ws, wss).
 * For ws and wss the path and query are kept, default `/` (MQTT.js does
 * the same; many brokers want `/mqtt`, which must then be in the URL). For
 * the other schemes a path is ignored.
 *
 * @throws MqttError INVALID_URL when there is no scheme, an unknown one,
 *   an empty host or a port outside 1..65535. The message never shows the password.
 */
export function parseBrokerUrl(url: string): BrokerAddress {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) fail(url, 'no scheme (expected e.g. mqtt://host:1883)');
  const protocol = SCHEMES[scheme];
  if (protocol === undefined) {
    fail(url, `unknown scheme "${scheme}" (expected one of ${Object.keys(SCHEMES).join(', ')})`);
  }
  // The URL parser's own failures say nothing useful, so look at the port
  // and host first for a precise message.
  const authority = /^[^:]+:\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]?|[^:/?#]*)(?::([^/?#]*))?/.exec(url);
  const rawHost = authority?.[1] ?? '';
  const rawPort = authority?.[2];
  if (rawHost === '' || rawHost === '[]') fail(url, 'empty host');
  if (rawHost.startsWith('[') && !rawHost.endsWith(']')) fail(url, 'unterminated IPv6 address (missing "]")');
  if (rawPort !== undefined && rawPort !== '' && !validPort(rawPort)) {
    fail(url, `bad port "${rawPort}" (expected 1..65535)`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    fail(url, 'not a valid URL', err);
  }
  let host = parsed.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') fail(url, 'empty host');

  // ws/wss are special schemes to the URL parser, which elides their default
  // port; for the others an absent port is an empty string too.
  const address: BrokerAddress = {
    protocol,
    host,
    port: parsed.port === '' ? DEFAULT_PORTS[protocol] : Number(parsed.port),
  };
  if (parsed.username !== '') address.username = decode(url, parsed.username);
  if (parsed.password !== '') address.password = decode(url, parsed.password);
  if (protocol === 'ws' || protocol === 'wss') address.path = (parsed.pathname || '/') + parsed.search;
  return address;
}

/** The `ws://` or `wss://` URL to open for a websocket broker address, without credentials. */
export function websocketUrl(address: BrokerAddress): string {
  const scheme = address.protocol === 'wss' ? 'wss' : 'ws';
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${address.port}${address.path ?? '/'}`;
}

/** The URL with any password replaced by `***`, fit for messages and logs. */
export function redactUrl(url: string): string {
  // Greedy up to the last `@` of the authority, as the URL parser reads it.
  return url.replace(/^([^:/?#]+:\/\/[^:@/?#]*:)[^/?#]*@/, '$1***@');
}

function validPort(port: string): boolean {
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

function decode(url: string, component: string): string {
  try {
    return decodeURIComponent(component);
  } catch (err) {
    fail(url, 'bad percent-encoding in the user name or password', err);
  }
}

function fail(url: string, why: string, cause?: unknown): never {
  throw new MqttError('INVALID_URL', `invalid broker URL "${redactUrl(url)}": ${why}`, { cause });
}

/**
 * The broker address an MQTT 5 Server Reference names, relative to the one in
 * use. The spec leaves the format open; brokers send `host`, `host:port`,
 * `[v6]:port` or a URL, and may list several separated by spaces (the first
 * is taken). Undefined when it cannot be read.
 */
export function serverReferenceAddress(reference: string, current: BrokerAddress): BrokerAddress | undefined {
  const first = reference.trim().split(/\s+/)[0] ?? '';
  if (first === '') return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first)) {
    try {
      const address = parseBrokerUrl(first);
      if (address.username === undefined && current.username !== undefined)
        address.username = current.username;
      if (address.password === undefined && current.password !== undefined)
        address.password = current.password;
      return address;
    } catch {
      return undefined;
    }
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(first);
  if (match === null) return undefined;
  const port = match[3] === undefined ? current.port : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { ...current, host: match[1] ?? match[2], port };
}
