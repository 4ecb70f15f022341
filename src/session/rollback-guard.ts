/**
 * Exactly-once against a broker that rolls its state back.
 *
 * Mosquitto with persistence writes its database on "changes" (subscriptions,
 * persistent connects, completed flows), not when a QoS 2 flow moves from
 * "PUBLISH sent" to "PUBREL sent". A broker killed (kill -9, power loss) after
 * it sent PUBREL and before it read our PUBCOMP restarts from a save in which
 * the message is still unacknowledged, and re-sends the PUBLISH (DUP set) on
 * the next connection, although [MQTT-4.3.3] forbids a PUBLISH after PUBREL.
 * We released the packet id at PUBREL, as method B allows, so without help
 * that copy is a new message and is delivered a second time.
 * test/brokers/mosquitto-rollback.test.ts pins the broker's behaviour.
 *
 * The guard remembers the last completed inbound QoS 2 messages (packet id and
 * a digest of topic and payload). A PUBLISH with DUP set whose id and digest
 * match one of them is such a rollback copy: it is acknowledged, never
 * delivered, and counted. A first delivery never has DUP set [MQTT-3.3.1-1],
 * so the only message this could wrongly drop is one identical in packet id,
 * topic and payload to one of the last `capacity` completed messages, whose
 * first transmission was lost with a connection: the bound docs/delivery.md
 * states.
 *
 * The same restart can also forget a flow that is still open here (we sent
 * PUBREC, no PUBREL came) and give its id to the next queued message. The
 * spec says to answer a PUBLISH with a held id and deliver nothing, which
 * would lose that message; the digest tells the two apart (`reusesOpenId`).
 * Plain code, no Node: the digest is 32-bit FNV-1a.
 */

/** How many completed inbound QoS 2 messages are remembered by default. */
export const DEFAULT_ROLLBACK_GUARD = 256;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the topic's UTF-16 code units, a separator, and the payload bytes. */
export function messageDigest(topic: string, payload: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME);
    h = Math.imul(h ^ (c >>> 8), FNV_PRIME);
  }
  // The separator keeps ("ab", [c]) and ("a", [b, c]) apart; the length keeps trailing zeros apart.
  h = Math.imul(h ^ 0xff, FNV_PRIME);
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ payload[i], FNV_PRIME);
  h = Math.imul(h ^ (payload.length & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((payload.length >>> 8) & 0xff), FNV_PRIME);
  return h >>> 0;
}

export class RollbackGuard {
  /** Digests of messages between PUBLISH and PUBREL, by packet id. */
  readonly #open = new Map<number, number>();
  /** Digests of completed messages, by packet id, oldest first (Map order). */
  readonly #completed = new Map<number, number>();
  /** Rollback copies recognised and not delivered. */
  dropped = 0;
  /** Open ids the broker reused for another message (it forgot their flow); delivered as new. */
  reused = 0;

  /** @param capacity how many completed messages to remember; 0 turns the guard off. */
  constructor(readonly capacity: number) {}

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /**
   * A QoS 2 PUBLISH whose id we do not hold arrived. Returns true when it is
   * a rollback copy of a completed message (do not deliver it); otherwise
   * starts remembering it, and forgets the completed message that used its id
   * before (the broker reused the id, so that flow is over for it too).
   */
  isRollbackCopy(packetId: number, dup: boolean, topic: string, payload: Uint8Array): boolean {
    if (!this.enabled) return false;
    const digest = messageDigest(topic, payload);
    if (dup && this.#completed.get(packetId) === digest) {
      this.dropped++;
      this.#open.set(packetId, digest);
      return true;
    }
    this.#completed.delete(packetId);
    this.#open.set(packetId, digest);
    return false;
  }

  /**
   * A QoS 2 PUBLISH arrived for an id whose flow is still open here. Returns
   * true when it carries another message than the one that opened the flow:
   * the broker forgot that flow (it restarted from an older save) and reused
   * the id, so this one is new and must be delivered, whatever its DUP flag.
   * It then becomes the open message of the id. False when it is the same
   * message (a re-send: answer it, deliver nothing) or when the open message
   * is not known (the guard is off, or the id came back from a store): the
   * spec's rule then stands, and nothing is delivered [MQTT-4.3.3].
   */
  reusesOpenId(packetId: number, topic: string, payload: Uint8Array): boolean {
    const open = this.#open.get(packetId);
    if (open === undefined) return false;
    const digest = messageDigest(topic, payload);
    if (digest === open) return false;
    this.reused++;
    this.#open.set(packetId, digest);
    return true;
  }

  /** The flow of `packetId` completed (PUBREL came, PUBCOMP goes out). */
  released(packetId: number): void {
    const digest = this.#open.get(packetId);
    if (digest === undefined) return; // restored from a store, or refused: nothing to remember
    this.#open.delete(packetId);
    this.#completed.delete(packetId); // re-inserted last, as the newest
    this.#completed.set(packetId, digest);
    if (this.#completed.size > this.capacity) {
      const oldest = this.#completed.keys().next().value as number;
      this.#completed.delete(oldest);
    }
  }

  /** The flow of `packetId` ended without completing (a refusing PUBREC). */
  abandoned(packetId: number): void {
    this.#open.delete(packetId);
  }

  /** The broker lost our session: it will re-send nothing of the old one. */
  clear(): void {
    this.#open.clear();
    this.#completed.clear();
  }
}
