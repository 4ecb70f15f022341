/** The radio gateway: one radio, one broker connection per node. */
export { Gateway, type GatewayOptions, startGateway } from './gateway.ts';
export { type GatewayKeys, type NodeEntry, parseKeys, readKeysFile } from './keys-file.ts';
export {
  consoleLogger,
  formatStatus,
  type GatewayLogEntry,
  type GatewayLogger,
  type GatewayLogLevel,
  type GatewayStatus,
  type NodeStatus,
} from './log.ts';
