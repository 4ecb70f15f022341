/**
 * MQTT 5 reason codes are checked against the table of the packet that
 * carries them: every code a packet may carry decodes, every other code is a
 * PROTOCOL_ERROR naming the packet and the code. Both decoders (the public
 * one and the client's own) agree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientDecoder } from '../../src/codec/client-role.ts';
import { decode } from '../../src/codec/index.ts';
import { MqttError } from '../../src/errors.ts';
import { REASON_CODES } from './arbitraries.ts';

/** The tables of MQTT 5.0 sections 3.4.2.1 - 3.15.2.1, as the specification lists them (CONNACK is not checked). */
const { connack: _connack, ...TABLES } = REASON_CODES;

/** The bytes of `type` carrying `code` (no properties). */
function packet(type: string, code: number): Uint8Array {
  switch (type) {
    case 'puback':
      return new Uint8Array([0x40, 0x03, 0x00, 0x01, code]);
    case 'pubrec':
      return new Uint8Array([0x50, 0x03, 0x00, 0x01, code]);
    case 'pubrel':
      return new Uint8Array([0x62, 0x03, 0x00, 0x01, code]);
    case 'pubcomp':
      return new Uint8Array([0x70, 0x03, 0x00, 0x01, code]);
    case 'suback':
      return new Uint8Array([0x90, 0x04, 0x00, 0x01, 0x00, code]);
    case 'unsuback':
      return new Uint8Array([0xb0, 0x04, 0x00, 0x01, 0x00, code]);
    case 'disconnect':
      return new Uint8Array([0xe0, 0x01, code]);
    case 'auth':
      return new Uint8Array([0xf0, 0x01, code]);
    default:
      throw new Error(type);
  }
}

/** The client's own decoder (it reads only what a broker may send). */
function decodeFromServer(bytes: Uint8Array, version: 4 | 5): void {
  const decoder = clientDecoder({ protocolVersion: version, maximumPacketSize: 1 << 20 });
  decoder.push(bytes);
  assert.ok(decoder.next());
}

function decodeBoth(bytes: Uint8Array): void {
  decode(bytes, 5);
  decodeFromServer(bytes, 5);
}

describe('MQTT 5 reason codes, per packet', () => {
  for (const [type, allowed] of Object.entries(TABLES) as [string, readonly number[]][]) {
    it(`${type.toUpperCase()}: the ${allowed.length} codes of its table decode, the other ${256 - allowed.length} are a PROTOCOL_ERROR`, () => {
      for (let code = 0; code < 256; code++) {
        const bytes = packet(type, code);
        if (allowed.includes(code)) {
          decodeBoth(bytes);
          continue;
        }
        for (const run of [() => decode(bytes, 5), () => decodeFromServer(bytes, 5)]) {
          assert.throws(run, (e: unknown) => {
            assert.ok(e instanceof MqttError);
            assert.equal(e.code, 'PROTOCOL_ERROR');
            assert.match(
              e.message,
              new RegExp(
                `${type.toUpperCase()} cannot carry reason code 0x${code.toString(16).padStart(2, '0')}`,
              ),
            );
            return true;
          });
        }
      }
    });
  }
});
