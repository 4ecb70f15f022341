/**
 * Connection settings for every command, from three sources in order of
 * precedence: command-line flags, then environment variables (`STEADFAST_*`),
 * then a JSON config file (`--config FILE`, else `$STEADFAST_CONFIG`, else
 * `$XDG_CONFIG_HOME/steadfast/config.json` or `~/.config/steadfast/config.json`
 * when it exists). Each setting is taken from the first source that has it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseBrokerUrl } from '../links/url.ts';
import type { NodeClientOptions } from '../node.ts';
import { type FlagSpec, type ParsedFlags, parseNumber, stringFlag, switchFlag, UsageError } from './args.ts';

/** What a command needs to open a connection. */
export interface ConnectionSettings {
  /** Broker URL without credentials. Default `mqtt://127.0.0.1:1883` (`mqtts://…:8883` with TLS files). */
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  /** 4 (MQTT 3.1.1) or 5. Default 5. */
  protocolVersion: 4 | 5;
  /** Seconds. Default 60. */
  keepalive: number;
  cafile?: string;
  cert?: string;
  key?: string;
  /** Skip TLS certificate checks. Default false. */
  insecure: boolean;
  /** Seconds to wait for the first connection. Default 10. */
  connectTimeout: number;
  /** MQTT 5 session expiry interval from -x, in seconds; the session is then kept on exit. Default none. */
  sessionExpiry?: number;
}

/** What one source (flags, environment, file) says; anything may be missing. */
type Layer = Partial<Omit<ConnectionSettings, 'url' | 'sessionExpiry'>> & { url?: string };

/** The connection flags every command takes. */
export const CONNECTION_FLAGS: FlagSpec[] = [
  {
    key: 'url',
    names: ['-L', '--url'],
    value: true,
    meta: 'URL',
    help: 'mqtt[s]://[user:pass@]host[:port][/topic], ws[s]://…',
  },
  {
    key: 'host',
    names: ['-h', '--host'],
    value: true,
    meta: 'HOST',
    help: 'broker host (default 127.0.0.1)',
  },
  {
    key: 'port',
    names: ['-p', '--port'],
    value: true,
    meta: 'PORT',
    help: 'broker port (default 1883, 8883 with TLS)',
  },
  {
    key: 'id',
    names: ['-i', '--id'],
    value: true,
    meta: 'ID',
    help: 'client id (default steadfast_<random>)',
  },
  {
    key: 'idPrefix',
    names: ['-I', '--id-prefix'],
    value: true,
    meta: 'PREFIX',
    help: 'client id PREFIX followed by the process id',
  },
  {
    key: 'sessionExpiry',
    names: ['-x', '--session-expiry-interval'],
    value: true,
    meta: 'SECONDS',
    help: 'MQTT 5: keep the session this long after exit (-1 or ∞: forever)',
  },
  { key: 'username', names: ['-u', '--username'], value: true, meta: 'USER', help: 'user name' },
  { key: 'password', names: ['-P', '--pw'], value: true, meta: 'PASS', help: 'password' },
  {
    key: 'version',
    names: ['-V', '--protocol-version'],
    value: true,
    meta: '311|5',
    help: 'MQTT version (default 5)',
  },
  {
    key: 'keepalive',
    names: ['-k', '--keepalive'],
    value: true,
    meta: 'SECONDS',
    help: 'keepalive (default 60)',
  },
  { key: 'cafile', names: ['--cafile'], value: true, meta: 'FILE', help: 'CA certificates (PEM) to trust' },
  { key: 'cert', names: ['--cert'], value: true, meta: 'FILE', help: 'client certificate (PEM)' },
  { key: 'key', names: ['--key'], value: true, meta: 'FILE', help: 'client private key (PEM)' },
  { key: 'insecure', names: ['--insecure'], help: 'do not check the server certificate' },
  {
    key: 'connectTimeout',
    names: ['--connect-timeout'],
    value: true,
    meta: 'SECONDS',
    help: 'give up if not connected within this (default 10)',
  },
  {
    key: 'config',
    names: ['--config'],
    value: true,
    meta: 'FILE',
    help: 'JSON config file (see "steadfast help config")',
  },
];

/** Environment variables and the setting each one gives. */
export const ENVIRONMENT: Record<string, keyof Layer> = {
  STEADFAST_URL: 'url',
  STEADFAST_USERNAME: 'username',
  STEADFAST_PASSWORD: 'password',
  STEADFAST_CLIENT_ID: 'clientId',
  STEADFAST_PROTOCOL_VERSION: 'protocolVersion',
  STEADFAST_KEEPALIVE: 'keepalive',
  STEADFAST_CAFILE: 'cafile',
  STEADFAST_CERT: 'cert',
  STEADFAST_KEY: 'key',
  STEADFAST_INSECURE: 'insecure',
  STEADFAST_CONNECT_TIMEOUT: 'connectTimeout',
};

const FILE_KEYS = new Set<string>([
  'url',
  'username',
  'password',
  'clientId',
  'protocolVersion',
  'keepalive',
  'cafile',
  'cert',
  'key',
  'insecure',
  'connectTimeout',
]);

/** Where the config file is looked for when neither `--config` nor `STEADFAST_CONFIG` names one. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'steadfast', 'config.json');
}

/** Resolved settings, and the topic from a `-L …/topic` URL path (mosquitto_pub's form). */
export interface Resolved {
  settings: ConnectionSettings;
  urlTopic?: string;
}

/** Settings from flags > environment > config file > defaults. */
export function resolveConnection(flags: ParsedFlags, env: NodeJS.ProcessEnv = process.env): Resolved {
  const fromFlags: Layer = {};
  let urlTopic: string | undefined;
  const flagUrl = stringFlag(flags, 'url');
  if (flagUrl !== undefined) {
    const split = splitTopic(flagUrl);
    urlTopic = split.topic;
    Object.assign(fromFlags, credentialsFromUrl(split.url, '-L'));
  }
  setIf(fromFlags, 'username', stringFlag(flags, 'username'));
  setIf(fromFlags, 'password', stringFlag(flags, 'password'));
  setIf(fromFlags, 'clientId', stringFlag(flags, 'id'));
  const prefix = stringFlag(flags, 'idPrefix');
  if (prefix !== undefined) {
    if (fromFlags.clientId !== undefined) throw new UsageError('give -i or -I, not both');
    fromFlags.clientId = `${prefix}${process.pid}`;
  }
  const version = stringFlag(flags, 'version');
  if (version !== undefined) fromFlags.protocolVersion = parseVersion(version, '-V');
  const keepalive = stringFlag(flags, 'keepalive');
  if (keepalive !== undefined) fromFlags.keepalive = parseNumber(keepalive, '-k (keepalive)', 0, 65535);
  setIf(fromFlags, 'cafile', stringFlag(flags, 'cafile'));
  setIf(fromFlags, 'cert', stringFlag(flags, 'cert'));
  setIf(fromFlags, 'key', stringFlag(flags, 'key'));
  if (switchFlag(flags, 'insecure')) fromFlags.insecure = true;
  const timeout = stringFlag(flags, 'connectTimeout');
  if (timeout !== undefined)
    fromFlags.connectTimeout = parseNumber(timeout, '--connect-timeout', 0.1, 86400, false);

  const fromEnv = environmentLayer(env);
  const fromFile = fileLayer(stringFlag(flags, 'config') ?? env.STEADFAST_CONFIG, env);

  const layers = [fromFlags, fromEnv, fromFile];
  const pick = <K extends keyof Layer>(key: K): Layer[K] => layers.find((l) => l[key] !== undefined)?.[key];
  const cafile = pick('cafile');
  const cert = pick('cert');
  const secure = cafile !== undefined || cert !== undefined;
  let url = pick('url') ?? (secure ? 'mqtts://127.0.0.1:8883' : 'mqtt://127.0.0.1:1883');
  // -h and -p change the host and port of the URL, wherever the URL came from.
  const host = stringFlag(flags, 'host');
  const portText = stringFlag(flags, 'port');
  if (host !== undefined || portText !== undefined) {
    const address = parseBrokerUrl(url);
    if (host !== undefined) address.host = host;
    if (portText !== undefined) address.port = parseNumber(portText, '-p (port)', 1, 65535);
    url = formatUrl(address);
  }
  const settings: ConnectionSettings = {
    url,
    protocolVersion: pick('protocolVersion') ?? 5,
    keepalive: pick('keepalive') ?? 60,
    insecure: pick('insecure') ?? false,
    connectTimeout: pick('connectTimeout') ?? 10,
  };
  setIf(settings, 'username', pick('username'));
  setIf(settings, 'password', pick('password'));
  setIf(settings, 'clientId', pick('clientId'));
  setIf(settings, 'cafile', cafile);
  setIf(settings, 'cert', cert);
  setIf(settings, 'key', pick('key'));
  const expiry = stringFlag(flags, 'sessionExpiry');
  if (expiry !== undefined) {
    if (settings.protocolVersion !== 5) throw new UsageError('-x (session expiry) needs MQTT 5');
    settings.sessionExpiry = /^(-1|∞|inf|infinity)$/i.test(expiry)
      ? 0xffff_ffff
      : parseNumber(expiry, '-x (session expiry)', 0, 0xffff_ffff);
  }
  return urlTopic === undefined ? { settings } : { settings, urlTopic };
}

/** Client options for these settings; reads the TLS files (a missing one is a UsageError). */
export function clientOptions(settings: ConnectionSettings): NodeClientOptions {
  const options: NodeClientOptions = {
    url: settings.url,
    protocolVersion: settings.protocolVersion,
    keepalive: settings.keepalive,
    readyTimeout: settings.connectTimeout * 1000,
    connectTimeout: Math.max(1000, settings.connectTimeout * 1000),
    // A command line is interactive: retry quickly while waiting for the first connection.
    reconnectPeriod: 500,
    reconnectPeriodMax: 5000,
    quietPeriod: 500,
  };
  if (settings.clientId !== undefined) options.clientId = settings.clientId;
  if (settings.username !== undefined) options.username = settings.username;
  if (settings.password !== undefined) options.password = settings.password;
  if (settings.cafile !== undefined) options.ca = readPem(settings.cafile, '--cafile');
  if (settings.cert !== undefined) options.cert = readPem(settings.cert, '--cert');
  if (settings.key !== undefined) options.key = readPem(settings.key, '--key');
  if (settings.insecure) options.rejectUnauthorized = false;
  return options;
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new UsageError(`cannot read ${flag} file ${path}: ${why}`);
  }
}

function environmentLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const [name, key] of Object.entries(ENVIRONMENT)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    assign(layer, key, raw, name);
  }
  return layer;
}

function fileLayer(explicit: string | undefined, env: NodeJS.ProcessEnv): Layer {
  const path = explicit ?? defaultConfigPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // The default location is optional; a file the user named must exist.
    if (explicit === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`config file ${path} must hold a JSON object`);
  }
  const layer: Layer = {};
  for (const [key, value] of Object.entries(json)) {
    if (!FILE_KEYS.has(key)) {
      throw new UsageError(
        `config file ${path}: unknown setting "${key}" (known: ${[...FILE_KEYS].join(', ')})`,
      );
    }
    assign(layer, key as keyof Layer, String(value), `${path}: ${key}`);
  }
  // Certificate paths in the file are relative to the file, not to where the command runs.
  for (const key of ['cafile', 'cert', 'key'] as const) {
    if (layer[key] !== undefined) layer[key] = resolve(dirname(path), layer[key]);
  }
  return layer;
}

/** Sets `key` from its text form, checked. */
function assign(layer: Layer, key: keyof Layer, raw: string, where: string): void {
  switch (key) {
    case 'url':
      Object.assign(layer, { ...credentialsFromUrl(raw, where), ...withoutUndefined(layer) });
      return;
    case 'protocolVersion':
      layer.protocolVersion = parseVersion(raw, where);
      return;
    case 'keepalive':
      layer.keepalive = parseNumber(raw, where, 0, 65535);
      return;
    case 'connectTimeout':
      layer.connectTimeout = parseNumber(raw, where, 0.1, 86400, false);
      return;
    case 'insecure':
      layer.insecure = /^(1|true|yes|on)$/i.test(raw);
      return;
    default:
      layer[key] = raw;
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates a URL and moves its user:pass into the layer, so each source's credentials keep its precedence. */
function credentialsFromUrl(url: string, where: string): Layer {
  let address: ReturnType<typeof parseBrokerUrl>;
  try {
    address = parseBrokerUrl(url);
  } catch (error) {
    throw new UsageError(`${where}: ${(error as Error).message}`);
  }
  const layer: Layer = { url: formatUrl(address) };
  if (address.username !== undefined && address.username !== '') layer.username = address.username;
  if (address.password !== undefined) layer.password = address.password;
  return layer;
}

/** `-L mqtt://host/topic`: the path is the topic (mosquitto_pub); ws(s) paths are the HTTP path. */
function splitTopic(url: string): { url: string; topic?: string } {
  if (/^wss?:/i.test(url)) return { url };
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)\/(.*)$/i.exec(url);
  if (match === null || match[2] === '') return { url: match?.[1] ?? url };
  return { url: match[1], topic: decodeURIComponent(match[2]) };
}

function formatUrl(address: ReturnType<typeof parseBrokerUrl>): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const path = address.protocol === 'ws' || address.protocol === 'wss' ? (address.path ?? '/') : '';
  return `${address.protocol}://${host}:${address.port}${path}`;
}

export function parseVersion(raw: string, where: string): 4 | 5 {
  const v = raw.toLowerCase().replace(/^mqttv/, '');
  if (v === '311' || v === '3.1.1' || v === '4') return 4;
  if (v === '5' || v === '5.0') return 5;
  throw new UsageError(`${where}: protocol version must be 311 or 5, got "${raw}"`);
}

function setIf<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
