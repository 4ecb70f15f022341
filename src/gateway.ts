/**
 * steadfast-mqtt/gateway: relays radio nodes to a broker, one broker
 * connection per node (Node only).
 *
 * @module steadfast-mqtt/gateway
 */
export * from './gateway/index.ts';
