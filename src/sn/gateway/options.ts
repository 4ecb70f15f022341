/**
 * Options of the MQTT-SN gateway, with their defaults. The names follow the Paho MQTT-SN gateway's
 * `gateway.conf` where one exists (see docs/mqtt-sn.md for the mapping).
 */

/** A device that publishes at QoS -1 (no connection): the gateway knows it by its address. */
export interface SnQosMinusOneDevice {
  /** `host:port` the device sends from, e.g. `127.0.0.1:5000`. */
  address: string;
  /** The client id its broker connection uses. */
  clientId: string;
}

/** Options of {@link SnGateway}. */
export interface SnGatewayOptions {
  /** Broker URL for the devices' connections (`mqtt://`, `mqtts://`, `ws://`), e.g. `mqtt://127.0.0.1:1883`. Required. */
  broker: string;
  /** MQTT version spoken to the broker: 5, or 4 for 3.1.1. Default 5. */
  protocolVersion?: 4 | 5;
  /** GwId in ADVERTISE and GWINFO (1 to 255). Default 1. */
  gatewayId?: number;
  /** Keepalive of each device's broker connection, seconds (independent of the device's). Default 60. */
  brokerKeepalive?: number;
  /** How long a device CONNECT waits for the broker before CONNACK congestion, ms. Default 5 000. */
  connectTimeout?: number;
  /** Pre-defined topic ids (the Paho `predefinedTopic.conf` entries): id to topic name. Default none. */
  predefinedTopics?: ReadonlyMap<number, string>;
  /**
   * Pre-defined topic ids of single clients (the Paho file's lines naming a client id): client id to
   * (id to topic name). They come before `predefinedTopics` for that client. Default none.
   */
  clientPredefinedTopics?: ReadonlyMap<string, ReadonlyMap<number, string>>;
  /** Client ids allowed to CONNECT (Paho's `ClientAuthentication` list). Default: any. */
  clientList?: ReadonlySet<string>;
  /**
   * Devices allowed to publish at QoS -1, by address. Default none: QoS -1 from any address goes out
   * through one shared broker connection named `qosMinusOneClientId` unless `clientList` is set.
   */
  qosMinusOneDevices?: readonly SnQosMinusOneDevice[];
  /** Client id of the shared QoS -1 broker connection. Default `'steadfast-sn-qos-1'`. */
  qosMinusOneClientId?: string;
  /** Largest keepalive a device may ask for, seconds; above it CONNACK is rejected (not supported). Default 65 535. */
  maxKeepalive?: number;
  /** Longest sleep a device may announce, seconds; a sleeper is timed out after at most this. Default 86 400. */
  maxSleep?: number;
  /**
   * A device silent for keepalive (or sleep duration) times this is lost: its broker connection is
   * dropped abruptly so its will goes out. The spec leaves the factor open; 1.5 as in MQTT. Default 1.5.
   */
  timeoutFactor?: number;
  /** Tretry for the gateway's own requests (REGISTER, PUBLISH to a device), ms. Default 10 000. */
  retryInterval?: number;
  /** Nretry; after that many retries the device is lost. Default 5. */
  retries?: number;
  /** QoS 0 messages queued for one device (asleep or busy); beyond it they are dropped and counted. Default 100. */
  maxQueuedQos0?: number;
  /** Seconds between ADVERTISE datagrams; 0 sends none. Default 900 (the Paho gateway's KeepAlive). */
  advertiseInterval?: number;
  /**
   * A directory for what must survive a gateway crash, per clean=0 device: its broker session (a
   * file store) and its QoS 2 messages between PUBLISH and PUBREL, so that a device re-sending after
   * a restart loses nothing and duplicates nothing. Default none: memory only (a gateway crash then
   * may duplicate a QoS 2 message the broker had but the device had no PUBREC for).
   */
  stateDir?: string;
  /** Where ADVERTISE goes (`host:port`, a broadcast or multicast address on a real network). Default none. */
  advertiseAddress?: string;
}

/** The options with every default filled in (what `SnGateway.options` shows). */
export type ResolvedSnGatewayOptions = Required<
  Omit<SnGatewayOptions, 'clientList' | 'advertiseAddress' | 'stateDir'>
> & {
  /** As in {@link SnGatewayOptions}; undefined: memory only. */
  stateDir: string | undefined;
  /** As in {@link SnGatewayOptions}; undefined when any client id may connect. */
  clientList: ReadonlySet<string> | undefined;
  /** As in {@link SnGatewayOptions}; undefined when no ADVERTISE is sent. */
  advertiseAddress: string | undefined;
};

/** Fills in the defaults. */
export function resolveSnGatewayOptions(o: SnGatewayOptions): ResolvedSnGatewayOptions {
  return {
    broker: o.broker,
    protocolVersion: o.protocolVersion ?? 5,
    gatewayId: o.gatewayId ?? 1,
    brokerKeepalive: o.brokerKeepalive ?? 60,
    connectTimeout: o.connectTimeout ?? 5_000,
    predefinedTopics: o.predefinedTopics ?? new Map(),
    clientPredefinedTopics: o.clientPredefinedTopics ?? new Map(),
    clientList: o.clientList,
    qosMinusOneDevices: o.qosMinusOneDevices ?? [],
    qosMinusOneClientId: o.qosMinusOneClientId ?? 'steadfast-sn-qos-1',
    maxKeepalive: o.maxKeepalive ?? 0xffff,
    maxSleep: o.maxSleep ?? 86_400,
    timeoutFactor: o.timeoutFactor ?? 1.5,
    retryInterval: o.retryInterval ?? 10_000,
    retries: o.retries ?? 5,
    maxQueuedQos0: o.maxQueuedQos0 ?? 100,
    advertiseInterval: o.advertiseInterval ?? 900,
    advertiseAddress: o.advertiseAddress,
    stateDir: o.stateDir,
  };
}
