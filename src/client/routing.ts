/**
 * Which Subscription a message belongs to. The client's subscriptions, and on
 * MQTT 5 the subscription identifier the broker holds for each filter: a
 * message carrying one of ours is routed by it, so that overlapping
 * subscriptions each get what the broker sent for them; one carrying none of
 * ours (none at all, or an earlier process's) is routed by topic.
 */

import { isFailure } from '../codec/reason-codes.ts';
import type { PublishPacket } from '../codec/types.ts';
import type { Claimant } from './delivery.ts';
import type { Message } from './message.ts';
import type { Subscription } from './subscription.ts';

/** MQTT 5 subscription identifiers are a variable byte integer: 1 to 268,435,455. */
const MAX_SUBSCRIPTION_ID = 268_435_455;
/** Where a client's identifiers start: at random in 1..2^20 (3 bytes on the wire at most). */
const SUBSCRIPTION_ID_START_RANGE = 1 << 20;
const NO_IDENTIFIERS: number[] = [];
const NO_CLAIMANTS: Subscription[] = [];
const NO_FILTER_IDENTIFIERS: ReadonlyMap<string, number> = new Map();

export class SubscriptionRouter {
  /** Made on first subscribe (an idle or publish-only client never needs it). */
  #active: Set<Subscription> | undefined;
  /**
   * MQTT 5: the subscription identifier the broker holds for each filter. A new
   * subscription on a filter replaces the broker's (and its identifier), so every
   * Subscription on that filter is matched by the latest one.
   */
  #identifierByFilter: Map<string, number> | undefined;
  /** The identifiers in `#identifierByFilter`. */
  #ours: Set<number> | undefined;
  /**
   * Starts at random, so that identifiers an earlier process gave the same session
   * (still on messages the broker queued for it) are unlikely to be taken for ours.
   */
  #nextIdentifier = 1 + Math.floor(Math.random() * SUBSCRIPTION_ID_START_RANGE);

  /** The subscriptions in force. */
  get subscriptions(): Iterable<Subscription> {
    return this.#active ?? NO_CLAIMANTS;
  }

  /** A fresh identifier of ours. */
  nextIdentifier(): number {
    const id = this.#nextIdentifier++;
    if (this.#nextIdentifier > MAX_SUBSCRIPTION_ID) this.#nextIdentifier = 1;
    return id;
  }

  /** A subscription is made: it routes from now on (before the broker's SUBACK). */
  add(subscription: Subscription): void {
    const identifier = subscription.identifier;
    if (identifier !== undefined) {
      this.#identifierByFilter ??= new Map();
      for (const filter of subscription.filters) this.#identifierByFilter.set(filter, identifier);
      this.#refresh();
    }
    this.#active ??= new Set();
    this.#active.add(subscription);
  }

  /** The broker answered: filters it refused no longer hold the subscription's identifier. */
  granted(subscription: Subscription): void {
    subscription.filters.forEach((filter, i) => {
      if (
        isFailure(subscription.granted[i]) &&
        this.#identifierByFilter?.get(filter) === subscription.identifier
      ) {
        this.#identifierByFilter?.delete(filter);
      }
    });
    this.#refresh();
  }

  /** A subscription ended: it routes nothing more. */
  remove(subscription: Subscription): void {
    this.#active?.delete(subscription);
  }

  /** Filters were unsubscribed: the broker holds no identifier for them any more. */
  forget(filters: string[]): void {
    for (const filter of filters) this.#identifierByFilter?.delete(filter);
    this.#refresh();
  }

  clear(): void {
    this.#active?.clear();
  }

  /** The subscriptions a message belongs to (the hot path: no allocation when there is one or none). */
  claimantsOf(packet: PublishPacket, message: Message): Subscription[] {
    const subscriptions = this.#active;
    if (subscriptions === undefined || subscriptions.size === 0) return NO_CLAIMANTS;
    // Read from the packet, not `message.subscriptionIdentifiers`, which makes a new array per call.
    const raw = packet.properties?.subscriptionIdentifier;
    const ids = raw === undefined ? NO_IDENTIFIERS : Array.isArray(raw) ? raw : [raw];
    const byFilter = this.#identifierByFilter ?? NO_FILTER_IDENTIFIERS;
    const ours = this.#isOurs(ids);
    let claimants: Subscription[] | undefined;
    for (const s of subscriptions) {
      if (!s.matches(message, ids, byFilter, ours)) continue;
      claimants ??= [];
      claimants.push(s);
    }
    return claimants ?? NO_CLAIMANTS;
  }

  /** A subscription as Delivery sees it, for unclaimed messages (which arrive one at a time, rarely). */
  claimant(subscription: Subscription): Claimant {
    return {
      claims: (message) => {
        const ids = message.subscriptionIdentifiers;
        const byFilter = this.#identifierByFilter ?? NO_FILTER_IDENTIFIERS;
        return subscription.matches(message, ids, byFilter, this.#isOurs(ids));
      },
      deliver: (item) => subscription.deliver(item),
    };
  }

  #refresh(): void {
    this.#ours = new Set(this.#identifierByFilter?.values() ?? []);
  }

  #isOurs(ids: number[]): boolean {
    const ours = this.#ours;
    if (ours === undefined || ids.length === 0) return false;
    for (const id of ids) if (ours.has(id)) return true;
    return false;
  }
}
