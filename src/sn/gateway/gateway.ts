/**
 * The MQTT-SN 1.2 gateway core, transparent mode: datagrams in (with the sender's address),
 * datagrams out through `send`; each device gets its own broker connection (see device.ts). The
 * transport is the caller's: `udpSnGateway` (udp.ts) puts it on a UDP socket.
 */
import type { Client } from '../../client/client.ts';
import { decodeSn, encodeSn, type SnMessage, type SnPublish, SnReturnCode } from '../codec/index.ts';
import { type BrokerConnection, brokerConnection } from './broker.ts';
import { SnDevice, type SnDeviceHost } from './device.ts';
import { type ResolvedSnGatewayOptions, resolveSnGatewayOptions, type SnGatewayOptions } from './options.ts';

/** Counters of the gateway, for status and tests. */
export interface SnGatewayStats {
  /** Datagrams that did not decode: dropped. */
  malformed: number;
  /** Messages from an address with no connected device (answered with DISCONNECT). */
  unknownSender: number;
  /** QoS -1 PUBLISHes refused: unknown address or topic. */
  qosMinusOneRefused: number;
  /** QoS 0 messages for a device dropped because its queue was full (`maxQueuedQos0`). */
  droppedQos0: number;
  /** CONNECTs answered with CONNACK rejected. */
  connectsRejected: number;
}

interface PredefinedTable {
  byId: ReadonlyMap<number, string>;
  byName: ReadonlyMap<string, number>;
}

/** The gateway core; `send(address, datagram)` is how its answers leave. */
export class SnGateway {
  readonly options: ResolvedSnGatewayOptions;
  readonly stats: SnGatewayStats = {
    malformed: 0,
    unknownSender: 0,
    qosMinusOneRefused: 0,
    droppedQos0: 0,
    connectsRejected: 0,
  };
  private readonly byId = new Map<string, SnDevice>();
  private readonly byAddress = new Map<string, SnDevice>();
  private readonly qosMinusOne = new Map<string, BrokerConnection>();
  private readonly host: SnDeviceHost;
  /** Per client id: its pre-defined topics merged with the common ones, both ways. */
  private readonly predefinedCache = new Map<string, PredefinedTable>();
  private advertiser: ReturnType<typeof setInterval> | undefined;

  constructor(
    options: SnGatewayOptions,
    private readonly sendDatagram: (address: string, datagram: Uint8Array) => void,
  ) {
    this.options = resolveSnGatewayOptions(options);
    this.host = {
      options: this.options,
      predefinedTopics: (clientId) => this.predefined(clientId).byId,
      predefinedIds: (clientId) => this.predefined(clientId).byName,
      send: (address, m) => this.send(address, m),
      detached: (device) => {
        if (this.byAddress.get(device.address) === device) this.byAddress.delete(device.address);
        // A clean=1 device leaves nothing behind; a clean=0 one keeps its subscriptions and ids.
        if (device.cleanSession && this.byId.get(device.clientId) === device)
          this.byId.delete(device.clientId);
      },
      droppedQos0: () => this.stats.droppedQos0++,
    };
    const { advertiseInterval, advertiseAddress, gatewayId } = this.options;
    if (advertiseInterval > 0 && advertiseAddress !== undefined) {
      const advertise = () =>
        this.send(advertiseAddress, { type: 'advertise', gwId: gatewayId, duration: advertiseInterval });
      advertise();
      this.advertiser = setInterval(advertise, advertiseInterval * 1000);
      this.advertiser.unref?.();
    }
  }

  /** Devices known to the gateway (connected, asleep, or clean=0 ones gone). */
  get devices(): number {
    return this.byId.size;
  }

  /** The broker Client of a device, for tests and status. */
  deviceState(clientId: string): string | undefined {
    return this.byId.get(clientId)?.state;
  }

  /** One datagram from `address` (`host:port`). Never throws. */
  received(address: string, datagram: Uint8Array): void {
    let msg: SnMessage;
    try {
      msg = decodeSn(datagram);
    } catch {
      this.stats.malformed++;
      return;
    }
    switch (msg.type) {
      case 'searchgw':
        this.send(address, { type: 'gwinfo', gwId: this.options.gatewayId });
        return;
      case 'connect':
        this.connect(address, msg);
        return;
      case 'publish':
        if (msg.qos === -1) {
          this.publishWithoutConnection(address, msg);
          return;
        }
        break;
      case 'pingreq':
        if (msg.clientId !== undefined) {
          const sleeper = this.byId.get(msg.clientId);
          if (sleeper && (sleeper.state === 'asleep' || sleeper.state === 'awake')) {
            this.attach(sleeper, address);
            sleeper.wake(address);
            return;
          }
        }
        break;
      case 'advertise':
      case 'gwinfo':
      case 'encapsulated':
        // Another gateway's announcements, and forwarders (not supported: docs/mqtt-sn.md).
        return;
    }
    const device = this.byAddress.get(address);
    if (!device) {
      this.stats.unknownSender++;
      // Tells a device the gateway does not know (a gateway restart, a timed-out sleeper) to CONNECT.
      if (msg.type !== 'disconnect') this.send(address, { type: 'disconnect' });
      return;
    }
    device.received(msg);
  }

  /** Stops: every broker connection ends abruptly (the wills go out), like the radio gateway. */
  async close(): Promise<void> {
    clearInterval(this.advertiser);
    const all = [...new Set(this.byId.values())].map((d) => d.close());
    for (const c of this.qosMinusOne.values()) all.push(c.end());
    this.byId.clear();
    this.byAddress.clear();
    this.qosMinusOne.clear();
    await Promise.all(all);
  }

  private predefined(clientId: string): PredefinedTable {
    const own = this.options.clientPredefinedTopics.get(clientId);
    const key = own === undefined ? '' : clientId;
    let t = this.predefinedCache.get(key);
    if (!t) {
      const byId = new Map(this.options.predefinedTopics);
      for (const [id, name] of own ?? []) byId.set(id, name);
      const byName = new Map<string, number>();
      for (const [id, name] of byId) byName.set(name, id);
      t = { byId, byName };
      this.predefinedCache.set(key, t);
    }
    return t;
  }

  private send(address: string, msg: SnMessage): void {
    this.sendDatagram(address, encodeSn(msg));
  }

  private attach(device: SnDevice, address: string): void {
    if (this.byAddress.get(device.address) === device) this.byAddress.delete(device.address);
    const other = this.byAddress.get(address);
    if (other && other !== device) other.lose();
    this.byAddress.set(address, device);
  }

  private connect(address: string, msg: Extract<SnMessage, { type: 'connect' }>): void {
    const { clientList, maxKeepalive } = this.options;
    if ((clientList && !clientList.has(msg.clientId)) || msg.duration > maxKeepalive) {
      this.stats.connectsRejected++;
      this.send(address, { type: 'connack', returnCode: SnReturnCode.RejectedNotSupported });
      return;
    }
    let device = this.byId.get(msg.clientId);
    if (!device || device.state === 'lost') {
      device = device ?? new SnDevice(this.host, msg.clientId, address);
      this.byId.set(msg.clientId, device);
    }
    this.attach(device, address);
    device.connect(msg, address);
    if (device.state === 'disconnected') this.stats.connectsRejected++;
  }

  private publishWithoutConnection(address: string, msg: SnPublish): void {
    const configured = this.options.qosMinusOneDevices.find((d) => d.address === address);
    const clientId =
      configured?.clientId ?? (this.options.clientList ? undefined : this.options.qosMinusOneClientId);
    const name =
      msg.topic.type === 'short'
        ? msg.topic.name
        : msg.topic.type === 'predefined'
          ? this.predefined(clientId ?? '').byId.get(msg.topic.id)
          : undefined;
    if (name === undefined || clientId === undefined) {
      this.stats.qosMinusOneRefused++;
      return;
    }
    this.qosMinusOneClient(clientId)
      .publish(name, msg.data, { qos: 0, retain: msg.retain })
      .catch(() => {});
  }

  private qosMinusOneClient(clientId: string): Client {
    let c = this.qosMinusOne.get(clientId);
    if (!c) {
      const o = this.options;
      c = brokerConnection({
        url: o.broker,
        protocolVersion: o.protocolVersion,
        clientId,
        clean: true,
        keepalive: o.brokerKeepalive,
        will: undefined,
        connectTimeout: o.connectTimeout,
      });
      c.client.start();
      this.qosMinusOne.set(clientId, c);
    }
    return c.client;
  }
}
