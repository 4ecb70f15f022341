/**
 * A scripted broker behind an in-memory Link, for fuzzing the whole client:
 * it decodes everything the client writes as a broker would (so a malformed
 * packet from the client is caught), answers the client's requests when told
 * to, and after each CONNECT plays a script of bytes, delivered in the chunk
 * sizes given (whole, random, one byte at a time) on separate turns of the
 * event loop so the client's API calls interleave with them.
 */
import { encode, type Packet, PacketDecoder, type ProtocolVersion } from '../../src/codec/index.ts';
import type { Link } from '../../src/links/types.ts';

export interface PeerScript {
  /** The bytes sent after each CONNECT (a CONNACK variant, packets, mutated bytes...). */
  bytes: Uint8Array;
  /** Chunk sizes, cycled; empty sends the script whole. */
  chunks: readonly number[];
  /** Answer PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE and PINGREQ with a successful ack. */
  responsive: boolean;
  /** Close the connection once the script has been played. */
  closeAfter: boolean;
}

export interface PeerRecord {
  /** Packets the client wrote, decoded as a broker decodes them. */
  received: Packet[];
  /** What the broker-side decoder refused: each is a malformed packet from the client. */
  malformed: unknown[];
  /** Connections opened so far. */
  connections: number;
}

/** Encodes `packet` for `version`, or gives undefined when the codec refuses it (a packet the version cannot carry). */
export function tryEncode(packet: Packet, version: ProtocolVersion): Uint8Array | undefined {
  try {
    return encode(packet, version);
  } catch {
    return undefined;
  }
}

/** The successful answer a broker gives to a client packet, if any. */
function answer(packet: Packet): Packet | undefined {
  switch (packet.type) {
    case 'publish':
      if (packet.qos === 1) return { type: 'puback', packetId: packet.packetId ?? 0 };
      if (packet.qos === 2) return { type: 'pubrec', packetId: packet.packetId ?? 0 };
      return undefined;
    case 'pubrel':
      return { type: 'pubcomp', packetId: packet.packetId };
    case 'subscribe':
      return {
        type: 'suback',
        packetId: packet.packetId,
        reasonCodes: packet.subscriptions.map((s) => s.qos),
      };
    case 'unsubscribe':
      return {
        type: 'unsuback',
        packetId: packet.packetId,
        reasonCodes: packet.topics.map(() => 0),
      };
    case 'pingreq':
      return { type: 'pingresp' };
    default:
      return undefined;
  }
}

/** A Link to the scripted broker; `record` fills in as the client talks to it. */
export function scriptedPeer(script: PeerScript, version: ProtocolVersion, record: PeerRecord): Link {
  return {
    name: 'scripted fuzz peer',
    async open(handlers) {
      record.connections++;
      const decoder = new PacketDecoder({ protocolVersion: version });
      let closed = false;
      const timers = new Set<ReturnType<typeof setImmediate>>();
      const later = (fn: () => void) => {
        const t = setImmediate(() => {
          timers.delete(t);
          if (!closed) fn();
        });
        timers.add(t);
      };
      const close = () => {
        if (closed) return;
        closed = true;
        for (const t of timers) clearImmediate(t);
        timers.clear();
        queueMicrotask(() => handlers.close());
      };
      const play = () => {
        const { bytes, chunks } = script;
        let pos = 0;
        let i = 0;
        const step = () => {
          if (pos >= bytes.length) {
            if (script.closeAfter) close();
            return;
          }
          const n = chunks.length === 0 ? bytes.length : Math.max(1, chunks[i++ % chunks.length]);
          const chunk = bytes.slice(pos, pos + n);
          pos += n;
          handlers.data(chunk);
          later(step);
        };
        later(step);
      };
      return {
        bufferedAmount: 0,
        write(bytes) {
          if (closed) return true;
          try {
            decoder.push(bytes);
            for (let p = decoder.next(); p !== undefined; p = decoder.next()) {
              record.received.push(p);
              if (p.type === 'connect') play();
              else if (p.type === 'disconnect') close();
              else if (script.responsive) {
                const reply = answer(p);
                const out = reply && tryEncode(reply, version);
                if (out) later(() => handlers.data(out));
              }
            }
          } catch (error) {
            record.malformed.push(error);
            close();
          }
          return true;
        },
        close,
      };
    },
  };
}
