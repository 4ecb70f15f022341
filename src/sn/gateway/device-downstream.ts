/**
 * Messages from the broker on their way to one device: queued in order, delivered one flow at a
 * time (MQTT-SN allows a device one outstanding message per direction), each gateway request
 * retransmitted every Tretry up to Nretry times. A QoS 1/2 message is acknowledged to the broker
 * (the Client's `manualAck`) only once the device has it, so a device that sleeps or vanishes loses
 * nothing: the broker still has what the device did not take.
 */
import type { Message } from '../../client/message.ts';
import type { SnMessage, SnPublish, SnTopic } from '../codec/index.ts';
import type { ResolvedSnGatewayOptions } from './options.ts';

/** What the delivery needs from its device. */
export interface DownstreamHost {
  readonly options: ResolvedSnGatewayOptions;
  send(message: SnMessage): void;
  /** Whether the device can take a message now (connected, or awake to collect). */
  reachable(): boolean;
  /** How the device knows a topic name (pre-defined, short, registered); undefined: REGISTER first. */
  topicFor(name: string): SnTopic | undefined;
  /** The device's normal topic id for a name, assigned when new. */
  topicIdOf(name: string): number;
  /** The device did not answer after Nretry: it is lost. */
  unanswered(): void;
  /** Nothing is left to deliver (an awake sleeper then gets its PINGRESP). */
  drained(): void;
  /** A QoS 0 message for the device was dropped (queue full). */
  droppedQos0(): void;
}

interface Awaiting {
  match: (m: SnMessage) => boolean;
  resolve: (m: SnMessage | undefined) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class DownstreamFlows {
  /** What the broker sent, in order, not yet delivered. */
  private readonly queue: Message[] = [];
  private queuedQos0 = 0;
  private running = false;
  private awaiting: Awaiting | undefined;
  private nextMsgId = 1;

  constructor(private readonly host: DownstreamHost) {}

  /** A message from the broker for the device. */
  enqueue(m: Message): void {
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

  /** The device is gone: what was not delivered stays with the broker (none of it was acknowledged). */
  clear(): void {
    this.queue.length = 0;
    this.queuedQos0 = 0;
  }

  /** A message from the device that answers the request in flight; false when it answers nothing. */
  answer(msg: SnMessage): boolean {
    if (!this.awaiting?.match(msg)) return false;
    const a = this.awaiting;
    this.awaiting = undefined;
    clearTimeout(a.timer);
    a.resolve(msg);
    return true;
  }

  /** Stops the request in flight (as unanswered). */
  cancel(): void {
    if (!this.awaiting) return;
    clearTimeout(this.awaiting.timer);
    this.awaiting.resolve(undefined);
    this.awaiting = undefined;
  }

  /** Delivers queued messages one flow at a time while the device is reachable. */
  async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && this.host.reachable()) {
        const m = this.queue.shift()!;
        if (m.qos === 0) this.queuedQos0--;
        if (!(await this.deliver(m))) {
          this.host.unanswered();
          return;
        }
      }
      this.host.drained();
    } finally {
      this.running = false;
    }
  }

  /** One message to the device; false when the device did not answer. */
  private async deliver(m: Message): Promise<boolean> {
    let topic = this.host.topicFor(m.topic);
    if (topic === undefined) {
      const topicId = this.host.topicIdOf(m.topic);
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
      this.host.send(publish);
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
          this.host.send(retry);
          arm();
        }, retryInterval);
        a.timer.unref?.();
      };
      this.awaiting = a;
      this.host.send(msg);
      arm();
    });
  }
}
