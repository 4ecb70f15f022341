/**
 * steadfast-mqtt/sn: MQTT-SN 1.2. The codec (`encodeSn`, a strict `decodeSn`, every message of
 * the specification; portable), a small client for devices and tests (`SnClient`) over any
 * datagram transport, and the UDP transport for Node (`udpTransport`).
 *
 * @module steadfast-mqtt/sn
 */
export * from './sn/client.ts';
export * from './sn/codec/index.ts';
export * from './sn/gateway/index.ts';
export { type RadioSnTransport, type RadioSnTransportOptions, radioSnTransport } from './sn/radio.ts';
export type { SnTransport } from './sn/transport.ts';
export { type UdpTransportOptions, udpTransport } from './sn/udp.ts';
