/**
 * Exit codes and one-line error messages. Every failure the CLI reports is
 * one line on stderr, never a stack trace.
 */
import { reasonCodeName } from '../codec/reason-names.ts';
import { MqttError } from '../errors.ts';
import { UsageError } from './args.ts';

/** Documented exit codes (docs/cli.md, and `steadfast help`). */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** The operation failed after connecting: refused publish, no response in time, client closed. */
  FAILED: 1,
  /** Bad usage: unknown option, bad value, bad URL, bad topic or filter, unreadable file. */
  USAGE: 2,
  /** The broker could not be reached in time (refused, unreachable, TLS failure, no CONNACK). */
  UNREACHABLE: 3,
  /** The broker refused the connection (CONNACK reason code, printed in words). */
  REFUSED: 4,
  /** demo: a QoS 1 message was lost, or a QoS 2 message lost or duplicated. */
  DELIVERY: 5,
  /** sub -W / req -W: the time ran out ("Timed out"); mosquitto_sub's and mosquitto_rr's 27. */
  TIMED_OUT: 27,
  /** Ended by Ctrl-C (SIGINT): 128 + 2. */
  INTERRUPTED: 130,
  /** Ended by SIGTERM: 128 + 15. */
  TERMINATED: 143,
} as const;

/** TLS verification failures (Node's codes): the certificate will not verify by waiting. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** The errno or TLS code in an error or its causes. */
function causeCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !(e instanceof MqttError)) return code;
  }
  return undefined;
}

/** Why a first connect failed for good, in mosquitto's words, and what the user can do about it. */
export interface HopelessFailure {
  reason: string;
  hint?: string;
}

/**
 * A first-connect failure that waiting will not heal (exit 3 unless --retry);
 * undefined for one worth retrying (a timeout, a reset, a temporary DNS failure).
 */
export function hopelessConnectFailure(cause: MqttError): HopelessFailure | undefined {
  // NOT_MQTT: the first bytes from the peer were not a CONNACK (an HTTP server, an SSH daemon...).
  if ((cause.code as string) === 'NOT_MQTT') return { reason: `not an MQTT broker (${cause.message})` };
  const code = causeCode(cause);
  if (code === 'ECONNREFUSED')
    return { reason: 'Connection refused', hint: 'nothing listens there; --retry waits for it' };
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME') return { reason: 'unknown host (DNS has no such name)' };
  if (code !== undefined && TLS_VERIFY_CODES.has(code)) {
    return {
      reason: `the broker's certificate does not verify: ${innermostMessage(cause)}`,
      hint: '--cafile FILE trusts its CA, --insecure skips the check',
    };
  }
  return undefined;
}

/** The CliFailure for a hopeless first connect. */
export function connectFailure(url: string, failure: HopelessFailure): CliFailure {
  const hint = failure.hint === undefined ? '' : ` (${failure.hint})`;
  return new CliFailure(`cannot connect to ${url}: ${failure.reason}${hint}`, EXIT.UNREACHABLE);
}

function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) message = e.message;
  return message;
}

/** A failure whose message and exit code are already decided. */
export class CliFailure extends Error {
  override name = 'CliFailure';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The message and exit code for any error thrown by a command. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliFailure) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT.USAGE };
  if (error instanceof MqttError) {
    const refusal = findRefusal(error);
    if (refusal !== undefined) return { message: refusalMessage(refusal), exitCode: EXIT.REFUSED };
    if ((error.code as string) === 'NOT_MQTT') {
      return { message: `not an MQTT broker: ${error.message}`, exitCode: EXIT.UNREACHABLE };
    }
    switch (error.code) {
      case 'INVALID_ARGUMENT':
      case 'INVALID_URL':
      case 'TOPIC_NAME_INVALID':
      case 'TOPIC_FILTER_INVALID':
        return { message: error.message, exitCode: EXIT.USAGE };
      case 'TIMEOUT':
      case 'LINK_ERROR':
        if (error.code === 'TIMEOUT' && /^no response /.test(error.message)) {
          return { message: `Timed out: ${error.message}`, exitCode: EXIT.TIMED_OUT };
        }
        if (/not connected within/.test(error.message) || error.code === 'LINK_ERROR') {
          return { message: `cannot reach the broker: ${error.message}`, exitCode: EXIT.UNREACHABLE };
        }
        return { message: error.message, exitCode: EXIT.FAILED };
      case 'REFUSED':
        return {
          message: `${error.message}${error.reasonCode !== undefined ? ` (reason code 0x${hex(error.reasonCode)})` : ''}`,
          exitCode: EXIT.FAILED,
        };
      default:
        return { message: error.message, exitCode: EXIT.FAILED };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, exitCode: EXIT.FAILED };
}

/** The CONNACK refusal in an error or its causes. */
function findRefusal(error: unknown): MqttError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof MqttError && e.code === 'CONNECTION_REFUSED') return e;
  }
  return undefined;
}

function refusalMessage(error: MqttError): string {
  const code = error.reasonCode;
  if (code === undefined) return error.message;
  // The session's message already names the reason; add the number people look up.
  const named = /refused the connection/.test(error.message)
    ? error.message
    : `the broker refused the connection: ${reasonCodeName(code, 'connack')}`;
  return `${named} (reason code 0x${hex(code)})`;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
