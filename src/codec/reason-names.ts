/**
 * The MQTT 5 reason-code names (specification section 2.4), as a module of
 * their own: a browser pub/sub bundle leaves the table out, and its error
 * messages give the number instead. The Node entry and `steadfast-mqtt/codec`
 * install it when loaded; the public `reasonCodeName()` installs it on first use.
 */

import { installReasonCodeNames, reasonCodeName as nameOf } from './reason-codes.ts';
import type { PacketType, ProtocolVersion } from './types.ts';

const NAMES: Record<number, string> = {
  4: 'Disconnect with Will Message',
  16: 'No matching subscribers',
  17: 'No subscription existed',
  24: 'Continue authentication',
  25: 'Re-authenticate',
  128: 'Unspecified error',
  129: 'Malformed Packet',
  130: 'Protocol Error',
  131: 'Implementation specific error',
  132: 'Unsupported Protocol Version',
  133: 'Client Identifier not valid',
  134: 'Bad User Name or Password',
  135: 'Not authorized',
  136: 'Server unavailable',
  137: 'Server busy',
  138: 'Banned',
  139: 'Server shutting down',
  140: 'Bad authentication method',
  141: 'Keep Alive timeout',
  142: 'Session taken over',
  143: 'Topic Filter invalid',
  144: 'Topic Name invalid',
  145: 'Packet Identifier in use',
  146: 'Packet Identifier not found',
  147: 'Receive Maximum exceeded',
  148: 'Topic Alias invalid',
  149: 'Packet too large',
  150: 'Message rate too high',
  151: 'Quota exceeded',
  152: 'Administrative action',
  153: 'Payload format invalid',
  154: 'Retain not supported',
  155: 'QoS not supported',
  156: 'Use another server',
  157: 'Server moved',
  158: 'Shared Subscriptions not supported',
  159: 'Connection rate exceeded',
  160: 'Maximum connect time',
  161: 'Subscription Identifiers not supported',
  162: 'Wildcard Subscriptions not supported',
};

/** Makes every reason code in error messages carry its name (`Not authorized`), not only its number. */
export function useReasonCodeNames(): void {
  installReasonCodeNames(NAMES);
}

/**
 * The name of a reason code. The packet type matters for the low codes
 * (0x00 is "Success", "Normal disconnection" or "Granted QoS 0"), and the
 * version for CONNACK, whose 3.1.1 return codes are a different table.
 * Installs the names for error messages too (`useReasonCodeNames()`).
 */
export function reasonCodeName(code: number, packet?: PacketType, version: ProtocolVersion = 5): string {
  useReasonCodeNames();
  return nameOf(code, packet, version);
}
