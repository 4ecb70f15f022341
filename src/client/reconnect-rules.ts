/**
 * How the supervisor reads the end of a connection: a refusal no retry can
 * fix, or an end the broker caused (which, soon after CONNACK, counts as a
 * failed attempt for the backoff).
 */
import { ReasonCode } from '../codec/reason-codes.ts';
import type { MqttError } from '../errors.ts';

/** MQTT 3.1.1 CONNACK return codes: bad protocol version, identifier rejected, bad credentials, not authorized. */
const PERMANENT_V4 = [1, 2, 4, 5];
const PERMANENT_V5: number[] = [
  ReasonCode.UnsupportedProtocolVersion,
  ReasonCode.ClientIdentifierNotValid,
  ReasonCode.BadUserNameOrPassword,
  ReasonCode.NotAuthorized,
  ReasonCode.Banned,
  ReasonCode.BadAuthenticationMethod,
];

/** CONNACK refusals that retrying will not fix (3.1.1 return codes 1, 2, 4, 5 and their MQTT 5 kin). */
export function isPermanentRefusal(error: MqttError, version: 4 | 5): boolean {
  if (error.code !== 'CONNECTION_REFUSED' || error.reasonCode === undefined) return false;
  return (version === 4 ? PERMANENT_V4 : PERMANENT_V5).includes(error.reasonCode);
}

/**
 * The broker (or something on its side) ended the connection: it closed the link, sent DISCONNECT,
 * or broke the protocol so that we closed it (a broker that does that soon after every CONNACK
 * would otherwise be reconnected to every second, forever).
 */
export function endedByPeer(cause: MqttError): boolean {
  return (
    cause.code === 'CONNECTION_LOST' || cause.code === 'PROTOCOL_ERROR' || cause.code === 'MALFORMED_PACKET'
  );
}

/**
 * A connection proved the broker healthy, so the backoff starts over: it
 * stayed up `resetBackoffAfter` ms, or the broker served us on it (acked a
 * request with success or delivered a message; CONNACK and PINGRESP alone do
 * not count). A broker that accepts and drops every connection serves
 * nothing and sees a growing wait; one that worked until a restart or a cut
 * (the common outage) is reconnected to at once, however soon it failed.
 */
export function provedHealthy(
  upMs: number,
  session: { readonly servedThisConnection: boolean },
  options: { readonly resetBackoffAfter?: number },
): boolean {
  return upMs >= (options.resetBackoffAfter ?? 0) || session.servedThisConnection;
}
