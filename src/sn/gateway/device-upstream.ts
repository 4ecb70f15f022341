/**
 * A device's own QoS 1 and QoS 2 PUBLISHes on their way to the broker: acknowledged to the device
 * (PUBACK, PUBREC) only once the broker has them, a DUP meanwhile not published again, and, with a
 * state directory, the QoS 2 ones journalled from PUBLISH to PUBREL so that a device re-sending
 * after a gateway crash gets PUBREC for what the broker already has rather than a second copy.
 */

import { isFailure } from '../../codec/index.ts';
import type { OutboundMessage } from '../../session/types.ts';
import type { SnMessage, SnPublish, SnReturnCodeValue } from '../codec/index.ts';
import { SnReturnCode } from '../codec/index.ts';
import type { BrokerConnection } from './broker.ts';
import type { JournalEntry, Qos2Journal } from './qos2-journal.ts';

export class UpstreamFlows {
  /** QoS 1 ids on their way to the broker. */
  private readonly qos1 = new Set<number>();
  /** QoS 2 ids from PUBLISH until PUBREL. */
  private readonly qos2 = new Map<number, JournalEntry>();
  /** QoS 2 ids this process is handing to the broker now: a DUP meanwhile is not published again. */
  private readonly publishingHere = new Set<number>();
  /** QoS 2 ids whose broker flow an earlier gateway process started (restored from the file store). */
  private readonly restoredQos2 = new Map<number, Promise<SnReturnCodeValue>>();
  private journalLoaded = false;

  constructor(
    private readonly send: (message: SnMessage) => void,
    /** With `stateDir`, clean=0 devices: the QoS 2 state that survives a gateway crash. */
    private readonly journal: Qos2Journal | undefined,
  ) {}

  /** A clean=1 CONNECT: nothing of an earlier session is kept. */
  clear(): void {
    this.qos2.clear();
    this.journal?.clear();
    this.journalLoaded = true;
  }

  /** A clean=0 CONNECT: the first one this process sees takes what an earlier process left. */
  resume(): void {
    if (this.journal && !this.journalLoaded) {
      this.journal.load();
      for (const [id, e] of this.journal.entries) this.qos2.set(id, e);
    }
    this.journalLoaded = true;
  }

  /** A QoS 1 or 2 PUBLISH whose topic is known, with a broker connection up. */
  async publish(broker: BrokerConnection, name: string, msg: SnPublish, topicId: number): Promise<void> {
    const options = { qos: msg.qos as 1 | 2, retain: msg.retain };
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
    if (restored === undefined) this.set(msg.msgId, journal);
    // PUBREC only once the broker has the message: exactly once survives a gateway crash.
    const code = await (restored ?? settle(broker.client.publish(name, msg.data, options)));
    this.publishingHere.delete(msg.msgId);
    this.restoredQos2.delete(msg.msgId);
    if (code !== SnReturnCode.Accepted) {
      this.delete(msg.msgId);
      this.send({ type: 'puback', topicId, msgId: msg.msgId, returnCode: code });
      return;
    }
    // Already `received` when the store told us at the broker's PUBREC (brokerHas).
    if (this.qos2.get(msg.msgId)?.state !== 'received')
      this.set(msg.msgId, { ...journal, state: 'received' });
    this.send({ type: 'pubrec', msgId: msg.msgId });
  }

  /** PUBREL from the device: its QoS 2 id is free. */
  released(msgId: number): void {
    this.delete(msgId);
    this.send({ type: 'pubcomp', msgId });
  }

  /**
   * QoS 2 messages an earlier gateway process handed to the broker and did not see through: the
   * Client resumes them from its store; the device's re-sent PUBLISH waits for that flow.
   */
  adoptRestored(broker: BrokerConnection): void {
    for (const p of broker.client.pending()) {
      if (!p.restored || p.qos !== 2) continue;
      for (const [id, e] of this.qos2) {
        if (e.state !== 'publishing' || this.restoredQos2.has(id)) continue;
        if (e.topic !== p.topic || !sameBytes(e.payload, p.payload)) continue;
        const outcome = settle(p.result);
        this.restoredQos2.set(id, outcome);
        void outcome.then((code) => {
          if (code === SnReturnCode.Accepted && this.qos2.get(id)?.state === 'publishing')
            this.set(id, { ...e, state: 'received' });
        });
        break;
      }
    }
  }

  /**
   * The broker's PUBREC for one of the device's QoS 2 messages, told by the store before it records
   * it: journalled as `received` now, so no crash from here on can publish the device's re-send again.
   */
  brokerHas(m: OutboundMessage): void {
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
    if (match !== undefined && e) this.set(match, { ...e, state: 'received' });
  }

  private set(id: number, e: JournalEntry): void {
    this.qos2.set(id, e);
    this.journal?.set(id, e);
  }

  private delete(id: number): void {
    this.qos2.delete(id);
    this.journal?.delete(id);
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A broker publication's outcome as an MQTT-SN return code. */
async function settle(p: Promise<{ reasonCode: number }>): Promise<SnReturnCodeValue> {
  try {
    const r = await p;
    return isFailure(r.reasonCode) ? SnReturnCode.RejectedNotSupported : SnReturnCode.Accepted;
  } catch {
    return SnReturnCode.RejectedCongestion;
  }
}
