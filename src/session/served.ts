/**
 * Did the broker serve us on a connection? A success ack of one of our
 * requests (PUBACK, PUBREC, PUBCOMP, a SUBACK granting a filter, UNSUBACK) or
 * a message delivered to us. CONNACK and PINGRESP do not count: a broker that
 * accepts and then drops every connection (overloaded, an ACL refusing what
 * we send, a proxy) sends those too. The supervisor reads this to decide
 * whether a short connection proved the broker healthy (reconnect-rules.ts).
 */
import { isFailure } from '../codec/reason-codes.ts';
import type { Packet } from '../codec/types.ts';

export function brokerServed(packet: Packet): boolean {
  switch (packet.type) {
    case 'publish':
    case 'unsuback':
      return true;
    case 'puback':
    case 'pubrec':
    case 'pubcomp':
      return !isFailure(packet.reasonCode ?? 0);
    case 'suback':
      return packet.reasonCodes.some((code) => !isFailure(code));
    default:
      return false;
  }
}
