/**
 * Outbound publications: the queue, the QoS 1 and QoS 2 flows, the broker's
 * Receive Maximum, topic aliases, and re-sending after a reconnect.
 *
 * One FIFO holds everything not yet sent, QoS 0 included, so messages leave
 * in the order the application published them. A QoS 1/2 message takes a
 * packet id when it first leaves and keeps it until its final ack, across any
 * number of reconnects.
 */

import { ackBytes } from '../codec/ack.ts';
import { encodeFromClient } from '../codec/client-role.ts';
import { isFailure, ReasonCode, reasonCodeName } from '../codec/reason-codes.ts';
import type { AckPacket, Properties, ProtocolVersion, PublishPacket, QoS } from '../codec/types.ts';
import { localError, MqttError } from '../errors.ts';
import type { PacketIds } from './packet-ids.ts';
import { PublishQueue, type QueueLimits } from './publish-queue.ts';
import type { SessionStore } from './store.ts';
import type { OutboundAliases } from './topic-aliases.ts';
import type { OutboundMessage, OutboundRecord, SessionEvent, SessionIo } from './types.ts';

/** What the broker's CONNACK allows on this connection. */
export interface BrokerLimits {
  version: ProtocolVersion;
  /** The broker's Receive Maximum: QoS 1/2 publications unacknowledged at once. */
  sendQuota: number;
  /** The largest packet the broker accepts. */
  maximumPacketSize: number;
  maximumQoS: QoS;
  retainAvailable: boolean;
}

const NO_PAYLOAD = new Uint8Array(0);

export class Outbound<P> {
  /** Made on first use (~200 bytes): an idle client never needs it. */
  #inflightMap: Map<number, OutboundRecord<P>> | undefined;

  /** QoS 1/2 messages sent and not finished, by packet id, in the order they were first sent. */
  get inflight(): Map<number, OutboundRecord<P>> {
    this.#inflightMap ??= new Map();
    return this.#inflightMap;
  }
  /** Messages not sent yet, in publish order, with the bounds on what the client holds. */
  readonly queue: PublishQueue<P>;
  /** In-flight messages to send again on this connection, in order (after a reconnect). */
  #resend: OutboundRecord<P>[] = [];
  #resendNext = 0;
  #limits: BrokerLimits | undefined;
  #nextKey = 1;
  /** PUBLISH and PUBREL packets sent again after a reconnect, since the session began. */
  resent = 0;
  /** The PUBLISH being encoded (see #encodePublish); optional fields always present, so its shape stays one. */
  readonly #packet: Omit<PublishPacket, 'packetId' | 'properties'> & {
    packetId: number | undefined;
    properties: Properties | undefined;
  } = {
    type: 'publish',
    topic: '',
    payload: NO_PAYLOAD,
    qos: 0,
    retain: false,
    dup: false,
    packetId: undefined,
    properties: undefined,
  };
  /** `{ topicAlias: n }` by n, shared by every PUBLISH that has no other property; never modified. */
  readonly #aliasOnly: Properties[] = [];

  constructor(
    private readonly io: SessionIo<P, never>,
    private readonly ids: PacketIds,
    private readonly aliases: OutboundAliases,
    private readonly store: SessionStore | undefined,
    queueLimits: QueueLimits,
  ) {
    this.queue = new PublishQueue(
      queueLimits,
      (dropped) =>
        this.#fail(dropped, new MqttError('QUEUE_FULL', 'dropped from a full queue to make room (QoS 0)')),
      (accepted) => {
        if (accepted.message.qos > 0) this.store?.addOutbound(accepted);
      },
    );
  }

  /** Messages waiting to be sent (not counting those in flight or parked by back-pressure). */
  get queued(): number {
    return this.queue.length;
  }

  /** Every publication not finished yet (in flight, queued, parked), oldest first. */
  records(): OutboundRecord<P>[] {
    const inflight = this.#inflightMap === undefined ? [] : [...this.#inflightMap.values()];
    return [...inflight, ...this.queue.records()].sort((a, b) => a.key - b.key);
  }

  /** Accepts a publication; it goes out now if the link is up and the quota allows. */
  publish(message: OutboundMessage, token: P, now: number): void {
    const record: OutboundRecord<P> = {
      key: this.#nextKey++,
      message,
      packetId: 0,
      state: 'queued',
      acceptedAt: now,
      token,
    };
    if (this.queue.offer(record) === 'rejected') {
      return this.#fail(record, new MqttError('QUEUE_FULL', 'the outbound queue is full'));
    }
    if (this.#limits !== undefined) this.pump(now);
  }

  /** Puts back a record restored from a store: in flight when it has a packet id, else queued. */
  restore(record: OutboundRecord<P>): void {
    this.#nextKey = Math.max(this.#nextKey, record.key + 1);
    if (record.state === 'queued') {
      this.queue.restore(record, true);
    } else {
      this.queue.restore(record, false);
      this.ids.claim(record.packetId);
      this.inflight.set(record.packetId, record);
    }
  }

  /**
   * The connection is up: re-send what was in flight, then drain the queue.
   * Without the broker's session, a PUBREC'd message is complete: the broker
   * took ownership at PUBREC [MQTT-4.3.3-2], our state for it is discarded
   * [MQTT-3.2.2-5], and re-sending its PUBLISH could only duplicate it.
   */
  up(limits: BrokerLimits, now: number, sessionPresent = true): void {
    this.#limits = limits;
    if (!sessionPresent) {
      for (const record of this.#inflightMap === undefined ? [] : [...this.#inflightMap.values()]) {
        if (record.state === 'received') this.#complete(record, 0, undefined);
      }
    }
    this.#resend = this.#inflightMap === undefined ? [] : [...this.#inflightMap.values()];
    this.#resendNext = 0;
    this.pump(now);
  }

  down(): void {
    this.#limits = undefined;
    this.#resend = [];
    this.#resendNext = 0;
  }

  /** Sends as much as the broker's quota allows: re-sends first, in order, then new messages. */
  pump(now: number): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    for (;;) {
      const active = (this.#inflightMap?.size ?? 0) - (this.#resend.length - this.#resendNext);
      if (this.#resendNext < this.#resend.length) {
        if (active >= limits.sendQuota) return;
        this.#sendAgain(this.#resend[this.#resendNext++]);
        continue;
      }
      const next = this.queue.peek();
      if (next === undefined) {
        if (this.queue.waitingCount > 0 && this.queue.admit() > 0) continue;
        return;
      }
      if (next.message.qos > 0 && active >= limits.sendQuota) return;
      this.#sendFirst(this.queue.shift(), limits, now);
    }
  }

  /** Ends a publication that was not accepted, or that left the queue and never went out. */
  #fail(record: OutboundRecord<P>, error: MqttError): void {
    this.io.emit({ type: 'publish-failed', token: record.token, error });
  }

  /** A held message leaves the client for good: out of the store, its room freed. */
  #drop(record: OutboundRecord<P>): void {
    if (record.message.qos > 0) this.store?.removeOutbound(record);
    this.queue.release(record);
  }

  #sendFirst(record: OutboundRecord<P>, limits: BrokerLimits, now: number): void {
    const m = record.message;
    if (m.qos > limits.maximumQoS) {
      this.#drop(record);
      return this.#fail(
        record,
        refusal(ReasonCode.QoSNotSupported, `the broker supports QoS up to ${limits.maximumQoS}`),
      );
    }
    if (m.retain && !limits.retainAvailable) {
      this.#drop(record);
      return this.#fail(
        record,
        refusal(ReasonCode.RetainNotSupported, 'the broker does not support retained messages'),
      );
    }
    let properties = m.properties;
    const expiry = properties?.messageExpiryInterval;
    if (expiry !== undefined && limits.version === 5) {
      // The time spent queued counts against the message's lifetime [MQTT-3.3.2-6].
      const left = expiry - Math.floor((now - record.acceptedAt) / 1000);
      if (left <= 0) {
        this.#drop(record);
        return this.#fail(record, new MqttError('TIMEOUT', 'the message expired before it could be sent'));
      }
      if (left !== expiry) properties = { ...properties, messageExpiryInterval: left };
    }
    if (m.qos > 0) {
      const id = this.ids.take();
      if (id === undefined) {
        // Cannot happen while the quota is below 65,535; kept as a clear error rather than a hang.
        this.#drop(record);
        return this.#fail(record, localError('INVALID_ARGUMENT', 'all 65,535 packet identifiers are in use'));
      }
      record.packetId = id;
    }
    const bytes = this.#encodePublish(record, properties, false, limits);
    if (bytes === undefined) {
      if (m.qos > 0) this.ids.release(record.packetId);
      record.packetId = 0;
      this.#drop(record);
      return;
    }
    if (m.qos > 0) {
      record.state = 'sent';
      this.inflight.set(record.packetId, record);
      // Stored before the PUBLISH is written: a restart then re-sends it with the same id.
      this.store?.updateOutbound(record);
    } else {
      this.queue.release(record);
    }
    this.io.send(bytes);
    if (m.qos === 0) this.io.emit({ type: 'published', token: record.token, reasonCode: 0 });
  }

  #sendAgain(record: OutboundRecord<P>): void {
    const limits = this.#limits!;
    this.resent++;
    if (record.state === 'received') {
      this.io.send(ackBytes('pubrel', record.packetId, ReasonCode.Success, limits.version));
      return;
    }
    const bytes = this.#encodePublish(record, record.message.properties, true, limits);
    if (bytes === undefined) {
      this.inflight.delete(record.packetId);
      this.ids.release(record.packetId);
      this.#drop(record);
      return;
    }
    this.io.send(bytes);
  }

  /** Encodes a PUBLISH, with a topic alias when the broker allows them; fails the record if it is too large. */
  #encodePublish(
    record: OutboundRecord<P>,
    properties: Properties | undefined,
    dup: boolean,
    limits: BrokerLimits,
  ): Uint8Array | undefined {
    const m = record.message;
    let topic = m.topic;
    // An empty topic gets no alias: it is invalid, and the encoder must refuse it rather than
    // send it as "topic '' with a new alias", which the broker answers by disconnecting (and
    // the re-send after every reconnect would be refused again, forever).
    const alias = limits.version === 5 && topic !== '' ? this.aliases.lookup(topic) : undefined;
    if (alias !== undefined) {
      // Without other properties (the common case) the alias-only object is made once per alias.
      if (properties === undefined) {
        this.#aliasOnly[alias.alias] ??= { topicAlias: alias.alias };
        properties = this.#aliasOnly[alias.alias];
      } else {
        properties = { ...properties, topicAlias: alias.alias };
      }
      if (alias.known) topic = '';
    }
    // One packet object for every PUBLISH, its fields set from the record: the encoder reads it
    // and keeps nothing, so a publication allocates no packet of its own.
    const packet = this.#packet;
    packet.topic = topic;
    packet.payload = m.payload;
    packet.qos = m.qos;
    packet.retain = m.retain;
    packet.dup = dup;
    packet.packetId = m.qos > 0 ? record.packetId : undefined;
    packet.properties = properties;
    let bytes: Uint8Array;
    try {
      bytes = encodeFromClient(packet as PublishPacket, limits.version);
    } catch (error) {
      this.#fail(record, error as MqttError);
      return undefined;
    } finally {
      packet.payload = NO_PAYLOAD; // the payload is not held past its encoding
      packet.properties = undefined;
    }
    if (bytes.length > limits.maximumPacketSize) {
      this.#fail(
        record,
        localError(
          'PACKET_TOO_LARGE',
          `a ${bytes.length}-byte PUBLISH exceeds the broker's maximum packet size of ${limits.maximumPacketSize}`,
        ),
      );
      return undefined;
    }
    if (alias !== undefined) this.aliases.use(m.topic, alias.alias);
    return bytes;
  }

  #finish(
    record: OutboundRecord<P>,
    reasonCode: number,
    properties: Properties | undefined,
    now: number,
  ): void {
    this.#complete(record, reasonCode, properties);
    this.pump(now);
  }

  #complete(record: OutboundRecord<P>, reasonCode: number, properties: Properties | undefined): void {
    this.inflight.delete(record.packetId);
    this.ids.release(record.packetId);
    this.#drop(record);
    if (isFailure(reasonCode)) {
      this.#fail(record, refusal(reasonCode, properties?.reasonString));
    } else {
      const event: SessionEvent<P, never> = { type: 'published', token: record.token, reasonCode };
      if (properties !== undefined) event.properties = properties;
      this.io.emit(event);
    }
  }

  onPuback(p: AckPacket<'puback'>, now: number): void {
    const record = this.inflight.get(p.packetId);
    // An ack for an id we do not have in flight is a late duplicate: nothing to do.
    if (record === undefined || record.message.qos !== 1) return;
    this.#finish(record, p.reasonCode ?? 0, p.properties, now);
  }

  onPubrec(p: AckPacket<'pubrec'>, now: number): void {
    const version = this.#limits?.version ?? 5;
    const record = this.inflight.get(p.packetId);
    if (record === undefined || record.message.qos !== 2) {
      // The broker still holds a flow we finished: release its id so it can complete [MQTT-4.3.3].
      const code = version === 5 ? ReasonCode.PacketIdentifierNotFound : ReasonCode.Success;
      this.io.send(ackBytes('pubrel', p.packetId, code, version));
      return;
    }
    const code = p.reasonCode ?? 0;
    if (isFailure(code)) return this.#finish(record, code, p.properties, now);
    if (record.state !== 'received') {
      record.state = 'received';
      // Stored before the PUBREL is written: a restart then re-sends PUBREL, never the PUBLISH.
      this.store?.updateOutbound(record);
    }
    this.io.send(ackBytes('pubrel', p.packetId, ReasonCode.Success, version));
  }

  onPubcomp(p: AckPacket<'pubcomp'>, now: number): void {
    const record = this.inflight.get(p.packetId);
    if (record === undefined || record.state !== 'received') return;
    // 0x92 "is not an error during recovery" (MQTT 5 3.7.2.1): the broker released the id and its
    // PUBCOMP was lost in an outage. The message was accepted at PUBREC, so this completes it.
    const code =
      p.reasonCode === ReasonCode.PacketIdentifierNotFound ? ReasonCode.Success : (p.reasonCode ?? 0);
    this.#finish(record, code, p.properties, now);
  }

  /** Ends every publication with `error` (the client is closing for good): nothing stays stored. */
  failAll(error: MqttError): void {
    const records = this.#inflightMap === undefined ? [] : [...this.#inflightMap.values()];
    this.#inflightMap?.clear();
    this.#resend = [];
    this.#resendNext = 0;
    for (const record of records) {
      this.ids.release(record.packetId);
      this.#drop(record);
    }
    const { queued, parked } = this.queue.clear();
    for (const record of queued) {
      if (record.message.qos > 0) this.store?.removeOutbound(record);
    }
    for (const record of [...records, ...queued, ...parked]) this.#fail(record, error);
  }

  /**
   * Withdraws a publication that has not been sent (queued, or parked by
   * back-pressure); false when it already left: its flow then runs to the end.
   */
  withdraw(token: P): boolean {
    const record = this.queue.remove(token);
    if (record === undefined) return false;
    if (record.message.qos > 0) this.store?.removeOutbound(record);
    this.queue.admit();
    return true;
  }
}

/** The broker answered with a failure reason code. */
export function refusal(reasonCode: number, detail?: string): MqttError {
  const name = reasonCodeName(reasonCode);
  return new MqttError('REFUSED', detail ? `${name}: ${detail}` : name, { reasonCode, side: 'remote' });
}
