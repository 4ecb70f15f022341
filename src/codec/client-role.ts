/**
 * The codec as a client uses it: a decoder that reads only the packets a
 * broker sends, and an encoder that writes only the packets a client sends.
 * The session uses these, so a client bundle carries neither the decoding of
 * CONNECT, SUBSCRIBE and UNSUBSCRIBE nor the encoding of CONNACK, SUBACK,
 * UNSUBACK and PINGRESP. The public `decode`/`encode`/`PacketDecoder`
 * (steadfast-mqtt/codec) still handle every packet.
 */
import { remoteError } from '../errors.ts';
import { CLIENT_WRITERS, encodeWith } from './encode.ts';
import { packetReaders } from './packet-readers.ts';
import { type DecoderOptions, type PacketReader, StreamDecoder } from './stream-decoder.ts';
import type { Packet, ProtocolVersion } from './types.ts';

/** A packet only a client sends is a protocol error from a broker: refused before its body is parsed. */
function refused(name: string): PacketReader {
  return () => {
    throw remoteError('PROTOCOL_ERROR', `a broker must not send ${name} to a client`);
  };
}

const CLIENT_READERS = /* @__PURE__ */ packetReaders(
  refused('CONNECT'),
  refused('SUBSCRIBE'),
  refused('UNSUBSCRIBE'),
);

/** A streaming decoder for what a client receives; see `PacketDecoder` for the interface. */
export function clientDecoder(options: DecoderOptions): StreamDecoder {
  return new StreamDecoder(CLIENT_READERS, options);
}

/** `encode` for the packets a client sends. */
export function encodeFromClient(packet: Packet, version: ProtocolVersion): Uint8Array {
  return encodeWith(CLIENT_WRITERS, packet, version);
}
