/**
 * The sans-IO MQTT session engine. No Node built-ins, no timers, no promises:
 * the host feeds it bytes, link changes, commands and the time.
 */
export { Inbound } from './inbound.ts';
export { type BrokerLimits, Outbound, refusal } from './outbound.ts';
export { PacketIds } from './packet-ids.ts';
export { type ServerCapabilities, Session, type SessionState } from './session.ts';
export { Subscriptions } from './subscriptions.ts';
export { InboundAliases, OutboundAliases } from './topic-aliases.ts';
export type * from './types.ts';
