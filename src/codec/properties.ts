/**
 * MQTT 5 properties: one table says each property's identifier, wire type and
 * the packets it may appear in; size, encode and decode are driven by it.
 */

import { localError, remoteError } from '../errors.ts';
import { PACKET_TYPE_NUMBER } from './constants.ts';
import type { Properties, UserProperties } from './types.ts';
import {
  binarySize,
  type Reader,
  readBinary,
  readString,
  readU32,
  readVarint,
  stringSize,
  truncated,
  varintSize,
  writeBinary,
  writeString,
  writeU16,
  writeU32,
  writeVarint,
} from './wire.ts';

type WireType = 'bool' | 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary' | 'pairs';

/**
 * Where a property may appear: bit N is packet type N (1 CONNECT ... 15 AUTH),
 * and bit 0, unused by any packet type, stands for the will properties.
 */
export const WILL = 0;
const {
  connect: CONNECT,
  connack: CONNACK,
  publish: PUBLISH,
  puback: PUBACK,
  pubrec: PUBREC,
  pubrel: PUBREL,
  pubcomp: PUBCOMP,
  subscribe: SUBSCRIBE,
  suback: SUBACK,
  unsubscribe: UNSUBSCRIBE,
  unsuback: UNSUBACK,
  disconnect: DISCONNECT,
  auth: AUTH,
} = PACKET_TYPE_NUMBER;

function mask(...where: number[]): number {
  let m = 0;
  for (const w of where) m |= 1 << w;
  return m;
}

/** An MQTT 5 property: its id, its name in `Properties`, its wire type and the packets it may appear in. */
export interface PropertyDef {
  readonly id: number;
  readonly name: keyof Properties;
  readonly type: WireType;
  readonly allowed: number;
  /** Position in PROPERTY_DEFS; a bit in the duplicate-detection mask. */
  readonly index: number;
}

const ACKS = [PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK];
const MESSAGE = [PUBLISH, WILL];

const TABLE: [number, keyof Properties, WireType, number][] = [
  [0x01, 'payloadFormatIndicator', 'bool', mask(...MESSAGE)],
  [0x02, 'messageExpiryInterval', 'u32', mask(...MESSAGE)],
  [0x03, 'contentType', 'string', mask(...MESSAGE)],
  [0x08, 'responseTopic', 'string', mask(...MESSAGE)],
  [0x09, 'correlationData', 'binary', mask(...MESSAGE)],
  [0x0b, 'subscriptionIdentifier', 'varint', mask(PUBLISH, SUBSCRIBE)],
  [0x11, 'sessionExpiryInterval', 'u32', mask(CONNECT, CONNACK, DISCONNECT)],
  [0x12, 'assignedClientIdentifier', 'string', mask(CONNACK)],
  [0x13, 'serverKeepAlive', 'u16', mask(CONNACK)],
  [0x15, 'authenticationMethod', 'string', mask(CONNECT, CONNACK, AUTH)],
  [0x16, 'authenticationData', 'binary', mask(CONNECT, CONNACK, AUTH)],
  [0x17, 'requestProblemInformation', 'bool', mask(CONNECT)],
  [0x18, 'willDelayInterval', 'u32', mask(WILL)],
  [0x19, 'requestResponseInformation', 'bool', mask(CONNECT)],
  [0x1a, 'responseInformation', 'string', mask(CONNACK)],
  [0x1c, 'serverReference', 'string', mask(CONNACK, DISCONNECT)],
  [0x1f, 'reasonString', 'string', mask(CONNACK, ...ACKS, DISCONNECT, AUTH)],
  [0x21, 'receiveMaximum', 'u16', mask(CONNECT, CONNACK)],
  [0x22, 'topicAliasMaximum', 'u16', mask(CONNECT, CONNACK)],
  [0x23, 'topicAlias', 'u16', mask(PUBLISH)],
  [0x24, 'maximumQoS', 'byte', mask(CONNACK)],
  [0x25, 'retainAvailable', 'bool', mask(CONNACK)],
  [
    0x26,
    'userProperties',
    'pairs',
    mask(CONNECT, CONNACK, PUBLISH, WILL, ...ACKS, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, AUTH),
  ],
  [0x27, 'maximumPacketSize', 'u32', mask(CONNECT, CONNACK)],
  [0x28, 'wildcardSubscriptionAvailable', 'bool', mask(CONNACK)],
  [0x29, 'subscriptionIdentifiersAvailable', 'bool', mask(CONNACK)],
  [0x2a, 'sharedSubscriptionAvailable', 'bool', mask(CONNACK)],
];

/** Every MQTT 5 property, in identifier order. */
export const PROPERTY_DEFS: readonly PropertyDef[] = TABLE.map(([id, name, type, allowed], index) => ({
  id,
  name,
  type,
  allowed,
  index,
}));

const BY_ID: (PropertyDef | undefined)[] = [];
const BY_NAME: Record<string, PropertyDef> = Object.create(null);
for (const def of PROPERTY_DEFS) {
  BY_ID[def.id] = def;
  BY_NAME[def.name] = def;
}

/** The property definition for an identifier, if there is one. */
export function propertyById(id: number): PropertyDef | undefined {
  return BY_ID[id];
}

/** Where values must be non-zero, 0 is a protocol error (MQTT 5, section 3). */
const NON_ZERO = new Set<keyof Properties>([
  'receiveMaximum',
  'maximumPacketSize',
  'topicAlias',
  'subscriptionIdentifier',
]);

function badValue(name: string, value: unknown): never {
  throw localError('INVALID_ARGUMENT', `property ${name} has an invalid value: ${String(value)}`);
}

function checkNumber(name: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || value % 1 !== 0 || value < 0 || value > max) badValue(name, value);
  if (value === 0 && NON_ZERO.has(name as keyof Properties)) badValue(name, value);
  return value;
}

function valueSize(def: PropertyDef, value: unknown, where: number): number {
  switch (def.type) {
    case 'bool':
      if (typeof value !== 'boolean') badValue(def.name, value);
      return 2;
    case 'byte':
      checkNumber(def.name, value, 1); // only Maximum QoS, which is 0 or 1
      return 2;
    case 'u16':
      checkNumber(def.name, value, 0xffff);
      return 3;
    case 'u32':
      checkNumber(def.name, value, 0xffff_ffff);
      return 5;
    case 'varint': {
      // Subscription Identifier: one number, or several on a PUBLISH sent by a server. Anywhere
      // else (SUBSCRIBE) more than one is a Protocol Error (MQTT 5 section 3.8.2.1.2).
      if (Array.isArray(value)) {
        if (value.length > 1 && where !== PUBLISH) badValue(def.name, value);
        let size = 0;
        for (const v of value) size += 1 + varintSize(checkNumber(def.name, v, 268_435_455));
        return size;
      }
      return 1 + varintSize(checkNumber(def.name, value, 268_435_455));
    }
    case 'string':
      return 1 + stringSize(value as string, def.name);
    case 'binary':
      return 1 + binarySize(value as Uint8Array, def.name);
    case 'pairs': {
      if (typeof value !== 'object' || value === null) badValue(def.name, value);
      let size = 0;
      const pairs = value as UserProperties;
      for (const key of Object.keys(pairs)) {
        const v = pairs[key];
        const keySize = 1 + stringSize(key, 'user property name');
        if (Array.isArray(v)) {
          for (const item of v) size += keySize + stringSize(item, 'user property value');
        } else {
          size += keySize + stringSize(v, 'user property value');
        }
      }
      return size;
    }
  }
}

/**
 * Byte size of the properties (without their length prefix); checks each is
 * known and allowed where it is used. `where` is a packet type number or WILL.
 */
export function propertiesSize(props: Properties | undefined, where: number): number {
  if (props === undefined) return 0;
  let size = 0;
  for (const name of Object.keys(props)) {
    const value = props[name as keyof Properties];
    if (value === undefined) continue;
    const def = BY_NAME[name];
    if (def === undefined) throw localError('INVALID_ARGUMENT', `unknown MQTT 5 property: ${name}`);
    if ((def.allowed & (1 << where)) === 0) {
      throw localError('INVALID_ARGUMENT', `property ${name} is not allowed in ${whereName(where)}`);
    }
    size += valueSize(def, value, where);
  }
  return size;
}

/** Writes properties measured by `propertiesSize`, preceded by their length. */
export function writeProperties(
  buf: Uint8Array,
  pos: number,
  props: Properties | undefined,
  size: number,
): number {
  pos = writeVarint(buf, pos, size);
  if (props === undefined || size === 0) return pos;
  for (const name of Object.keys(props)) {
    const value = props[name as keyof Properties] as unknown;
    if (value === undefined) continue;
    const def = BY_NAME[name];
    // Subscription identifiers and user properties repeat their identifier per value; the rest write it once.
    if (def.type !== 'varint' && def.type !== 'pairs') buf[pos++] = def.id;
    switch (def.type) {
      case 'bool':
        buf[pos++] = value ? 1 : 0;
        break;
      case 'byte':
        buf[pos++] = value as number;
        break;
      case 'u16':
        pos = writeU16(buf, pos, value as number);
        break;
      case 'u32':
        pos = writeU32(buf, pos, value as number);
        break;
      case 'varint':
        for (const v of Array.isArray(value) ? value : [value]) {
          buf[pos++] = def.id;
          pos = writeVarint(buf, pos, v as number);
        }
        break;
      case 'string':
        pos = writeString(buf, pos, value as string);
        break;
      case 'binary':
        pos = writeBinary(buf, pos, value as Uint8Array);
        break;
      case 'pairs': {
        const pairs = value as UserProperties;
        for (const key of Object.keys(pairs)) {
          const v = pairs[key];
          for (const item of Array.isArray(v) ? v : [v]) {
            buf[pos++] = def.id;
            pos = writeString(buf, pos, key);
            pos = writeString(buf, pos, item);
          }
        }
        break;
      }
    }
  }
  return pos;
}

function whereName(where: number): string {
  return where === WILL ? 'will properties' : `packet type ${where}`;
}

function protocolError(message: string): never {
  throw remoteError('PROTOCOL_ERROR', message);
}

function addUserProperty(target: UserProperties, name: string, value: string): void {
  if (Object.hasOwn(target, name)) {
    const existing = target[name];
    if (Array.isArray(existing)) existing.push(value);
    else target[name] = [existing, value];
  } else if (name === '__proto__') {
    // A plain assignment would set the prototype instead of a property.
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

/**
 * Reads a property length and the properties after it. Returns undefined when
 * there are none, so packets without properties carry no empty object.
 */
export function readProperties(r: Reader, where: number): Properties | undefined {
  const length = readVarint(r);
  if (length === 0) return undefined;
  const end = r.pos + length;
  if (end > r.end) truncated();
  const props: Record<string, unknown> = {};
  let seen = 0;
  while (r.pos < end) {
    const id = readVarint(r);
    const def = BY_ID[id];
    if (def === undefined)
      throw remoteError('MALFORMED_PACKET', `unknown property identifier 0x${id.toString(16)}`);
    if ((def.allowed & (1 << where)) === 0) {
      throw remoteError('MALFORMED_PACKET', `property ${def.name} is not allowed in ${whereName(where)}`);
    }
    const repeatable = def.type === 'pairs' || (def.type === 'varint' && where === PUBLISH);
    if (!repeatable) {
      const bit = 1 << def.index;
      if (seen & bit) protocolError(`property ${def.name} appears more than once`);
      seen |= bit;
    }
    switch (def.type) {
      case 'bool': {
        const v = r.u8();
        if (v > 1) protocolError(`property ${def.name} must be 0 or 1, got ${v}`);
        props[def.name] = v === 1;
        break;
      }
      case 'byte': {
        const v = r.u8();
        if (v > 1) protocolError(`property ${def.name} must be 0 or 1, got ${v}`);
        props[def.name] = v;
        break;
      }
      case 'u16': {
        const v = r.u16();
        if (v === 0 && NON_ZERO.has(def.name)) protocolError(`property ${def.name} must not be 0`);
        props[def.name] = v;
        break;
      }
      case 'u32': {
        const v = readU32(r);
        if (v === 0 && NON_ZERO.has(def.name)) protocolError(`property ${def.name} must not be 0`);
        props[def.name] = v;
        break;
      }
      case 'varint': {
        const v = readVarint(r);
        if (v === 0) protocolError(`property ${def.name} must not be 0`);
        const existing = props[def.name];
        if (existing === undefined) props[def.name] = v;
        else if (Array.isArray(existing)) existing.push(v);
        else props[def.name] = [existing as number, v];
        break;
      }
      case 'string':
        props[def.name] = readString(r);
        break;
      case 'binary':
        props[def.name] = readBinary(r);
        break;
      case 'pairs': {
        const name = readString(r);
        const value = readString(r);
        if (props.userProperties === undefined) props.userProperties = {};
        addUserProperty(props.userProperties as UserProperties, name, value);
        break;
      }
    }
    if (r.pos > end) throw remoteError('MALFORMED_PACKET', 'a property runs past the property length');
  }
  return props as Properties;
}
