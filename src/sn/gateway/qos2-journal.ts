/**
 * What the gateway must not forget across its own crash for a clean=0 device: the device's QoS 2
 * PUBLISHes between the gateway taking them and the device's PUBREL (MsgId, topic, payload, and
 * whether the broker has them yet). With it, and the device's broker connection on a file store,
 * a device that re-sends a PUBLISH after a gateway restart gets PUBREC for a message the broker
 * already has, instead of a second copy at the broker. One small file per device, rewritten whole
 * (tmp file, rename) on each change: a device has few QoS 2 messages in flight at once.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InboundQos2State, SessionStore, StoredOutbound, StoredSession } from '../../session/store.ts';
import type { OutboundMessage } from '../../session/types.ts';

/** One upstream QoS 2 message: `publishing` until the broker's PUBCOMP, then `received` until PUBREL. */
export interface JournalEntry {
  state: 'publishing' | 'received';
  topic: string;
  payload: Uint8Array;
}

/** The file name of a device's state: client ids may hold any character, file names may not. */
export function deviceStatePath(dir: string, clientId: string, suffix: string): string {
  return join(dir, `${encodeURIComponent(clientId)}.${suffix}`);
}

export class Qos2Journal {
  private readonly path: string;
  readonly entries = new Map<number, JournalEntry>();

  constructor(dir: string, clientId: string) {
    mkdirSync(dir, { recursive: true });
    this.path = deviceStatePath(dir, clientId, 'sn-qos2.json');
  }

  /** Reads what an earlier process left (nothing when there is no file or it is unreadable). */
  load(): void {
    this.entries.clear();
    if (!existsSync(this.path)) return;
    try {
      const rows = JSON.parse(readFileSync(this.path, 'utf8')) as [number, string, string, string][];
      for (const [msgId, state, topic, payload] of rows)
        if (state === 'publishing' || state === 'received')
          this.entries.set(msgId, { state, topic, payload: new Uint8Array(Buffer.from(payload, 'base64')) });
    } catch {
      // A torn file cannot happen (rename is atomic); a hand-edited one is ignored rather than fatal.
    }
  }

  set(msgId: number, entry: JournalEntry): void {
    this.entries.set(msgId, entry);
    this.save();
  }

  delete(msgId: number): void {
    if (this.entries.delete(msgId)) this.save();
  }

  /** Forgets everything (a clean=1 CONNECT). */
  clear(): void {
    this.entries.clear();
    rmSync(this.path, { force: true });
  }

  private save(): void {
    const rows = [...this.entries].map(([id, e]) => [
      id,
      e.state,
      e.topic,
      Buffer.from(e.payload).toString('base64'),
    ]);
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(rows));
    renameSync(tmp, this.path);
  }
}

/**
 * A device's broker-connection store that tells the journal first. The broker's PUBREC for a QoS 2
 * message (the store's record going to `received`) is the moment the broker has it: the journal
 * records that before the store does, and so before the store can drop the record at PUBCOMP. With
 * the journal written after the Client's `publish()` resolved instead, a crash between the store's
 * removal and the journal write left a message the broker had, journalled as `publishing` and
 * unknown to the store, and the device's re-send was published a second time.
 */
export class JournalFirstStore implements SessionStore {
  constructor(
    private readonly inner: SessionStore,
    /** Called, synchronously, when the broker has a QoS 2 message (before the store records it). */
    private readonly brokerHas: (message: OutboundMessage) => void,
  ) {}

  load(): StoredSession {
    return this.inner.load();
  }
  addOutbound(record: StoredOutbound): void {
    this.inner.addOutbound(record);
  }
  updateOutbound(record: StoredOutbound): void {
    if (record.message.qos === 2 && record.state === 'received') this.brokerHas(record.message);
    this.inner.updateOutbound(record);
  }
  removeOutbound(record: StoredOutbound): void {
    this.inner.removeOutbound(record);
  }
  setInbound(packetId: number, state: InboundQos2State): void {
    this.inner.setInbound(packetId, state);
  }
  removeInbound(packetId: number): void {
    this.inner.removeInbound(packetId);
  }
  clearInbound(): void {
    this.inner.clearInbound();
  }
  sync(): void {
    this.inner.sync();
  }
  close(): void {
    this.inner.close();
  }
}
