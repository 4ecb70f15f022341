/** The radio link layer: frames, the ARQ stream, the endpoint binding a radio to streams, and `radioLink()`. */
export { crc32c } from './crc32c.ts';
export {
  type EndpointEvent,
  type EndpointOptions,
  type EndpointStats,
  type LinkClock,
  type OpenRequest,
  RadioEndpoint,
  realClock,
  type StreamHandle,
  type StreamHandlers,
} from './endpoint.ts';
export {
  decodeFrame,
  encodeFrame,
  FRAME_OVERHEAD,
  type Frame,
  FrameKind,
  HEADER_BYTES,
  kindName,
  MAX_ADDRESS,
  MAX_WINDOW,
  ResetReason,
  resetReasonText,
  TRAILER_BYTES,
} from './frame.ts';
export { type RadioLink, type RadioLinkOptions, radioLink, streamEndError } from './radio-link.ts';
export type { StreamEnd, StreamState, StreamStats } from './stream.ts';
export { type LinkTiming, type LinkTimingOptions, linkTiming } from './timing.ts';
