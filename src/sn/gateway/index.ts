/** The MQTT-SN 1.2 transparent gateway: core, UDP front end, options. */

export {
  parseClientList,
  parsePredefinedTopics,
  parseSnGatewayConf,
  type SnClientList,
  type SnGatewayConf,
  type SnPredefinedTopics,
} from './config-files.ts';
export { loadSnGatewayConfig, type SnConfigFiles, type SnLoadedConfig } from './config-load.ts';
export { SnGateway, type SnGatewayStats } from './gateway.ts';
export type { ResolvedSnGatewayOptions, SnGatewayOptions, SnQosMinusOneDevice } from './options.ts';
export {
  RADIO_ADDRESS_PREFIX,
  type SnFrontEnd,
  type SnRadioFrontEndOptions,
  snRadioFrontEnd,
} from './radio.ts';
export { type SnGatewayStartOptions, type SnRunningGateway, startSnGateway } from './start.ts';
export { type SnUdpGateway, type SnUdpOptions, udpAddress, udpSnGateway } from './udp.ts';
