export {
  Client,
  type ClientEvents,
  connect,
  type PublishOptions,
  type PublishResult,
  type SubscribeOptions,
} from './client.ts';
export { Message } from './message.ts';
export type { Authenticator, ClientOptions, LinkFactory, WillOptions } from './options.ts';
export { Subscription } from './subscription.ts';
