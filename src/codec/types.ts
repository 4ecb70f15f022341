/**
 * The packets of MQTT 3.1.1 (protocol level 4) and MQTT 5.0 (level 5) as plain
 * objects. One shape serves both versions: fields that exist only in MQTT 5
 * (properties, most reason codes) are simply absent or zero on 3.1.1.
 *
 * Names follow MQTT.js / mqtt-packet where they mean the same thing, so that
 * users moving over recognise them.
 */

/** MQTT protocol level: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export type ProtocolVersion = 4 | 5;

/** Quality of service: 0 at most once, 1 at least once, 2 exactly once. */
export type QoS = 0 | 1 | 2;

/**
 * User properties: a name maps to one value, or to several when the name
 * appears more than once (MQTT 5 allows repeats and keeps their order).
 */
export type UserProperties = Record<string, string | string[]>;

/**
 * Every MQTT 5 property. Which ones a packet may carry is checked by the codec
 * (see `properties.ts`); a property not allowed in a packet is an error.
 */
export interface Properties {
  /** 0x01, PUBLISH and will: true when the payload is UTF-8 text. */
  payloadFormatIndicator?: boolean;
  /** 0x02, PUBLISH and will: lifetime of the message in seconds. */
  messageExpiryInterval?: number;
  /** 0x03, PUBLISH and will: a MIME-like description of the payload. */
  contentType?: string;
  /** 0x08, PUBLISH and will: the topic a response should be sent to. */
  responseTopic?: string;
  /** 0x09, PUBLISH and will: lets a requester match a response to its request. */
  correlationData?: Uint8Array;
  /**
   * 0x0B. On SUBSCRIBE: the identifier to tag matching messages with (1 to 268,435,455).
   * On an inbound PUBLISH: the identifier, or several when more than one subscription matched.
   */
  subscriptionIdentifier?: number | number[];
  /** 0x11, CONNECT / CONNACK / DISCONNECT: seconds the session outlives the connection. */
  sessionExpiryInterval?: number;
  /** 0x12, CONNACK: the client id the server assigned when the client sent an empty one. */
  assignedClientIdentifier?: string;
  /** 0x13, CONNACK: the keepalive the server wants the client to use instead of its own. */
  serverKeepAlive?: number;
  /** 0x15, CONNECT / CONNACK / AUTH: the name of the extended authentication method. */
  authenticationMethod?: string;
  /** 0x16, CONNECT / CONNACK / AUTH: data for the extended authentication method. */
  authenticationData?: Uint8Array;
  /** 0x17, CONNECT: whether the server may send reason strings and user properties on failures. */
  requestProblemInformation?: boolean;
  /** 0x18, will: seconds the server waits before publishing the will. */
  willDelayInterval?: number;
  /** 0x19, CONNECT: ask the server for response information. */
  requestResponseInformation?: boolean;
  /** 0x1A, CONNACK: a basis for response topics. */
  responseInformation?: string;
  /** 0x1C, CONNACK / DISCONNECT: another server the client should use. */
  serverReference?: string;
  /** 0x1F, acks / CONNACK / DISCONNECT / AUTH: a human-readable diagnostic. */
  reasonString?: string;
  /** 0x21, CONNECT / CONNACK: how many QoS 1 and 2 publications the sender will process at once. */
  receiveMaximum?: number;
  /** 0x22, CONNECT / CONNACK: the highest topic alias the sender accepts. */
  topicAliasMaximum?: number;
  /** 0x23, PUBLISH: a number standing for the topic. */
  topicAlias?: number;
  /** 0x24, CONNACK: the highest QoS the server supports (0 or 1; absent means 2). */
  maximumQoS?: number;
  /** 0x25, CONNACK: whether the server supports retained messages. */
  retainAvailable?: boolean;
  /** 0x26, every packet with properties: application-defined name/value pairs. */
  userProperties?: UserProperties;
  /** 0x27, CONNECT / CONNACK: the largest packet the sender accepts, in bytes. */
  maximumPacketSize?: number;
  /** 0x28, CONNACK: whether the server supports wildcard subscriptions. */
  wildcardSubscriptionAvailable?: boolean;
  /** 0x29, CONNACK: whether the server supports subscription identifiers. */
  subscriptionIdentifiersAvailable?: boolean;
  /** 0x2A, CONNACK: whether the server supports shared subscriptions. */
  sharedSubscriptionAvailable?: boolean;
}

/** The will message of a CONNECT. */
export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 will properties (willDelayInterval, messageExpiryInterval, contentType, ...). */
  properties?: Properties;
}

/** CONNECT: the first packet a client sends on a connection. */
export interface ConnectPacket {
  type: 'connect';
  protocolVersion: ProtocolVersion;
  clientId: string;
  /** Clean session (3.1.1) or clean start (5.0). */
  clean: boolean;
  /** Keepalive in seconds; 0 turns it off. */
  keepalive: number;
  username?: string;
  password?: Uint8Array;
  will?: Will;
  properties?: Properties;
}

/** CONNACK: the server's answer to CONNECT; `reasonCode` 0 is success. */
export interface ConnackPacket {
  type: 'connack';
  sessionPresent: boolean;
  /** The CONNACK return code on 3.1.1 (0 to 5), the reason code on 5.0. */
  reasonCode: number;
  properties?: Properties;
}

/** PUBLISH: an application message, either way. `packetId` is set for QoS 1 and 2. */
export interface PublishPacket {
  type: 'publish';
  /** The topic name; empty on MQTT 5 when a topic alias stands for it. */
  topic: string;
  /** The payload. A decoded payload is a view into the bytes received, not a copy. */
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present exactly when qos > 0. */
  packetId?: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP share one shape. */
export interface AckPacket<T extends 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'> {
  type: T;
  packetId: number;
  /** 0 (success) when omitted; always 0 on 3.1.1. */
  reasonCode?: number;
  properties?: Properties;
}
/** PUBACK: acknowledges a QoS 1 PUBLISH. */
export type PubackPacket = AckPacket<'puback'>;
/** PUBREC: first answer to a QoS 2 PUBLISH (received). */
export type PubrecPacket = AckPacket<'pubrec'>;
/** PUBREL: the publisher's answer to PUBREC (release). */
export type PubrelPacket = AckPacket<'pubrel'>;
/** PUBCOMP: completes a QoS 2 flow. */
export type PubcompPacket = AckPacket<'pubcomp'>;

/** One topic filter of a SUBSCRIBE with its options. */
export interface Subscription {
  /** The topic filter. */
  topic: string;
  /** The maximum QoS the client wants for messages on this filter. */
  qos: QoS;
  /** MQTT 5: do not send the client its own publications back. Default false. */
  noLocal?: boolean;
  /** MQTT 5: keep the retain flag as published when forwarding. Default false. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained messages at subscribe, 1 only for a new subscription, 2 never. Default 0. */
  retainHandling?: 0 | 1 | 2;
}

/** SUBSCRIBE: one or more topic filters with their options. */
export interface SubscribePacket {
  type: 'subscribe';
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

/** SUBACK: one reason code per filter, in order: the granted QoS, or a failure (>= 0x80). */
export interface SubackPacket {
  type: 'suback';
  packetId: number;
  /** One per filter: the granted QoS (0, 1, 2) or a failure code (>= 0x80). */
  reasonCodes: number[];
  properties?: Properties;
}

/** UNSUBSCRIBE: topic filters to remove. */
export interface UnsubscribePacket {
  type: 'unsubscribe';
  packetId: number;
  topics: string[];
  properties?: Properties;
}

/** UNSUBACK: the server's answer to UNSUBSCRIBE (MQTT 5: one reason code per filter). */
export interface UnsubackPacket {
  type: 'unsuback';
  packetId: number;
  /** One per filter on MQTT 5; empty on 3.1.1, which has none. */
  reasonCodes: number[];
  properties?: Properties;
}

/** PINGREQ: the client's keepalive probe. */
export interface PingreqPacket {
  type: 'pingreq';
}

/** PINGRESP: the server's answer to PINGREQ. */
export interface PingrespPacket {
  type: 'pingresp';
}

/** DISCONNECT: ends a connection on purpose (MQTT 5: either side, with a reason code). */
export interface DisconnectPacket {
  type: 'disconnect';
  /** MQTT 5 only; 0 (normal disconnection) when omitted. */
  reasonCode?: number;
  properties?: Properties;
}

/** MQTT 5 only: extended authentication. */
export interface AuthPacket {
  type: 'auth';
  /** 0x00 success, 0x18 continue authentication, 0x19 re-authenticate. Default 0. */
  reasonCode?: number;
  properties?: Properties;
}

/** Every MQTT packet, tagged by `type`: switch on it. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** The `type` tag of a Packet: 'connect', 'publish', ... */
export type PacketType = Packet['type'];
