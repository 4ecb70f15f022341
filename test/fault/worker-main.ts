// A client process for fault tests and soaks, driven over stdin/stdout with
// the protocol of worker-protocol.ts, so it can run inside a network
// namespace (or be kill -9'd) while the test process stays outside:
//   ip netns exec NS node --import tsx test/fault/worker-main.ts \
//     --url mqtt://10.1.2.1:1883 --client-id device --version 4 --keepalive 2 \
//     [--lib steadfast|mqttjs] [--response-timeout MS] [--reconnect-period MS]
//     [--reconnect-period-max MS] [--connect-timeout MS] [--clean]
//     [--store FILE] [--options '{"quietPeriod":500}']
// Restarted with the same arguments, it resumes the same session.
import { type Command, emit, parseFlags, serveCommands } from './jsonl.ts';
import {
  parseWorkerArgs,
  payloadFor,
  seqOf,
  type WorkerClient,
  type WorkerCommand,
  type WorkerConfig,
  type WorkerEvent,
} from './worker-protocol.ts';

function report(event: WorkerEvent): void {
  emit(event);
}

async function makeClient(config: WorkerConfig): Promise<WorkerClient> {
  if (config.lib === 'mqttjs') return (await import('./worker-mqttjs.ts')).mqttjsClient(config);
  return (await import('./worker-steadfast.ts')).steadfastClient(config);
}

let config: WorkerConfig;
let client: WorkerClient;
try {
  config = parseWorkerArgs(parseFlags(process.argv.slice(2)));
  client = await makeClient(config);
} catch (error) {
  process.stderr.write(`worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}

/** Fires `count` publishes `interval` ms apart without awaiting any, reporting each one's outcome. */
function publishSeries(command: WorkerCommand & { cmd: 'publish' }): void {
  const { topic, qos, count } = command;
  const from = command.from ?? 0;
  const interval = command.interval ?? 0;
  let settled = 0;
  let acked = 0;
  const settle = (ok: boolean) => {
    if (ok) acked++;
    if (++settled === count) report({ ev: 'pubdone', t: Date.now(), topic, acked, failed: count - acked });
  };
  const start = Date.now();
  const fire = (i: number) => {
    const seq = from + i;
    const done = client.publish(topic, payloadFor(seq, command.size), qos);
    report({ ev: 'pub', t: Date.now(), topic, seq, qos });
    done.then(
      () => {
        report({ ev: 'acked', t: Date.now(), topic, seq, qos });
        settle(true);
      },
      (error: unknown) => {
        report({ ev: 'failed', t: Date.now(), topic, seq, qos, error: String(error) });
        settle(false);
      },
    );
    // Scheduled against the start time, so a slow turn does not stretch the series.
    if (i + 1 < count) setTimeout(() => fire(i + 1), Math.max(0, start + (i + 1) * interval - Date.now()));
  };
  if (count > 0) fire(0);
}

async function handle(raw: Command): Promise<void> {
  const command = raw as unknown as WorkerCommand;
  switch (command.cmd) {
    case 'subscribe': {
      const granted = await client.subscribe(command.filter, command.qos);
      report({ ev: 'subscribed', t: Date.now(), filter: command.filter, granted });
      return;
    }
    case 'publish':
      return publishSeries(command);
    case 'end':
      await client.end();
      report({ ev: 'ended', t: Date.now() });
      setImmediate(() => process.exit(0)); // after the reply, if one was asked for
      return;
    default: {
      const never: never = command;
      throw new Error(`unknown command ${(never as Command).cmd}`);
    }
  }
}

client.start({
  up: (sessionPresent) => report({ ev: 'up', t: Date.now(), sessionPresent }),
  down: (cause, wasUp) => report({ ev: 'down', t: Date.now(), cause, wasUp }),
  message: (topic, payload, qos, dup) =>
    report({ ev: 'recv', t: Date.now(), topic, seq: seqOf(payload), qos, dup }),
});
// stdin closing means the parent is gone: nobody is listening any more.
serveCommands(handle, () => process.exit(0));
report({ ev: 'ready', t: Date.now(), lib: config.lib ?? 'steadfast', clientId: config.clientId });
