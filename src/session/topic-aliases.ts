/**
 * MQTT 5 topic aliases. Both directions are per connection: the spec makes
 * them forgotten when the network connection ends [MQTT-3.3.2-7].
 */
import { MqttError, remoteError } from '../errors.ts';

/**
 * Outbound aliases, assigned automatically: the least recently used alias is
 * reassigned when all are taken. A Map keeps insertion order, so re-inserting
 * on use makes its first key the least recently used.
 */
export class OutboundAliases {
  /** Made on first use: a client that never publishes never needs one. */
  private byTopic: Map<string, number> | undefined;
  private max = 0;
  /** The topic of the last `use`: already the most recently used, so re-using it changes nothing. */
  private lastTopic: string | undefined;
  private lastKnown: { readonly alias: number; readonly known: boolean } | undefined;

  /** Starts a connection with the broker's Topic Alias Maximum (0 turns aliases off). */
  reset(max: number): void {
    this.byTopic?.clear();
    this.lastTopic = undefined;
    this.lastKnown = undefined;
    this.max = max;
  }

  /**
   * The alias to send with `topic`, and whether the topic must be sent too
   * (when the alias is new or reassigned). Undefined when aliases are off.
   * Changes nothing: call `use` once the PUBLISH is really sent, so that a
   * packet that fails (too large, invalid) leaves no alias the broker never learned.
   */
  lookup(topic: string): { readonly alias: number; readonly known: boolean } | undefined {
    if (this.max === 0) return undefined;
    // The last topic used is known: answer without touching the Map or allocating.
    if (topic === this.lastTopic && this.lastKnown !== undefined) return this.lastKnown;
    this.byTopic ??= new Map();
    const byTopic = this.byTopic;
    const alias = byTopic.get(topic);
    if (alias !== undefined) return { alias, known: true };
    if (byTopic.size < this.max) return { alias: byTopic.size + 1, known: false };
    // All taken: reassign the least recently used.
    return { alias: byTopic.values().next().value as number, known: false };
  }

  /** A PUBLISH went out with `topic` and the `alias` that `lookup` gave for it. */
  use(topic: string, alias: number): void {
    // A stream on one topic (the common case) skips the Map's delete and re-insert.
    if (topic === this.lastTopic) return;
    this.lastTopic = topic;
    this.lastKnown = { alias, known: true };
    this.byTopic ??= new Map();
    const byTopic = this.byTopic;
    if (!byTopic.delete(topic) && byTopic.size >= this.max) {
      byTopic.delete(byTopic.keys().next().value as string);
    }
    byTopic.set(topic, alias);
  }
}

/** Inbound aliases, set by the broker within our Topic Alias Maximum. */
export class InboundAliases {
  /** Made on first use: most clients never allow the broker any alias. */
  private byAlias: Map<number, string> | undefined;
  max = 0;

  reset(max: number): void {
    this.byAlias?.clear();
    this.max = max;
  }

  /** Resolves the topic of an inbound PUBLISH carrying `alias`. */
  resolve(topic: string, alias: number): string {
    if (alias > this.max) {
      throw new MqttError('PROTOCOL_ERROR', `topic alias ${alias} exceeds our maximum of ${this.max}`, {
        side: 'remote',
        reasonCode: 0x94, // Topic Alias invalid
      });
    }
    if (topic.length > 0) {
      this.byAlias ??= new Map();
      this.byAlias.set(alias, topic);
      return topic;
    }
    const known = this.byAlias?.get(alias);
    if (known === undefined) throw remoteError('PROTOCOL_ERROR', `unknown topic alias ${alias}`);
    return known;
  }
}
