/**
 * One error class for the whole library, with a stable `code` to switch on.
 *
 * `side` says who broke the rules: `'remote'` when bytes from the peer were
 * wrong (the connection must be closed, with `reasonCode` as the DISCONNECT
 * reason on MQTT 5), `'local'` when the application asked for something the
 * protocol does not allow (nothing was sent).
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type MqttErrorCode =
  /** The bytes do not form a valid packet (MQTT 5 reason 0x81). */
  | 'MALFORMED_PACKET'
  /** The packet is well-formed but breaks a protocol rule (0x82). */
  | 'PROTOCOL_ERROR'
  /** A packet exceeds the maximum packet size in force (0x95). */
  | 'PACKET_TOO_LARGE'
  /** A topic name is empty, has a wildcard or a U+0000 (0x90). */
  | 'TOPIC_NAME_INVALID'
  /** A topic filter is malformed (0x8F). */
  | 'TOPIC_FILTER_INVALID'
  /** The peer speaks a protocol version we do not (0x84). */
  | 'UNSUPPORTED_PROTOCOL_VERSION'
  /** The application passed a value the protocol cannot carry. */
  | 'INVALID_ARGUMENT'
  /** A URL could not be understood (scheme, host or port). */
  | 'INVALID_URL'
  /** The peer answered, but not as an MQTT broker (its first bytes are not a CONNACK): wrong port or service. */
  | 'NOT_MQTT'
  /** The link could not be opened or failed (refused, unreachable, TLS failure, ...); `cause` has the details. */
  | 'LINK_ERROR'
  /** The connection ended while the operation was in progress. */
  | 'CONNECTION_LOST'
  /** An operation did not complete in the time allowed. */
  | 'TIMEOUT'
  /** The operation was withdrawn through its AbortSignal. */
  | 'ABORTED'
  /** The broker refused the connection (CONNACK reason code in `reasonCode`). */
  | 'CONNECTION_REFUSED'
  /** The broker answered a request with a failure reason code (in `reasonCode`). */
  | 'REFUSED'
  /** The client was closed by the application. */
  | 'CLIENT_CLOSED'
  /** The offline queue is full and the policy says to reject. */
  | 'QUEUE_FULL'
  /** A session store could not be read or written (file missing, corrupt, locked by another process). */
  | 'STORE_ERROR';

/** Where the broken rule came from. */
export type ErrorSide = 'local' | 'remote';

/** Options for `new MqttError()`. */
export interface MqttErrorOptions {
  /** The MQTT 5 reason code that describes the error, when there is one. Default none. */
  reasonCode?: number;
  /** Who broke the rules. Default `'local'`. */
  side?: ErrorSide;
  /** The underlying error, if any. Default none. */
  cause?: unknown;
}

/** The one error class of the library: switch on `code` (stable), read `reasonCode` and `side`. */
export class MqttError extends Error {
  override name = 'MqttError';
  readonly code: MqttErrorCode;
  readonly reasonCode: number | undefined;
  readonly side: ErrorSide;

  constructor(code: MqttErrorCode, message: string, options: MqttErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reasonCode = options.reasonCode;
    this.side = options.side ?? 'local';
  }
}

/** Reason codes attached to each error code when the error has no more specific one (the others have none). */
const DEFAULT_REASON: Partial<Record<MqttErrorCode, number>> = {
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  PACKET_TOO_LARGE: 0x95,
  TOPIC_NAME_INVALID: 0x90,
  TOPIC_FILTER_INVALID: 0x8f,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
};

/** An error caused by bytes received from the peer. */
export function remoteError(code: MqttErrorCode, message: string): MqttError {
  return new MqttError(code, message, { side: 'remote', reasonCode: DEFAULT_REASON[code] });
}

/** An error caused by what the application asked for; nothing was sent. */
export function localError(code: MqttErrorCode, message: string): MqttError {
  return new MqttError(code, message, { side: 'local', reasonCode: DEFAULT_REASON[code] });
}
