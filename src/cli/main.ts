#!/usr/bin/env node
/**
 * The `steadfast` command: `pub` and `sub` in the shape of mosquitto_pub and
 * mosquitto_sub. Errors print one line and set the exit code; no stack traces.
 *
 * Exit codes: 0 success, 1 MQTT or connection failure, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { MqttError } from '../errors.ts';
import { type Client, connect, type NodeClientOptions } from '../node.ts';
import { type CliArgs, parseArgs } from './args.ts';

const HELP = `steadfast: a resilient MQTT 3.1.1 / 5.0 client

Usage:
  steadfast pub -t TOPIC -m MESSAGE [options]
  steadfast sub -t FILTER [-t FILTER ...] [options]
  steadfast help | version

Options:
  -L URL          broker URL (mqtt://, mqtts://, ws://, wss://); a path is the topic
  -h HOST -p PORT broker host (default 127.0.0.1) and port (default 1883, 8883 with TLS)
  -t TOPIC        topic (pub) or topic filter (sub, repeatable)
  -m MESSAGE      message to publish
  -q 0|1|2        QoS (default 0)
  -r              retain (pub)
  -i ID           client id
  -u USER -P PASS credentials
  -V 311|5        protocol version (default 5)
  -D NAME=VALUE   MQTT 5 user property (repeatable)
  -C COUNT        sub: exit after COUNT messages
  -W SECONDS      give up connecting after SECONDS (default 10)
  -v              sub: print "topic payload"
  --json          sub: one JSON object per message
  --cafile F --cert F --key F   TLS files; -k to skip certificate checks

Exit codes: 0 success, 1 MQTT or connection failure, 2 bad usage.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function open(args: CliArgs): Promise<Client> {
  const options: NodeClientOptions = {
    url: args.url,
    protocolVersion: args.protocolVersion,
    readyTimeout: args.timeout * 1000,
    // A CLI run is short-lived: do not leave a session behind at the broker.
    clean: true,
  };
  if (args.clientId !== undefined) options.clientId = args.clientId;
  if (args.username !== undefined) options.username = args.username;
  if (args.password !== undefined) options.password = args.password;
  if (args.cafile !== undefined) options.ca = readFileSync(args.cafile);
  if (args.cert !== undefined) options.cert = readFileSync(args.cert);
  if (args.key !== undefined) options.key = readFileSync(args.key);
  if (args.insecure) options.rejectUnauthorized = false;
  return connect(options);
}

async function pub(args: CliArgs): Promise<void> {
  if (args.topics.length !== 1) throw new MqttError('INVALID_ARGUMENT', 'pub needs exactly one -t TOPIC');
  if (args.message === undefined) throw new MqttError('INVALID_ARGUMENT', 'pub needs -m MESSAGE');
  const client = await open(args);
  try {
    const properties = Object.keys(args.userProperties).length
      ? { userProperties: args.userProperties }
      : undefined;
    await client.publish(args.topics[0], args.message, { qos: args.qos, retain: args.retain, properties });
  } finally {
    await client.end();
  }
}

async function sub(args: CliArgs): Promise<void> {
  if (args.topics.length === 0) throw new MqttError('INVALID_ARGUMENT', 'sub needs at least one -t FILTER');
  const client = await open(args);
  client.on('down', ({ cause }) => console.error(`down: ${cause.message}`));
  client.on('up', () => console.error('up'));
  const subscription = await client.subscribe(args.topics, { qos: args.qos });
  let seen = 0;
  const stop = () => void client.end();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for await (const m of subscription) {
    if (args.json) {
      const text = m.properties.payloadFormatIndicator ? m.text : undefined;
      const record: Record<string, unknown> = { topic: m.topic, qos: m.qos, retain: m.retain };
      if (text !== undefined) record.payload = text;
      else record.payload_base64 = Buffer.from(m.payload).toString('base64');
      if (Object.keys(m.properties).length) record.properties = jsonProperties(m.properties);
      console.log(JSON.stringify(record));
    } else {
      console.log(args.verbose ? `${m.topic} ${m.text}` : m.text);
    }
    if (args.count !== undefined && ++seen >= args.count) break;
  }
  await client.end();
}

function jsonProperties(properties: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    out[key] = value instanceof Uint8Array ? { base64: Buffer.from(value).toString('base64') } : value;
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`steadfast: ${(error as Error).message}`);
    return 2;
  }
  try {
    switch (args.command) {
      case 'pub':
        await pub(args);
        return 0;
      case 'sub':
        await sub(args);
        return 0;
      case 'version':
      case '--version':
        console.log(version());
        return 0;
      case 'help':
      case '--help':
        console.log(HELP);
        return 0;
      default:
        console.error(`steadfast: unknown command ${args.command}\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof MqttError) {
      console.error(`steadfast: ${error.message}`);
      return error.code === 'INVALID_ARGUMENT' || error.code === 'INVALID_URL' ? 2 : 1;
    }
    console.error(`steadfast: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
