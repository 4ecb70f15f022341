/** `steadfast pub`: publish one message, as mosquitto_pub. */
import { validateTopicName } from '../../codec/topic.ts';
import { flagHelp, parseFlags, qosFlag, switchFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { CONNECTION_FLAGS, resolveConnection } from '../config.ts';
import { EXIT } from '../exit.ts';
import { PAYLOAD_FLAGS, publishProperties, readPayload } from '../message-io.ts';
import { closeClient, openClient } from '../session.ts';

const FLAGS = [
  { key: 'topic', names: ['-t', '--topic'], value: true, meta: 'TOPIC', help: 'topic to publish to' },
  ...PAYLOAD_FLAGS,
  { key: 'retain', names: ['-r', '--retain'], help: 'retain the message' },
  ...CONNECTION_FLAGS,
];

export const command: Command = {
  usage: `steadfast pub -t TOPIC -m MESSAGE [options]

Publishes one message and exits when its QoS flow is complete (QoS 1: PUBACK,
QoS 2: PUBCOMP), riding out outages until then.

${flagHelp(FLAGS)}`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const { settings, urlTopic } = resolveConnection(flags);
    const topic = (flags.values.get('topic') as string | undefined) ?? urlTopic;
    if (topic === undefined) throw new UsageError('pub needs a topic: -t TOPIC (or -L mqtt://host/TOPIC)');
    validateTopicName(topic);
    const payload = readPayload(flags, 'pub');
    const qos = qosFlag(flags);
    const properties = publishProperties(flags, settings.protocolVersion);
    const client = await openClient(settings);
    try {
      await client.publish(topic, payload, { qos, retain: switchFlag(flags, 'retain'), properties });
    } finally {
      await closeClient(client, settings);
    }
    return EXIT.OK;
  },
};
