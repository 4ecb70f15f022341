/** An inbound message as the application sees it. */
import type { Properties, PublishPacket, QoS } from '../codec/types.ts';

let textDecoder: TextDecoder | undefined;
/** A view this much larger than twice its payload is copied before it waits (bytes). */
const COMPACT_SLACK = 1024;

/** An inbound message, as a subscription's iterator or `onMessage` gives it. */
export class Message {
  readonly topic: string;
  /** The payload bytes (a view of what was received, not a copy). */
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  /** Set when the broker says this may be a re-delivery. */
  readonly dup: boolean;
  /** As received; undefined when there were none (the getter then makes `{}` once, on demand). */
  readonly #received: Properties | undefined;
  #empty: Properties | undefined;
  /** @internal */
  readonly packetId: number | undefined;
  /** @internal */
  ackHandler: ((reasonCode: number) => boolean) | undefined;

  constructor(packet: PublishPacket) {
    this.topic = packet.topic;
    this.payload = packet.payload;
    this.qos = packet.qos;
    this.retain = packet.retain;
    this.dup = packet.dup;
    this.#received = packet.properties;
    this.#empty = undefined;
    this.packetId = packet.packetId;
    this.ackHandler = undefined;
  }

  /**
   * @internal The message is about to wait in a buffer: a payload that is a
   * small view of a large received chunk is copied, so that waiting messages
   * hold their own bytes, not every chunk they came in (what the buffer's
   * byte bound counts).
   */
  compact(): void {
    const p = this.payload;
    if (p.buffer.byteLength > 2 * p.byteLength + COMPACT_SLACK) {
      (this as { payload: Uint8Array }).payload = p.slice();
    }
  }

  /** MQTT 5 properties as received (contentType, responseTopic, correlationData, userProperties, ...). */
  get properties(): Properties {
    if (this.#received !== undefined) return this.#received;
    this.#empty ??= {};
    return this.#empty;
  }

  /** The payload decoded as UTF-8 text. */
  get text(): string {
    textDecoder ??= new TextDecoder();
    return textDecoder.decode(this.payload);
  }

  /** The payload parsed as JSON. Throws SyntaxError when it is not JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text) as T;
  }

  /** MQTT 5 subscription identifiers of the subscriptions this message matched (empty when none were sent). */
  get subscriptionIdentifiers(): number[] {
    const ids = this.properties.subscriptionIdentifier;
    return ids === undefined ? [] : Array.isArray(ids) ? ids : [ids];
  }

  /**
   * With `manualAck`: tells the broker this message was processed (PUBACK /
   * PUBREC). A reason code >= 0x80 refuses it (MQTT 5). Returns false when the
   * ack no longer applies (QoS 0, already acked, or a QoS 1 message whose
   * connection has since gone: the broker will deliver it again).
   */
  ack(reasonCode = 0): boolean {
    const handler = this.ackHandler;
    if (handler === undefined) return false;
    this.ackHandler = undefined;
    return handler(reasonCode);
  }
}
