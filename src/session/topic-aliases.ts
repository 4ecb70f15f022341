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
   */
  lookup(topic: string): { alias: number; known: boolean } | undefined {
    if (this.max === 0) return undefined;
    const alias = this.byTopic.get(topic);
    if (alias !== undefined) {
      this.byTopic.delete(topic);
      this.byTopic.set(topic, alias);
      return { alias, known: true };
    }
    let next: number;
    if (this.byTopic.size < this.max) {
      next = this.byTopic.size + 1;
    } else {
      const [oldest, oldAlias] = this.byTopic.entries().next().value as [string, number];
      this.byTopic.delete(oldest);
      next = oldAlias;
    }
    this.byTopic.set(topic, next);
    return { alias: next, known: false };
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
