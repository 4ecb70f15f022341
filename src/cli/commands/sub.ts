/**
 * `steadfast sub`: subscribe and print messages, as mosquitto_sub. It is the
 * resilient client: once connected it keeps running through outages, keeps
 * its session, and says so on stderr (`down: …` / `up …`).
 */
import { validateTopicFilter } from '../../codec/topic.ts';
import type { Message } from '../../node.ts';
import { flagHelp, numberFlag, parseFlags, qosFlag, switchFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { CONNECTION_FLAGS, resolveConnection } from '../config.ts';
import { CliFailure, EXIT } from '../exit.ts';
import { formatMessage, outputMode } from '../message-io.ts';
import { closeClient, openClient } from '../session.ts';

const FLAGS = [
  {
    key: 'topic',
    names: ['-t', '--topic'],
    value: true,
    repeatable: true,
    meta: 'FILTER',
    help: 'topic filter (repeatable)',
  },
  { key: 'qos', names: ['-q', '--qos'], value: true, meta: '0|1|2', help: 'maximum QoS (default 0)' },
  { key: 'count', names: ['-C', '--count'], value: true, meta: 'N', help: 'exit after N messages' },
  { key: 'wait', names: ['-W', '--timeout'], value: true, meta: 'SECONDS', help: 'exit after this long' },
  { key: 'verbose', names: ['-v', '--verbose'], help: 'print "topic payload"' },
  { key: 'json', names: ['--json'], help: 'one JSON object per message, with every property' },
  { key: 'noRetained', names: ['-R', '--no-retained'], help: 'do not print retained messages' },
  {
    key: 'keepSession',
    names: ['-c', '--disable-clean-session'],
    help: 'keep the session after exit (needs -i)',
  },
  ...CONNECTION_FLAGS,
];

export const command: Command = {
  usage: `steadfast sub -t FILTER [-t FILTER …] [options]

Prints each message: the payload (text, or base64 when it is not UTF-8),
"topic payload" with -v, or one JSON object per line with --json:
  {"topic","payload","encoding":"utf8"|"base64","qos","retain","dup","properties":{…}}
Keeps running through outages, printing "down: CAUSE" and "up" to stderr; the
session is kept while it runs, so QoS 1 and 2 messages sent meanwhile arrive.
Ctrl-C ends it (exit 0).

${flagHelp(FLAGS)}`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const { settings, urlTopic } = resolveConnection(flags);
    const filters = [...(flags.lists.get('topic') ?? []), ...(urlTopic === undefined ? [] : [urlTopic])];
    if (filters.length === 0) throw new UsageError('sub needs at least one -t FILTER');
    for (const filter of filters) validateTopicFilter(filter);
    const qos = qosFlag(flags);
    const count = numberFlag(flags, 'count', '-C (count)', 1);
    const wait = numberFlag(flags, 'wait', '-W (timeout)', 0.1, 86400 * 365, false);
    const mode = outputMode(flags);
    const skipRetained = switchFlag(flags, 'noRetained');
    const keepSession = switchFlag(flags, 'keepSession');

    const client = await openClient(settings, keepSession);
    client.on('down', ({ cause }) => console.error(`down: ${cause.message}`));
    client.on('up', ({ sessionPresent, outageMs }) => {
      const after = outageMs === undefined ? '' : ` after ${(outageMs / 1000).toFixed(1)} s`;
      console.error(`up${after}${sessionPresent ? ', session resumed' : ''}`);
    });
    let seen = 0;
    let finish!: (timedOut: boolean) => void;
    const finished = new Promise<boolean>((resolve) => (finish = resolve));
    const onMessage = (message: Message) => {
      if (skipRetained && message.retain) return;
      if (count !== undefined && seen >= count) return;
      process.stdout.write(`${formatMessage(message, mode)}\n`);
      if (count !== undefined && ++seen >= count) finish(false);
    };
    const stop = () => finish(false);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const timer = wait === undefined ? undefined : setTimeout(() => finish(true), wait * 1000);
    try {
      await client.subscribe(filters, { qos, onMessage });
      const timedOut = await finished;
      if (timedOut && count !== undefined) {
        throw new CliFailure(`timed out after ${wait} s with ${seen} of ${count} messages`, EXIT.FAILED);
      }
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await closeClient(client, settings, keepSession);
    }
    return EXIT.OK;
  },
};
