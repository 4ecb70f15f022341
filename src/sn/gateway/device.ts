/**
 * One MQTT-SN device at the gateway (transparent mode): its broker connection, its topic ids, the
 * flows it has in progress in both directions, its keepalive or sleep timer. Messages for the
 * device go one flow at a time (MQTT-SN allows a device one outstanding message per direction) and
 * are acknowledged to the broker only when the device has acknowledged them, so a device that
 * sleeps or vanishes loses nothing: the broker still has what the device did not take.
 */
import type { Message } from '../../client/message.ts';
import type { Subscription } from '../../client/subscription.ts';
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
import type { ResolvedSnGatewayOptions } from './options.ts';

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

interface Awaiting {
  match: (m: SnMessage) => boolean;
  resolve: (m: SnMessage | undefined) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
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
  private nextMsgId = 1;
  /** Upstream QoS 1 / QoS 2 message ids in progress; QoS 2 ones stay until PUBREL. */
  private readonly qos1 = new Set<number>();
  private readonly qos2 = new Map<number, 'publishing' | 'received'>();
  private readonly subscribing = new Set<number>();
  /** Downstream: what the broker sent, in order, not yet delivered. */
  private readonly queue: Message[] = [];
  private queuedQos0 = 0;
  private running = false;
  private awaiting: Awaiting | undefined;
  private silence: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: SnDeviceHost,
    readonly clientId: string,
    address: string,
  ) {
    this.address = address;
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
      this.qos2.clear();
    }
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
    if (this.awaiting?.match(msg)) {
      const a = this.awaiting;
      this.awaiting = undefined;
      clearTimeout(a.timer);
      a.resolve(msg);
      return;
    }
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
        this.qos2.delete(msg.msgId);
        this.send({ type: 'pubcomp', msgId: msg.msgId });
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
    void this.pump();
  }

  /** The device went silent: its broker connection ends abruptly so the broker publishes its will. */
  lose(): void {
    if (this.state === 'lost' || this.state === 'disconnected') return;
    this.state = 'lost';
    this.stopTimers();
    const broker = this.broker;
    this.broker = undefined;
    this.queue.length = 0;
    this.queuedQos0 = 0;
    this.host.detached(this);
    void broker?.sever();
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
    if (this.awaiting) {
      clearTimeout(this.awaiting.timer);
      this.awaiting.resolve(undefined);
      this.awaiting = undefined;
    }
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
    void (old ? old.end() : Promise.resolve()).then(() => this.open(clean, (code) => this.connack(code)));
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
    void this.pump();
  }

  /** A new broker connection with the device's subscriptions; `done` gets the CONNACK code. */
  private open(clean: boolean, done: (code: SnReturnCodeValue) => void): void {
    const o = this.host.options;
    const broker = brokerConnection({
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
    client.on('message', (m) => this.enqueue(broker, m));
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
    const options = { qos: Math.max(0, msg.qos) as 0 | 1 | 2, retain: msg.retain };
    if (msg.qos <= 0) {
      broker.client.publish(name, msg.data, options).catch(() => {});
      return;
    }
    if (msg.qos === 1) {
      if (this.qos1.has(msg.msgId)) return; // a DUP of one on its way to the broker
      this.qos1.add(msg.msgId);
      const code = await settle(broker.client.publish(name, msg.data, options));
      this.qos1.delete(msg.msgId);
      this.send({ type: 'puback', topicId, msgId: msg.msgId, returnCode: code });
      return;
    }
    const state = this.qos2.get(msg.msgId);
    if (state === 'publishing') return;
    if (state === 'received') {
      this.send({ type: 'pubrec', msgId: msg.msgId });
      return;
    }
    this.qos2.set(msg.msgId, 'publishing');
    // PUBREC only once the broker has the message (its PUBCOMP): exactly once survives a gateway crash.
    const code = await settle(broker.client.publish(name, msg.data, options));
    if (code !== SnReturnCode.Accepted) {
      this.qos2.delete(msg.msgId);
      this.send({ type: 'puback', topicId, msgId: msg.msgId, returnCode: code });
      return;
    }
    this.qos2.set(msg.msgId, 'received');
    this.send({ type: 'pubrec', msgId: msg.msgId });
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
      granted = (await sub).granted[0] ?? 0x80;
    } catch {
      granted = 0x80;
    }
    this.subscribing.delete(msgId);
    if (granted >= 0x80) {
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
    this.queue.length = 0;
    this.queuedQos0 = 0;
    this.send({ type: 'disconnect' });
    this.host.detached(this);
    await broker?.end();
  }

  private enqueue(broker: BrokerConnection, m: Message): void {
    if (broker !== this.broker) return; // an old connection's message: the broker keeps it
    if (m.qos === 0) {
      if (this.queuedQos0 >= this.host.options.maxQueuedQos0) {
        this.host.droppedQos0();
        return;
      }
      this.queuedQos0++;
    }
    this.queue.push(m);
    void this.pump();
  }

  /** Delivers queued messages one flow at a time while the device is reachable. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && (this.state === 'active' || this.state === 'awake')) {
        const m = this.queue.shift()!;
        if (m.qos === 0) this.queuedQos0--;
        if (!(await this.deliver(m))) {
          this.lose();
          return;
        }
      }
      if (this.state === 'awake') {
        this.send({ type: 'pingresp' });
        this.state = 'asleep';
        this.armSilence(this.sleepDuration);
      }
    } finally {
      this.running = false;
    }
  }

  /** One message to the device; false when the device did not answer. */
  private async deliver(m: Message): Promise<boolean> {
    let topic = this.topicFor(m.topic);
    if (topic === undefined) {
      const topicId = this.topicIdOf(m.topic);
      const msgId = this.msgId();
      const ack = await this.request(
        { type: 'register', topicId, msgId, topicName: m.topic },
        (r) => r.type === 'regack' && r.msgId === msgId,
      );
      if (!ack) return false;
      topic = { type: 'normal', id: topicId };
    }
    const qos = m.qos;
    const msgId = qos > 0 ? this.msgId() : 0;
    const publish: SnPublish = {
      type: 'publish',
      dup: false,
      qos,
      retain: m.retain,
      topic,
      msgId,
      data: m.payload,
    };
    if (qos === 0) {
      this.send(publish);
      return true;
    }
    const ack = await this.request(
      publish,
      (r) => (r.type === 'puback' || r.type === 'pubrec') && r.msgId === msgId,
      { ...publish, dup: true },
    );
    if (!ack) return false;
    if (ack.type === 'pubrec') {
      const comp = await this.request(
        { type: 'pubrel', msgId },
        (r) => r.type === 'pubcomp' && r.msgId === msgId,
      );
      if (!comp) return false;
    }
    // The device has it (or refused it): now the broker may forget it.
    m.ack();
    return true;
  }

  private topicFor(name: string): SnTopic | undefined {
    const predefined = this.host.predefinedIds(this.clientId).get(name);
    if (predefined !== undefined) return { type: 'predefined', id: predefined };
    if (SHORT_NAME.test(name)) return { type: 'short', name };
    const id = this.ids.get(name);
    return id === undefined ? undefined : { type: 'normal', id };
  }

  private msgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  /** Sends and waits for the answer, retransmitting every Tretry up to Nretry times. */
  private request(
    msg: SnMessage,
    match: (m: SnMessage) => boolean,
    retry = msg,
  ): Promise<SnMessage | undefined> {
    const { retryInterval, retries } = this.host.options;
    return new Promise((resolve) => {
      let tries = 0;
      const a: Awaiting = { match, resolve, timer: undefined };
      const arm = () => {
        a.timer = setTimeout(() => {
          if (++tries > retries) {
            if (this.awaiting === a) this.awaiting = undefined;
            resolve(undefined);
            return;
          }
          this.send(retry);
          arm();
        }, retryInterval);
        a.timer.unref?.();
      };
      this.awaiting = a;
      this.send(msg);
      arm();
    });
  }
}

function sameWill(a: Will | undefined, b: Will | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.topic === b.topic &&
    a.qos === b.qos &&
    a.retain === b.retain &&
    a.payload.length === b.payload.length &&
    a.payload.every((x, i) => x === b.payload[i])
  );
}

/** A broker publication's outcome as an MQTT-SN return code. */
async function settle(p: Promise<{ reasonCode: number }>): Promise<SnReturnCodeValue> {
  try {
    const r = await p;
    return r.reasonCode >= 0x80 ? SnReturnCode.RejectedNotSupported : SnReturnCode.Accepted;
  } catch {
    return SnReturnCode.RejectedCongestion;
  }
}
