/**
 * The MQTT-SN 1.2 codec: every message of the specification as a tagged union, `encodeSn` and a
 * strict `decodeSn`, one datagram per message. Portable like the MQTT codec: no Node, no globals.
 */
export * from './constants.ts';
export { decodeSn } from './decode.ts';
export { encodeEncapsulated, encodeSn } from './encode.ts';
export type * from './types.ts';
