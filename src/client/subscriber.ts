/**
 * The subscription side of the Client: SUBSCRIBE and UNSUBSCRIBE through the
 * session, the Subscriptions they make (registered with the router before the
 * SUBSCRIBE goes out, so a resumed session's queued messages find them), our
 * subscription identifiers, and the end of every subscription at close.
 */
import { isFailure } from '../codec/reason-codes.ts';
import { validateTopicFilter } from '../codec/topic.ts';
import type { Properties, Subscription as SubscriptionSpec } from '../codec/types.ts';
import { MqttError } from '../errors.ts';
import type { ServerCapabilities } from '../session/session.ts';
import { type Deferred, deferred, type SubscribeOptions } from './api.ts';
import type { Delivery } from './delivery.ts';
import type { Message } from './message.ts';
import type { SubscriptionRouter } from './routing.ts';
import { Subscription } from './subscription.ts';

/** What the Subscriber needs of its client. */
export interface SubscriberHost {
  /** The error the client was closed with; undefined while it is open. */
  closedError(): MqttError | undefined;
  /** The protocol version and what the broker said in its last CONNACK. */
  session(): { readonly version: 4 | 5; readonly server: ServerCapabilities | undefined };
  /** Our own subscription identifiers on MQTT 5 (ClientOptions.subscriptionIdentifiers). */
  identifiers: boolean;
  /** Sends SUBSCRIBE; `done` settles with the broker's reason codes. */
  subscribe(specs: SubscriptionSpec[], properties: Properties | undefined, done: Deferred<number[]>): void;
  /** Sends UNSUBSCRIBE; `done` settles with the broker's reason codes. */
  unsubscribe(filters: string[], properties: Properties | undefined, done: Deferred<number[]>): void;
  /** A subscription's `onMessage` handler threw. */
  handlerFailed(error: unknown, message: Message): void;
}

export class Subscriber {
  readonly #router: SubscriptionRouter;
  readonly #delivery: Delivery;
  readonly #host: SubscriberHost;
  readonly #subscriptionHost = {
    unsubscribe: (s: Subscription) => this.#unsubscribeOne(s),
    handlerFailed: (error: unknown, message: Message) => this.#host.handlerFailed(error, message),
  };

  constructor(router: SubscriptionRouter, delivery: Delivery, host: SubscriberHost) {
    this.#router = router;
    this.#delivery = delivery;
    this.#host = host;
  }

  /** See `Client.subscribe`. */
  async subscribe(filters: string | string[], options: SubscribeOptions): Promise<Subscription> {
    const closed = this.#host.closedError();
    if (closed) throw closed;
    const list = Array.isArray(filters) ? filters : [filters];
    for (const filter of list) validateTopicFilter(filter);
    const specs: SubscriptionSpec[] = list.map((topic) => {
      const spec: SubscriptionSpec = { topic, qos: options.qos ?? 0 };
      if (options.noLocal !== undefined) spec.noLocal = options.noLocal;
      if (options.retainAsPublished !== undefined) spec.retainAsPublished = options.retainAsPublished;
      if (options.retainHandling !== undefined) spec.retainHandling = options.retainHandling;
      return spec;
    });
    let properties = options.properties;
    const identifier = this.#identifierFor(properties);
    if (identifier !== undefined) properties = { ...properties, subscriptionIdentifier: identifier };
    const subscription = new Subscription(list, identifier, options.onMessage, this.#subscriptionHost);
    this.#router.add(subscription);
    this.#delivery.offerUnclaimed(this.#router.claimant(subscription));
    const done = deferred<number[]>();
    this.#host.subscribe(specs, properties, done);
    let granted: number[];
    try {
      granted = await done.promise;
    } catch (error) {
      this.#drop(subscription);
      throw error;
    }
    subscription.granted = granted;
    this.#router.granted(subscription);
    if (granted.every(isFailure)) {
      this.#drop(subscription);
      throw new MqttError('REFUSED', `the broker refused the subscription to ${list.join(', ')}`, {
        reasonCode: granted[0],
        side: 'remote',
      });
    }
    return subscription;
  }

  /** See `Client.unsubscribe`. */
  async unsubscribe(filters: string | string[], properties?: Properties): Promise<number[]> {
    const closed = this.#host.closedError();
    if (closed) throw closed;
    const list = Array.isArray(filters) ? filters : [filters];
    for (const s of [...this.#router.subscriptions]) {
      if (s.filters.every((f) => list.includes(f))) this.#drop(s);
    }
    this.#router.forget(list);
    const done = deferred<number[]>();
    this.#host.unsubscribe(list, properties, done);
    return done.promise;
  }

  /** The client closed with `error`: every subscription ends (CLIENT_CLOSED ends them without an error). */
  close(error: MqttError): void {
    for (const s of this.#router.subscriptions)
      s.end(error.code === 'CLIENT_CLOSED' ? undefined : error, true);
    this.#router.clear();
  }

  /** The subscription identifier to send: the user's, ours, or none (3.1.1, or switched off). */
  #identifierFor(properties: Properties | undefined): number | undefined {
    const session = this.#host.session();
    if (session.version !== 5) return undefined;
    const chosen = properties?.subscriptionIdentifier;
    if (typeof chosen === 'number') return chosen;
    if (!this.#host.identifiers) return undefined;
    if (session.server?.subscriptionIdentifiersAvailable === false) return undefined;
    return this.#router.nextIdentifier();
  }

  #drop(subscription: Subscription): void {
    subscription.end();
    this.#router.remove(subscription);
  }

  async #unsubscribeOne(subscription: Subscription): Promise<void> {
    this.#router.remove(subscription);
    if (this.#host.closedError()) return;
    // Filters still used by another subscription stay subscribed at the broker.
    const stillUsed = new Set<string>();
    for (const s of this.#router.subscriptions) for (const f of s.filters) stillUsed.add(f);
    const filters = subscription.filters.filter((f) => !stillUsed.has(f));
    if (filters.length > 0) await this.unsubscribe(filters);
  }
}
