/**
 * The MQTT 3.1.1 CONNACK return codes (section 3.2.2.3) in the words of the
 * specification: the one refusal table of the full codec (`reasonCodeName`)
 * and the lite client, in a file of its own so that a 3.1.1-only bundle takes
 * it without the MQTT 5 names.
 */
const CONNACK_V4 = [
  'Connection Accepted',
  'Connection Refused, unacceptable protocol version',
  'Connection Refused, identifier rejected',
  'Connection Refused, Server unavailable',
  'Connection Refused, bad user name or password',
  'Connection Refused, not authorized',
];

/** The name of a 3.1.1 CONNACK return code. */
export function connackV4Name(code: number): string {
  return CONNACK_V4[code] ?? `Unknown return code ${code}`;
}
