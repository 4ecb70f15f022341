/**
 * Exit codes and one-line error messages. Every failure the CLI reports is
 * one line on stderr, never a stack trace.
 */
import { reasonCodeName } from '../codec/reason-codes.ts';
import { MqttError } from '../errors.ts';
import { UsageError } from './args.ts';

/** Documented exit codes (README, "The steadfast command"). */
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
} as const;

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
    switch (error.code) {
      case 'INVALID_ARGUMENT':
      case 'INVALID_URL':
      case 'TOPIC_NAME_INVALID':
      case 'TOPIC_FILTER_INVALID':
        return { message: error.message, exitCode: EXIT.USAGE };
      case 'TIMEOUT':
      case 'LINK_ERROR':
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
