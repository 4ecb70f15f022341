/**
 * MQTT 5 request/response. A requester subscribes once to its own response
 * topic (under the broker's Response Information when it gave one) and
 * matches responses to requests by correlation data.
 */
import { localError, MqttError } from '../errors.ts';
import type { Client, PublishOptions, SubscribeOptions } from './client.ts';
import type { Message } from './message.ts';
import type { Subscription } from './subscription.ts';

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

export class Requester {
  private responseTopic: string | undefined;
  private subscribing: Promise<Subscription> | undefined;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly client: Client) {}

  private async ensureSubscribed(): Promise<string> {
    if (this.responseTopic !== undefined && this.subscribing) {
      await this.subscribing;
      return this.responseTopic;
    }
    const base = this.client.server?.responseInformation ?? 'steadfast/response';
    const topic = `${base.replace(/\/+$/, '')}/${this.client.clientId}`;
    this.responseTopic = topic;
    this.subscribing = this.client.subscribe(topic, {
      qos: 1,
      onMessage: (message) => this.onResponse(message),
    });
    try {
      await this.subscribing;
    } catch (error) {
      this.subscribing = undefined;
      this.responseTopic = undefined;
      throw error;
    }
    return topic;
  }

  private onResponse(message: Message): void {
    const correlation = message.properties.correlationData;
    if (correlation === undefined) return;
    const key = hex(correlation);
    const waiting = this.waiting.get(key);
    if (waiting === undefined) return; // late response to a request that timed out
    this.waiting.delete(key);
    clearTimeout(waiting.timer);
    waiting.resolve(message);
  }

  async request(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions & { timeout?: number },
  ): Promise<Message> {
    if (this.client.options.protocolVersion === 4) {
      throw localError('INVALID_ARGUMENT', 'request/response needs MQTT 5 (protocolVersion 5)');
    }
    const responseTopic = await this.ensureSubscribed();
    const correlationData = new Uint8Array(16);
    globalThis.crypto.getRandomValues(correlationData);
    const key = hex(correlationData);
    const timeout = options.timeout ?? 30_000;
    const response = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new MqttError('TIMEOUT', `no response on ${responseTopic} within ${timeout} ms`));
      }, timeout);
      this.waiting.set(key, { resolve, reject, timer });
    });
    const published = this.client.publish(topic, payload, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
      properties: { ...options.properties, responseTopic, correlationData },
    });
    published.catch((error) => {
      const waiting = this.waiting.get(key);
      if (waiting === undefined) return;
      this.waiting.delete(key);
      clearTimeout(waiting.timer);
      waiting.reject(error);
    });
    return response;
  }

  respond(
    filter: string,
    handler: (request: Message) => string | Uint8Array | Promise<string | Uint8Array>,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    return this.client.subscribe(filter, {
      ...options,
      qos: options.qos ?? 1,
      onMessage: (request) => {
        const { responseTopic, correlationData } = request.properties;
        if (responseTopic === undefined) return; // not a request: nobody to answer
        void (async () => {
          const answer = await handler(request);
          const properties = correlationData === undefined ? {} : { correlationData };
          await this.client.publish(responseTopic, answer, { qos: request.qos, properties });
        })().catch(() => {
          // A handler that throws or a reply that cannot be sent leaves the requester to time out.
        });
      },
    });
  }

  close(error: MqttError): void {
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }
}
