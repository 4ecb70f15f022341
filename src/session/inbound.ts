/**
 * Inbound publications: acknowledgements, exactly-once delivery for QoS 2,
 * our Receive Maximum, and topic aliases set by the broker.
 *
 * QoS 2 (method B of the spec): a message is delivered when its PUBLISH first
 * arrives, and its packet id is remembered until PUBREL, so a duplicate PUBLISH
 * in between (after a reconnect, with DUP set) is acknowledged but never
 * delivered again.
 */

import { encodeFromClient } from '../codec/client-role.ts';
import type { AckPacket, ProtocolVersion, PublishPacket } from '../codec/types.ts';
import { isWellFormedUtf8 } from '../codec/utf8.ts';
import { MqttError } from '../errors.ts';
import type { InboundQos2State, SessionStore } from './store.ts';
import { InboundAliases } from './topic-aliases.ts';
import type { SessionEvent } from './types.ts';

interface InboundIo {
  send(bytes: Uint8Array): void;
  emit(event: SessionEvent): void;
}

/** A QoS 2 id is held from the first PUBLISH to PUBREL; `acked` once PUBREC went out. */
type Qos2State = InboundQos2State;

export class Inbound {
  /** QoS 2 packet ids between PUBLISH and PUBREL. Part of the session: survives reconnects. */
  get qos2(): Map<number, Qos2State> {
    this.#qos2Map ??= new Map();
    return this.#qos2Map;
  }
  /** Made on first use (~200 bytes): most clients never receive QoS 2. */
  #qos2Map: Map<number, Qos2State> | undefined;
  /** QoS 1 ids delivered on this connection and not yet acknowledged (manual ack). */
  #qos1Pending: Set<number> | undefined;
  /**
   * QoS 2 ids held whose PUBLISH came on this connection: what counts against
   * our Receive Maximum, which applies per connection (5.0 section 4.9). Ids
   * held from an earlier connection await only a PUBREL, which the broker's
   * restarted send quota does not count.
   */
  #qos2ThisConnection: Set<number> | undefined;
  readonly aliases = new InboundAliases();
  #version: ProtocolVersion = 5;
  /** Counts connections, so that a manual ack for a message of an earlier connection is dropped. */
  epoch = 0;
  #connected = false;

  constructor(
    private readonly io: InboundIo,
    private readonly receiveMaximum: number,
    private readonly manualAck: boolean,
    private readonly store?: SessionStore,
  ) {}

  /**
   * Takes back a QoS 2 id from the store. An 'acked' one was delivered: a
   * re-sent PUBLISH is answered, never delivered again. A 'delivered' one was
   * never acknowledged by the application (manual ack) before the process
   * ended, so it is forgotten: the broker's re-send delivers it again.
   */
  restore(packetId: number, state: Qos2State): void {
    if (state === 'acked') this.qos2.set(packetId, 'acked');
    else this.store?.removeInbound(packetId);
  }

  up(version: ProtocolVersion, topicAliasMaximum: number, sessionPresent: boolean): void {
    this.#connected = true;
    this.#version = version;
    this.epoch++;
    // Both made on first use, as most clients never receive QoS 1/2 (or never ack by hand).
    this.#qos1Pending?.clear();
    this.#qos2ThisConnection?.clear();
    this.aliases.reset(topicAliasMaximum);
    // A broker without our session will not send PUBREL for ids we hold.
    if (!sessionPresent && this.#qos2Map !== undefined && this.#qos2Map.size > 0) {
      this.#qos2Map.clear();
      this.store?.clearInbound();
    }
  }

  down(): void {
    this.#connected = false;
  }

  onPublish(p: PublishPacket): void {
    const alias = p.properties?.topicAlias;
    if (alias !== undefined) p.topic = this.aliases.resolve(p.topic, alias);
    if (p.properties?.payloadFormatIndicator === true && !isWellFormedUtf8(p.payload)) {
      // Flagged as UTF-8 but is not: refuse it with 0x99 Payload format invalid, never deliver it [MQTT-3.3.2-4].
      if (p.qos > 0) {
        const type = p.qos === 1 ? 'puback' : 'pubrec';
        this.io.send(encodeFromClient({ type, packetId: p.packetId!, reasonCode: 0x99 }, this.#version));
      }
      return;
    }
    if (p.qos === 0) {
      this.io.emit({ type: 'message', message: p });
      return;
    }
    const id = p.packetId!;
    if (p.qos === 1) {
      this.#checkQuota(this.#qos1Pending?.has(id) ? 0 : 1);
      if (this.manualAck) {
        this.#qos1Pending ??= new Set();
        this.#qos1Pending.add(id);
      }
      this.io.emit({ type: 'message', message: p });
      if (!this.manualAck) this.io.send(encodeFromClient({ type: 'puback', packetId: id }, this.#version));
      return;
    }
    this.#qos2ThisConnection ??= new Set();
    const thisConnection = this.#qos2ThisConnection;
    if (!thisConnection.has(id)) {
      this.#checkQuota(1);
      thisConnection.add(id);
    }
    const state = this.qos2.get(id);
    if (state !== undefined) {
      // Already delivered: never again. Repeat PUBREC if it went out; otherwise the app still owes its ack.
      if (state === 'acked') this.io.send(encodeFromClient({ type: 'pubrec', packetId: id }, this.#version));
      return;
    }
    this.qos2.set(id, 'delivered');
    // Stored before delivery, so that after a crash a re-sent PUBLISH is never delivered twice.
    // Without manual ack the PUBREC follows at once: store the final state in one write.
    if (this.store !== undefined) {
      this.store.setInbound(id, this.manualAck ? 'delivered' : 'acked');
      // Durable before delivery, not just before the next write: a power loss right after the
      // application saw the message must not let the broker's re-send deliver it again.
      this.store.sync();
    }
    this.io.emit({ type: 'message', message: p });
    if (!this.manualAck) this.#ackQos2(id, 0);
  }

  #ackQos2(id: number, reasonCode: number): void {
    if (reasonCode >= 0x80) {
      // A refused QoS 2 message ends here: the broker sends no PUBREL for it.
      this.qos2.delete(id);
      this.#qos2ThisConnection?.delete(id);
      this.store?.removeInbound(id);
    } else {
      if (this.manualAck && this.qos2.get(id) === 'delivered') this.store?.setInbound(id, 'acked');
      this.qos2.set(id, 'acked');
    }
    this.io.send(encodeFromClient({ type: 'pubrec', packetId: id, reasonCode }, this.#version));
  }

  #checkQuota(adding: number): void {
    const held = (this.#qos1Pending?.size ?? 0) + (this.#qos2ThisConnection?.size ?? 0) + adding;
    if (held > this.receiveMaximum) {
      throw new MqttError(
        'PROTOCOL_ERROR',
        `the broker exceeded our Receive Maximum of ${this.receiveMaximum}`,
        {
          side: 'remote',
          reasonCode: 0x93,
        },
      );
    }
  }

  onPubrel(p: AckPacket<'pubrel'>): void {
    const known = this.qos2.delete(p.packetId);
    if (known) this.store?.removeInbound(p.packetId);
    this.#qos2ThisConnection?.delete(p.packetId);
    // Unknown id: we released it already (a repeated PUBREL); still complete the broker's flow.
    const reasonCode = known || this.#version === 4 ? 0 : 0x92;
    this.io.send(encodeFromClient({ type: 'pubcomp', packetId: p.packetId, reasonCode }, this.#version));
  }

  /**
   * The application has processed a message (manual ack). `epoch` is the one
   * the message arrived in: after a reconnect the broker re-sends unacknowledged
   * messages itself, so an ack for the old connection is dropped.
   */
  acknowledge(packetId: number, qos: 1 | 2, epoch: number, reasonCode = 0): boolean {
    if (qos === 1) {
      if (epoch !== this.epoch || !this.#connected || !this.#qos1Pending?.delete(packetId)) return false;
      this.io.send(encodeFromClient({ type: 'puback', packetId, reasonCode }, this.#version));
      return true;
    }
    // QoS 2 state belongs to the session, not the connection: the ack counts whenever it comes.
    if (this.qos2.get(packetId) !== 'delivered') return false;
    if (this.#connected) {
      this.#ackQos2(packetId, reasonCode);
    } else if (reasonCode >= 0x80) {
      this.qos2.delete(packetId);
      this.store?.removeInbound(packetId);
    } else {
      // PUBREC goes out when the broker re-sends the PUBLISH after the reconnect.
      this.qos2.set(packetId, 'acked');
      this.store?.setInbound(packetId, 'acked');
    }
    return true;
  }
}
