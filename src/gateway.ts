/**
 * steadfast-mqtt/gateway: the Node side of radio. The gateway relays radio
 * nodes to a broker, one broker connection per node; `serveMedium` and
 * `connectMedium` share a simulated medium between processes over a Unix
 * socket. steadfast-mqtt/radio stays portable (no Node imports).
 *
 * @module steadfast-mqtt/gateway
 */
export * from './gateway/index.ts';
export {
  type ConnectMediumOptions,
  connectMedium,
  type MediumServer,
  RemoteRadio,
  type ServeMediumOptions,
  serveMedium,
} from './radio/medium-socket.ts';
