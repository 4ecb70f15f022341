/**
 * Message payloads and properties in (from -m, -f, -n, -s, -D) and messages
 * out (payload, `-v` "topic payload", or `--json`), shared by pub, sub and req.
 */
import { readFileSync } from 'node:fs';
import type { Properties } from '../codec/types.ts';
import type { Message } from '../node.ts';
import { type FlagSpec, type ParsedFlags, parseNumber, stringFlag, switchFlag, UsageError } from './args.ts';

export const PAYLOAD_FLAGS: FlagSpec[] = [
  { key: 'message', names: ['-m', '--message'], value: true, meta: 'TEXT', help: 'the payload' },
  { key: 'file', names: ['-f', '--file'], value: true, meta: 'FILE', help: 'the payload is this file' },
  { key: 'stdin', names: ['-s', '--stdin-file'], help: 'the payload is all of stdin' },
  { key: 'null', names: ['-n', '--null-message'], help: 'an empty payload' },
  { key: 'qos', names: ['-q', '--qos'], value: true, meta: '0|1|2', help: 'QoS (default 0)' },
  {
    key: 'property',
    names: ['-D', '--user-property'],
    value: true,
    repeatable: true,
    meta: 'NAME=VALUE',
    help: 'MQTT 5 user property (repeatable)',
  },
  { key: 'contentType', names: ['--content-type'], value: true, meta: 'TYPE', help: 'MQTT 5 content type' },
  {
    key: 'expiry',
    names: ['--message-expiry'],
    value: true,
    meta: 'SECONDS',
    help: 'MQTT 5 message expiry interval',
  },
];

/** The payload from exactly one of -m, -f, -s, -n. */
export function readPayload(flags: ParsedFlags, command: string): string | Uint8Array {
  const given = ['message', 'file', 'stdin', 'null'].filter((k) => flags.values.has(k));
  if (given.length === 0)
    throw new UsageError(`${command} needs a payload: -m TEXT, -f FILE, -s (stdin) or -n (empty)`);
  if (given.length > 1) throw new UsageError('give only one of -m, -f, -s, -n');
  const message = stringFlag(flags, 'message');
  if (message !== undefined) return message;
  const file = stringFlag(flags, 'file');
  if (file !== undefined) {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new UsageError(`cannot read -f file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  if (switchFlag(flags, 'stdin')) return readFileSync(0);
  return new Uint8Array(0);
}

/** PUBLISH properties from -D, --content-type, --message-expiry; undefined when none. */
export function publishProperties(flags: ParsedFlags, version: 4 | 5): Properties | undefined {
  const properties: Properties = {};
  const userProperties: Record<string, string | string[]> = {};
  for (const item of flags.lists.get('property') ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`-D takes NAME=VALUE, got "${item}"`);
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    const existing = userProperties[name];
    userProperties[name] = existing === undefined ? value : [...[existing].flat(), value];
  }
  if (Object.keys(userProperties).length > 0) properties.userProperties = userProperties;
  const contentType = stringFlag(flags, 'contentType');
  if (contentType !== undefined) properties.contentType = contentType;
  const expiry = stringFlag(flags, 'expiry');
  if (expiry !== undefined)
    properties.messageExpiryInterval = parseNumber(expiry, '--message-expiry', 1, 0xffff_ffff);
  if (Object.keys(properties).length === 0) return undefined;
  if (version !== 5) throw new UsageError('-D, --content-type and --message-expiry need MQTT 5 (-V 5)');
  return properties;
}

export type OutputMode = 'payload' | 'verbose' | 'json';

export function outputMode(flags: ParsedFlags): OutputMode {
  if (switchFlag(flags, 'json')) return 'json';
  return switchFlag(flags, 'verbose') ? 'verbose' : 'payload';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text, or undefined when it is not valid UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** One line for a message. */
export function formatMessage(message: Message, mode: OutputMode): string {
  if (mode === 'json') return JSON.stringify(messageRecord(message));
  const text = utf8(message.payload) ?? Buffer.from(message.payload).toString('base64');
  return mode === 'verbose' ? `${message.topic} ${text}` : text;
}

/**
 * The `--json` form: topic, payload (text when it is valid UTF-8, else base64,
 * said by `encoding`), qos, retain, dup, and every MQTT 5 property under
 * `properties`, binary ones (correlation data) as `{ "base64": "…" }`.
 */
export function messageRecord(message: Message): Record<string, unknown> {
  const text = utf8(message.payload);
  const record: Record<string, unknown> = {
    topic: message.topic,
    payload: text ?? Buffer.from(message.payload).toString('base64'),
    encoding: text === undefined ? 'base64' : 'utf8',
    qos: message.qos,
    retain: message.retain,
    dup: message.dup,
  };
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.properties)) {
    if (value === undefined) continue;
    properties[key] = value instanceof Uint8Array ? { base64: Buffer.from(value).toString('base64') } : value;
  }
  record.properties = properties;
  return record;
}

/**
 * A message through a mosquitto_sub `-F` format: %t topic, %p payload (as
 * received), %q QoS, %r retain flag (0/1), %l payload length, %x payload in
 * hex, %I ISO 8601 time, %U Unix time with nanoseconds as mosquitto prints
 * it, %% a percent sign; \n, \t and \\ escapes.
 */
export function formatWith(format: string, message: Message, now: Date = new Date()): string {
  return format.replace(/%[tpqrlxIU%]|\\[nt\\]/g, (token) => {
    switch (token) {
      case '%t':
        return message.topic;
      case '%p':
        return utf8(message.payload) ?? Buffer.from(message.payload).toString('base64');
      case '%q':
        return String(message.qos);
      case '%r':
        return message.retain ? '1' : '0';
      case '%l':
        return String(message.payload.length);
      case '%x':
        return Buffer.from(message.payload).toString('hex');
      case '%I':
        return now.toISOString();
      case '%U':
        return `${Math.floor(now.getTime() / 1000)}.${String((now.getTime() % 1000) * 1_000_000).padStart(9, '0')}`;
      case '%%':
        return '%';
      case '\\n':
        return '\n';
      case '\\t':
        return '\t';
      default:
        return '\\';
    }
  });
}
