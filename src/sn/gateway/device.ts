/**
 * One MQTT-SN device at the gateway (transparent mode): its life (CONNECT and the will dialogue,
 * active, asleep, lost), its broker connection, its topic ids and subscriptions, its keepalive or
 * sleep timer. The flows in progress live beside it: the device's own PUBLISHes in
 * device-upstream.ts, the broker's messages for it in device-downstream.ts.
 */
import type { Subscription } from '../../client/subscription.ts';
import { isFailure, ReasonCode } from '../../codec/index.ts';
import type { SessionStore } from '../../session/store.ts';
import { FileStore } from '../../store/file.ts';
import {
  type SnConnect,
  type SnMessage,
  type SnPublish,
  SnReturnCode,
  type SnReturnCodeValue,
  type SnSubscribeTopic,
  type SnTopic,
} from '../codec/index.ts';
import { type BrokerConnection, brokerConnection } from './broker.ts';
import { DownstreamFlows } from './device-downstream.ts';
import { sameBytes, UpstreamFlows } from './device-upstream.ts';
import type { ResolvedSnGatewayOptions } from './options.ts';
import { deviceStatePath, JournalFirstStore, Qos2Journal } from './qos2-journal.ts';

/** Where the device is in its life at the gateway. */
export type SnDeviceState =
  | 'will-topic'
  | 'will-msg'
  | 'connecting'
  | 'active'
  | 'asleep'
  | 'awake'
  | 'disconnected'
  | 'lost';

/** What a device needs from the gateway. */
export interface SnDeviceHost {
  readonly options: ResolvedSnGatewayOptions;
  /** The pre-defined topics of a client (its own, then those for every client): id to name. */
  predefinedTopics(clientId: string): ReadonlyMap<number, string>;
  /** The same, name to id. */
  predefinedIds(clientId: string): ReadonlyMap<string, number>;
  send(address: string, message: SnMessage): void;
  /** The device stopped being reachable at its address (DISCONNECT, lost). */
  detached(device: SnDevice): void;
  /** A QoS 0 message for the device was dropped (queue full). */
  droppedQos0(): void;
}

interface Will {
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  payload: Uint8Array;
}

const TOPIC_ID_MAX = 0xffff;
/** Short topic names are two printable ASCII characters. */
const SHORT_NAME = /^[\x20-\x7e]{2}$/;

export class SnDevice {
  state: SnDeviceState = 'connecting';
  address: string;
  cleanSession = true;
  keepalive = 0;
  private will: Will | undefined;
  private willTopic: Omit<Will, 'payload'> | undefined;
  private broker: BrokerConnection | undefined;
  /** Filters the device subscribed to, renewed on every new broker connection (clean=0). */
  private readonly subscriptions = new Map<string, { qos: 0 | 1 | 2; sub: Promise<Subscription> }>();
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private nextTopicId = 1;
  /** The device's own QoS 1/2 PUBLISHes on their way to the broker. */
  private readonly upstream: UpstreamFlows;
  /** The last broker connection's shutdown: a new one (on the same store file) waits for it. */
  private closing: Promise<void> = Promise.resolve();
  private readonly subscribing = new Set<number>();
  /** Messages from the broker on their way to the device. */
  private readonly downstream: DownstreamFlows;
  private silence: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: SnDeviceHost,
    readonly clientId: string,
    address: string,
  ) {
    this.address = address;
    const dir = host.options.stateDir;
    const journal = dir === undefined ? undefined : new Qos2Journal(dir, clientId);
    this.upstream = new UpstreamFlows((m) => this.send(m), journal);
    this.downstream = new DownstreamFlows({
      options: host.options,
      send: (m) => this.send(m),
      reachable: () => this.state === 'active' || this.state === 'awake',
      topicFor: (name) => this.topicFor(name),
      topicIdOf: (name) => this.topicIdOf(name),
      unanswered: () => this.lose(),
      drained: () => {
        if (this.state !== 'awake') return;
        this.send({ type: 'pingresp' });
        this.state = 'asleep';
        this.armSilence(this.sleepDuration);
      },
      droppedQos0: () => this.host.droppedQos0(),
    });
  }

  /** A CONNECT from the device (the gateway has checked the client list). */
  connect(msg: SnConnect, address: string): void {
    if ((this.state === 'will-topic' || this.state === 'will-msg') && address === this.address) {
      // A retransmitted CONNECT: the dialogue goes on where it is.
      this.send({ type: this.state === 'will-topic' ? 'willtopicreq' : 'willmsgreq' });
      return;
    }
    if (this.state === 'connecting' && address === this.address && this.broker) return;
    this.address = address;
    this.keepalive = msg.duration;
    if (msg.cleanSession) {
      this.subscriptions.clear();
      this.ids.clear();
      this.names.clear();
      this.upstream.clear();
    } else this.upstream.resume();
    this.cleanSession = msg.cleanSession;
    if (msg.will) {
      this.state = 'will-topic';
      this.send({ type: 'willtopicreq' });
      this.armSilence(this.host.options.connectTimeout / 1000);
      return;
    }
    this.establish(undefined, msg.cleanSession);
  }

  /** Every other message from the device's address. */
  received(msg: SnMessage): void {
    if (this.state === 'lost' || this.state === 'disconnected') return;
    if (this.state !== 'asleep' && this.state !== 'awake') this.armSilence(this.keepalive);
    if (this.downstream.answer(msg)) return;
    switch (msg.type) {
      case 'willtopic':
        if (this.state !== 'will-topic') return;
        if (msg.topic === undefined) {
          this.establish(undefined, this.cleanSession);
          return;
        }
        this.willTopic = { topic: msg.topic, qos: msg.qos, retain: msg.retain };
        this.state = 'will-msg';
        this.send({ type: 'willmsgreq' });
        return;
      case 'willmsg':
        if (this.state !== 'will-msg' || !this.willTopic) return;
        this.establish({ ...this.willTopic, payload: msg.message }, this.cleanSession);
        return;
      case 'willtopicupd':
        this.updateWill(
          msg.topic === undefined
            ? undefined
            : {
                topic: msg.topic,
                qos: msg.qos,
                retain: msg.retain,
                payload: this.will?.payload ?? new Uint8Array(),
              },
          'willtopicresp',
        );
        return;
      case 'willmsgupd':
        if (this.will) this.updateWill({ ...this.will, payload: msg.message }, 'willmsgresp');
        else this.send({ type: 'willmsgresp', returnCode: SnReturnCode.RejectedNotSupported });
        return;
      case 'register':
        this.send({
          type: 'regack',
          topicId: this.topicIdOf(msg.topicName),
          msgId: msg.msgId,
          returnCode: SnReturnCode.Accepted,
        });
        return;
      case 'publish':
        void this.publish(msg);
        return;
      case 'pubrel':
        this.upstream.released(msg.msgId);
        return;
      case 'subscribe':
        void this.subscribe(msg.msgId, msg.topic, msg.qos);
        return;
      case 'unsubscribe':
        void this.unsubscribe(msg.msgId, msg.topic);
        return;
      case 'pingreq':
        this.send({ type: 'pingresp' });
        return;
      case 'disconnect':
        if (msg.duration !== undefined && msg.duration > 0) this.sleep(msg.duration);
        else void this.disconnect();
        return;
      default:
        // Answers to nothing we asked (a late PUBACK), or messages only a gateway sends: ignored.
        return;
    }
  }

  /** PINGREQ with the client id: deliver what is buffered, then PINGRESP. */
  wake(address: string): void {
    this.address = address;
    if (this.state === 'asleep') this.state = 'awake';
    if (this.state === 'awake') this.armSilence(this.sleepLimit());
    void this.downstream.pump();
  }

  /** The device went silent: its broker connection ends abruptly so the broker publishes its will. */
  lose(): void {
    if (this.state === 'lost' || this.state === 'disconnected') return;
    this.state = 'lost';
    this.stopTimers();
    const broker = this.broker;
    this.broker = undefined;
    this.downstream.clear();
    this.host.detached(this);
    if (broker) this.closing = broker.sever();
  }

  /** Gateway shutdown: abruptly, like a lost device (the wills go out). */
  close(): Promise<void> {
    this.stopTimers();
    const broker = this.broker;
    this.broker = undefined;
    return broker?.sever() ?? Promise.resolve();
  }

  private send(msg: SnMessage): void {
    this.host.send(this.address, msg);
  }

  private stopTimers(): void {
    clearTimeout(this.silence);
    this.silence = undefined;
    this.downstream.cancel();
  }

  private armSilence(seconds: number): void {
    clearTimeout(this.silence);
    if (seconds <= 0) return;
    this.silence = setTimeout(() => this.lose(), seconds * 1000 * this.host.options.timeoutFactor);
    this.silence.unref?.();
  }

  private sleepLimit(): number {
    return this.sleepDuration;
  }
  private sleepDuration = 0;

  /** Opens (or keeps) the broker connection and answers CONNACK. */
  private establish(will: Will | undefined, clean: boolean): void {
    const old = this.broker;
    if (old && !clean && sameWill(will, this.will)) {
      this.accepted();
      return;
    }
    this.will = will;
    this.broker = undefined;
    this.state = 'connecting';
    void (old ? old.end() : this.closing).then(() => this.open(clean, (code) => this.connack(code)));
  }

  private connack(code: SnReturnCodeValue): void {
    if (code === SnReturnCode.Accepted) this.accepted();
    else {
      this.send({ type: 'connack', returnCode: code });
      this.state = 'disconnected';
      this.stopTimers();
      this.host.detached(this);
    }
  }

  private accepted(): void {
    this.state = 'active';
    this.armSilence(this.keepalive);
    this.send({ type: 'connack', returnCode: SnReturnCode.Accepted });
    void this.downstream.pump();
  }

  /** A new broker connection with the device's subscriptions; `done` gets the CONNACK code. */
  private open(clean: boolean, done: (code: SnReturnCodeValue) => void): void {
    const o = this.host.options;
    let store: SessionStore | undefined;
    if (o.stateDir !== undefined && !clean) {
      try {
        const file = new FileStore(deviceStatePath(o.stateDir, this.clientId, 'store'), { fsync: false });
        store = new JournalFirstStore(file, (m) => this.upstream.brokerHas(m));
      } catch {
        done(SnReturnCode.RejectedCongestion);
        return;
      }
    }
    const broker = brokerConnection({
      store,
      url: o.broker,
      protocolVersion: o.protocolVersion,
      clientId: this.clientId,
      clean,
      keepalive: o.brokerKeepalive,
      will: this.will,
      connectTimeout: o.connectTimeout,
    });
    this.broker = broker;
    const client = broker.client;
    this.upstream.adoptRestored(broker);
    // An old connection's message is not taken: the broker keeps it.
    client.on('message', (m) => {
      if (broker === this.broker) this.downstream.enqueue(m);
    });
    for (const [filter, s] of this.subscriptions) s.sub = this.brokerSubscribe(broker, filter, s.qos);
    let settled = false;
    const finish = (code: SnReturnCodeValue) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('up', up);
      client.off('down', down);
      if (code !== SnReturnCode.Accepted) {
        if (this.broker === broker) this.broker = undefined;
        void broker.end();
      }
      if (this.broker === broker || code !== SnReturnCode.Accepted) done(code);
    };
    const up = () => finish(SnReturnCode.Accepted);
    // The broker is unreachable: tell the device at once rather than after its retries.
    const down = (e: { wasUp: boolean }) => {
      if (!e.wasUp) finish(SnReturnCode.RejectedCongestion);
    };
    const timer = setTimeout(() => finish(SnReturnCode.RejectedCongestion), o.connectTimeout);
    client.on('up', up);
    client.on('down', down);
    client.start();
  }

  private brokerSubscribe(broker: BrokerConnection, filter: string, qos: 0 | 1 | 2): Promise<Subscription> {
    // Messages are taken by the 'message' listener; the callback only keeps the route claimed.
    const sub = broker.client.subscribe(filter, { qos, onMessage: () => {} });
    sub.catch(() => {});
    return sub;
  }

  private updateWill(will: Will | undefined, reply: 'willtopicresp' | 'willmsgresp'): void {
    const old = this.broker;
    this.will = will;
    if (!old || this.state !== 'active') {
      this.send({ type: reply, returnCode: SnReturnCode.Accepted });
      return;
    }
    // The Client's will is fixed per connection: a new connection (session kept) carries the new one.
    this.broker = undefined;
    void old
      .end()
      .then(() => this.open(this.cleanSession, (code) => this.send({ type: reply, returnCode: code })));
  }

  private topicIdOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.nextTopicId;
      this.nextTopicId = id === TOPIC_ID_MAX ? 1 : id + 1;
      this.ids.set(name, id);
      this.names.set(id, name);
    }
    return id;
  }

  private topicName(t: SnTopic): string | undefined {
    if (t.type === 'short') return t.name;
    if (t.type === 'predefined') return this.host.predefinedTopics(this.clientId).get(t.id);
    return this.names.get(t.id);
  }

  private async publish(msg: SnPublish): Promise<void> {
    const name = this.topicName(msg.topic);
    const topicId = msg.topic.type === 'short' ? 0 : msg.topic.id;
    const broker = this.broker;
    if (name === undefined || !broker) {
      if (msg.qos > 0)
        this.send({
          type: 'puback',
          topicId,
          msgId: msg.msgId,
          returnCode:
            name === undefined ? SnReturnCode.RejectedInvalidTopicId : SnReturnCode.RejectedCongestion,
        });
      return;
    }
    if (msg.qos > 0) return this.upstream.publish(broker, name, msg, topicId);
    broker.client.publish(name, msg.data, { qos: 0, retain: msg.retain }).catch(() => {});
  }

  private filterOf(t: SnSubscribeTopic): string | undefined {
    if (t.type === 'predefined') return this.host.predefinedTopics(this.clientId).get(t.id);
    return t.name;
  }

  private async subscribe(msgId: number, t: SnSubscribeTopic, qos: 0 | 1 | 2): Promise<void> {
    if (this.subscribing.has(msgId)) return;
    const filter = this.filterOf(t);
    const broker = this.broker;
    const reply = (returnCode: SnReturnCodeValue, granted: 0 | 1 | 2, topicId: number) =>
      this.send({ type: 'suback', qos: granted, topicId, msgId, returnCode });
    if (filter === undefined) return reply(SnReturnCode.RejectedInvalidTopicId, 0, 0);
    if (!broker) return reply(SnReturnCode.RejectedCongestion, 0, 0);
    this.subscribing.add(msgId);
    const sub = this.brokerSubscribe(broker, filter, qos);
    this.subscriptions.set(filter, { qos, sub });
    let granted: number;
    try {
      granted = (await sub).granted[0] ?? ReasonCode.UnspecifiedError;
    } catch {
      granted = ReasonCode.UnspecifiedError;
    }
    this.subscribing.delete(msgId);
    if (isFailure(granted)) {
      this.subscriptions.delete(filter);
      return reply(SnReturnCode.RejectedNotSupported, 0, 0);
    }
    const wildcard = filter.includes('#') || filter.includes('+');
    const topicId =
      t.type === 'predefined' ? t.id : t.type === 'short' || wildcard ? 0 : this.topicIdOf(filter);
    reply(SnReturnCode.Accepted, granted as 0 | 1 | 2, topicId);
  }

  private async unsubscribe(msgId: number, t: SnSubscribeTopic): Promise<void> {
    const filter = this.filterOf(t);
    if (filter !== undefined) {
      this.subscriptions.delete(filter);
      await this.broker?.client.unsubscribe(filter).catch(() => {});
    }
    this.send({ type: 'unsuback', msgId });
  }

  private sleep(duration: number): void {
    this.state = 'asleep';
    this.sleepDuration = Math.min(duration, this.host.options.maxSleep);
    this.armSilence(this.sleepDuration);
    this.send({ type: 'disconnect' });
  }

  private async disconnect(): Promise<void> {
    this.state = 'disconnected';
    this.stopTimers();
    const broker = this.broker;
    this.broker = undefined;
    this.downstream.clear();
    this.send({ type: 'disconnect' });
    this.host.detached(this);
    await broker?.end();
  }

  private topicFor(name: string): SnTopic | undefined {
    const predefined = this.host.predefinedIds(this.clientId).get(name);
    if (predefined !== undefined) return { type: 'predefined', id: predefined };
    if (SHORT_NAME.test(name)) return { type: 'short', name };
    const id = this.ids.get(name);
    return id === undefined ? undefined : { type: 'normal', id };
  }
}

function sameWill(a: Will | undefined, b: Will | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.topic === b.topic && a.qos === b.qos && a.retain === b.retain && sameBytes(a.payload, b.payload);
}
