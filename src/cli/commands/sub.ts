/**
 * `steadfast sub`: subscribe and print messages, as mosquitto_sub. It is the
 * resilient client: once connected it keeps running through outages, keeps
 * its session, and says so on stderr (`down: …` / `up …`).
 */
import { topicMatches, validateTopicFilter } from '../../codec/topic.ts';
import type { Message } from '../../node.ts';
import { flagHelp, numberFlag, parseFlags, qosFlag, stringFlag, switchFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { CONNECTION_FLAGS, resolveConnection } from '../config.ts';
import { CliFailure, EXIT } from '../exit.ts';
import { formatMessage, formatWith, outputMode } from '../message-io.ts';
import { closeClient, openClient, RUNTIME_FLAGS, reportConnection, runtimeFrom } from '../session.ts';

const FLAGS = [
  {
    key: 'topic',
    names: ['-t', '--topic'],
    value: true,
    repeatable: true,
    meta: 'FILTER',
    help: 'topic filter (repeatable)',
  },
  {
    key: 'filterOut',
    names: ['-T', '--filter-out'],
    value: true,
    repeatable: true,
    meta: 'FILTER',
    help: 'do not print messages whose topic matches this filter (repeatable)',
  },
  {
    key: 'unsubscribe',
    names: ['-U', '--unsubscribe'],
    value: true,
    repeatable: true,
    meta: 'FILTER',
    help: 'unsubscribe from this filter first (a kept session), repeatable',
  },
  { key: 'qos', names: ['-q', '--qos'], value: true, meta: '0|1|2', help: 'maximum QoS (default 0)' },
  { key: 'count', names: ['-C', '--count'], value: true, meta: 'N', help: 'exit after N messages' },
  {
    key: 'wait',
    names: ['-W', '--timeout'],
    value: true,
    meta: 'SECONDS',
    help: 'exit after this long (exit 27, "Timed out")',
  },
  { key: 'exitAfterSubscribe', names: ['-E'], help: 'exit once subscribed (to set up a kept session)' },
  { key: 'verbose', names: ['-v', '--verbose'], help: 'print "topic payload"' },
  { key: 'json', names: ['--json'], help: 'one JSON object per message, with every property' },
  {
    key: 'format',
    names: ['-F', '--format'],
    value: true,
    meta: 'FORMAT',
    help: 'print each message as FORMAT (%t topic, %p payload, %q, %r, %l, %x, %I, %U, \\n)',
  },
  { key: 'noEol', names: ['-N'], help: 'no newline after each message' },
  { key: 'noRetained', names: ['-R', '--no-retained'], help: 'do not print retained messages' },
  {
    key: 'keepSession',
    names: ['-c', '--disable-clean-session'],
    help: 'keep the session after exit (needs -i)',
  },
  ...CONNECTION_FLAGS,
  ...RUNTIME_FLAGS,
];

export const command: Command = {
  usage: `steadfast sub -t FILTER [-t FILTER …] [options]

Prints each message: the payload (text, or base64 when it is not UTF-8),
"topic payload" with -v, one JSON object per line with --json:
  {"topic","payload","encoding":"utf8"|"base64","qos","retain","dup","properties":{…}}
or as -F FORMAT says (as mosquitto_sub: %t topic, %p payload, %q QoS, %r retain
flag, %l payload length, %x payload in hex, %I ISO 8601 time, %U Unix time,
%% a percent sign; \\n newline, \\t tab).
The first connect fails at once if the broker refuses it or is not there
(--retry waits, saying what it waits for). Once connected it keeps running
through outages, printing "down: CAUSE", what it is waiting for, and "up" to
stderr; the session is kept while it runs, so QoS 1 and 2 messages sent
meanwhile arrive. Exit 0 after -C messages or -E, 27 when -W runs out, 130 on
Ctrl-C.

${flagHelp(FLAGS)}`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const { settings, urlTopic } = resolveConnection(flags);
    const filters = [...(flags.lists.get('topic') ?? []), ...(urlTopic === undefined ? [] : [urlTopic])];
    const exitAfterSubscribe = switchFlag(flags, 'exitAfterSubscribe');
    const unsubscribe = flags.lists.get('unsubscribe') ?? [];
    if (filters.length === 0 && unsubscribe.length === 0)
      throw new UsageError('sub needs at least one -t FILTER (or -U FILTER)');
    const filterOut = flags.lists.get('filterOut') ?? [];
    for (const filter of [...filters, ...filterOut, ...unsubscribe]) validateTopicFilter(filter);
    const qos = qosFlag(flags);
    const count = numberFlag(flags, 'count', '-C (count)', 1);
    const wait = numberFlag(flags, 'wait', '-W (timeout)', 0.1, 86400 * 365, false);
    const mode = outputMode(flags);
    const format = stringFlag(flags, 'format');
    const eol = switchFlag(flags, 'noEol') ? '' : '\n';
    const skipRetained = switchFlag(flags, 'noRetained');
    const keepSession = switchFlag(flags, 'keepSession');
    const runtime = runtimeFrom(flags);

    const client = await openClient(settings, runtime, keepSession);
    reportConnection(client, runtime.status, settings.url);
    let seen = 0;
    let finish!: (end: 'done' | 'timeout' | 'interrupted' | 'terminated') => void;
    const finished = new Promise<'done' | 'timeout' | 'interrupted' | 'terminated'>(
      (resolve) => (finish = resolve),
    );
    const onMessage = (message: Message) => {
      if (skipRetained && message.retain) return;
      if (filterOut.some((filter) => topicMatches(filter, message.topic))) return;
      if (count !== undefined && seen >= count) return;
      const line = format === undefined ? formatMessage(message, mode) : formatWith(format, message);
      process.stdout.write(`${line}${eol}`);
      if (count !== undefined && ++seen >= count) finish('done');
    };
    const interrupted = () => finish('interrupted');
    const terminated = () => finish('terminated');
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', terminated);
    const timer = wait === undefined ? undefined : setTimeout(() => finish('timeout'), wait * 1000);
    try {
      if (unsubscribe.length > 0) {
        await client.unsubscribe(unsubscribe);
        runtime.debug(`unsubscribed from ${unsubscribe.join(', ')}`);
      }
      if (filters.length > 0) {
        const subscription = await client.subscribe(filters, { qos, onMessage });
        runtime.debug(
          `subscribed to ${filters.join(', ')}: granted ${subscription.granted.map((g) => (g < 0x80 ? `QoS ${g}` : `refused 0x${g.toString(16)}`)).join(', ')}`,
        );
      }
      const end = exitAfterSubscribe ? 'done' : await finished;
      if (end === 'timeout') {
        throw new CliFailure(
          count === undefined ? 'Timed out' : `Timed out with ${seen} of ${count} messages`,
          EXIT.TIMED_OUT,
        );
      }
      if (end === 'interrupted') return EXIT.INTERRUPTED;
      if (end === 'terminated') return EXIT.TERMINATED;
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', terminated);
      await closeClient(client, settings, keepSession);
    }
    return EXIT.OK;
  },
};
