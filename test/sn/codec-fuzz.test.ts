/**
 * Properties of the MQTT-SN codec: every message round-trips; the decoder, fed random bytes or
 * valid messages with bytes flipped, inserted or cut, either returns a message that re-encodes to
 * the same bytes (modulo the length form) or throws an MqttError with side 'remote' and one of
 * the two documented codes. Nothing else ever escapes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MqttError } from '../../src/errors.ts';
import { decodeSn, encodeSn } from '../../src/sn/codec/index.ts';
import { canon } from '../codec/normalise.ts';
import { anySn } from './codec-arbitraries.ts';

const DECODE_CODES = new Set(['MALFORMED_PACKET', 'UNSUPPORTED_PROTOCOL_VERSION']);

function decodeOrTypedError(bytes: Uint8Array): void {
  let msg: ReturnType<typeof decodeSn>;
  try {
    msg = decodeSn(bytes);
  } catch (err) {
    if (!(err instanceof MqttError))
      assert.fail(`non-MqttError: ${err instanceof Error ? err.stack : String(err)}`);
    assert.equal(err.side, 'remote');
    assert.ok(DECODE_CODES.has(err.code), err.code);
    return;
  }
  // Whatever decodes is a message the encoder can carry, and decodes again to itself.
  assert.deepEqual(decodeSn(encodeSn(msg)), msg);
}

describe('MQTT-SN codec properties', () => {
  it('every message round-trips through encode and decode', () => {
    fc.assert(
      fc.property(anySn, (msg) => {
        assert.deepEqual(canon(decodeSn(encodeSn(msg))), canon(msg));
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes: a message or a typed error, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodeOrTypedError), { numRuns: 5000 });
  });

  it('random bytes behind a correct length header: the body parsers are strict too', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff }), fc.uint8Array({ maxLength: 60 }), (msgType, body) => {
        decodeOrTypedError(Uint8Array.from([body.length + 2, msgType, ...body]));
      }),
      { numRuns: 5000 },
    );
  });

  it('valid messages with bytes flipped, inserted or cut', () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 0xff }),
      }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 0xff }),
      }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(anySn, fc.array(mutation, { minLength: 1, maxLength: 3 }), (msg, mutations) => {
        const bytes = [...encodeSn(msg)];
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === 'flip' && at < bytes.length) bytes[at] = m.value;
          else if (m.kind === 'insert') bytes.splice(at, 0, m.value);
          else if (m.kind === 'cut') bytes.splice(at, 1);
        }
        decodeOrTypedError(Uint8Array.from(bytes));
      }),
      { numRuns: 5000 },
    );
  });
});
