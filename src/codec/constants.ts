import type { PacketType } from './types.ts';

/** Control packet type numbers, the high nibble of the first byte. */
export const PACKET_TYPE_NUMBER: Readonly<Record<PacketType, number>> = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
};

/** Packet type names by number; index 0 is reserved. */
export const PACKET_TYPE_NAME: readonly (PacketType | undefined)[] = [
  undefined,
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
];

/**
 * The largest packet MQTT can express: a 1-byte fixed header type, a 4-byte
 * remaining length, and 268,435,455 bytes after that.
 */
export const MAX_PACKET_SIZE = 268_435_460;
