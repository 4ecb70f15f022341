/**
 * MQTT 5 reason codes and MQTT 3.1.1 CONNACK return codes, with their names
 * as the specifications give them.
 */
import { remoteError } from '../errors.ts';
import type { PacketType, ProtocolVersion } from './types.ts';

/**
 * Reason codes by name, for code that wants to say which one it means. An
 * enum rather than an object so that a bundler (esbuild) writes each use as
 * the number itself: the names cost nothing in a bundle.
 */
export enum ReasonCode {
  Success = 0x00,
  // biome-ignore lint/suspicious/noDuplicateEnumValues: the spec names 0x00 after the packet that carries it (one finding for all)
  NormalDisconnection = 0x00,
  GrantedQoS0 = 0x00,
  GrantedQoS1 = 0x01,
  GrantedQoS2 = 0x02,
  DisconnectWithWillMessage = 0x04,
  NoMatchingSubscribers = 0x10,
  NoSubscriptionExisted = 0x11,
  ContinueAuthentication = 0x18,
  ReAuthenticate = 0x19,
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  UnsupportedProtocolVersion = 0x84,
  ClientIdentifierNotValid = 0x85,
  BadUserNameOrPassword = 0x86,
  NotAuthorized = 0x87,
  ServerUnavailable = 0x88,
  ServerBusy = 0x89,
  Banned = 0x8a,
  ServerShuttingDown = 0x8b,
  BadAuthenticationMethod = 0x8c,
  KeepAliveTimeout = 0x8d,
  SessionTakenOver = 0x8e,
  TopicFilterInvalid = 0x8f,
  TopicNameInvalid = 0x90,
  PacketIdentifierInUse = 0x91,
  PacketIdentifierNotFound = 0x92,
  ReceiveMaximumExceeded = 0x93,
  TopicAliasInvalid = 0x94,
  PacketTooLarge = 0x95,
  MessageRateTooHigh = 0x96,
  QuotaExceeded = 0x97,
  AdministrativeAction = 0x98,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9a,
  QoSNotSupported = 0x9b,
  UseAnotherServer = 0x9c,
  ServerMoved = 0x9d,
  SharedSubscriptionsNotSupported = 0x9e,
  ConnectionRateExceeded = 0x9f,
  MaximumConnectTime = 0xa0,
  SubscriptionIdentifiersNotSupported = 0xa1,
  WildcardSubscriptionsNotSupported = 0xa2,
}

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

/** MQTT 3.1.1 CONNACK return codes (section 3.2.2.3). */
const CONNACK_V4: Record<number, string> = {
  0: 'Connection Accepted',
  1: 'Connection Refused, unacceptable protocol version',
  2: 'Connection Refused, identifier rejected',
  3: 'Connection Refused, Server unavailable',
  4: 'Connection Refused, bad user name or password',
  5: 'Connection Refused, not authorized',
};

/**
 * The name of a reason code. The packet type matters for the low codes
 * (0x00 is "Success", "Normal disconnection" or "Granted QoS 0"), and the
 * version for CONNACK, whose 3.1.1 return codes are a different table.
 */
export function reasonCodeName(code: number, packet?: PacketType, version: ProtocolVersion = 5): string {
  if (packet === 'connack' && version === 4) return CONNACK_V4[code] ?? `Unknown return code ${code}`;
  if (packet === 'suback' && version === 4 && code === 0x80) return 'Failure';
  if (code <= 0x02 && packet === 'suback') return `Granted QoS ${code}`;
  if (code === 0x00) return packet === 'disconnect' ? 'Normal disconnection' : 'Success';
  return NAMES[code] ?? `Unknown reason code 0x${code.toString(16).padStart(2, '0')}`;
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
