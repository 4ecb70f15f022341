/** fast-check arbitraries for every MQTT-SN 1.2 message (tests only). */
import fc from 'fast-check';
import { type SnMessage, SnReturnCode, type SnReturnCodeValue } from '../../src/sn/codec/index.ts';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const rc = fc.constantFrom<SnReturnCodeValue>(...Object.values(SnReturnCode));
const qos012 = fc.constantFrom<0 | 1 | 2>(0, 1, 2);
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0'));
const data = fc.uint8Array({ maxLength: 400 });
const shortName = fc.string({
  unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)),
  minLength: 2,
  maxLength: 2,
});
const clientId = fc
  .string({ unit: 'binary-ascii', minLength: 1, maxLength: 23 })
  .filter((s) => !s.includes('\0'));
const topic = fc.oneof(
  u16.map((id) => ({ type: 'normal' as const, id })),
  u16.map((id) => ({ type: 'predefined' as const, id })),
  shortName.map((name) => ({ type: 'short' as const, name })),
);
const subTopic = fc.oneof(
  text.map((name) => ({ type: 'name' as const, name })),
  u16.map((id) => ({ type: 'predefined' as const, id })),
  shortName.map((name) => ({ type: 'short' as const, name })),
);
const willTopic = (type: 'willtopic' | 'willtopicupd') =>
  fc.oneof(
    fc.constant<SnMessage>({ type, qos: 0, retain: false, topic: undefined }),
    fc.record({ type: fc.constant(type), qos: qos012, retain: fc.boolean(), topic: text }),
  );

/** Any message the codec can carry, outside an encapsulation. */
export const anyPlainSn: fc.Arbitrary<SnMessage> = fc.oneof(
  fc.record({ type: fc.constant('advertise' as const), gwId: u8, duration: u16 }),
  fc.record({ type: fc.constant('searchgw' as const), radius: u8 }),
  fc.record({ type: fc.constant('gwinfo' as const), gwId: u8 }),
  fc.record({
    type: fc.constant('gwinfo' as const),
    gwId: u8,
    gwAdd: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    type: fc.constant('connect' as const),
    will: fc.boolean(),
    cleanSession: fc.boolean(),
    duration: u16,
    clientId,
  }),
  fc.record({ type: fc.constant('connack' as const), returnCode: rc }),
  fc.constant<SnMessage>({ type: 'willtopicreq' }),
  fc.constant<SnMessage>({ type: 'willmsgreq' }),
  willTopic('willtopic'),
  willTopic('willtopicupd'),
  fc.record({ type: fc.constantFrom('willmsg' as const, 'willmsgupd' as const), message: data }),
  fc.record({ type: fc.constant('register' as const), topicId: u16, msgId: u16, topicName: text }),
  fc.record({ type: fc.constant('regack' as const), topicId: u16, msgId: u16, returnCode: rc }),
  fc.record({
    type: fc.constant('publish' as const),
    dup: fc.boolean(),
    qos: fc.constantFrom<-1 | 0 | 1 | 2>(-1, 0, 1, 2),
    retain: fc.boolean(),
    topic,
    msgId: u16,
    data,
  }),
  fc.record({ type: fc.constant('puback' as const), topicId: u16, msgId: u16, returnCode: rc }),
  fc.record({
    type: fc.constantFrom('pubrec' as const, 'pubrel' as const, 'pubcomp' as const, 'unsuback' as const),
    msgId: u16,
  }),
  fc.record({
    type: fc.constant('subscribe' as const),
    dup: fc.boolean(),
    qos: qos012,
    msgId: u16,
    topic: subTopic,
  }),
  fc.record({ type: fc.constant('suback' as const), qos: qos012, topicId: u16, msgId: u16, returnCode: rc }),
  fc.record({ type: fc.constant('unsubscribe' as const), msgId: u16, topic: subTopic }),
  fc.constant<SnMessage>({ type: 'pingreq' }),
  fc.record({ type: fc.constant('pingreq' as const), clientId }),
  fc.constant<SnMessage>({ type: 'pingresp' }),
  fc.constant<SnMessage>({ type: 'disconnect' }),
  fc.record({ type: fc.constant('disconnect' as const), duration: u16 }),
  fc.record({ type: fc.constantFrom('willtopicresp' as const, 'willmsgresp' as const), returnCode: rc }),
);

/** Any message, encapsulated ones included. */
export const anySn: fc.Arbitrary<SnMessage> = fc.oneof(
  { weight: 5, arbitrary: anyPlainSn },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('encapsulated' as const),
      radius: fc.integer({ min: 0, max: 3 }),
      nodeId: fc.uint8Array({ maxLength: 8 }),
      message: anyPlainSn,
    }),
  },
);
