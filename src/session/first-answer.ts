/**
 * What answered our CONNECT, from the connection's first bytes, which may
 * come one at a time (a serial line): a plausible CONNACK or AUTH, a 3.1.1
 * broker refusing 5.0 (whose CONNACK is no well-formed 5.0 one), or no MQTT
 * broker at all (an HTTP server on the port). Pure.
 */
import type { ProtocolVersion } from '../codec/types.ts';
import { MqttError } from '../errors.ts';

export const EMPTY_BYTES = new Uint8Array(0);
const PUBLISH_TYPE = 3;
/** PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010; every other packet but PUBLISH 0000. */
const FLAGS_0010_TYPES = [6, 8, 10];
const AUTH_TYPE = 15;
/** The 3.1.1 CONNACK "unacceptable protocol version" (20 02 00 01), as the first bytes of a connection. */
const MQTT3_REFUSAL = Uint8Array.of(0x20, 0x02, 0x00, 0x01);

export type FirstAnswer =
  /** Decode these bytes as packets. */
  | { kind: 'mqtt'; bytes: Uint8Array }
  /** Not decided yet: hold these bytes and look again with the next chunk. */
  | { kind: 'wait'; bytes: Uint8Array }
  /** The broker speaks only 3.1.1 (CONNECTION_REFUSED 0x84), or the peer is no MQTT broker (NOT_MQTT). */
  | { kind: 'refused' | 'not-mqtt'; error: MqttError };

/** Classifies `held` (bytes kept from earlier chunks) followed by `chunk`. */
export function firstAnswer(held: Uint8Array, chunk: Uint8Array, version: ProtocolVersion): FirstAnswer {
  const bytes = held.length === 0 ? chunk : concat(held, chunk);
  if (bytes.length === 0) return { kind: 'wait', bytes };
  if (!isFixedHeaderByte(bytes[0], version)) {
    const first = bytes[0].toString(16).padStart(2, '0');
    return {
      kind: 'not-mqtt',
      error: new MqttError(
        'NOT_MQTT',
        `the server did not answer as an MQTT broker (first byte 0x${first}, expected a CONNACK): wrong port or service?`,
        { side: 'remote' },
      ),
    };
  }
  if (version === 5 && startsLike(bytes, MQTT3_REFUSAL)) {
    if (bytes.length < MQTT3_REFUSAL.length) return { kind: 'wait', bytes };
    return {
      kind: 'refused',
      error: new MqttError(
        'CONNECTION_REFUSED',
        'the broker refused the connection: it does not speak MQTT 5',
        {
          reasonCode: 0x84,
          side: 'remote',
        },
      ),
    };
  }
  return { kind: 'mqtt', bytes };
}

/**
 * Whether `byte` can begin an MQTT packet at all. One that cannot (an HTTP
 * server's 'H' is 0x48, PUBACK with flags 8) means the peer is no MQTT broker;
 * one that can but is not CONNACK is the broker's protocol error, for the decoder.
 */
function isFixedHeaderByte(byte: number, version: ProtocolVersion): boolean {
  const type = byte >> 4;
  const flags = byte & 0x0f;
  if (type === 0 || (type === AUTH_TYPE && version === 4)) return false;
  if (type === PUBLISH_TYPE) return (flags & 0b0110) !== 0b0110; // QoS 3 does not exist
  return flags === (FLAGS_0010_TYPES.includes(type) ? 0b0010 : 0);
}

/** Whether `bytes` and `pattern` agree on their common length. */
function startsLike(bytes: Uint8Array, pattern: Uint8Array): boolean {
  const n = Math.min(bytes.length, pattern.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== pattern[i]) return false;
  return true;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
