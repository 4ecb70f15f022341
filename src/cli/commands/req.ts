/**
 * `steadfast req`: MQTT 5 request/response, as mosquitto_rr. Publishes the
 * request with a response topic and correlation data, waits for the reply
 * with the same correlation data, prints it and exits.
 */
import { randomBytes } from 'node:crypto';
import { validateTopicFilter, validateTopicName } from '../../codec/topic.ts';
import type { Properties } from '../../codec/types.ts';
import { MqttError } from '../../errors.ts';
import type { Client, Message } from '../../node.ts';
import { flagHelp, numberFlag, parseFlags, qosFlag, stringFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { CONNECTION_FLAGS, resolveConnection } from '../config.ts';
import { EXIT } from '../exit.ts';
import { formatMessage, outputMode, PAYLOAD_FLAGS, publishProperties, readPayload } from '../message-io.ts';
import { closeClient, openClient, RUNTIME_FLAGS, reportConnection, runtimeFrom } from '../session.ts';

const FLAGS = [
  { key: 'topic', names: ['-t', '--topic'], value: true, meta: 'TOPIC', help: 'request topic' },
  {
    key: 'responseTopic',
    names: ['-e', '--response-topic'],
    value: true,
    meta: 'TOPIC',
    help: "response topic (default: under the broker's Response Information, else steadfast/response/<client id>)",
  },
  ...PAYLOAD_FLAGS,
  {
    key: 'wait',
    names: ['-W', '--timeout'],
    value: true,
    meta: 'SECONDS',
    help: 'wait this long for the reply (default 30)',
  },
  { key: 'verbose', names: ['-v', '--verbose'], help: 'print "topic payload"' },
  { key: 'json', names: ['--json'], help: 'print the reply as a JSON object, as sub --json' },
  ...CONNECTION_FLAGS,
  ...RUNTIME_FLAGS,
];

export const command: Command = {
  usage: `steadfast req -t TOPIC -m MESSAGE [options]      (MQTT 5 only)

Publishes a request with a response topic and correlation data and prints the
first reply that carries the same correlation data. Exit 27 ("Timed out") if
none arrives in time. The first connect fails at once if the broker refuses it
or is not there (--retry waits).

${flagHelp(FLAGS)}`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const { settings, urlTopic } = resolveConnection(flags);
    if (settings.protocolVersion !== 5)
      throw new UsageError('req needs MQTT 5 (request/response has no 3.1.1 form)');
    const topic = stringFlag(flags, 'topic') ?? urlTopic;
    if (topic === undefined) throw new UsageError('req needs a request topic: -t TOPIC');
    validateTopicName(topic);
    const responseTopic = stringFlag(flags, 'responseTopic');
    if (responseTopic !== undefined) validateTopicName(responseTopic);
    const payload = readPayload(flags, 'req');
    const qos = qosFlag(flags);
    const properties = publishProperties(flags, 5);
    const timeout = (numberFlag(flags, 'wait', '-W (timeout)', 0.1, 86400, false) ?? 30) * 1000;
    const runtime = runtimeFrom(flags);
    const client = await openClient(settings, runtime);
    reportConnection(client, runtime.debug, settings.url);
    try {
      const reply =
        responseTopic === undefined
          ? await client.request(topic, payload, { qos, properties, timeout })
          : await requestOn(client, topic, responseTopic, payload, qos, properties, timeout);
      process.stdout.write(`${formatMessage(reply, outputMode(flags))}\n`);
    } finally {
      await closeClient(client, settings);
    }
    return EXIT.OK;
  },
};

/** Request/response on a response topic of the user's choice. */
async function requestOn(
  client: Client,
  topic: string,
  responseTopic: string,
  payload: string | Uint8Array,
  qos: 0 | 1 | 2,
  properties: Properties | undefined,
  timeout: number,
): Promise<Message> {
  validateTopicFilter(responseTopic);
  const correlation = randomBytes(16);
  let resolve!: (m: Message) => void;
  const reply = new Promise<Message>((r) => (resolve = r));
  await client.subscribe(responseTopic, {
    qos: 1,
    onMessage: (m) => {
      const data = m.properties.correlationData;
      if (data !== undefined && Buffer.from(data).equals(correlation)) resolve(m);
    },
  });
  await client.publish(topic, payload, {
    qos,
    properties: { ...properties, responseTopic, correlationData: correlation },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MqttError('TIMEOUT', `no response on ${responseTopic} within ${timeout / 1000} s`)),
      timeout,
    );
  });
  try {
    return await Promise.race([reply, expired]);
  } finally {
    clearTimeout(timer);
  }
}
