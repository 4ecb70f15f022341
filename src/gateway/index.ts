/** The radio gateway: one radio or several, one broker connection per node. */
export type { AdvertiserStats } from './advertiser.ts';
export { Gateway, type GatewayOptions, startGateway } from './gateway.ts';
export { type GatewayKeys, type NodeEntry, parseKeys, readKeysFile } from './keys-file.ts';
export {
  consoleLogger,
  formatStatus,
  type GatewayLogEntry,
  type GatewayLogger,
  type GatewayLogLevel,
  type GatewayRadioStatus,
  type GatewayStatus,
  type NodeStatus,
} from './log.ts';
