/**
 * The decoded shape of a packet: `normalise` turns a packet as an application may write it
 * into exactly what `decode(encode(p))` returns, and `canon` makes any packet (ours or
 * mqtt-packet's, with Buffers and null-prototype objects) comparable with deepStrictEqual.
 */
import type { Packet, Properties, ProtocolVersion, UserProperties } from '../../src/codec/types.ts';

/** Sets an own enumerable property, even one named '__proto__'. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A deep copy that deepStrictEqual can compare: every Uint8Array (a Buffer, or a view into a
 * larger buffer) becomes a plain Uint8Array, every object a plain object with the same own keys
 * (a key whose value is undefined stays, so it still differs from an absent key).
 */
export function canon(value: unknown): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(canon);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) setOwn(out, k, canon((value as Record<string, unknown>)[k]));
    return out;
  }
  return value;
}

function normaliseUserProperties(u: UserProperties): UserProperties | undefined {
  const out: UserProperties = {};
  for (const k of Object.keys(u)) {
    const v = u[k];
    if (!Array.isArray(v)) setOwn(out, k, v);
    else if (v.length === 1) setOwn(out, k, v[0]);
    else if (v.length > 1) setOwn(out, k, [...v]);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Properties as decoded: no undefined values, no empty parts; undefined when nothing is left. */
export function normaliseProperties(props: Properties | undefined): Properties | undefined {
  if (props === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'userProperties') {
      const u = normaliseUserProperties(v as UserProperties);
      if (u !== undefined) out[k] = u;
    } else if (k === 'subscriptionIdentifier' && Array.isArray(v)) {
      if (v.length === 1) out[k] = v[0];
      else if (v.length > 1) out[k] = [...v];
    } else {
      out[k] = v instanceof Uint8Array ? Uint8Array.from(v) : v;
    }
  }
  return Object.keys(out).length > 0 ? (out as Properties) : undefined;
}

function withProps<T extends object>(base: T, props: Properties | undefined, v5: boolean): T {
  const p = v5 ? normaliseProperties(props) : undefined;
  return p === undefined ? base : { ...base, properties: p };
}

/** The packet `p` as `decode(encode(p, version), version)` returns it (after `canon`). */
export function normalise(p: Packet, version: ProtocolVersion): Packet {
  const v5 = version === 5;
  let out: Packet;
  switch (p.type) {
    case 'connect': {
      const c5 = p.protocolVersion === 5;
      const base: Record<string, unknown> = {
        type: 'connect',
        protocolVersion: p.protocolVersion,
        clientId: p.clientId,
        clean: p.clean,
        keepalive: p.keepalive,
      };
      if (p.will) {
        const w = p.will;
        base.will = withProps(
          { topic: w.topic, payload: w.payload, qos: w.qos, retain: w.retain },
          w.properties,
          c5,
        );
      }
      if (p.username !== undefined) base.username = p.username;
      if (p.password !== undefined) base.password = p.password;
      out = withProps(base, p.properties, c5) as unknown as Packet;
      break;
    }
    case 'connack':
      out = withProps(
        { type: p.type, sessionPresent: p.sessionPresent, reasonCode: p.reasonCode },
        p.properties,
        v5,
      );
      break;
    case 'publish': {
      const base: Record<string, unknown> = {
        type: p.type,
        topic: p.topic,
        payload: p.payload,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
      };
      if (p.qos > 0) base.packetId = p.packetId;
      out = withProps(base, p.properties, v5) as unknown as Packet;
      break;
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      out = withProps(
        { type: p.type, packetId: p.packetId, reasonCode: v5 ? (p.reasonCode ?? 0) : 0 },
        p.properties,
        v5,
      ) as Packet;
      break;
    case 'subscribe':
      out = withProps(
        {
          type: p.type,
          packetId: p.packetId,
          subscriptions: p.subscriptions.map((s) =>
            v5
              ? {
                  topic: s.topic,
                  qos: s.qos,
                  noLocal: s.noLocal ?? false,
                  retainAsPublished: s.retainAsPublished ?? false,
                  retainHandling: s.retainHandling ?? 0,
                }
              : { topic: s.topic, qos: s.qos },
          ),
        },
        p.properties,
        v5,
      );
      break;
    case 'suback':
    case 'unsuback':
      out = withProps(
        {
          type: p.type,
          packetId: p.packetId,
          reasonCodes: !v5 && p.type === 'unsuback' ? [] : [...p.reasonCodes],
        },
        p.properties,
        v5,
      ) as Packet;
      break;
    case 'unsubscribe':
      out = withProps({ type: p.type, packetId: p.packetId, topics: [...p.topics] }, p.properties, v5);
      break;
    case 'pingreq':
    case 'pingresp':
      out = { type: p.type };
      break;
    default:
      out = withProps({ type: p.type, reasonCode: v5 ? (p.reasonCode ?? 0) : 0 }, p.properties, v5) as Packet;
  }
  return canon(out) as Packet;
}
