/** The radio link layer: frames, the ARQ stream, the endpoint binding a radio to streams, and `radioLink()`. */

export { type LinkClock, realClock } from './clock.ts';
export { defaultNonceSource, type NonceSource } from './codec.ts';
export { crc32c } from './crc32c.ts';
export { deriveKey, eaxOpen, eaxSeal, KEY_BYTES } from './crypto.ts';
export {
  BROADCAST_ADDRESS,
  DISCOVERY_KIND,
  DiscoveryCodec,
  type DiscoveryHeard,
  type DiscoveryMessage,
  DiscoveryType,
  isDiscoveryFrame,
} from './discovery.ts';
export { RadioEndpoint } from './endpoint.ts';
export type {
  EndpointCloseOptions,
  EndpointEvent,
  EndpointOptions,
  EndpointSecurity,
  EndpointStats,
  OpenRequest,
  StreamHandle,
  StreamHandlers,
} from './endpoint-types.ts';
export {
  type DecodedFrame,
  decodeFrame,
  encodeFrame,
  FRAME_OVERHEAD,
  type Frame,
  type FrameDefect,
  FrameKind,
  HEADER_BYTES,
  kindName,
  MAX_ADDRESS,
  MAX_WINDOW,
  ResetReason,
  resetReasonText,
  TRAILER_BYTES,
} from './frame.ts';
export { GatewayTable, type GatewayTableOptions, type RankedGateway } from './gateway-table.ts';
export { formatKey, generateKey, parseKey } from './keys.ts';
export { type RadioLink, type RadioLinkOptions, radioLink, streamEndError } from './radio-link.ts';
export {
  type RoamEvent,
  type RoamingLink,
  type RoamingLinkOptions,
  type RoamStats,
  roamingLink,
} from './roaming-link.ts';
export {
  HANDSHAKE_OVERHEAD,
  NodeKey,
  type OpenedFrame,
  SECURE_OVERHEAD,
  StreamCipher,
  TAG_BYTES,
} from './secure-frame.ts';
export {
  Stream,
  type StreamConfig,
  type StreamEnd,
  type StreamEvent,
  type StreamState,
  type StreamStats,
} from './stream.ts';
export { type LinkTiming, type LinkTimingOptions, linkTiming, type RadioAirtime } from './timing.ts';
