/**
 * The client-role codec (src/codec/client-role.ts), which the session uses so that a client
 * bundle leaves out what only a broker needs. For every packet it handles it must agree with the
 * public codec byte for byte; the packets it leaves out must fail clearly, never be misread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clientDecoder, encodeFromClient } from '../../src/codec/client-role.ts';
import { decode, encode } from '../../src/codec/index.ts';
import type { PacketType, ProtocolVersion } from '../../src/codec/types.ts';
import { packet, packetTypes } from './arbitraries.ts';
import { assertMqttError } from './vector-helpers.ts';

const SENT_BY_CLIENT = new Set<PacketType>([
  'connect',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'unsubscribe',
  'pingreq',
  'disconnect',
  'auth',
]);
const ONLY_FROM_CLIENT = new Set<PacketType>(['connect', 'subscribe', 'unsubscribe']);

for (const version of [4, 5] as ProtocolVersion[]) {
  describe(`client-role codec, MQTT ${version === 5 ? '5' : '3.1.1'}`, () => {
    for (const type of packetTypes(version)) {
      const received = !ONLY_FROM_CLIENT.has(type);
      it(`${type}: ${received ? 'decodes as decode() does' : 'refused from a broker with PROTOCOL_ERROR'}`, () => {
        fc.assert(
          fc.property(packet(type, version, { maxPayload: 300 }), (p) => {
            const bytes = encode(p, version);
            const decoder = clientDecoder({ protocolVersion: version });
            decoder.push(bytes);
            if (received) {
              assert.deepEqual(decoder.next(), decode(bytes, version));
              assert.equal(decoder.bufferedBytes, 0);
            } else {
              assertMqttError(() => decoder.next(), 'PROTOCOL_ERROR', 'remote');
            }
          }),
          { numRuns: 30 },
        );
      });
      const sent = SENT_BY_CLIENT.has(type);
      it(`${type}: ${sent ? 'encodes to the same bytes as encode()' : 'is not encoded (a broker sends it)'}`, () => {
        fc.assert(
          fc.property(packet(type, version, { maxPayload: 300 }), (p) => {
            if (sent) assert.deepEqual(encodeFromClient(p, version), encode(p, version));
            else assertMqttError(() => encodeFromClient(p, version), 'INVALID_ARGUMENT', 'local');
          }),
          { numRuns: 30 },
        );
      });
    }
  });
}
