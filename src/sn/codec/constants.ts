/**
 * Protocol numbers of MQTT-SN 1.2 (the OASIS-submitted specification, section 5): message types,
 * return codes, flag bits. Named here once so that no other file carries a bare number.
 */

/** The MsgType byte of every MQTT-SN 1.2 message (spec table 3). */
export const SnMsgType = {
  Advertise: 0x00,
  SearchGw: 0x01,
  GwInfo: 0x02,
  Connect: 0x04,
  Connack: 0x05,
  WillTopicReq: 0x06,
  WillTopic: 0x07,
  WillMsgReq: 0x08,
  WillMsg: 0x09,
  Register: 0x0a,
  Regack: 0x0b,
  Publish: 0x0c,
  Puback: 0x0d,
  Pubcomp: 0x0e,
  Pubrec: 0x0f,
  Pubrel: 0x10,
  Subscribe: 0x12,
  Suback: 0x13,
  Unsubscribe: 0x14,
  Unsuback: 0x15,
  Pingreq: 0x16,
  Pingresp: 0x17,
  Disconnect: 0x18,
  WillTopicUpd: 0x1a,
  WillTopicResp: 0x1b,
  WillMsgUpd: 0x1c,
  WillMsgResp: 0x1d,
  /** The forwarder encapsulation (spec 5.5). */
  Encapsulated: 0xfe,
} as const;

/** The ReturnCode byte (spec table 5). */
export const SnReturnCode = {
  Accepted: 0x00,
  RejectedCongestion: 0x01,
  RejectedInvalidTopicId: 0x02,
  RejectedNotSupported: 0x03,
} as const;

/** A return code value. Values 0x04..0xFF are reserved; the decoder refuses them. */
export type SnReturnCodeValue = (typeof SnReturnCode)[keyof typeof SnReturnCode];

/** Bits of the Flags byte (spec 5.3.4). */
export const SnFlag = {
  Dup: 0x80,
  QosMask: 0x60,
  QosShift: 5,
  Retain: 0x10,
  Will: 0x08,
  CleanSession: 0x04,
  TopicIdTypeMask: 0x03,
} as const;

/** The two-bit TopicIdType field of the Flags byte. 0b11 is reserved. */
export const SnTopicIdTypeBits = {
  Normal: 0b00,
  Predefined: 0b01,
  Short: 0b10,
} as const;

/** The QoS field value that means QoS -1 ("publish without connection"), spec 6.8. */
export const SN_QOS_MINUS_ONE_BITS = 0b11;

/** The only ProtocolId of MQTT-SN 1.2 (CONNECT). */
export const SN_PROTOCOL_ID = 0x01;

/** The first byte that announces the 3-byte length form (spec 5.2.1). */
export const SN_LONG_LENGTH_MARKER = 0x01;

/** The largest message the 1-byte length form can carry (the length counts itself). */
export const SN_MAX_SHORT_LENGTH = 0xff;

/** The largest message of all (3-byte form). */
export const SN_MAX_LENGTH = 0xffff;

/** Client ids are 1 to 23 characters (spec 5.3.1). */
export const SN_MAX_CLIENT_ID_LENGTH = 23;

/** Short topic names are exactly two bytes (spec 3 "short topic names"). */
export const SN_SHORT_TOPIC_LENGTH = 2;

/** Bits of the encapsulation Ctrl byte that carry the broadcast radius (spec 5.5). */
export const SN_CTRL_RADIUS_MASK = 0x03;
