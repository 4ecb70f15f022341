/**
 * The public streaming decoder, which reads every MQTT packet (both a
 * client's and a broker's), and `decode` for one whole packet. The framing is
 * in stream-decoder.ts; the client's own decoder, which reads only what a
 * broker sends, is in client-role.ts.
 */
import { remoteError } from '../errors.ts';
import { readConnect } from './connect.ts';
import { packetReaders } from './packet-readers.ts';
import { type DecoderOptions, StreamDecoder } from './stream-decoder.ts';
import { readSubscribe, readUnsubscribe } from './subscribe.ts';
import type { Packet, ProtocolVersion } from './types.ts';

export type { DecoderOptions } from './stream-decoder.ts';

const ALL_READERS = /* @__PURE__ */ packetReaders(
  (r, _flags, _version, decoder) => {
    const packet = readConnect(r);
    // A CONNECT declares the version of the rest of the stream.
    decoder.protocolVersion = packet.protocolVersion;
    return packet;
  },
  (r, _flags, version) => readSubscribe(r, version),
  (r, _flags, version) => readUnsubscribe(r, version),
);

/** A streaming decoder: `push()` bytes as they arrive, in chunks of any size, then `next()` until it returns undefined. */
export class PacketDecoder extends StreamDecoder {
  constructor(options: DecoderOptions = {}) {
    super(ALL_READERS, options);
  }
}

/**
 * Decodes exactly one whole packet. Trailing bytes, or too few, are
 * MALFORMED_PACKET. A CONNECT is decoded with the version it declares.
 */
export function decode(
  bytes: Uint8Array,
  version: ProtocolVersion,
  options: Omit<DecoderOptions, 'protocolVersion'> = {},
): Packet {
  const decoder = new PacketDecoder({ ...options, protocolVersion: version });
  decoder.push(bytes);
  const packet = decoder.next();
  if (packet === undefined) throw remoteError('MALFORMED_PACKET', 'bytes end before the packet does');
  if (decoder.bufferedBytes > 0) throw remoteError('MALFORMED_PACKET', 'bytes follow the packet');
  return packet;
}
