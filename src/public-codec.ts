/**
 * What the main entry points re-export from the codec: the types users meet
 * in the client API, reason codes and topic helpers. The whole codec
 * (encode, PacketDecoder, ...) is at `steadfast-mqtt/codec`.
 */

export type {
  Packet,
  Properties,
  ProtocolVersion,
  QoS,
  Subscription as SubscriptionRequest,
  UserProperties,
  Will,
} from './codec/index.ts';
// From the modules themselves, not the codec's index: that one installs the plain-JS UTF-8 decoder on
// engines without TextDecoder, which a browser bundle must not carry.
export { isFailure, ReasonCode } from './codec/reason-codes.ts';
export { reasonCodeName, useReasonCodeNames } from './codec/reason-names.ts';
export {
  isValidTopicFilter,
  parseSharedSubscription,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from './codec/topic.ts';
