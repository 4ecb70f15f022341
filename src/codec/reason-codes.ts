/**
 * MQTT 5 reason codes and MQTT 3.1.1 CONNACK return codes, with their names
 * as the specifications give them (the MQTT 5 table is its own module,
 * ./reason-names.ts, installed by the entries that want it).
 */
import { remoteError } from '../errors.ts';
import { connackV4Name } from './connack-v4.ts';
import type { PacketType, ProtocolVersion } from './types.ts';

export { ReasonCode } from './reason-code.ts';

/**
 * The MQTT 5 names, once `useReasonCodeNames()` (./reason-names.ts) installed them: the Node
 * entry and `steadfast-mqtt/codec` do; a browser pub/sub bundle leaves the table out and its
 * messages give the number (`0x87`) instead.
 */
let names: Record<number, string> | undefined;

/** Installs the MQTT 5 name table (./reason-names.ts calls this). */
export function installReasonCodeNames(table: Record<number, string>): void {
  names = table;
}

/**
 * The name of a reason code. The packet type matters for the low codes
 * (0x00 is "Success", "Normal disconnection" or "Granted QoS 0"), and the
 * version for CONNACK, whose 3.1.1 return codes are a different table.
 */
export function reasonCodeName(code: number, packet?: PacketType, version: ProtocolVersion = 5): string {
  if (packet === 'connack' && version === 4) return connackV4Name(code);
  if (packet === 'suback' && version === 4 && code === 0x80) return 'Failure';
  if (code <= 0x02 && packet === 'suback') return `Granted QoS ${code}`;
  if (code === 0x00) return packet === 'disconnect' ? 'Normal disconnection' : 'Success';
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  if (names === undefined) return `reason code ${hex}`;
  return names[code] ?? `Unknown reason code ${hex}`;
}

/** Reason codes at or above 0x80 report a failure. */
export function isFailure(code: number): boolean {
  return code >= 0x80;
}

/**
 * The MQTT 5 reason codes each packet may carry (the tables of sections
 * 3.4.2.1 to 3.15.2.1), as strings of char codes: compact, and `includes`
 * is the set test. DISCONNECT's is the union of what either side may send.
 */
const ALLOWED: Partial<Record<PacketType, string>> = {
  puback: '\x00\x10\x80\x83\x87\x90\x91\x97\x99',
  pubrec: '\x00\x10\x80\x83\x87\x90\x91\x97\x99',
  pubrel: '\x00\x92',
  pubcomp: '\x00\x92',
  suback: '\x00\x01\x02\x80\x83\x87\x8f\x91\x97\x9e\xa1\xa2',
  unsuback: '\x00\x11\x80\x83\x87\x8f\x91',
  disconnect:
    '\x00\x04\x80\x81\x82\x83\x87\x89\x8b\x8d\x8e\x8f\x90\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2',
  auth: '\x00\x18\x19',
};

/**
 * Throws PROTOCOL_ERROR when an MQTT 5 `packet` cannot carry `code`: a
 * reason code from another packet's table, or none the specification
 * defines. (CONNACK is not checked here: any code but 0 is a refusal.)
 */
export function checkReasonCode(packet: PacketType, code: number): void {
  const allowed = ALLOWED[packet];
  if (allowed === undefined || allowed.includes(String.fromCharCode(code))) return;
  throw remoteError(
    'PROTOCOL_ERROR',
    `${packet.toUpperCase()} cannot carry reason code 0x${code.toString(16).padStart(2, '0')} (${reasonCodeName(code, packet)})`,
  );
}
