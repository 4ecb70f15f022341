import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ackBytes } from '../../src/codec/ack.ts';
import { encode } from '../../src/codec/encode.ts';
import { ReasonCode } from '../../src/codec/reason-codes.ts';

const TYPES = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const;
const CODES = [
  ReasonCode.Success,
  ReasonCode.NoMatchingSubscribers,
  ReasonCode.PacketIdentifierNotFound,
  0x99,
];

test('ackBytes gives the bytes encode gives, for every ack type, version, reason code and id edge', () => {
  for (const type of TYPES) {
    for (const version of [4, 5] as const) {
      for (const reasonCode of CODES) {
        for (const packetId of [1, 255, 256, 0x1234, 65_535]) {
          const expected = encode({ type, packetId, reasonCode }, version);
          assert.deepEqual(
            [...ackBytes(type, packetId, reasonCode, version)],
            [...expected],
            `${type} v${version}`,
          );
        }
      }
    }
  }
});

test('ackBytes refuses what encode refuses: a packet id outside 1..65535, a reason code that is no byte', () => {
  for (const packetId of [0, 65_536, 1.5]) {
    assert.throws(() => ackBytes('puback', packetId, 0, 5), { code: 'INVALID_ARGUMENT' });
  }
  assert.throws(() => ackBytes('pubrec', 1, 256, 5), { code: 'INVALID_ARGUMENT' });
});
