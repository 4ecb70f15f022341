/**
 * The MQTT-SN side of `steadfast gateway`: `--mqttsn-udp PORT` runs the MQTT-SN 1.2 transparent
 * gateway (src/sn/gateway) on a UDP port, each device with its own broker connection, configured by
 * flags or by the Paho-format files (`--mqttsn-conf gateway.conf`, `--mqttsn-clients`,
 * `--mqttsn-topics`). Its own file so that the radio gateway's command stays as it is: gateway.ts
 * hands over when only MQTT-SN flags are present, and starts it beside the radios when both are.
 */
import { loadSnGatewayConfig } from '../../sn/gateway/config-load.ts';
import type { SnGatewayOptions } from '../../sn/gateway/options.ts';
import { type SnUdpGateway, udpSnGateway } from '../../sn/gateway/udp.ts';
import { type FlagSpec, type ParsedFlags, stringFlag, UsageError } from '../args.ts';
import { CliFailure, EXIT } from '../exit.ts';

/** MQTT-SN has no registered UDP port; Paho's gateway.conf uses 10000. */
const PAHO_DEFAULT_PORT = 10000;

export const SN_FLAGS: FlagSpec[] = [
  {
    key: 'mqttsnUdp',
    names: ['--mqttsn-udp'],
    value: true,
    meta: 'PORT',
    help: 'MQTT-SN 1.2 gateway on this UDP port, alone or beside the radios (0: a free port, printed)',
  },
  {
    key: 'mqttsnHost',
    names: ['--mqttsn-host'],
    value: true,
    meta: 'ADDRESS',
    help: 'mqtt-sn: address to bind (default 0.0.0.0)',
  },
  {
    key: 'mqttsnConf',
    names: ['--mqttsn-conf'],
    value: true,
    meta: 'FILE',
    help: 'mqtt-sn: a Paho-style gateway.conf (its ClientsList and PredefinedTopicList are read too)',
  },
  {
    key: 'mqttsnClients',
    names: ['--mqttsn-clients'],
    value: true,
    meta: 'FILE',
    help: 'mqtt-sn: only these devices may connect ("ClientId[,host:port]" per line; an address allows QoS -1)',
  },
  {
    key: 'mqttsnTopics',
    names: ['--mqttsn-topics'],
    value: true,
    meta: 'FILE',
    help: 'mqtt-sn: pre-defined topic ids ("ClientId,TopicName,TopicId" per line; * for every client)',
  },
  {
    key: 'mqttsnState',
    names: ['--mqttsn-state'],
    value: true,
    meta: 'DIR',
    help: "mqtt-sn: keep clean=0 devices' sessions and QoS 2 state here, so a gateway crash loses and duplicates nothing",
  },
];

/** Whether the command line asks for the MQTT-SN gateway. */
export function snRequested(flags: ParsedFlags): boolean {
  return SN_FLAGS.some((f) => flags.values.has(f.key));
}

function print(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

/** A running MQTT-SN gateway started from the command line. */
export interface SnFromFlags {
  /** Prints the device count and counters (SIGUSR1, and at the end). */
  status(): void;
  /** Ends every device's broker connection (abruptly: the wills go out), then the socket. */
  close(): Promise<void>;
}

/**
 * Starts the MQTT-SN gateway the flags describe and prints where it listens. `brokerUrl` is the
 * --broker flag when given (it wins over gateway.conf's BrokerName), `defaultBroker` the CLI's
 * resolved default.
 */
export async function startSnFromFlags(
  flags: ParsedFlags,
  brokerUrl: string | undefined,
  defaultBroker: string,
): Promise<SnFromFlags> {
  let loaded: ReturnType<typeof loadSnGatewayConfig>;
  try {
    loaded = loadSnGatewayConfig({
      conf: stringFlag(flags, 'mqttsnConf'),
      clientsList: stringFlag(flags, 'mqttsnClients'),
      predefinedTopics: stringFlag(flags, 'mqttsnTopics'),
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const portText = stringFlag(flags, 'mqttsnUdp');
  let port = loaded.udpPort ?? PAHO_DEFAULT_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 0xffff)
      throw new UsageError(`--mqttsn-udp must be a UDP port 0-65535, got "${portText}"`);
  }
  const broker = brokerUrl ?? loaded.options.broker ?? defaultBroker;
  if (!/^mqtts?:/.test(broker)) throw new UsageError(`the broker must be mqtt:// or mqtts://, got ${broker}`);
  const host = stringFlag(flags, 'mqttsnHost') ?? '0.0.0.0';
  const stateDir = stringFlag(flags, 'mqttsnState');
  const options: SnGatewayOptions = {
    ...loaded.options,
    broker,
    ...(stateDir === undefined ? {} : { stateDir }),
  };
  let g: SnUdpGateway;
  try {
    g = await udpSnGateway({ ...options, host, port });
  } catch (error) {
    throw new CliFailure(`cannot bind UDP ${host}:${port}: ${(error as Error).message}`, EXIT.UNREACHABLE);
  }
  const o = g.gateway.options;
  print(
    `mqtt-sn gateway: listening on udp ${host}:${g.port}, broker ${broker}, ` +
      `${o.predefinedTopics.size + o.clientPredefinedTopics.size} pre-defined topic entries, ` +
      `${o.clientList === undefined ? 'any client id' : `${o.clientList.size} client ids`}`,
  );
  return {
    status: () => print(`mqtt-sn gateway: ${g.gateway.devices} devices, ${JSON.stringify(g.gateway.stats)}`),
    close: () => g.close(),
  };
}

/** Runs the MQTT-SN gateway alone (no radio flag) until SIGINT or SIGTERM. */
export async function runSnGateway(
  flags: ParsedFlags,
  brokerUrl: string | undefined,
  defaultBroker: string,
): Promise<number> {
  const g = await startSnFromFlags(flags, brokerUrl, defaultBroker);
  let stop!: (why: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  process.on('SIGUSR1', g.status);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    print(`mqtt-sn gateway: ${await stopped}: stopping`);
    g.status();
  } finally {
    process.off('SIGUSR1', g.status);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await g.close();
  }
  return EXIT.OK;
}
