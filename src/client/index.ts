export {
  type InboundQos2State,
  MemoryStore,
  type SessionStore,
  type StoredOutbound,
  type StoredSession,
} from '../session/store.ts';
export {
  Client,
  type ClientEvents,
  type ClientStats,
  connect,
  type PendingPublication,
  type PublishOptions,
  type PublishResult,
  type SubscribeOptions,
} from './client.ts';
export type { DeliveryStats } from './delivery.ts';
export type { RequestHandler, RequestOptions } from './extensions.ts';
export { Message } from './message.ts';
export type { Authenticator, ClientOptions, LinkFactory, WillOptions } from './options.ts';
export type { ClientState, ClientStatus } from './status.ts';
export { Subscription } from './subscription.ts';
