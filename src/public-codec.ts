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
export {
  isFailure,
  isValidTopicFilter,
  parseSharedSubscription,
  ReasonCode,
  reasonCodeName,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from './codec/index.ts';
