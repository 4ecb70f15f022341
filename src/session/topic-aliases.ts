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
  private readonly byTopic = new Map<string, number>();
  private max = 0;

  /** Starts a connection with the broker's Topic Alias Maximum (0 turns aliases off). */
  reset(max: number): void {
    this.byTopic.clear();
    this.max = max;
  }

  /**
   * The alias to send with `topic`, and whether the topic must be sent too
   * (when the alias is new or reassigned). Undefined when aliases are off.
   * Changes nothing: call `use` once the PUBLISH is really sent, so that a
   * packet that fails (too large, invalid) leaves no alias the broker never learned.
   */
  lookup(topic: string): { alias: number; known: boolean } | undefined {
    if (this.max === 0) return undefined;
    const alias = this.byTopic.get(topic);
    if (alias !== undefined) return { alias, known: true };
    if (this.byTopic.size < this.max) return { alias: this.byTopic.size + 1, known: false };
    // All taken: reassign the least recently used.
    return { alias: this.byTopic.values().next().value as number, known: false };
  }

  /** A PUBLISH went out with `topic` and the `alias` that `lookup` gave for it. */
  use(topic: string, alias: number): void {
    if (!this.byTopic.delete(topic) && this.byTopic.size >= this.max) {
      this.byTopic.delete(this.byTopic.keys().next().value as string);
    }
    this.byTopic.set(topic, alias);
  }
}

/** Inbound aliases, set by the broker within our Topic Alias Maximum. */
export class InboundAliases {
  private readonly byAlias = new Map<number, string>();
  max = 0;

  reset(max: number): void {
    this.byAlias.clear();
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
      this.byAlias.set(alias, topic);
      return topic;
    }
    const known = this.byAlias.get(alias);
    if (known === undefined) throw remoteError('PROTOCOL_ERROR', `unknown topic alias ${alias}`);
    return known;
  }
}
