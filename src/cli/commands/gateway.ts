/**
 * `steadfast gateway`: owns one radio or several (`steadfast sim` media, UART
 * radio modems: each flag may repeat) and relays every node it hears to the broker, one broker
 * connection per node. Runs until SIGINT or SIGTERM; then it tells its nodes
 * (RESET) and drops their broker connections, so each node's Client sees
 * the outage at once and resumes when a gateway is back.
 */
import { formatStatus, type Gateway, type GatewayLogLevel, startGateway } from '../../gateway/index.ts';
import { type GatewayKeys, readKeysFile } from '../../gateway/keys-file.ts';
import { linkForUrl, type UrlLinkOptions } from '../../links/node.ts';
import { parseBrokerUrl } from '../../links/url.ts';
import { connectMedium } from '../../radio/medium-socket.ts';
import type { Radio } from '../../radio/types.ts';
import {
  type FlagSpec,
  flagHelp,
  numberFlag,
  type ParsedFlags,
  parseFlags,
  stringFlag,
  switchFlag,
  UsageError,
} from '../args.ts';
import type { Command } from '../commands.ts';
import { CONNECTION_FLAGS, type ConnectionSettings, clientOptions, resolveConnection } from '../config.ts';
import { CliFailure, EXIT } from '../exit.ts';
import { runSnGateway, SN_FLAGS, type SnFromFlags, snRequested, startSnFromFlags } from './gateway-sn.ts';

/** The connection flags that concern the broker side; the nodes' CONNECT carries the rest. */
const BROKER_KEYS = new Set([
  'url',
  'host',
  'port',
  'cafile',
  'cert',
  'key',
  'insecure',
  'connectTimeout',
  'config',
]);

const BROKER_FLAGS: FlagSpec[] = CONNECTION_FLAGS.filter((spec) => BROKER_KEYS.has(spec.key)).map((spec) =>
  spec.key === 'url'
    ? { ...spec, names: ['-b', '--broker', ...spec.names], help: 'broker: mqtt://host[:port] or mqtts://…' }
    : spec,
);

const FLAGS: FlagSpec[] = [
  {
    key: 'sim',
    names: ['--sim'],
    value: true,
    repeatable: true,
    meta: 'PATH',
    help: 'radio: the simulated medium served by "steadfast sim" at PATH (repeat for several radios)',
  },
  {
    key: 'name',
    names: ['--name'],
    value: true,
    meta: 'NAME',
    help: 'sim: radio name on the medium (default gateway)',
  },
  {
    key: 'position',
    names: ['--position'],
    value: true,
    meta: 'X,Y',
    help: 'sim: the radio position on the medium, in metres (default 0,0)',
  },
  {
    key: 'uart',
    names: ['--uart'],
    value: true,
    repeatable: true,
    meta: 'DEVICE',
    help: 'radio: a UART radio modem, e.g. /dev/ttyUSB0 (repeat for several; the uart options apply to each)',
  },
  { key: 'baud', names: ['--baud'], value: true, meta: 'BIT/S', help: 'uart: UART speed (default 9600)' },
  {
    key: 'packetSize',
    names: ['--packet-size'],
    value: true,
    meta: 'BYTES',
    help: 'uart: modem air packet size (default 58, EBYTE E32)',
  },
  {
    key: 'airRate',
    names: ['--air-rate'],
    value: true,
    meta: 'BIT/S',
    help: 'uart: modem air rate (default 2400)',
  },
  { key: 'rssiByte', names: ['--rssi-byte'], help: 'uart: the modem appends an RSSI byte to each packet' },
  {
    key: 'address',
    names: ['--address'],
    value: true,
    meta: '0-254',
    help: 'gateway address on the radio (default 0)',
  },
  {
    key: 'statusInterval',
    names: ['--status-interval'],
    value: true,
    meta: 'SECONDS',
    help: 'print the status table this often (default: only on SIGUSR1)',
  },
  {
    key: 'advertiseInterval',
    names: ['--advertise-interval'],
    value: true,
    meta: 'SECONDS',
    help: 'advertise the gateway to roaming nodes this often, 0 for never (default 10 heartbeats of each radio)',
  },
  { key: 'verbose', names: ['-v', '--verbose'], help: 'log every frame in and out' },
  {
    key: 'keys',
    names: ['--keys'],
    value: true,
    meta: 'FILE',
    help: 'the nodes: "address key client-ids" per line (steadfast keygen); required unless --insecure-radio',
  },
  {
    key: 'insecureRadio',
    names: ['--insecure-radio'],
    help: 'unsecured radio frames: anyone can speak for any node (a warning is logged)',
  },
  ...BROKER_FLAGS,
  ...SN_FLAGS,
];

/** `X,Y` in metres. */
function positionFlag(flags: ParsedFlags): { x: number; y: number } | undefined {
  const text = stringFlag(flags, 'position');
  if (text === undefined) return undefined;
  const match = /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(text);
  if (match === null) throw new UsageError(`--position must be X,Y in metres, got "${text}"`);
  return { x: Number(match[1]), y: Number(match[2]) };
}

/** Attaches to the simulated medium at `path`. */
async function openSim(path: string, flags: ParsedFlags): Promise<Radio> {
  try {
    const position = positionFlag(flags);
    return await connectMedium(path, {
      name: stringFlag(flags, 'name') ?? 'gateway',
      ...(position === undefined ? {} : { position }),
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const message = (error as Error).message;
    const missing = /ENOENT|ECONNREFUSED/.test(message);
    throw new CliFailure(
      missing
        ? `no simulated medium at ${path} (start one with: steadfast sim --socket ${path})`
        : `cannot attach to the simulated medium at ${path}: ${message}`,
      missing ? EXIT.UNREACHABLE : EXIT.FAILED,
    );
  }
}

/** Opens the radios the flags name: at least one --sim or --uart, each may repeat. */
async function openRadios(flags: ParsedFlags): Promise<Radio[]> {
  const sims = flags.lists.get('sim') ?? [];
  const uarts = flags.lists.get('uart') ?? [];
  if (sims.length + uarts.length === 0)
    throw new UsageError('gateway needs a radio: --sim PATH or --uart DEVICE (each may repeat)');
  const uartOnly = ['baud', 'packetSize', 'airRate', 'rssiByte'];
  const stray = uarts.length === 0 ? uartOnly.find((key) => flags.values.has(key)) : undefined;
  if (stray !== undefined)
    throw new UsageError(`${FLAGS.find((f) => f.key === stray)?.names[0]} is for --uart, not --sim`);
  const simOnly = ['name', 'position'].find((key) => flags.values.has(key));
  if (sims.length === 0 && simOnly !== undefined)
    throw new UsageError(`${FLAGS.find((f) => f.key === simOnly)?.names[0]} is for --sim, not --uart`);
  const radios: Radio[] = [];
  try {
    for (const path of sims) radios.push(await openSim(path, flags));
    if (uarts.length > 0) {
      const { UartModem } = await import('../../radio/uart-modem.ts');
      // The ports themselves are opened by the gateway: a wrong device is reported then, before anything runs.
      for (const path of uarts)
        radios.push(
          new UartModem({
            path,
            baudRate: numberFlag(flags, 'baud', '--baud', 50, 4_000_000),
            packetSize: numberFlag(flags, 'packetSize', '--packet-size', 16, 1024),
            airRate: numberFlag(flags, 'airRate', '--air-rate', 1),
            rssiByte: switchFlag(flags, 'rssiByte'),
          }),
        );
    }
  } catch (error) {
    await Promise.all(radios.map((radio) => radio.close().catch(() => {})));
    throw error;
  }
  return radios;
}

/** TLS material and timeouts for the broker connections, from the CLI's connection settings. */
function brokerOptions(settings: ConnectionSettings): UrlLinkOptions {
  const client = clientOptions(settings);
  const options: UrlLinkOptions = { connectTimeout: settings.connectTimeout * 1000 };
  if (client.ca !== undefined) options.ca = client.ca;
  if (client.cert !== undefined) options.cert = client.cert;
  if (client.key !== undefined) options.key = client.key;
  if (client.rejectUnauthorized !== undefined) options.rejectUnauthorized = client.rejectUnauthorized;
  return options;
}

/** Tries the broker once, so an operator hears at start that it is down (the gateway runs anyway). */
async function probeBroker(url: string, options: UrlLinkOptions): Promise<string | undefined> {
  try {
    const connection = await linkForUrl(url, options).open({ data: () => {}, close: () => {} });
    connection.close();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function timestamped(level: GatewayLogLevel): (line: string) => void {
  return (line) => (level === 'warn' ? console.error : console.log)(`${new Date().toISOString()} ${line}`);
}

export const command: Command = {
  usage: `steadfast gateway (--sim PATH | --uart DEVICE)... --broker URL [options]
       steadfast gateway --mqttsn-udp PORT [--mqttsn-conf FILE] --broker URL   (MQTT-SN 1.2 devices, docs/mqtt-sn.md)
       steadfast gateway --sim PATH... --mqttsn-udp PORT --broker URL         (both in one process)

Owns one radio or several (repeat --sim and --uart: an nRF24 medium and a
LoRa modem, say; a node may use any of them) and relays every node it hears to the broker, one broker
connection per node, bytes unchanged (the node's MQTT session lives in the
broker). Logs each node's opens, broker events and stream ends (-v: every
frame, with sequence numbers and RSSI). SIGUSR1 prints the status table (per
node: state, RSSI, round trip, frames, retransmissions, bytes up and down).
SIGINT or SIGTERM resets every node's stream (they see the outage at once)
and exits 0.

Exit codes: 2 bad usage (a bad URL, a missing radio option), 3 the radio
(medium socket, serial device) cannot be reached, 1 the radio stopped while
running (the medium went away, the device was unplugged).

${flagHelp(FLAGS)}

Examples:
  steadfast gateway --sim /tmp/air.sock --keys nodes.keys --broker mqtt://127.0.0.1:1883 -v
  steadfast gateway --sim /tmp/nrf24.sock --sim /tmp/lora.sock --keys nodes.keys --broker mqtt://127.0.0.1:1883
  steadfast gateway --uart /dev/ttyUSB0 --baud 9600 --air-rate 2400 --broker mqtts://broker:8883 --cafile ca.pem
  steadfast gateway --mqttsn-udp 10000 --mqttsn-topics predefinedTopic.conf --broker mqtt://127.0.0.1:1883
  steadfast gateway --sim /tmp/air.sock --keys nodes.keys --mqttsn-udp 10000 --broker mqtt://127.0.0.1:1883`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const brokerFlag = stringFlag(flags, 'url');
    if (brokerFlag !== undefined) {
      // Checked here so that the message names the flag the user typed.
      try {
        parseBrokerUrl(brokerFlag);
      } catch (error) {
        throw new UsageError(`--broker: ${(error as Error).message}`);
      }
    }
    const { settings, urlTopic } = resolveConnection(flags);
    if (urlTopic !== undefined) throw new UsageError(`the broker URL takes no topic, got "/${urlTopic}"`);
    if (!/^mqtts?:/.test(settings.url))
      throw new UsageError(`--broker must be mqtt:// or mqtts://, got ${settings.url}`);
    // MQTT-SN devices over UDP (gateway-sn.ts): alone, or beside the radios in this process.
    const snBroker = brokerFlag === undefined ? undefined : settings.url;
    const radioRequested = (flags.lists.get('sim') ?? []).length + (flags.lists.get('uart') ?? []).length > 0;
    if (snRequested(flags) && !radioRequested) return runSnGateway(flags, snBroker, settings.url);
    const address = numberFlag(flags, 'address', '--address', 0, 254) ?? 0;
    const statusInterval = numberFlag(flags, 'statusInterval', '--status-interval', 0.1, 86_400, false);
    const advertiseInterval = numberFlag(
      flags,
      'advertiseInterval',
      '--advertise-interval',
      0,
      86_400,
      false,
    );
    const verbose = switchFlag(flags, 'verbose');
    const linkOptions = brokerOptions(settings);
    const keysPath = stringFlag(flags, 'keys');
    const insecureRadio = switchFlag(flags, 'insecureRadio');
    if ((keysPath === undefined) === !insecureRadio)
      throw new UsageError('give --keys FILE (steadfast keygen makes keys) or --insecure-radio');
    let keys: GatewayKeys | undefined;
    if (keysPath !== undefined) {
      try {
        keys = readKeysFile(keysPath);
      } catch (error) {
        throw new UsageError(`--keys: ${(error as Error).message}`);
      }
    }
    const radios = await openRadios(flags);

    const print = { info: timestamped('info'), warn: timestamped('warn') };
    let radioStopped: Error | undefined;
    let stop!: (why: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    let gateway: Gateway;
    try {
      gateway = await startGateway({
        radio: radios,
        address,
        ...(advertiseInterval === undefined ? {} : { advertiseIntervalMs: advertiseInterval * 1000 }),
        broker: settings.url,
        brokerOptions: linkOptions,
        ...(keys === undefined ? { insecure: true } : { keys }),
        logger: (entry) => {
          if (entry.level === 'debug' && !verbose) return;
          const who = entry.node === undefined ? 'gateway' : `node ${entry.node}`;
          (entry.level === 'warn' ? print.warn : print.info)(`${who}: ${entry.message}`);
        },
        onRadioClosed: (error) => {
          radioStopped = error ?? new Error('the radio stopped');
          stop('radio stopped');
        },
      });
    } catch (error) {
      await Promise.all(radios.map((radio) => radio.close().catch(() => {})));
      throw new CliFailure(`cannot open the radio: ${(error as Error).message}`, EXIT.UNREACHABLE);
    }
    let sn: SnFromFlags | undefined;
    try {
      if (snRequested(flags)) sn = await startSnFromFlags(flags, snBroker, settings.url);
    } catch (error) {
      await gateway.close();
      throw error;
    }
    const unreachable = await probeBroker(settings.url, linkOptions);
    if (unreachable !== undefined)
      print.warn(
        `gateway: broker ${settings.url} unreachable for now (${unreachable}); nodes are refused until it is back`,
      );

    const printStatus = () => {
      console.log(formatStatus(gateway.status()));
      sn?.status();
    };
    const timer = statusInterval === undefined ? undefined : setInterval(printStatus, statusInterval * 1000);
    process.on('SIGUSR1', printStatus);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const why = await stopped;
      print.info(`gateway: ${why}: stopping`);
      printStatus();
    } finally {
      clearInterval(timer);
      process.off('SIGUSR1', printStatus);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await Promise.all([gateway.close(), sn?.close()]);
    }
    if (radioStopped !== undefined)
      throw new CliFailure(`the radio stopped: ${radioStopped.message}`, EXIT.FAILED);
    return EXIT.OK;
  },
};
