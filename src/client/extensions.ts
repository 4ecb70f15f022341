/**
 * Optional features that a publish/subscribe application does not use, as
 * modules over a Client (as nats.js's service modules): `Client.request()`
 * and `Client.respond()` call through this table, which the feature's module
 * fills when it is installed (`useRequest()`; the Node entry installs
 * everything). A browser bundle that never installs one leaves its code out,
 * because a class carries every method it has but a table entry is only
 * there when a module put it there.
 */
import { localError, type MqttError } from '../errors.ts';
import type { PublishOptions, SubscribeOptions } from './api.ts';
import type { Client } from './client.ts';
import type { Message } from './message.ts';
import type { Subscription } from './subscription.ts';

/** Options of a request: those of `publish()`, plus how long to wait for the response. */
export type RequestOptions = PublishOptions & {
  /** Milliseconds to wait for the response before rejecting with TIMEOUT. Default 30,000. */
  timeout?: number;
};

/** Answers one request: the returned text or bytes are published to the request's response topic. */
export type RequestHandler = (request: Message) => string | Uint8Array | Promise<string | Uint8Array>;

/** The installed features; empty until a module installs itself. */
export const extensions: {
  request?: (
    client: Client,
    topic: string,
    payload: string | Uint8Array,
    options: RequestOptions,
  ) => Promise<Message>;
  respond?: (
    client: Client,
    filter: string,
    handler: RequestHandler,
    options: SubscribeOptions,
  ) => Promise<Subscription>;
} = {};

/** The error for a method whose feature module is not installed, naming the import that installs it. */
export function notInstalled(method: string, module: string, install: string): MqttError {
  return localError(
    'INVALID_ARGUMENT',
    `client.${method}() needs ${install} from '${module}' (the Node entry installs it; browser bundles leave it out until then)`,
  );
}
