/**
 * Reads the broker-to-client byte stream as it leaves the faulty link, to
 * tell whose fault a QoS 2 duplicate is. A client dedups a QoS 2 message by
 * its packet id until the broker's PUBREL; after that, a PUBLISH with the
 * same payload is a new message by the protocol's rules, and delivering it
 * again is the broker's doing (a broker must never re-send a message whose
 * PUBREL it has sent). Deliberately independent of src/codec: the judge
 * must not be the code under test. It reads only fixed headers, packet ids,
 * and a QoS 2 PUBLISH's topic and payload; nothing is validated.
 */

const PUBLISH = 3;
const PUBREL = 6;

export interface WireListener {
  /** A QoS 2 PUBLISH went to a client. */
  publish(packetId: number, topic: string, payload: Uint8Array): void;
  /** A PUBREL went to a client. */
  pubrel(packetId: number): void;
}

/** One connection's broker-to-client stream. */
export class WireReader {
  private buffer = new Uint8Array(0);
  private broken = false;

  constructor(
    private readonly version: 4 | 5,
    private readonly listener: WireListener,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.broken) return;
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let offset = 0;
    for (;;) {
      const header = readHeader(joined, offset);
      if (header === undefined) break;
      if (header === 'bad') {
        this.broken = true;
        return;
      }
      const { type, flags, bodyStart, bodyEnd } = header;
      if (bodyEnd > joined.length) break;
      this.packet(type, flags, joined.subarray(bodyStart, bodyEnd));
      offset = bodyEnd;
    }
    this.buffer = joined.slice(offset);
  }

  private packet(type: number, flags: number, body: Uint8Array): void {
    if (type === PUBREL && body.length >= 2) {
      this.listener.pubrel((body[0] << 8) | body[1]);
      return;
    }
    if (type !== PUBLISH || ((flags >> 1) & 3) !== 2 || body.length < 4) return;
    const topicLength = (body[0] << 8) | body[1];
    let at = 2 + topicLength;
    const topic = new TextDecoder().decode(body.subarray(2, at));
    const packetId = (body[at] << 8) | body[at + 1];
    at += 2;
    if (this.version === 5) {
      const properties = readVarint(body, at);
      if (properties === undefined) return;
      at = properties.next + properties.value;
    }
    this.listener.publish(packetId, topic, body.subarray(at));
  }
}

function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    if (at + i >= bytes.length) return undefined;
    const b = bytes[at + i];
    value += (b & 0x7f) * 128 ** i;
    if ((b & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

function readHeader(
  bytes: Uint8Array,
  at: number,
): { type: number; flags: number; bodyStart: number; bodyEnd: number } | 'bad' | undefined {
  if (at >= bytes.length) return undefined;
  const length = readVarint(bytes, at + 1);
  if (length === undefined) return bytes.length - at > 5 ? 'bad' : undefined;
  return {
    type: bytes[at] >> 4,
    flags: bytes[at] & 0x0f,
    bodyStart: length.next,
    bodyEnd: length.next + length.value,
  };
}

/**
 * Which QoS 2 messages (by sequence number) the broker sent again after it
 * had released them (PUBREL), across every connection to the subscriber.
 */
export class BrokerResends {
  /** Sequence numbers whose PUBREL the broker has sent. */
  private readonly released = new Set<number>();
  /** Packet id → sequence number of the message last sent with it (ids outlive connections). */
  private readonly idToSeq = new Map<number, number>();
  /** Sequence numbers the broker re-sent after their PUBREL. */
  readonly resent = new Set<number>();

  constructor(private readonly seqOf: (topic: string, payload: Uint8Array) => number | undefined) {}

  /** The listener for the subscriber's streams. */
  listener(): WireListener {
    const idToSeq = this.idToSeq;
    return {
      publish: (packetId, topic, payload) => {
        const seq = this.seqOf(topic, payload);
        if (seq === undefined) return;
        if (this.released.has(seq)) this.resent.add(seq);
        idToSeq.set(packetId, seq);
      },
      pubrel: (packetId) => {
        const seq = idToSeq.get(packetId);
        if (seq !== undefined) this.released.add(seq);
      },
    };
  }
}
