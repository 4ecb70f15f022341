/**
 * The MQTT 3.1.1 and 5.0 codec: pure functions and a streaming decoder over
 * Uint8Array. No Node built-ins, no globals: runs in any JavaScript engine.
 *
 * @module steadfast-mqtt/codec
 */
import { useReasonCodeNames } from './reason-names.ts';
import { useJsUtf8 } from './utf8-js.ts';

export { MAX_PACKET_SIZE, PACKET_TYPE_NUMBER } from './constants.ts';
export { type DecoderOptions, decode, PacketDecoder } from './decoder.ts';
export { encode, encodedLength, encodeInto } from './encode.ts';
export { PROPERTY_DEFS, type PropertyDef, propertyById } from './properties.ts';
export { isFailure, ReasonCode } from './reason-codes.ts';
export { reasonCodeName, useReasonCodeNames } from './reason-names.ts';
export {
  isValidTopicFilter,
  parseSharedSubscription,
  type SharedSubscription,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from './topic.ts';
export type * from './types.ts';
export { isWellFormedUtf8, readUtf8, utf8Length, writeUtf8 } from './utf8.ts';
export { useJsUtf8 } from './utf8-js.ts';

// An engine with no TextDecoder (QuickJS) that imports the codec gets the plain-JS decoder; the client's
// browser entry does not import this module, so browsers do not ship it.
if (typeof globalThis.TextDecoder !== 'function') useJsUtf8();
// The whole codec is not size-bound: its errors name their reason codes.
useReasonCodeNames();
