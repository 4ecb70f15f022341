/**
 * What the strict decoder refuses, one case per rule, each with the code it carries; and what the
 * encoder refuses to send. The portable codec bundles for the browser with nothing from Node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MqttError } from '../../src/errors.ts';
import { decodeSn, encodeSn, type SnMessage } from '../../src/sn/codec/index.ts';
import { bundleForBrowser } from '../helpers/portable.ts';

const b = (...xs: number[]) => Uint8Array.from(xs);

const REFUSED: [string, Uint8Array, string][] = [
  ['an empty datagram', b(), 'MALFORMED_PACKET'],
  ['a lone byte', b(2), 'MALFORMED_PACKET'],
  ['a length longer than the datagram', b(5, 0x18), 'MALFORMED_PACKET'],
  ['a length shorter than the datagram', b(2, 0x18, 0), 'MALFORMED_PACKET'],
  ['a 3-byte length that disagrees', b(0x01, 0x00, 0x09, 0x18), 'MALFORMED_PACKET'],
  ['a 3-byte header cut short', b(0x01, 0x00, 0x04), 'MALFORMED_PACKET'],
  ['the reserved MsgType 0x03', b(2, 0x03), 'MALFORMED_PACKET'],
  ['the reserved MsgType 0x11', b(2, 0x11), 'MALFORMED_PACKET'],
  ['the reserved MsgType 0x19', b(2, 0x19), 'MALFORMED_PACKET'],
  ['a CONNECT with ProtocolId 2', b(7, 0x04, 0x04, 0x02, 0, 60, 0x61), 'UNSUPPORTED_PROTOCOL_VERSION'],
  ['a CONNECT with no client id', b(6, 0x04, 0x04, 0x01, 0, 60), 'MALFORMED_PACKET'],
  [
    'a CONNECT with a 24-character client id',
    b(30, 0x04, 0, 1, 0, 60, ...new Array(24).fill(0x61)),
    'MALFORMED_PACKET',
  ],
  ['a CONNECT with bad UTF-8', b(7, 0x04, 0x04, 0x01, 0, 60, 0xff), 'MALFORMED_PACKET'],
  ['a CONNACK with the reserved return code 4', b(3, 0x05, 0x04), 'MALFORMED_PACKET'],
  ['a CONNACK with a byte too many', b(4, 0x05, 0, 0), 'MALFORMED_PACKET'],
  ['a PINGRESP with a body', b(3, 0x17, 0), 'MALFORMED_PACKET'],
  ['a PUBLISH with the reserved TopicIdType 0b11', b(7, 0x0c, 0x03, 0, 1, 0, 0), 'MALFORMED_PACKET'],
  ['a PUBLISH with no MsgId', b(5, 0x0c, 0x00, 0, 1), 'MALFORMED_PACKET'],
  ['a PUBLISH with a short topic of a NUL byte', b(7, 0x0c, 0x02, 0, 0x61, 0, 0), 'MALFORMED_PACKET'],
  ['a SUBSCRIBE at QoS -1', b(6, 0x12, 0x60, 0, 1, 0x61), 'MALFORMED_PACKET'],
  ['a SUBSCRIBE with an empty topic name', b(5, 0x12, 0x00, 0, 1), 'MALFORMED_PACKET'],
  [
    'a SUBSCRIBE to a pre-defined id with a byte too many',
    b(8, 0x12, 0x01, 0, 1, 0, 7, 0),
    'MALFORMED_PACKET',
  ],
  ['a WILLTOPIC at QoS -1', b(4, 0x07, 0x60, 0x61), 'MALFORMED_PACKET'],
  ['a WILLTOPIC with flags and no topic', b(3, 0x07, 0x20), 'MALFORMED_PACKET'],
  ['a REGISTER with no topic name', b(6, 0x0a, 0, 0, 0, 1), 'MALFORMED_PACKET'],
  ['a DISCONNECT with one byte of duration', b(3, 0x18, 1), 'MALFORMED_PACKET'],
  ['an encapsulation inside an encapsulation', b(3, 0xfe, 0, 3, 0xfe, 0, 2, 0x16), 'MALFORMED_PACKET'],
  ['an encapsulation whose header length passes the end', b(9, 0xfe, 0, 1), 'MALFORMED_PACKET'],
  ['an encapsulation with no inner message', b(4, 0xfe, 0, 1), 'MALFORMED_PACKET'],
];

describe('the MQTT-SN decoder refuses', () => {
  for (const [name, bytes, code] of REFUSED) {
    it(name, () => {
      assert.throws(
        () => decodeSn(bytes),
        (err: unknown) => err instanceof MqttError && err.code === code && err.side === 'remote',
      );
    });
  }
});

const UNSENDABLE: [string, SnMessage][] = [
  [
    'a client id of 24 characters',
    { type: 'connect', will: false, cleanSession: true, duration: 1, clientId: 'a'.repeat(24) },
  ],
  ['an empty client id', { type: 'connect', will: false, cleanSession: true, duration: 1, clientId: '' }],
  [
    'a keepalive above 65535',
    { type: 'connect', will: false, cleanSession: true, duration: 70000, clientId: 'a' },
  ],
  [
    'a short topic of three characters',
    {
      type: 'publish',
      dup: false,
      qos: 0,
      retain: false,
      topic: { type: 'short', name: 'abc' },
      msgId: 0,
      data: b(),
    },
  ],
  [
    'a short topic with a non-ASCII character',
    {
      type: 'publish',
      dup: false,
      qos: 0,
      retain: false,
      topic: { type: 'short', name: 'aé' },
      msgId: 0,
      data: b(),
    },
  ],
  ['a message above 65535 bytes', { type: 'willmsg', message: new Uint8Array(65535) }],
  ['an empty will topic', { type: 'willtopic', qos: 0, retain: false, topic: '' }],
  [
    'an encapsulation radius of 4',
    { type: 'encapsulated', radius: 4, nodeId: b(1), message: { type: 'pingresp' } },
  ],
];

describe('the MQTT-SN encoder refuses', () => {
  for (const [name, msg] of UNSENDABLE) {
    it(name, () => {
      assert.throws(
        () => encodeSn(msg),
        (err: unknown) => err instanceof MqttError && err.code === 'INVALID_ARGUMENT' && err.side === 'local',
      );
    });
  }
});

it('src/sn/codec bundles for the browser with no Node built-in', async () => {
  const { inputs, code } = await bundleForBrowser('src/sn/codec/index.ts');
  const foreign = inputs.filter((path) => !/^src\/(sn\/codec|codec)\/|^src\/errors\.ts$/.test(path));
  assert.deepEqual(foreign, [], 'the MQTT-SN codec imports only portable code');
  for (const nodeism of ['node:', 'require(', 'Buffer', 'process.', 'setTimeout', 'setInterval'])
    assert.ok(!code.includes(nodeism), `bundle mentions ${nodeism}`);
});
