/**
 * Inbound publications: acknowledgements, exactly-once delivery for QoS 2,
 * our Receive Maximum, and topic aliases set by the broker.
 *
 * QoS 2 (method B of the spec): a message is delivered when its PUBLISH first
 * arrives, and its packet id is remembered until PUBREL, so a duplicate PUBLISH
 * in between (after a reconnect, with DUP set) is acknowledged but never
 * delivered again.
 *
 * With `manualAck` (what the Client always uses) the host acknowledges each
 * QoS 1/2 message once the application has taken it. Until then its id is
 * "delivered": a PUBLISH the broker re-sends with that id (after a reconnect)
 * is the same message, since a sender may not reuse an id before its ack, so it
 * is not delivered again and the host's later ack answers it. An ack made
 * while the link is down is "owed" and answers the broker's re-send. Only the
 * final QoS 2 state ('acked', PUBREC sent) goes to the store: a process that
 * ends while the application holds a message has not acknowledged it, so the
 * broker delivers it again to the next process, as it should.
 */

import { ackBytes } from '../codec/ack.ts';
import { isFailure, ReasonCode } from '../codec/reason-codes.ts';
import type { AckPacket, ProtocolVersion, PublishPacket } from '../codec/types.ts';
import { isWellFormedUtf8 } from '../codec/utf8.ts';
import { RollbackGuard } from './rollback-guard.ts';
import type { InboundQos2State, SessionStore } from './store.ts';
import { InboundAliases } from './topic-aliases.ts';
import type { SessionIo } from './types.ts';

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
  /** Manual ack: QoS 1 ids the application holds, not acknowledged yet. Session state, like `qos2`. */
  #qos1Delivered: Set<number> | undefined;
  /** Manual ack: QoS 1 acks made while the link was down, by id: the reason code for the broker's re-send. */
  #qos1Owed: Map<number, number> | undefined;
  /**
   * QoS 1/2 ids whose PUBLISH came on this connection and is not answered yet
   * (PUBACK, PUBCOMP, or a refusing PUBREC): what counts against our Receive
   * Maximum, which applies per connection (5.0 section 4.9). QoS 2 ids held
   * from an earlier connection await only a PUBREL, which the broker's
   * restarted send quota does not count.
   */
  #thisConnection: Set<number> | undefined;
  /**
   * Manual ack: QoS 2 ids that name more than one message the application
   * holds (the broker reused an id whose flow it forgot), by id: how many acks
   * beyond one are owed before the PUBREC goes out.
   */
  #qos2ExtraHolders: Map<number, number> | undefined;
  readonly aliases = new InboundAliases();
  /** QoS 1/2 PUBLISH packets that came beyond our Receive Maximum (the broker's fault). */
  receiveMaximumExceeded = 0;
  /** The most QoS 1/2 messages unanswered at once on one connection, when that was beyond our Receive Maximum. */
  peakOverReceiveMaximum = 0;
  /** Recognises a broker's re-send of a QoS 2 message we completed (rollback-guard.ts). */
  readonly rollback: RollbackGuard;
  #version: ProtocolVersion = 5;
  /**
   * Counts sessions: it changes when a connection comes up without our session
   * (the broker lost it), so that a manual ack for a message of the old session,
   * whose id may now name another message, is dropped.
   */
  generation = 0;
  #connected = false;

  constructor(
    private readonly io: SessionIo<never, never>,
    private readonly receiveMaximum: number,
    private readonly manualAck: boolean,
    private readonly store?: SessionStore,
    rollbackGuard = 0,
  ) {
    this.rollback = new RollbackGuard(rollbackGuard);
  }

  /**
   * Takes back a QoS 2 id from the store. An 'acked' one was delivered: a
   * re-sent PUBLISH is answered, never delivered again. A 'delivered' one (an
   * older store) was never acknowledged by the application before the process
   * ended, so it is forgotten: the broker's re-send delivers it again.
   */
  restore(packetId: number, state: Qos2State): void {
    if (state === 'acked') this.qos2.set(packetId, 'acked');
    else this.store?.removeInbound(packetId);
  }

  up(version: ProtocolVersion, topicAliasMaximum: number, sessionPresent: boolean): void {
    this.#connected = true;
    this.#version = version;
    this.#thisConnection?.clear();
    this.aliases.reset(topicAliasMaximum);
    if (sessionPresent) return;
    // A broker without our session will not re-send or release ids we hold: they are void.
    this.generation++;
    this.#qos1Delivered?.clear();
    this.#qos1Owed?.clear();
    this.#qos2ExtraHolders?.clear();
    this.rollback.clear();
    if (this.#qos2Map !== undefined && this.#qos2Map.size > 0) {
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
        const reasonCode = ReasonCode.PayloadFormatInvalid;
        this.io.send(ackBytes(type, p.packetId!, reasonCode, this.#version));
      }
      return;
    }
    if (p.qos === 0) {
      this.io.emit({ type: 'message', message: p });
      return;
    }
    const id = p.packetId!;
    this.#countAgainstQuota(id);
    if (p.qos === 1) return this.#onQos1(p, id);
    const state = this.qos2.get(id);
    if (state !== undefined) {
      if (!this.rollback.reusesOpenId(id, p.topic, p.payload)) {
        // Already delivered: never again. Repeat PUBREC if it went out; otherwise the app still owes its ack.
        if (state === 'acked') this.io.send(ackBytes('pubrec', id, ReasonCode.Success, this.#version));
        return;
      }
      // Another message under a held id: the broker forgot the old flow (rollback-guard.ts). Deliver it.
      if (state === 'delivered') {
        // The application still holds the old one: the PUBREC waits for both acks.
        this.#qos2ExtraHolders ??= new Map();
        this.#qos2ExtraHolders.set(id, (this.#qos2ExtraHolders.get(id) ?? 0) + 1);
        this.io.emit({ type: 'message', message: p });
        return;
      }
      // The old one's PUBREC went out; the new one is not acknowledged yet: no final state to keep.
      this.store?.removeInbound(id);
    } else if (this.rollback.isRollbackCopy(id, p.dup, p.topic, p.payload)) {
      // The broker re-sent a message whose flow we completed: answer it as the one it is, deliver nothing.
      this.qos2.set(id, 'acked');
      this.store?.setInbound(id, 'acked');
      this.io.send(ackBytes('pubrec', id, ReasonCode.Success, this.#version));
      return;
    }
    this.qos2.set(id, 'delivered');
    if (this.manualAck) {
      this.io.emit({ type: 'message', message: p });
      return;
    }
    // Acknowledged on arrival: the PUBREC follows at once, so the final state is stored, durably
    // before delivery: a power loss right after the application saw the message must not let the
    // broker's re-send deliver it again.
    if (this.store !== undefined) {
      this.store.setInbound(id, 'acked');
      this.store.sync();
    }
    this.io.emit({ type: 'message', message: p });
    this.#ackQos2(id, 0);
  }

  #onQos1(p: PublishPacket, id: number): void {
    if (!this.manualAck) {
      this.io.emit({ type: 'message', message: p });
      this.#sendPuback(id, 0);
      return;
    }
    if (this.#qos1Delivered?.has(id)) return; // re-sent while the application holds it
    const owed = this.#qos1Owed?.get(id);
    if (owed !== undefined) {
      this.#qos1Owed!.delete(id);
      this.#sendPuback(id, owed);
      return;
    }
    this.#qos1Delivered ??= new Set();
    this.#qos1Delivered.add(id);
    this.io.emit({ type: 'message', message: p });
  }

  #sendPuback(id: number, reasonCode: number): void {
    this.#thisConnection?.delete(id);
    this.io.send(ackBytes('puback', id, reasonCode, this.#version));
  }

  #ackQos2(id: number, reasonCode: number): void {
    if (isFailure(reasonCode)) {
      // A refused QoS 2 message ends here: the broker sends no PUBREL for it.
      this.qos2.delete(id);
      this.#thisConnection?.delete(id);
      this.store?.removeInbound(id);
      this.rollback.abandoned(id);
    } else {
      this.qos2.set(id, 'acked');
    }
    this.io.send(ackBytes('pubrec', id, reasonCode, this.#version));
  }

  /**
   * A QoS 1/2 PUBLISH arrived on this connection: it counts against our Receive
   * Maximum until answered. A broker that goes past it is counted, not
   * disconnected: Mosquitto 2.0 does so when it resumes a session with queued
   * messages, and closing the connection would only make it do so again on the
   * next one, forever. The messages are kept (they are unacknowledged, so the
   * broker still stops at some window of its own).
   */
  #countAgainstQuota(id: number): void {
    this.#thisConnection ??= new Set();
    const held = this.#thisConnection;
    if (held.has(id)) return;
    held.add(id);
    if (held.size > this.receiveMaximum) {
      this.receiveMaximumExceeded++;
      this.peakOverReceiveMaximum = Math.max(this.peakOverReceiveMaximum, held.size);
    }
  }

  onPubrel(p: AckPacket<'pubrel'>): void {
    const state = this.qos2.get(p.packetId);
    if (state === 'delivered') {
      // A PUBREL before our PUBREC breaks the broker's side of the flow; the application still has the
      // message, so completing it now could only lose it after a crash. Answer nothing: the ack will.
      return;
    }
    const known = this.qos2.delete(p.packetId);
    if (known) {
      this.store?.removeInbound(p.packetId);
      this.rollback.released(p.packetId);
    }
    this.#thisConnection?.delete(p.packetId);
    // Unknown id: we released it already (a repeated PUBREL); still complete the broker's flow.
    const reasonCode =
      known || this.#version === 4 ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound;
    this.io.send(ackBytes('pubcomp', p.packetId, reasonCode, this.#version));
  }

  /**
   * The application has taken a message (manual ack). `generation` is the one
   * it arrived in: after the broker lost our session its ids mean nothing, and
   * the ack is dropped (returns false). Returns false too when the message was
   * acknowledged already.
   */
  acknowledge(packetId: number, qos: 1 | 2, generation: number, reasonCode = 0): boolean {
    if (generation !== this.generation) return false;
    if (qos === 1) {
      if (!this.#qos1Delivered?.delete(packetId)) return false;
      if (this.#connected) {
        this.#sendPuback(packetId, reasonCode);
      } else {
        this.#qos1Owed ??= new Map();
        this.#qos1Owed.set(packetId, reasonCode);
      }
      return true;
    }
    if (this.qos2.get(packetId) !== 'delivered') return false;
    const extra = this.#qos2ExtraHolders?.get(packetId);
    if (extra !== undefined) {
      // Another message of this id is still with the application: its ack sends the PUBREC.
      if (extra > 1) this.#qos2ExtraHolders!.set(packetId, extra - 1);
      else this.#qos2ExtraHolders!.delete(packetId);
      return true;
    }
    if (!isFailure(reasonCode)) this.store?.setInbound(packetId, 'acked');
    if (this.#connected) {
      this.#ackQos2(packetId, reasonCode);
    } else if (isFailure(reasonCode)) {
      this.qos2.delete(packetId);
      this.rollback.abandoned(packetId);
    } else {
      // PUBREC goes out when the broker re-sends the PUBLISH after the reconnect.
      this.qos2.set(packetId, 'acked');
    }
    return true;
  }
}
