/**
 * One MQTT-SN device at the gateway (transparent mode): its broker connection, its topic ids, the
 * flows it has in progress in both directions, its keepalive or sleep timer. Messages for the
 * device go one flow at a time (MQTT-SN allows a device one outstanding message per direction) and
 * are acknowledged to the broker only when the device has acknowledged them, so a device that
 * sleeps or vanishes loses nothing: the broker still has what the device did not take.
 */
import type { Message } from '../../client/message.ts';
import type { Subscription } from '../../client/subscription.ts';
import type { SessionStore } from '../../session/store.ts';
import type { OutboundMessage } from '../../session/types.ts';
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
import type { ResolvedSnGatewayOptions } from './options.ts';
import { deviceStatePath, type JournalEntry, JournalFirstStore, Qos2Journal } from './qos2-journal.ts';

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
  private readonly qos2 = new Map<number, JournalEntry>();
  /** QoS 2 ids this process is handing to the broker now: a DUP meanwhile is not published again. */
  private readonly publishingHere = new Set<number>();
  /** QoS 2 ids whose broker flow an earlier gateway process started (restored from the file store). */
  private readonly restoredQos2 = new Map<number, Promise<SnReturnCodeValue>>();
  /** With `stateDir`, clean=0 devices: the QoS 2 state that survives a gateway crash. */
  private readonly journal: Qos2Journal | undefined;
  private journalLoaded = false;
  /** The last broker connection's shutdown: a new one (on the same store file) waits for it. */
  private closing: Promise<void> = Promise.resolve();
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
    const dir = host.options.stateDir;
    this.journal = dir === undefined ? undefined : new Qos2Journal(dir, clientId);
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
      this.journal?.clear();
    } else if (this.journal && !this.journalLoaded) {
      // The first CONNECT this process sees: what an earlier one left for this device.
      this.journal.load();
      for (const [id, e] of this.journal.entries) this.qos2.set(id, e);
    }
    this.journalLoaded = true;
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
        this.journal?.delete(msg.msgId);
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
    void this.pump();
  }

  /** A new broker connection with the device's subscriptions; `done` gets the CONNACK code. */
  private open(clean: boolean, done: (code: SnReturnCodeValue) => void): void {
    const o = this.host.options;
    let store: SessionStore | undefined;
    if (o.stateDir !== undefined && !clean) {
      try {
        const file = new FileStore(deviceStatePath(o.stateDir, this.clientId, 'store'), { fsync: false });
        store = new JournalFirstStore(file, (m) => this.brokerHasQos2(m));
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
    this.adoptRestored(broker);
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

  /**
   * QoS 2 messages an earlier gateway process handed to the broker and did not see through: the
   * Client resumes them from its store; the device's re-sent PUBLISH waits for that flow.
   */
  private adoptRestored(broker: BrokerConnection): void {
    for (const p of broker.client.pending()) {
      if (!p.restored || p.qos !== 2) continue;
      for (const [id, e] of this.qos2) {
        if (e.state !== 'publishing' || this.restoredQos2.has(id)) continue;
        if (e.topic !== p.topic || !sameBytes(e.payload, p.payload)) continue;
        const outcome = settle(p.result);
        this.restoredQos2.set(id, outcome);
        void outcome.then((code) => {
          if (code === SnReturnCode.Accepted && this.qos2.get(id)?.state === 'publishing')
            this.setQos2(id, { ...e, state: 'received' });
        });
        break;
      }
    }
  }

  /**
   * The broker's PUBREC for one of the device's QoS 2 messages, told by the store before it records
   * it: journalled as `received` now, so no crash from here on can publish the device's re-send again.
   */
  private brokerHasQos2(m: OutboundMessage): void {
    let match: number | undefined;
    for (const [id, e] of this.qos2) {
      if (e.state !== 'publishing' || e.topic !== m.topic) continue;
      if (e.payload === m.payload) {
        match = id;
        break;
      }
      // Equal bytes: a restored flow (its payload read back from the file), or two equal messages.
      if (match === undefined && sameBytes(e.payload, m.payload)) match = id;
    }
    const e = match === undefined ? undefined : this.qos2.get(match);
    if (match !== undefined && e) this.setQos2(match, { ...e, state: 'received' });
  }

  private setQos2(id: number, e: JournalEntry): void {
    this.qos2.set(id, e);
    this.journal?.set(id, e);
  }

  private deleteQos2(id: number): void {
    this.qos2.delete(id);
    this.journal?.delete(id);
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
    if (this.publishingHere.has(msg.msgId)) return;
    const entry = this.qos2.get(msg.msgId);
    if (entry?.state === 'received') {
      this.send({ type: 'pubrec', msgId: msg.msgId });
      return;
    }
    this.publishingHere.add(msg.msgId);
    // A re-send after a gateway restart: the broker flow the earlier process began, if it got that far.
    const restored = entry === undefined ? undefined : this.restoredQos2.get(msg.msgId);
    const journal = { state: 'publishing', topic: name, payload: msg.data } as const;
    if (restored === undefined) this.setQos2(msg.msgId, journal);
    // PUBREC only once the broker has the message (its PUBCOMP): exactly once survives a gateway crash.
    const code = await (restored ?? settle(broker.client.publish(name, msg.data, options)));
    this.publishingHere.delete(msg.msgId);
    this.restoredQos2.delete(msg.msgId);
    if (code !== SnReturnCode.Accepted) {
      this.deleteQos2(msg.msgId);
      this.send({ type: 'puback', topicId, msgId: msg.msgId, returnCode: code });
      return;
    }
    // Already `received` when the store told us at the broker's PUBREC (brokerHasQos2).
    if (this.qos2.get(msg.msgId)?.state !== 'received')
      this.setQos2(msg.msgId, { ...journal, state: 'received' });
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
    // The broker's packet id: its re-send after a gateway restart (DUP, same id) is then a duplicate
    // the device recognises (it keeps a QoS 2 id until PUBREL).
    const msgId = qos > 0 ? (m.packetId ?? this.msgId()) : 0;
    const publish: SnPublish = {
      type: 'publish',
      dup: m.dup,
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
      // The device has it and keeps its id until PUBREL: the broker may forget it now (its PUBREC
      // goes out before our PUBREL), so no crash of ours in between can make the broker send it again
      // to a device that has already let the id go.
      m.ack();
      const comp = await this.request(
        { type: 'pubrel', msgId },
        (r) => r.type === 'pubcomp' && r.msgId === msgId,
      );
      if (!comp) return false;
      return true;
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameWill(a: Will | undefined, b: Will | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.topic === b.topic && a.qos === b.qos && a.retain === b.retain && sameBytes(a.payload, b.payload);
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
