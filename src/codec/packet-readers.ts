/**
 * The decoder's table of packet readers, one per packet type. The packets a
 * broker sends are the same in every table; the three only a client sends
 * (CONNECT, SUBSCRIBE, UNSUBSCRIBE) are given by the caller, so that a client
 * bundle can leave their decoding out (client-role.ts) while the public
 * `PacketDecoder` reads them all (decoder.ts).
 */
import { readAck, readDisconnect } from './ack.ts';
import { readConnack } from './connect.ts';
import { readPublish } from './publish.ts';
import type { PacketReader, PacketReaders } from './stream-decoder.ts';
import { readSuback } from './subscribe.ts';

/** The readers table with the given readers for the packets only a client sends. */
export function packetReaders(
  connect: PacketReader,
  subscribe: PacketReader,
  unsubscribe: PacketReader,
): PacketReaders {
  return [
    // Type 0 is reserved: the framing rejects it before any reader runs.
    () => {
      throw new Error('steadfast-mqtt bug: packet type 0 reached a reader');
    },
    connect,
    (r, _flags, version) => readConnack(r, version),
    (r, flags, version) => readPublish(r, flags, version),
    (r, _flags, version) => readAck(r, 'puback', version),
    (r, _flags, version) => readAck(r, 'pubrec', version),
    (r, _flags, version) => readAck(r, 'pubrel', version),
    (r, _flags, version) => readAck(r, 'pubcomp', version),
    subscribe,
    (r, _flags, version) => readSuback(r, 'suback', version),
    unsubscribe,
    (r, _flags, version) => readSuback(r, 'unsuback', version),
    (r) => {
      r.done('PINGREQ');
      return { type: 'pingreq' };
    },
    (r) => {
      r.done('PINGRESP');
      return { type: 'pingresp' };
    },
    (r, _flags, version) => readDisconnect(r, 'disconnect', version),
    (r, _flags, version) => readDisconnect(r, 'auth', version),
  ];
}
