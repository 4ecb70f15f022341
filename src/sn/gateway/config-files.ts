/**
 * The MQTT-SN gateway's configuration files, in the formats the Eclipse Paho MQTT-SN gateway uses,
 * so its users can bring theirs: `gateway.conf` (`Key=Value` lines), the pre-defined topics file
 * (`ClientId,TopicName,TopicId`; `*` or Paho's `COMMON` for every client) and the clients list
 * (`ClientId[,Address][,QoS-1]`). `#` starts a comment in all three. Parsing is strict: anything
 * else is an `MqttError` with code `INVALID_ARGUMENT` and `file:line:` in front of its message.
 * Portable (text in, options out); `loadSnGatewayConfig` in config-load.ts reads the files (Node).
 */
import { MqttError } from '../../errors.ts';
import type { SnGatewayOptions, SnQosMinusOneDevice } from './options.ts';

/** The pre-defined topics of a file: those for every client, and those of single clients. */
export interface SnPredefinedTopics {
  /** `*` (or `COMMON`) lines: id to topic name. */
  common: Map<number, string>;
  /** Lines naming a client id: client id to (id to topic name). */
  perClient: Map<string, Map<number, string>>;
}

/** The clients list: who may CONNECT, and which of them publish at QoS -1 from a known address. */
export interface SnClientList {
  clientIds: Set<string>;
  qosMinusOneDevices: SnQosMinusOneDevice[];
}

/** What `gateway.conf` says, before the files it names are read. */
export interface SnGatewayConf {
  /** Options taken from the file (`broker` only when BrokerName is set). */
  options: Partial<SnGatewayOptions>;
  /** `GatewayPortNo`: the UDP port, when set. */
  udpPort: number | undefined;
  /** `ClientsList` when `ClientAuthentication=YES` or `QoS-1=YES` (as written, not resolved). */
  clientsList: string | undefined;
  /** `ClientAuthentication=YES`: only the listed client ids may CONNECT. */
  clientAuthentication: boolean;
  /** `PredefinedTopicList` when `PredefinedTopic=YES`. */
  predefinedTopicList: string | undefined;
}

/** Client ids are 1 to 23 characters in MQTT-SN 1.2 (CONNECT, section 5.4.4). */
const CLIENT_ID_MAX = 23;
/** Topic ids are 16 bits; 0 and 0xFFFF are reserved (section 5.3.11). */
const TOPIC_ID_MAX = 0xfffe;
/** Keys of the Paho gateway.conf that say nothing this gateway acts on: accepted and ignored. */
const IGNORED_KEYS = new Set([
  'GatewayName',
  'MaxNumberOfClients',
  'MulticastIP',
  'MulticastPortNo',
  'MulticastTTL',
  'ShearedMemory',
  'BrokerSecurePortNo',
]);
/** The numeric keys of gateway.conf that set one option each, and their ranges. */
const NUMERIC_KEYS: Record<string, { option: NumericOption; min: number; max: number }> = {
  GatewayID: { option: 'gatewayId', min: 1, max: 255 },
  // Paho's KeepAlive is the ADVERTISE interval, in seconds.
  KeepAlive: { option: 'advertiseInterval', min: 0, max: 0xffff },
  MaxKeepAlive: { option: 'maxKeepalive', min: 0, max: 0xffff },
  MaxSleep: { option: 'maxSleep', min: 1, max: 0xffff },
  BrokerKeepAlive: { option: 'brokerKeepalive', min: 0, max: 0xffff },
  RetryInterval: { option: 'retryInterval', min: 1, max: 3_600_000 },
  Retries: { option: 'retries', min: 0, max: 100 },
};
type NumericOption =
  | 'gatewayId'
  | 'advertiseInterval'
  | 'maxKeepalive'
  | 'maxSleep'
  | 'brokerKeepalive'
  | 'retryInterval'
  | 'retries';
/** Paho modes this gateway does not have: set to YES they are refused rather than silently ignored. */
const UNSUPPORTED_SWITCHES = new Set(['AggregatingGateway', 'Forwarder']);

/** One meaningful line: its number (1-based) and its text without the comment. */
interface Line {
  n: number;
  text: string;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const t = raw.replace(/#.*/, '').trim();
    if (t !== '') out.push({ n: i + 1, text: t });
  });
  return out;
}

function fail(file: string, line: number, message: string): never {
  throw new MqttError('INVALID_ARGUMENT', `${file}:${line}: ${message}`);
}

function clientId(file: string, line: number, id: string): string {
  if (id.length < 1 || id.length > CLIENT_ID_MAX)
    fail(file, line, `a client id is 1 to ${CLIENT_ID_MAX} characters, got "${id}"`);
  return id;
}

function integer(file: string, line: number, what: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) fail(file, line, `${what} must be a whole number, got "${text}"`);
  const v = Number(text);
  if (v < min || v > max) fail(file, line, `${what} must be ${min} to ${max}, got ${v}`);
  return v;
}

/** `host:port` (IPv6 in brackets), as the UDP front end names devices. */
function address(file: string, line: number, text: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d+)$/.exec(text);
  if (m === null) fail(file, line, `an address is host:port (IPv6 as [addr]:port), got "${text}"`);
  integer(file, line, 'the port', m[2], 1, 0xffff);
  return text;
}

/**
 * Parses a pre-defined topics file: `ClientId,TopicName,TopicId` per line, `*` or `COMMON` as the
 * client id for every client. A topic id or a name given twice for the same client is an error.
 */
export function parsePredefinedTopics(text: string, file = 'predefined topics'): SnPredefinedTopics {
  const result: SnPredefinedTopics = { common: new Map(), perClient: new Map() };
  for (const { n, text: t } of lines(text)) {
    const fields = t.split(',').map((f) => f.trim());
    if (fields.length !== 3) fail(file, n, `expected "ClientId,TopicName,TopicId", got "${t}"`);
    const [who, name, idText] = fields;
    const id = integer(file, n, 'the topic id', idText, 1, TOPIC_ID_MAX);
    if (name === '') fail(file, n, 'the topic name is empty');
    if (/[+#]/.test(name)) fail(file, n, `a pre-defined topic is a name, not a filter: "${name}"`);
    let table: Map<number, string>;
    if (who === '*' || who === 'COMMON') table = result.common;
    else {
      const cid = clientId(file, n, who);
      table = result.perClient.get(cid) ?? new Map();
      result.perClient.set(cid, table);
    }
    if (table.has(id)) fail(file, n, `topic id ${id} is defined twice for ${who}`);
    if ([...table.values()].includes(name)) fail(file, n, `topic "${name}" is defined twice for ${who}`);
    table.set(id, name);
  }
  return result;
}

/**
 * Parses a clients list: `ClientId` (may CONNECT), or `ClientId,Address` (also publishes at QoS -1
 * from that address, with that client id at the broker); a trailing `QoS-1` is accepted as Paho
 * writes it, and needs the address.
 */
export function parseClientList(text: string, file = 'clients list'): SnClientList {
  const result: SnClientList = { clientIds: new Set(), qosMinusOneDevices: [] };
  const addresses = new Set<string>();
  for (const { n, text: t } of lines(text)) {
    const fields = t.split(',').map((f) => f.trim());
    const id = clientId(file, n, fields[0]);
    if (result.clientIds.has(id)) fail(file, n, `client id "${id}" is listed twice`);
    let addr: string | undefined;
    for (const f of fields.slice(1)) {
      if (f === 'QoS-1') {
        if (addr === undefined) fail(file, n, 'QoS-1 needs the address the device sends from');
      } else if (addr === undefined) addr = address(file, n, f);
      else fail(file, n, `unknown field "${f}" (expected ClientId[,Address][,QoS-1])`);
    }
    result.clientIds.add(id);
    if (addr !== undefined) {
      if (addresses.has(addr)) fail(file, n, `address ${addr} is listed twice`);
      addresses.add(addr);
      result.qosMinusOneDevices.push({ address: addr, clientId: id });
    }
  }
  return result;
}

function yesNo(file: string, line: number, key: string, v: string): boolean {
  if (v === 'YES') return true;
  if (v === 'NO') return false;
  return fail(file, line, `${key} is YES or NO, got "${v}"`);
}

/**
 * Parses `gateway.conf` (`Key=Value` per line). Keys: BrokerName, BrokerPortNo, GatewayID,
 * GatewayPortNo, KeepAlive (the ADVERTISE interval, as in Paho), ClientAuthentication, QoS-1,
 * ClientsList, PredefinedTopic, PredefinedTopicList, and this gateway's own MaxKeepAlive,
 * MaxSleep, BrokerKeepAlive, RetryInterval (ms), Retries. Paho keys that change nothing here
 * (GatewayName, MaxNumberOfClients, the multicast settings) are ignored; any other key is an
 * error, and so are AggregatingGateway=YES and Forwarder=YES (modes this gateway lacks).
 */
export function parseSnGatewayConf(text: string, file = 'gateway.conf'): SnGatewayConf {
  const seen = new Map<string, { n: number; v: string }>();
  for (const { n, text: t } of lines(text)) {
    const eq = t.indexOf('=');
    if (eq <= 0) fail(file, n, `expected Key=Value, got "${t}"`);
    const key = t.slice(0, eq).trim();
    // Paho's sample has "MaxNumberOfClients=30;": a trailing semicolon is tolerated.
    const v = t
      .slice(eq + 1)
      .trim()
      .replace(/;$/, '');
    if (seen.has(key)) fail(file, n, `${key} is set twice (first on line ${seen.get(key)?.n})`);
    seen.set(key, { n, v });
  }
  const options: Partial<SnGatewayOptions> = {};
  let host: string | undefined;
  let port = 1883;
  let udpPort: number | undefined;
  let auth = false;
  let qosMinusOne = false;
  let predefined = false;
  for (const [key, { n, v }] of seen) {
    const numeric = NUMERIC_KEYS[key];
    if (numeric !== undefined) {
      options[numeric.option] = integer(file, n, key, v, numeric.min, numeric.max);
      continue;
    }
    switch (key) {
      case 'BrokerName':
        if (!/^[^\s/:]+$/.test(v) && !/^\[[0-9a-fA-F:]+\]$/.test(v))
          fail(file, n, `BrokerName is a host name or address, got "${v}"`);
        host = v;
        break;
      case 'BrokerPortNo':
        port = integer(file, n, key, v, 1, 0xffff);
        break;
      case 'GatewayPortNo':
        udpPort = integer(file, n, key, v, 0, 0xffff);
        break;
      case 'ClientAuthentication':
        auth = yesNo(file, n, key, v);
        break;
      case 'QoS-1':
        qosMinusOne = yesNo(file, n, key, v);
        break;
      case 'PredefinedTopic':
        predefined = yesNo(file, n, key, v);
        break;
      case 'ClientsList':
      case 'PredefinedTopicList':
        if (v === '') fail(file, n, `${key} needs a file name`);
        break;
      default:
        if (UNSUPPORTED_SWITCHES.has(key)) {
          if (yesNo(file, n, key, v)) fail(file, n, `${key}=YES is not supported by this gateway`);
        } else if (!IGNORED_KEYS.has(key)) fail(file, n, `unknown key "${key}"`);
    }
  }
  if (host !== undefined) options.broker = `mqtt://${host}:${port}`;
  const listFor = (flag: boolean, flagKey: string, key: string): string | undefined => {
    const entry = seen.get(key);
    if (flag && entry === undefined) fail(file, seen.get(flagKey)?.n ?? 0, `${flagKey}=YES needs ${key}`);
    return flag ? entry?.v : undefined;
  };
  return {
    options,
    udpPort,
    clientsList:
      listFor(auth, 'ClientAuthentication', 'ClientsList') ?? listFor(qosMinusOne, 'QoS-1', 'ClientsList'),
    clientAuthentication: auth,
    predefinedTopicList: listFor(predefined, 'PredefinedTopic', 'PredefinedTopicList'),
  };
}
