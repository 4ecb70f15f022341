/**
 * A small MQTT-SN 1.2 client over any datagram transport, for tests and TypeScript devices.
 * Every request is retransmitted every `retryInterval` up to `retries` times (the spec's Tretry
 * and Nretry, section 6.13); replies are matched by message type and MsgId. Incoming PUBLISHes
 * are acknowledged after the handler has run.
 *
 * A gateway that lost this client (it restarted, or timed the client out) shows it by an
 * unsolicited DISCONNECT, by refusing a registered topic id, or by silence (no answer after
 * Nretry, PINGREQ included). The client then CONNECTs again (every Tretry until it is accepted),
 * registers and subscribes again, and re-sends what was in flight with the same MsgIds, so the
 * requests waiting on it just take longer. With `reconnect: false` they reject instead.
 */
import { localError, MqttError } from '../errors.ts';
import {
  DEFAULT_SN_KEEPALIVE_S,
  DEFAULT_SN_RETRIES,
  DEFAULT_SN_RETRY_INTERVAL_MS,
  type SnClientOptions,
  type SnClientPhase,
  type SnReceived,
  type SnWill,
} from './client-options.ts';
import { SnRequests } from './client-requests.ts';
import {
  decodeSn,
  encodeSn,
  type SnMessage,
  type SnPublish,
  type SnQoS,
  SnReturnCode,
  type SnSubscribeTopic,
  type SnTopic,
} from './codec/index.ts';
import type { SnTransport } from './transport.ts';

export * from './client-options.ts';

/** A request cut short because the client is connecting again: the operation starts over. */
class Restarted extends Error {
  /** Set when the gateway refused a registered topic id (rather than the client reconnecting on its own). */
  constructor(readonly refusal = false) {
    super('reconnecting');
  }
}

/** An MQTT-SN 1.2 client: one gateway, one transport, await-able requests. */
export class SnClient {
  private readonly opts: Required<Omit<SnClientOptions, 'will'>> & { will: SnWill | undefined };
  private readonly requests: SnRequests;
  private nextMsgId = 1;
  /** Topic name to id, and back, for normal ids (both directions of REGISTER, and SUBACK). */
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();
  /** Inbound QoS 2 ids between PUBREC and PUBREL: a DUP PUBLISH there is not delivered again. */
  private readonly inboundQos2 = new Set<number>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private handler: (m: SnReceived) => void | Promise<void> = () => {};
  private closed = false;
  private pinging = false;
  /** Subscriptions made, renewed after a reconnection (the gateway may have forgotten them). */
  private readonly subscriptions = new Map<string, { topic: SnSubscribeTopic; qos: 0 | 1 | 2 }>();
  /** The reconnection under way; requests wait for it. */
  private restarting: Promise<void> | undefined;

  /** Where the client is. */
  phase: SnClientPhase = 'new';
  /** Malformed datagrams received (dropped). */
  malformed = 0;
  /** Times the client noticed the gateway had lost it and connected again. */
  reconnects = 0;

  /** A client over `transport`; nothing is sent until {@link SnClient.connect}. */
  constructor(
    private readonly transport: SnTransport,
    options: SnClientOptions,
  ) {
    this.opts = {
      clientId: options.clientId,
      keepalive: options.keepalive ?? DEFAULT_SN_KEEPALIVE_S,
      cleanSession: options.cleanSession ?? true,
      will: options.will,
      retryInterval: options.retryInterval ?? DEFAULT_SN_RETRY_INTERVAL_MS,
      retries: options.retries ?? DEFAULT_SN_RETRIES,
      predefinedTopics: options.predefinedTopics ?? new Map(),
      reconnect: options.reconnect ?? true,
    };
    this.requests = new SnRequests((m) => this.send(m), this.opts);
    transport.onDatagram((d) => this.received(d));
  }

  /** Sets the handler for delivered messages; it may be async (the ack waits for it). */
  onMessage(handler: (m: SnReceived) => void | Promise<void>): void {
    this.handler = handler;
  }

  /** The topic id a name was registered under, if any. */
  topicId(name: string): number | undefined {
    return this.ids.get(name);
  }

  /** CONNECT, with the will dialogue when a will is set; resolves on CONNACK accepted. */
  async connect(): Promise<void> {
    await this.handshake();
    this.phase = 'connected';
    this.startKeepalive();
  }

  private async handshake(): Promise<void> {
    const will = this.opts.will;
    const connect: SnMessage = {
      type: 'connect',
      will: will !== undefined,
      cleanSession: this.opts.cleanSession,
      duration: this.opts.keepalive,
      clientId: this.opts.clientId,
    };
    const connack = await this.request(
      connect,
      (m) => m.type === 'connack',
      undefined,
      (m) => {
        // The will dialogue runs inside the CONNECT exchange: answer the gateway's requests.
        if (m.type === 'willtopicreq' && will)
          this.send({
            type: 'willtopic',
            qos: will.qos ?? 0,
            retain: will.retain ?? false,
            topic: will.topic,
          });
        else if (m.type === 'willmsgreq' && will) this.send({ type: 'willmsg', message: will.payload });
        return m.type === 'willtopicreq' || m.type === 'willmsgreq';
      },
    );
    if (connack.type === 'connack' && connack.returnCode !== SnReturnCode.Accepted)
      throw new MqttError('CONNECTION_REFUSED', `MQTT-SN CONNACK return code ${connack.returnCode}`, {
        reasonCode: connack.returnCode,
        side: 'remote',
      });
  }

  /** Registers a topic name; resolves with its id. */
  register(topicName: string): Promise<number> {
    return this.retrying(() => this.registerOnce(topicName));
  }

  private async registerOnce(topicName: string): Promise<number> {
    const msgId = this.msgId();
    const ack = await this.request(
      { type: 'register', topicId: 0, msgId, topicName },
      isAck('regack', msgId),
    );
    if (ack.type !== 'regack') throw localError('PROTOCOL_ERROR', 'unexpected reply');
    // A gateway that restarted may refuse a REGISTER it does not expect: connect again, then retry.
    if (ack.returnCode === SnReturnCode.RejectedInvalidTopicId && this.lostUs()) throw new Restarted(true);
    refused(ack.returnCode, 'REGISTER');
    this.remember(topicName, ack.topicId);
    return ack.topicId;
  }

  /**
   * Publishes. A string topic is registered first if it is not yet; QoS -1 needs a pre-defined or
   * short topic and no connection. Resolves when the QoS flow completes.
   */
  async publish(
    topic: string | SnTopic,
    data: Uint8Array,
    options: { qos?: SnQoS; retain?: boolean } = {},
  ): Promise<void> {
    const qos = options.qos ?? 0;
    const ref = async (): Promise<SnTopic> =>
      typeof topic === 'string'
        ? { type: 'normal', id: this.ids.get(topic) ?? (await this.registerOnce(topic)) }
        : topic;
    const base = { type: 'publish', qos, retain: options.retain ?? false, data } as const;
    if (qos <= 0) {
      const t = qos === 0 ? await this.retrying(ref) : await ref();
      this.send({ ...base, dup: false, topic: t, msgId: 0 });
      return;
    }
    // One MsgId for the whole flow, across reconnections: the gateway recognises a re-send by it.
    const msgId = this.msgId();
    let sent = false;
    let released = false;
    await this.retrying(async () => {
      if (!released) {
        const t = await ref();
        const msg: SnPublish = { ...base, dup: sent, topic: t, msgId };
        sent = true;
        const ack = await this.request(
          msg,
          (m) => (m.type === 'pubrec' || m.type === 'puback') && m.msgId === msgId,
          { ...msg, dup: true },
        );
        if (ack.type === 'puback') {
          // A registered id the gateway no longer knows: it lost this client.
          if (
            ack.returnCode === SnReturnCode.RejectedInvalidTopicId &&
            typeof topic === 'string' &&
            this.lostUs()
          )
            throw new Restarted(true);
          refused(ack.returnCode, 'PUBLISH');
          return;
        }
        released = true;
      }
      await this.request({ type: 'pubrel', msgId }, isAck('pubcomp', msgId));
    });
  }

  /** Subscribes; resolves with the granted QoS and the topic id (0 for a wildcard filter). */
  async subscribe(
    topic: string | SnSubscribeTopic,
    qos: 0 | 1 | 2 = 0,
  ): Promise<{ topicId: number; qos: 0 | 1 | 2 }> {
    const ref: SnSubscribeTopic = typeof topic === 'string' ? { type: 'name', name: topic } : topic;
    const granted = await this.retrying(() => this.subscribeOnce(ref, qos));
    this.subscriptions.set(subscriptionKey(ref), { topic: ref, qos });
    return granted;
  }

  private async subscribeOnce(
    ref: SnSubscribeTopic,
    qos: 0 | 1 | 2,
  ): Promise<{ topicId: number; qos: 0 | 1 | 2 }> {
    const msgId = this.msgId();
    const msg: SnMessage = { type: 'subscribe', dup: false, qos, msgId, topic: ref };
    const ack = await this.request(msg, isAck('suback', msgId), { ...msg, dup: true });
    if (ack.type !== 'suback') throw localError('PROTOCOL_ERROR', 'unexpected reply');
    refused(ack.returnCode, 'SUBSCRIBE');
    if (ref.type === 'name' && ack.topicId !== 0) this.remember(ref.name, ack.topicId);
    return { topicId: ack.topicId, qos: ack.qos };
  }

  /** Unsubscribes; resolves on UNSUBACK. */
  async unsubscribe(topic: string | SnSubscribeTopic): Promise<void> {
    const ref: SnSubscribeTopic = typeof topic === 'string' ? { type: 'name', name: topic } : topic;
    this.subscriptions.delete(subscriptionKey(ref));
    const msgId = this.msgId();
    await this.retrying(() =>
      this.request({ type: 'unsubscribe', msgId, topic: ref }, isAck('unsuback', msgId)),
    );
  }

  /** PINGREQ; resolves on PINGRESP. */
  async ping(): Promise<void> {
    await this.request({ type: 'pingreq' }, (m) => m.type === 'pingresp');
  }

  /** Updates the will topic (undefined deletes the will). */
  async updateWillTopic(topic: string | undefined, qos: 0 | 1 | 2 = 0, retain = false): Promise<void> {
    const r = await this.request(
      { type: 'willtopicupd', qos, retain, topic },
      (m) => m.type === 'willtopicresp',
    );
    if (r.type === 'willtopicresp') refused(r.returnCode, 'WILLTOPICUPD');
  }

  /** Updates the will message; resolves on WILLMSGRESP. */
  async updateWillMessage(payload: Uint8Array): Promise<void> {
    const r = await this.request({ type: 'willmsgupd', message: payload }, (m) => m.type === 'willmsgresp');
    if (r.type === 'willmsgresp') refused(r.returnCode, 'WILLMSGUPD');
  }

  /** Goes to sleep for `seconds` (DISCONNECT with a duration); keepalive pings stop. */
  async sleep(seconds: number): Promise<void> {
    this.stopKeepalive();
    this.phase = 'asleep';
    await this.request({ type: 'disconnect', duration: seconds }, (m) => m.type === 'disconnect');
  }

  /**
   * Wakes to collect what was buffered: PINGREQ with the client id; the buffered messages arrive
   * (through the handler) before the PINGRESP that resolves this. The device stays asleep after.
   */
  async awake(): Promise<void> {
    await this.request({ type: 'pingreq', clientId: this.opts.clientId }, (m) => m.type === 'pingresp');
  }

  /** DISCONNECT; resolves on the gateway's DISCONNECT. The transport stays open. */
  async disconnect(): Promise<void> {
    this.stopKeepalive();
    this.phase = 'disconnected';
    await this.request({ type: 'disconnect' }, (m) => m.type === 'disconnect');
  }

  /** Stops timers, fails what is pending and closes the transport; sends nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.phase = 'closed';
    this.stopKeepalive();
    this.requests.failAll(localError('CLIENT_CLOSED', 'the MQTT-SN client was closed'));
    this.transport.close();
  }

  private startKeepalive(): void {
    this.stopKeepalive();
    if (this.opts.keepalive === 0) return;
    this.pingTimer = setInterval(() => void this.keepalivePing(), this.opts.keepalive * 1000);
    this.pingTimer.unref?.();
  }

  /** A PINGREQ that gets no PINGRESP after Nretry means the gateway is gone. */
  private async keepalivePing(): Promise<void> {
    if (this.pinging || this.phase !== 'connected') return;
    this.pinging = true;
    try {
      await this.retrying(() => this.request({ type: 'pingreq' }, (m) => m.type === 'pingresp'));
    } catch {
      // Closed, or reconnect off: nothing to do from a timer.
    } finally {
      this.pinging = false;
    }
  }

  /** Whether reconnecting is on and the client is connected (so a sign of a lost session counts). */
  private lostUs(): boolean {
    return this.opts.reconnect && this.phase === 'connected';
  }

  /**
   * Runs `op` (one attempt of a request), again after each reconnection that cut it short, and
   * after a TIMEOUT once the client has connected again (a silent gateway is a lost one).
   */
  private async retrying<T>(op: () => Promise<T>): Promise<T> {
    let refusals = 0;
    for (;;) {
      if (this.restarting) await this.restarting;
      if (this.closed) throw localError('CLIENT_CLOSED', 'the MQTT-SN client was closed');
      try {
        return await op();
      } catch (error) {
        if (error instanceof Restarted) {
          // Refused again after connecting anew: the gateway means it.
          if (error.refusal && ++refusals > 1)
            throw new MqttError('REFUSED', 'MQTT-SN topic id refused again after reconnecting', {
              reasonCode: SnReturnCode.RejectedInvalidTopicId,
              side: 'remote',
            });
          this.restart();
          continue;
        }
        if (error instanceof MqttError && error.code === 'TIMEOUT' && this.lostUs()) {
          this.restart();
          continue;
        }
        throw error;
      }
    }
  }

  /** The gateway lost this client: CONNECT again until accepted, register and subscribe again. */
  private restart(): void {
    if (this.restarting || !this.lostUs()) return;
    this.phase = 'reconnecting';
    this.reconnects++;
    this.stopKeepalive();
    // The gateway's topic ids are gone with its state; they are registered again on use.
    this.ids.clear();
    this.names.clear();
    this.requests.failAll(new Restarted());
    this.restarting = (async () => {
      while (!this.closed) {
        try {
          await this.handshake();
          for (const s of this.subscriptions.values()) await this.subscribeOnce(s.topic, s.qos);
          break;
        } catch {
          this.requests.forget();
          await new Promise((r) => setTimeout(r, this.opts.retryInterval));
        }
      }
      this.restarting = undefined;
      if (this.closed) return;
      this.phase = 'connected';
      this.startKeepalive();
    })();
  }

  private stopKeepalive(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private remember(name: string, id: number): void {
    this.ids.set(name, id);
    this.names.set(id, name);
  }

  private msgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  private send(msg: SnMessage): void {
    if (!this.closed) this.transport.send(encodeSn(msg));
  }

  private request(
    msg: SnMessage,
    match: (m: SnMessage) => boolean,
    retry: SnMessage = msg,
    interim?: (m: SnMessage) => boolean,
  ): Promise<SnMessage> {
    if (this.closed) return Promise.reject(localError('CLIENT_CLOSED', 'the MQTT-SN client was closed'));
    return this.requests.request(msg, match, retry, interim);
  }

  private received(datagram: Uint8Array): void {
    let msg: SnMessage;
    try {
      msg = decodeSn(datagram);
    } catch {
      this.malformed++;
      return;
    }
    switch (msg.type) {
      case 'publish':
        void this.deliver(msg);
        return;
      case 'register':
        // The gateway names a topic before it forwards a PUBLISH matching a wildcard.
        this.remember(msg.topicName, msg.topicId);
        this.send({
          type: 'regack',
          topicId: msg.topicId,
          msgId: msg.msgId,
          returnCode: SnReturnCode.Accepted,
        });
        return;
      case 'pubrel':
        this.inboundQos2.delete(msg.msgId);
        this.send({ type: 'pubcomp', msgId: msg.msgId });
        return;
      default:
        if (this.requests.answer(msg)) return;
        // A DISCONNECT nobody asked for: the gateway no longer has this client (spec 6.12).
        if (msg.type === 'disconnect' && this.lostUs()) this.restart();
    }
  }

  private async deliver(msg: SnPublish): Promise<void> {
    const known =
      msg.topic.type === 'short'
        ? msg.topic.name
        : msg.topic.type === 'predefined'
          ? this.opts.predefinedTopics.get(msg.topic.id)
          : this.names.get(msg.topic.id);
    if (msg.topic.type === 'normal' && known === undefined && msg.qos > 0) {
      this.send({
        type: 'puback',
        topicId: msg.topic.id,
        msgId: msg.msgId,
        returnCode: SnReturnCode.RejectedInvalidTopicId,
      });
      return;
    }
    // A QoS 2 id is kept until PUBREL; a DUP PUBLISH with it is a re-send (the gateway's, or after a
    // gateway restart the broker's, which reuses its packet id). Without DUP it is a new message.
    const duplicate = msg.qos === 2 && msg.dup && this.inboundQos2.has(msg.msgId);
    if (!duplicate) {
      if (msg.qos === 2) this.inboundQos2.add(msg.msgId);
      try {
        await this.handler({
          topic: known,
          topicRef: msg.topic,
          data: msg.data,
          qos: msg.qos,
          retain: msg.retain,
          dup: msg.dup,
        });
      } catch {
        // A throwing handler must not stop the protocol; the message counts as taken.
      }
    }
    const topicId = msg.topic.type === 'short' ? 0 : msg.topic.id;
    if (msg.qos === 1)
      this.send({ type: 'puback', topicId, msgId: msg.msgId, returnCode: SnReturnCode.Accepted });
    else if (msg.qos === 2) this.send({ type: 'pubrec', msgId: msg.msgId });
  }
}

function subscriptionKey(t: SnSubscribeTopic): string {
  return t.type === 'predefined' ? `p:${t.id}` : `${t.type}:${t.name}`;
}

function isAck(type: 'regack' | 'puback' | 'suback' | 'unsuback' | 'pubcomp', msgId: number) {
  return (m: SnMessage) => m.type === type && m.msgId === msgId;
}

function refused(returnCode: number, what: string): void {
  if (returnCode !== SnReturnCode.Accepted)
    throw new MqttError('REFUSED', `MQTT-SN ${what} refused with return code ${returnCode}`, {
      reasonCode: returnCode,
      side: 'remote',
    });
}
