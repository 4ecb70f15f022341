/**
 * MQTT 5 request/response, as functions over a client (`request(client, ...)`,
 * `respond(client, ...)`) so that a publish/subscribe bundle leaves it out.
 * A requester subscribes once to its own response topic (under the broker's
 * Response Information when it gave one) and matches responses to requests by
 * correlation data. `useRequest()` makes `client.request()` and
 * `client.respond()` work too (the Node entry calls it).
 */
import { localError, MqttError } from '../errors.ts';
import type { SubscribeOptions } from './api.ts';
import type { Client } from './client.ts';
import { extensions, type RequestHandler, type RequestOptions } from './extensions.ts';
import type { Message } from './message.ts';
import type { Subscription } from './subscription.ts';

export type { RequestHandler, RequestOptions } from './extensions.ts';

interface Waiting {
  resolve(message: Message): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** One client's requests in flight and its response subscription. */
class Requester {
  #responseTopic: string | undefined;
  #subscribing: Promise<Subscription> | undefined;
  readonly #waiting = new Map<string, Waiting>();
  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
    // Requests still waiting when the client stops fail with the reason it stopped.
    client.on('status', (status) => {
      if (status.state === 'stopped') this.#close(status.cause);
    });
  }

  async #ensureSubscribed(): Promise<string> {
    if (this.#responseTopic !== undefined && this.#subscribing) {
      await this.#subscribing;
      return this.#responseTopic;
    }
    const base = this.#client.server?.responseInformation ?? 'steadfast/response';
    const topic = `${base.replace(/\/+$/, '')}/${this.#client.clientId}`;
    this.#responseTopic = topic;
    this.#subscribing = this.#client.subscribe(topic, {
      qos: 1,
      onMessage: (message) => this.#onResponse(message),
    });
    try {
      await this.#subscribing;
    } catch (error) {
      this.#subscribing = undefined;
      this.#responseTopic = undefined;
      throw error;
    }
    return topic;
  }

  #onResponse(message: Message): void {
    const correlation = message.properties.correlationData;
    if (correlation === undefined) return;
    const key = hex(correlation);
    const waiting = this.#waiting.get(key);
    if (waiting === undefined) return; // late response to a request that timed out
    this.#waiting.delete(key);
    clearTimeout(waiting.timer);
    waiting.resolve(message);
  }

  async request(topic: string, payload: string | Uint8Array, options: RequestOptions): Promise<Message> {
    if (this.#client.options.protocolVersion === 4) {
      throw localError('INVALID_ARGUMENT', 'request/response needs MQTT 5 (protocolVersion 5)');
    }
    const responseTopic = await this.#ensureSubscribed();
    const correlationData = new Uint8Array(16);
    globalThis.crypto.getRandomValues(correlationData);
    const key = hex(correlationData);
    const timeout = options.timeout ?? 30_000;
    const response = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new MqttError('TIMEOUT', `no response on ${responseTopic} within ${timeout} ms`));
      }, timeout);
      this.#waiting.set(key, { resolve, reject, timer });
    });
    const published = this.#client.publish(topic, payload, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
      properties: { ...options.properties, responseTopic, correlationData },
    });
    published.catch((error) => {
      const waiting = this.#waiting.get(key);
      if (waiting === undefined) return;
      this.#waiting.delete(key);
      clearTimeout(waiting.timer);
      waiting.reject(error);
    });
    return response;
  }

  #close(error: MqttError): void {
    for (const waiting of this.#waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.#waiting.clear();
  }
}

/** One requester per client, made on its first request. */
const requesters = new WeakMap<Client, Requester>();

/**
 * MQTT 5 request/response: publishes `payload` to `topic` with a response
 * topic and correlation data, and resolves with the response (or rejects with
 * TIMEOUT after `options.timeout` ms, default 30,000). Same as
 * `client.request()` once `useRequest()` ran.
 */
export async function request(
  client: Client,
  topic: string,
  payload: string | Uint8Array,
  options: RequestOptions = {},
): Promise<Message> {
  let requester = requesters.get(client);
  if (requester === undefined) {
    requester = new Requester(client);
    requesters.set(client, requester);
  }
  return requester.request(topic, payload, options);
}

/**
 * Serves requests on `filter`: `handler`'s result is published to each
 * request's response topic with its correlation data (QoS default 1).
 * Returns the subscription. Same as `client.respond()` once `useRequest()` ran.
 */
export function respond(
  client: Client,
  filter: string,
  handler: RequestHandler,
  options: SubscribeOptions = {},
): Promise<Subscription> {
  return client.subscribe(filter, {
    ...options,
    qos: options.qos ?? 1,
    onMessage: (request) => {
      const { responseTopic, correlationData } = request.properties;
      if (responseTopic === undefined) return; // not a request: nobody to answer
      void (async () => {
        const answer = await handler(request);
        const properties = correlationData === undefined ? {} : { correlationData };
        await client.publish(responseTopic, answer, { qos: request.qos, properties });
      })().catch(() => {
        // A handler that throws or a reply that cannot be sent leaves the requester to time out.
      });
    },
  });
}

/** Makes `client.request()` and `client.respond()` work on every client (the Node entry calls this). */
export function useRequest(): void {
  extensions.request = request;
  extensions.respond = respond;
}
