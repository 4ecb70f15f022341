/**
 * SUBSCRIBE and UNSUBSCRIBE in flight, and the subscriptions the broker has
 * granted, kept so that they can be made again when the broker comes back
 * without our session.
 */

import { encodeFromClient } from '../codec/client-role.ts';
import { isFailure, ReasonCode } from '../codec/reason-codes.ts';
import type {
  Properties,
  ProtocolVersion,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
} from '../codec/types.ts';
import { type MqttError, MqttError as MqttErrorClass } from '../errors.ts';
import type { PacketIds } from './packet-ids.ts';
import type { SessionIo } from './types.ts';

interface Pending<S> {
  packet: SubscribePacket | UnsubscribePacket;
  /** Already encoded: a request the broker would reject fails at once, before anything is sent. */
  bytes: Uint8Array;
  /** Whose request it is; undefined for one the session made itself after the broker lost our session. */
  caller: { token: S } | undefined;
}

export class Subscriptions<S> {
  /** Granted subscriptions by topic filter, with the properties (subscription id) they were made with. */
  // Both made on first use (~200 bytes each): a publish-only or idle client never needs them.
  #grantedMap: Map<string, { subscription: Subscription; properties?: Properties }> | undefined;
  #pendingMap: Map<number, Pending<S>> | undefined;

  get #granted(): Map<string, { subscription: Subscription; properties?: Properties }> {
    this.#grantedMap ??= new Map();
    return this.#grantedMap;
  }

  get #pending(): Map<number, Pending<S>> {
    this.#pendingMap ??= new Map();
    return this.#pendingMap;
  }

  constructor(
    private readonly io: SessionIo<never, S>,
    private readonly ids: PacketIds,
    private readonly version: ProtocolVersion,
  ) {}

  get size(): number {
    return this.#grantedMap?.size ?? 0;
  }

  #request(
    packet: SubscribePacket | UnsubscribePacket,
    caller: { token: S } | undefined,
    connected: boolean,
  ): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeFromClient(packet, this.version);
    } catch (error) {
      this.ids.release(packet.packetId);
      if (caller !== undefined) {
        this.io.emit({ type: 'subscribe-failed', token: caller.token, error: error as MqttError });
      }
      return;
    }
    this.#pending.set(packet.packetId, { packet, bytes, caller });
    if (connected) this.io.send(bytes);
  }

  #takeId(token: S): number | undefined {
    const id = this.ids.take();
    if (id === undefined) {
      const error = new MqttErrorClass('INVALID_ARGUMENT', 'all 65,535 packet identifiers are in use');
      this.io.emit({ type: 'subscribe-failed', token, error });
    }
    return id;
  }

  subscribe(
    subscriptions: Subscription[],
    properties: Properties | undefined,
    token: S,
    connected: boolean,
  ): void {
    const packetId = this.#takeId(token);
    if (packetId === undefined) return;
    const packet: SubscribePacket = { type: 'subscribe', packetId, subscriptions };
    if (properties !== undefined && this.version === 5) packet.properties = properties;
    this.#request(packet, { token }, connected);
  }

  unsubscribe(topics: string[], properties: Properties | undefined, token: S, connected: boolean): void {
    const packetId = this.#takeId(token);
    if (packetId === undefined) return;
    const packet: UnsubscribePacket = { type: 'unsubscribe', packetId, topics };
    if (properties !== undefined && this.version === 5) packet.properties = properties;
    this.#request(packet, { token }, connected);
  }

  /**
   * The connection is up. Requests still unanswered are sent again (they are
   * idempotent); when the broker lost our session, every granted subscription
   * is made again first, grouped by the properties it was made with.
   */
  up(resubscribe: boolean): void {
    const waiting = this.#pendingMap === undefined ? [] : [...this.#pendingMap.values()];
    if (resubscribe) {
      const groups = new Map<string, { subscriptions: Subscription[]; properties?: Properties }>();
      for (const { subscription, properties } of this.#granted.values()) {
        const key = String(properties?.subscriptionIdentifier ?? '');
        let group = groups.get(key);
        if (group === undefined) {
          group = { subscriptions: [] };
          if (properties !== undefined) group.properties = properties;
          groups.set(key, group);
        }
        group.subscriptions.push(subscription);
      }
      for (const group of groups.values()) {
        const packetId = this.ids.take();
        if (packetId === undefined) break;
        const packet: SubscribePacket = { type: 'subscribe', packetId, subscriptions: group.subscriptions };
        if (group.properties !== undefined) packet.properties = group.properties;
        this.#request(packet, undefined, true);
      }
    }
    for (const p of waiting) this.io.send(p.bytes);
  }

  onSuback(suback: SubackPacket): void {
    const pending = this.#pending.get(suback.packetId);
    if (pending === undefined || pending.packet.type !== 'subscribe') return;
    this.#pending.delete(suback.packetId);
    this.ids.release(suback.packetId);
    const packet = pending.packet;
    packet.subscriptions.forEach((subscription, i) => {
      const code = suback.reasonCodes[i] ?? ReasonCode.UnspecifiedError;
      if (!isFailure(code)) {
        const entry: { subscription: Subscription; properties?: Properties } = { subscription };
        if (packet.properties !== undefined) entry.properties = packet.properties;
        this.#granted.set(subscription.topic, entry);
      } else if (pending.caller === undefined) {
        // The broker now refuses a subscription it granted before: forget it rather than retry forever.
        this.#granted.delete(subscription.topic);
      }
    });
    if (pending.caller !== undefined)
      this.io.emit({ type: 'subscribed', token: pending.caller.token, suback });
  }

  onUnsuback(unsuback: UnsubackPacket): void {
    const pending = this.#pending.get(unsuback.packetId);
    if (pending === undefined || pending.packet.type !== 'unsubscribe') return;
    this.#pending.delete(unsuback.packetId);
    this.ids.release(unsuback.packetId);
    for (const topic of pending.packet.topics) this.#granted.delete(topic);
    if (pending.caller !== undefined) {
      this.io.emit({ type: 'unsubscribed', token: pending.caller.token, unsuback });
    }
  }

  /** Ends every unanswered request with `error` (the client is closing for good). */
  failAll(error: MqttError): void {
    for (const [id, p] of this.#pending) {
      this.ids.release(id);
      if (p.caller !== undefined) this.io.emit({ type: 'subscribe-failed', token: p.caller.token, error });
    }
    this.#pending.clear();
  }
}
