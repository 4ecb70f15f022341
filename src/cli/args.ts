/**
 * Command-line flags in the shape of mosquitto_pub / mosquitto_sub, parsed
 * into connection settings. Errors are MqttError INVALID_ARGUMENT so the CLI
 * can print them without a stack trace.
 */

import type { QoS } from '../codec/types.ts';
import { localError } from '../errors.ts';

export interface CliArgs {
  command: string;
  url: string;
  topics: string[];
  message: string | undefined;
  qos: QoS;
  retain: boolean;
  clientId: string | undefined;
  username: string | undefined;
  password: string | undefined;
  protocolVersion: 4 | 5;
  verbose: boolean;
  json: boolean;
  count: number | undefined;
  cafile: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  insecure: boolean;
  userProperties: Record<string, string | string[]>;
  timeout: number;
}

const VALUE_FLAGS = new Set(['-h', '-p', '-t', '-m', '-q', '-i', '-u', '-P', '-V', '-L', '-C', '-D', '-W']);
const LONG_VALUE_FLAGS = new Set(['--cafile', '--cert', '--key', '--url', '--timeout']);

export function parseArgs(argv: string[]): CliArgs {
  const [command = 'help', ...rest] = argv;
  const args: CliArgs = {
    command,
    url: '',
    topics: [],
    message: undefined,
    qos: 0,
    retain: false,
    clientId: undefined,
    username: undefined,
    password: undefined,
    protocolVersion: 5,
    verbose: false,
    json: false,
    count: undefined,
    cafile: undefined,
    cert: undefined,
    key: undefined,
    insecure: false,
    userProperties: {},
    timeout: 10,
  };
  let host = '127.0.0.1';
  let port: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const takesValue = VALUE_FLAGS.has(flag) || LONG_VALUE_FLAGS.has(flag);
    const value = takesValue ? rest[++i] : undefined;
    if (takesValue && value === undefined) throw localError('INVALID_ARGUMENT', `${flag} needs a value`);
    switch (flag) {
      case '-h':
        host = value!;
        break;
      case '-p':
        port = Number(value);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw localError('INVALID_ARGUMENT', `bad port: ${value}`);
        break;
      case '-t':
        args.topics.push(value!);
        break;
      case '-m':
        args.message = value;
        break;
      case '-q': {
        const q = Number(value);
        if (q !== 0 && q !== 1 && q !== 2)
          throw localError('INVALID_ARGUMENT', `-q must be 0, 1 or 2, got ${value}`);
        args.qos = q;
        break;
      }
      case '-r':
        args.retain = true;
        break;
      case '-i':
        args.clientId = value;
        break;
      case '-u':
        args.username = value;
        break;
      case '-P':
        args.password = value;
        break;
      case '-V':
        if (value === '311' || value === 'mqttv311' || value === '4') args.protocolVersion = 4;
        else if (value === '5' || value === 'mqttv5') args.protocolVersion = 5;
        else throw localError('INVALID_ARGUMENT', `-V must be 311 or 5, got ${value}`);
        break;
      case '-L':
      case '--url':
        args.url = value!;
        break;
      case '-C':
        args.count = Number(value);
        if (!Number.isInteger(args.count) || args.count < 1)
          throw localError('INVALID_ARGUMENT', `-C needs a count`);
        break;
      case '-D': {
        // mosquitto_pub's form is "-D publish user-property name value"; "-D name=value" is accepted too.
        const eq = value!.indexOf('=');
        if (eq <= 0) throw localError('INVALID_ARGUMENT', `-D takes name=value, got ${value}`);
        const name = value!.slice(0, eq);
        const v = value!.slice(eq + 1);
        const existing = args.userProperties[name];
        args.userProperties[name] =
          existing === undefined ? v : [...(Array.isArray(existing) ? existing : [existing]), v];
        break;
      }
      case '-W':
      case '--timeout':
        args.timeout = Number(value);
        if (!(args.timeout > 0))
          throw localError('INVALID_ARGUMENT', `timeout must be a positive number of seconds`);
        break;
      case '-v':
        args.verbose = true;
        break;
      case '--json':
        args.json = true;
        break;
      case '--cafile':
        args.cafile = value;
        break;
      case '--cert':
        args.cert = value;
        break;
      case '--key':
        args.key = value;
        break;
      case '-k':
      case '--insecure':
        args.insecure = true;
        break;
      default:
        throw localError('INVALID_ARGUMENT', `unknown option ${flag} (see steadfast help)`);
    }
  }
  if (args.url === '') {
    const secure = args.cafile !== undefined || args.cert !== undefined;
    args.url = `${secure ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${port ?? (secure ? 8883 : 1883)}`;
  } else {
    // -L mqtt://host:port/topic carries the topic in the path, as mosquitto_pub does.
    const match = /^([a-z]+:\/\/[^/]+)\/(.+)$/i.exec(args.url);
    if (match && !/^wss?:/i.test(args.url)) {
      args.url = match[1];
      args.topics.push(decodeURIComponent(match[2]));
    }
  }
  return args;
}
