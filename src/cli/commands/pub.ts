/** `steadfast pub`: publish one message, as mosquitto_pub. */
import { validateTopicName } from '../../codec/topic.ts';
import { flagHelp, numberFlag, parseFlags, qosFlag, switchFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { CONNECTION_FLAGS, resolveConnection } from '../config.ts';
import { EXIT } from '../exit.ts';
import { PAYLOAD_FLAGS, publishProperties, readPayload } from '../message-io.ts';
import { closeClient, openClient, RUNTIME_FLAGS, reportConnection, runtimeFrom } from '../session.ts';

const FLAGS = [
  { key: 'topic', names: ['-t', '--topic'], value: true, meta: 'TOPIC', help: 'topic to publish to' },
  ...PAYLOAD_FLAGS,
  { key: 'retain', names: ['-r', '--retain'], help: 'retain the message' },
  {
    key: 'repeat',
    names: ['--repeat'],
    value: true,
    meta: 'N',
    help: 'publish the message N times (default 1)',
  },
  {
    key: 'repeatDelay',
    names: ['--repeat-delay'],
    value: true,
    meta: 'SECONDS',
    help: 'wait this long between repeats (default 0)',
  },
  ...CONNECTION_FLAGS,
  ...RUNTIME_FLAGS,
];

export const command: Command = {
  usage: `steadfast pub -t TOPIC -m MESSAGE [options]

Publishes one message (or --repeat N) and exits when its QoS flow is complete
(QoS 1: PUBACK, QoS 2: PUBCOMP), riding out outages until then. The first
connect fails at once if the broker refuses it or is not there (--retry waits).

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
    const repeat = numberFlag(flags, 'repeat', '--repeat', 1) ?? 1;
    const delay = numberFlag(flags, 'repeatDelay', '--repeat-delay', 0, 86400, false) ?? 0;
    const runtime = runtimeFrom(flags);
    const client = await openClient(settings, runtime);
    reportConnection(client, runtime.debug, settings.url);
    try {
      for (let i = 0; i < repeat; i++) {
        if (i > 0 && delay > 0) await new Promise((r) => setTimeout(r, delay * 1000));
        const result = await client.publish(topic, payload, {
          qos,
          retain: switchFlag(flags, 'retain'),
          properties,
        });
        runtime.debug(
          `published to ${topic} at QoS ${qos}${qos > 0 ? `, acknowledged (reason code 0x${result.reasonCode.toString(16).padStart(2, '0')})` : ''}`,
        );
      }
    } finally {
      await closeClient(client, settings);
    }
    return EXIT.OK;
  },
};
