/**
 * fast-check arbitraries for VALID MQTT 3.1.1 / 5.0 packets, shared by the
 * property, cross-check, fuzz and topic tests (the decoded shape of a packet is
 * in normalise.ts).
 */
import fc from 'fast-check';
import { PACKET_TYPE_NUMBER, PROPERTY_DEFS, type PropertyDef } from '../../src/codec/index.ts';
import type {
  Packet,
  PacketType,
  Properties,
  ProtocolVersion,
  QoS,
  Subscription,
  UserProperties,
  Will,
} from '../../src/codec/types.ts';
import { setOwn } from './normalise.ts';

// --- strings -------------------------------------------------------------------------------------

const cp = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCodePoint(c));

/**
 * One code point an MQTT string may carry: anything but U+0000 and the surrogates
 * (MQTT 5 section 1.5.4), weighted towards ASCII, with 2-, 3- and 4-byte (astral) UTF-8.
 */
export const mqttChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: cp(0x20, 0x7e) },
  { weight: 1, arbitrary: cp(0x01, 0x1f) },
  { weight: 2, arbitrary: cp(0x80, 0x7ff) },
  { weight: 2, arbitrary: fc.oneof(cp(0x800, 0xd7ff), cp(0xe000, 0xffff)) },
  { weight: 2, arbitrary: cp(0x10000, 0x10ffff) },
);

export const mqttString = (maxLength = 10): fc.Arbitrary<string> => fc.string({ unit: mqttChar, maxLength });

const levelChar = mqttChar.filter((c) => c !== '/' && c !== '+' && c !== '#');
const level = fc.string({ unit: levelChar, maxLength: 6 });

/** A topic name: levels (possibly empty) joined by '/', not empty, no wildcard; sometimes '$SYS/...'. */
export const topicName: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), fc.array(level, { minLength: 1, maxLength: 5 }))
  .map(([sys, levels]) => (sys && levels.length > 1 ? `$SYS/${levels.join('/')}` : levels.join('/')))
  .filter((t) => t.length > 0);

/** A topic filter without the shared-subscription prefix. */
const plainFilter: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: level }, { weight: 1, arbitrary: fc.constant('+') }), {
      minLength: 0,
      maxLength: 5,
    }),
    fc.boolean(),
  )
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f.length > 0);

const shareName = fc.string({ unit: levelChar, minLength: 1, maxLength: 5 });

/** A topic filter, shared (`$share/{group}/{filter}`) one time in five. */
export const topicFilter: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: plainFilter },
  { weight: 1, arbitrary: fc.tuple(shareName, plainFilter).map(([g, f]) => `$share/${g}/${f}`) },
);

// --- bytes ---------------------------------------------------------------------------------------

export const bytes = (maxLength = 24): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

function filled(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** A PUBLISH / will payload: small random bytes, or a patterned block of up to `max` bytes. */
export const payload = (max = 100_000): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 48 }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 0, max: Math.min(max, 20_000) }), fc.nat(255))
        .map(([n, s]) => filled(n, s)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 0, max }), fc.nat(255)).map(([n, s]) => filled(n, s)),
    },
  );

// --- properties ----------------------------------------------------------------------------------

/** Property names sometimes drawn from a small pool so that repeats (and '__proto__') happen. */
const userPropertyName = fc.oneof(fc.constantFrom('a', 'k', 'ü', '😀', '__proto__', '1'), mqttString(6));

/**
 * User properties built from a list of pairs: a name seen once maps to a string, a repeated
 * name to the array of its values in order. With `loose`, a name seen once is sometimes given
 * as a one-element array and an empty array is sometimes added: both are valid input.
 */
export const userProperties = (loose = true): fc.Arbitrary<UserProperties> =>
  fc
    .tuple(
      fc.array(fc.tuple(userPropertyName, mqttString(8)), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([pairs, wrap, empty]) => {
      const out: UserProperties = {};
      for (const [k, v] of pairs) {
        if (!Object.hasOwn(out, k)) setOwn(out, k, v);
        else {
          const prev = out[k];
          setOwn(out, k, Array.isArray(prev) ? [...prev, v] : [prev, v]);
        }
      }
      if (loose && wrap)
        for (const k of Object.keys(out)) if (!Array.isArray(out[k])) setOwn(out, k, [out[k]]);
      if (loose && empty && !Object.hasOwn(out, 'none')) setOwn(out, 'none', []);
      return out;
    });

/** Properties the spec requires to be non-zero (MQTT 5 sections 3.1.2.11.3, 3.1.2.11.4, 3.3.2.3.4, 3.8.2.1.2). */
const NON_ZERO = new Set(['receiveMaximum', 'maximumPacketSize', 'topicAlias', 'subscriptionIdentifier']);

const PUBLISH = 3;

function valueArb(def: PropertyDef, where: number, loose: boolean): fc.Arbitrary<unknown> {
  const min = NON_ZERO.has(def.name) ? 1 : 0;
  switch (def.type) {
    case 'bool':
      return fc.boolean();
    case 'byte':
      return fc.constantFrom(0, 1); // Maximum QoS
    case 'u16':
      return fc.integer({ min, max: 0xffff });
    case 'u32':
      return fc.integer({ min, max: 0xffff_ffff });
    case 'varint': {
      const one = fc.integer({ min: 1, max: 268_435_455 });
      // A PUBLISH from a server carries one Subscription Identifier per matching subscription.
      return where === PUBLISH ? fc.oneof(one, fc.array(one, { minLength: 1, maxLength: 4 })) : one;
    }
    case 'string':
      return def.name === 'responseTopic' ? topicName : mqttString(12);
    case 'binary':
      return bytes(24);
    default:
      return userProperties(loose);
  }
}

/** Names of the properties allowed where `where` is a packet type number (0 = will properties). */
export function allowedProperties(where: number): PropertyDef[] {
  return PROPERTY_DEFS.filter((d) => (d.allowed & (1 << where)) !== 0);
}

/**
 * Properties for packet type `where` (0: will): each allowed property present or not, or
 * with `all` every allowed property at once. Authentication Data only with a method.
 */
export function properties(where: number, options: { all?: boolean; loose?: boolean } = {}) {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const def of allowedProperties(where)) model[def.name] = valueArb(def, where, options.loose ?? true);
  const rec = options.all ? fc.record(model) : fc.record(model, { requiredKeys: [] });
  return rec.map((p) => {
    const { authenticationData, ...props } = p as Properties;
    // Authentication Data without a method is a Protocol Error (MQTT 5 section 3.1.2.11.10).
    return (
      props.authenticationMethod === undefined ? props : { ...props, authenticationData }
    ) as Properties;
  });
}

const optionalProperties = (where: number, version: ProtocolVersion) =>
  version === 5 ? fc.option(properties(where), { nil: undefined }) : fc.constant(undefined);

// --- reason codes (MQTT 5 tables, and the 3.1.1 return codes) ------------------------------------

export const REASON_CODES = {
  connack: [
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99,
    0x9a, 0x9b, 0x9c, 0x9d, 0x9f,
  ],
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrec: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrel: [0x00, 0x92],
  pubcomp: [0x00, 0x92],
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  disconnect: [
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96,
    0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
  ],
  auth: [0x00, 0x18, 0x19],
} as const;

// --- packets -------------------------------------------------------------------------------------

const qos = fc.constantFrom<QoS>(0, 1, 2);
const packetId = fc.integer({ min: 1, max: 0xffff });

/** Every packet type of MQTT 5.0; MQTT 3.1.1 has all but AUTH. */
export const PACKET_TYPES_V5 = Object.keys(PACKET_TYPE_NUMBER) as PacketType[];
export const PACKET_TYPES_V4 = PACKET_TYPES_V5.filter((t) => t !== 'auth');
export const packetTypes = (v: ProtocolVersion) => (v === 5 ? PACKET_TYPES_V5 : PACKET_TYPES_V4);

export interface PacketOptions {
  /** Largest PUBLISH / will payload (default 100,000 bytes). */
  maxPayload?: number;
}

function will(version: ProtocolVersion, maxPayload: number): fc.Arbitrary<Will> {
  return fc
    .record({
      topic: topicName,
      payload: payload(Math.min(maxPayload, 60_000)),
      qos,
      retain: fc.boolean(),
      properties: optionalProperties(0, version),
    })
    .map((w) => w as Will);
}

/** A valid packet of `type` for protocol `version`. */
export function packet(
  type: PacketType,
  version: ProtocolVersion,
  options: PacketOptions = {},
): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  const maxPayload = options.maxPayload ?? 100_000;
  const props = (where: number) => optionalProperties(where, version);
  const reason = (codes: readonly number[]) =>
    v5 ? fc.option(fc.constantFrom(...codes), { nil: undefined }) : fc.constant(undefined);
  const ack = <T extends 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'>(t: T, n: number) =>
    fc
      .record({ packetId, reasonCode: reason(REASON_CODES[t]), properties: props(n) })
      .map((p) => ({ type: t, ...p }));
  let arb: fc.Arbitrary<unknown>;
  switch (type) {
    case 'connect':
      arb = fc
        .record({
          clientId: mqttString(23),
          clean: fc.boolean(),
          keepalive: fc.integer({ min: 0, max: 0xffff }),
          username: fc.option(mqttString(12), { nil: undefined }),
          password: fc.option(bytes(16), { nil: undefined }),
          will: fc.option(will(version, maxPayload), { nil: undefined }),
          properties: props(1),
        })
        // MQTT 3.1.1 allows a password only with a user name [MQTT-3.1.2-22], and an empty client
        // id only with clean session [MQTT-3.1.3-7]; MQTT 5 has neither rule.
        .map((p) => ({
          type: 'connect',
          protocolVersion: version,
          ...p,
          clean: p.clean || (!v5 && p.clientId === ''),
          password: !v5 && p.username === undefined ? undefined : p.password,
        }));
      break;
    case 'connack':
      arb = fc
        .record({
          sessionPresent: fc.boolean(),
          reasonCode: v5 ? fc.constantFrom(...REASON_CODES.connack) : fc.integer({ min: 0, max: 5 }),
          properties: props(2),
        })
        // Session Present must be 0 with a refusal [MQTT-3.2.2-4] / [MQTT-3.2.2-6].
        .map((p) => ({ type: 'connack', ...p, sessionPresent: p.sessionPresent && p.reasonCode === 0 }));
      break;
    case 'publish':
      arb = fc
        .record({
          topic: topicName,
          payload: payload(maxPayload),
          qos,
          retain: fc.boolean(),
          dup: fc.boolean(),
          packetId,
          properties: props(3),
          aliasOnly: fc.boolean(),
        })
        .map(({ aliasOnly, ...p }) => {
          const out: Record<string, unknown> = { type: 'publish', ...p, dup: p.dup && p.qos > 0 };
          if (p.qos === 0 && p.packetId % 2 === 0) delete out.packetId;
          // MQTT 5: an empty topic name stands for the topic the Topic Alias maps to.
          if (aliasOnly && p.properties?.topicAlias !== undefined) out.topic = '';
          return out;
        });
      break;
    case 'puback':
      arb = ack('puback', 4);
      break;
    case 'pubrec':
      arb = ack('pubrec', 5);
      break;
    case 'pubrel':
      arb = ack('pubrel', 6);
      break;
    case 'pubcomp':
      arb = ack('pubcomp', 7);
      break;
    case 'subscribe':
      arb = fc
        .record({
          packetId,
          subscriptions: fc.array(
            fc.record(
              {
                topic: topicFilter,
                qos,
                noLocal: fc.boolean(),
                retainAsPublished: fc.boolean(),
                retainHandling: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
              },
              { requiredKeys: ['topic', 'qos'] },
            ),
            { minLength: 1, maxLength: 4 },
          ),
          properties: props(8),
        })
        .map((p) => ({
          type: 'subscribe',
          ...p,
          // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
          subscriptions: p.subscriptions.map(
            (s): Subscription => (s.topic.startsWith('$share/') && s.noLocal ? { ...s, noLocal: false } : s),
          ),
        }));
      break;
    case 'suback':
      arb = fc
        .record({
          packetId,
          reasonCodes: fc.array(fc.constantFrom(...(v5 ? REASON_CODES.suback : [0, 1, 2, 0x80])), {
            minLength: 1,
            maxLength: 5,
          }),
          properties: props(9),
        })
        .map((p) => ({ type: 'suback', ...p }));
      break;
    case 'unsubscribe':
      arb = fc
        .record({
          packetId,
          topics: fc.array(topicFilter, { minLength: 1, maxLength: 4 }),
          properties: props(10),
        })
        .map((p) => ({ type: 'unsubscribe', ...p }));
      break;
    case 'unsuback':
      arb = fc
        .record({
          packetId,
          // MQTT 3.1.1 has no UNSUBACK payload: whatever is given is not sent.
          reasonCodes: fc.array(fc.constantFrom(...REASON_CODES.unsuback), {
            minLength: v5 ? 1 : 0,
            maxLength: 5,
          }),
          properties: props(11),
        })
        .map((p) => ({ type: 'unsuback', ...p }));
      break;
    case 'pingreq':
    case 'pingresp':
      arb = fc.constant({ type });
      break;
    case 'disconnect':
      arb = fc
        .record({ reasonCode: reason(REASON_CODES.disconnect), properties: props(14) })
        .map((p) => ({ type: 'disconnect', ...p }));
      break;
    case 'auth':
      arb = fc
        .record({ reasonCode: reason(REASON_CODES.auth), properties: props(15) })
        .map((p) => ({ type: 'auth', ...p }));
      break;
  }
  return arb as fc.Arbitrary<Packet>;
}

/** Any valid packet of `version`. */
export function anyPacket(version: ProtocolVersion, options: PacketOptions = {}): fc.Arbitrary<Packet> {
  return fc.oneof(...packetTypes(version).map((t) => packet(t, version, options)));
}

// --- byte helpers --------------------------------------------------------------------------------

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Splits `bytes` into consecutive chunks whose sizes cycle through `sizes` (each at least 1). */
export function split(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  for (let pos = 0; pos < bytes.length; i++) {
    const n = Math.max(1, sizes.length > 0 ? sizes[i % sizes.length] : bytes.length);
    out.push(bytes.subarray(pos, Math.min(bytes.length, pos + n)));
    pos += n;
  }
  return out;
}

export { prng } from '../helpers/prng.ts';
