// The fault proxy as a child process, so it can run inside the broker
// namespace: `ip netns exec NS node --import tsx test/fault/proxy-main.ts
// --target-port 1883 [--target-host 127.0.0.1] [--listen-port 1884]
// [--listen-host 0.0.0.0]`. Commands on stdin (see proxy-process.ts for the
// parent side), one JSON object per line:
//   {"cmd":"delay","ms":100,"jitter":50}     {"cmd":"stall","ms":6000}
//   {"cmd":"cut","reset":false}
//   {"cmd":"cutAfter","type":"PUBREC","direction":"toClient","when":"after","skip":0}
//   {"cmd":"trace","on":true}                {"cmd":"refuse","on":true}
//   {"cmd":"close"}
// Events on stdout: {"ev":"ready","port":1884} then the ProxyEvents of proxy.ts.
import { type Command, emit, parseFlags, serveCommands } from './jsonl.ts';
import type { PacketTypeName } from './mqtt-frames.ts';
import { FaultProxy, type ProxyDirection } from './proxy.ts';

const flags = parseFlags(process.argv.slice(2));
const targetPort = Number(flags.get('target-port'));
if (!Number.isInteger(targetPort)) {
  process.stderr.write('proxy-main: --target-port is required\n');
  process.exit(2);
}
const proxy = await FaultProxy.start({
  targetPort,
  targetHost: flags.get('target-host') ?? '127.0.0.1',
  listenHost: flags.get('listen-host') ?? '0.0.0.0',
  listenPort: Number(flags.get('listen-port') ?? 0),
});
proxy.onEvent(emit);

async function handle(command: Command): Promise<void> {
  switch (command.cmd) {
    case 'delay':
      return proxy.delay(Number(command.ms ?? 0), Number(command.jitter ?? 0));
    case 'stall':
      return proxy.stall(Number(command.ms));
    case 'cut':
      return proxy.cut({ reset: command.reset === true });
    case 'cutAfter':
      return proxy.cutAfter({
        type: command.type as PacketTypeName,
        direction: command.direction as ProxyDirection,
        when: command.when === 'before' ? 'before' : 'after',
        skip: Number(command.skip ?? 0),
      });
    case 'trace':
      return proxy.trace(command.on !== false);
    case 'refuse':
      return proxy.refuse(command.on !== false);
    case 'close':
      await proxy.close();
      setImmediate(() => process.exit(0)); // after the reply is written
      return;
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

serveCommands(handle, () => process.exit(0));
emit({ ev: 'ready', port: proxy.port });
