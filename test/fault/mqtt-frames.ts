// Finds MQTT packet boundaries in a byte stream, for the fault proxy's
// "cut right after packet X" trigger and its packet trace. Deliberately
// independent of src/codec: the harness must not trust the code under test to
// tell it what went over the wire. It reads the fixed header (type, flags,
// remaining length), packet identifiers, CONNECT's version and client id, and
// PUBLISH's topic (topic aliases resolved) and first payload bytes; nothing
// is validated.

/** MQTT control packet type names, indexed by the type number (fixed header bits 7-4). */
export const PACKET_TYPES = [
  'RESERVED',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
] as const;

export type PacketTypeName = (typeof PACKET_TYPES)[number];

/** One packet found in the stream. */
export interface Frame {
  type: PacketTypeName;
  /** Packet identifier, for PUBLISH with QoS > 0 and the acks/(UN)SUBSCRIBE family. */
  packetId?: number;
  /** PUBLISH only: QoS from the fixed header flags. */
  qos?: number;
  /** PUBLISH only: the DUP flag. */
  dup?: boolean;
  /** PUBLISH only: the topic name (latin1-decoded, enough for tracing), MQTT 5 topic alias resolved. */
  topic?: string;
  /** CONNECT only: the client identifier. */
  clientId?: string;
  /**
   * PUBLISH only: the first bytes of the payload (latin1), once the protocol
   * version is known (MQTT 5 puts properties before the payload).
   */
  payloadHead?: string;
  /**
   * Offset of the packet's first byte: in {@link MqttFramer.push}, relative
   * to the chunk given (negative when the packet began in an earlier chunk);
   * in {@link MqttFramer.split}, relative to the bytes returned.
   */
  start: number;
  /** Offset just past the packet's last byte, relative as `start` is. */
  end: number;
}

/** Packet types whose variable header starts with a packet identifier. */
const ID_FIRST = new Set<PacketTypeName>([
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
]);

/** What both directions of one connection share, learnt from CONNECT. */
export interface ConnectionContext {
  /** Protocol level: 4 (3.1.1) or 5. */
  version?: number;
  clientId?: string;
}

/** How many payload bytes {@link Frame.payloadHead} keeps. */
const PAYLOAD_HEAD = 24;

/**
 * Splits one direction of an MQTT connection into packets. Feed it chunks in
 * order, with {@link push} (packets that complete in the chunk, offsets in
 * the chunk) or with {@link split} (whole packets only: bytes of a packet not
 * complete yet are kept back until it is), so a caller can forward exactly
 * up to, or up to just before, a packet.
 */
export class MqttFramer {
  /** Bytes of the packet that started in an earlier chunk and is not complete yet. */
  private pending: Buffer = Buffer.alloc(0);
  /** MQTT 5 topic aliases of this direction. */
  private readonly aliases = new Map<number, string>();
  /** Set when the stream is not MQTT (remaining length over 4 bytes): stop parsing, pass bytes through. */
  broken = false;

  /** @param context shared with the framer of the other direction, so both learn what CONNECT said. */
  constructor(private readonly context: ConnectionContext = {}) {}

  /** The packets that complete in `chunk`; offsets are relative to `chunk`. */
  push(chunk: Buffer): Frame[] {
    const carried = this.pending.length;
    const { frames } = this.parse(chunk);
    for (const f of frames) {
      f.start -= carried;
      f.end -= carried;
    }
    return frames;
  }

  /**
   * The complete packets available after `chunk` (with bytes kept back from
   * earlier chunks in front), and their frames with offsets in those bytes.
   * The bytes of an unfinished packet are kept for the next call (see
   * {@link flush}). Once the stream is found not to be MQTT, everything passes.
   */
  split(chunk: Buffer): { bytes: Buffer; frames: Frame[] } {
    const { buf, consumed, frames } = this.parse(chunk);
    return { bytes: this.broken ? buf : buf.subarray(0, consumed), frames };
  }

  /** Returns and forgets the bytes kept back by {@link split} (the sender is done: they stay unfinished). */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  private parse(chunk: Buffer): { buf: Buffer; consumed: number; frames: Frame[] } {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    if (this.broken) {
      this.pending = Buffer.alloc(0);
      return { buf, consumed: buf.length, frames };
    }
    let pos = 0;
    for (;;) {
      const header = readFixedHeader(buf, pos);
      if (header === 'broken') {
        this.broken = true;
        this.pending = Buffer.alloc(0);
        return { buf, consumed: buf.length, frames };
      }
      if (header === undefined) break;
      const end = header.bodyStart + header.remaining;
      if (end > buf.length) break;
      const frame: Frame = { type: PACKET_TYPES[buf[pos] >> 4], start: pos, end };
      try {
        this.describe(frame, buf[pos] & 0x0f, new Reader(buf, header.bodyStart, end));
      } catch {
        // A truncated or odd body: the boundary is still right, the details are not needed.
      }
      frames.push(frame);
      pos = end;
    }
    // Copy: the chunk's memory may be reused by the socket.
    this.pending = Buffer.from(buf.subarray(pos));
    return { buf, consumed: pos, frames };
  }

  private describe(frame: Frame, flags: number, r: Reader): void {
    if (frame.type === 'CONNECT') {
      r.string(); // protocol name
      this.context.version = r.byte();
      r.skip(3); // connect flags, keepalive
      if (this.context.version === 5) r.properties();
      frame.clientId = r.string();
      this.context.clientId = frame.clientId;
    } else if (frame.type === 'PUBLISH') {
      frame.qos = (flags >> 1) & 3;
      frame.dup = (flags & 0x08) !== 0;
      let topic = r.string();
      if (frame.qos > 0) frame.packetId = r.uint16();
      if (this.context.version === 5) {
        const alias = r.properties().get(0x23);
        if (alias !== undefined && topic === '') topic = this.aliases.get(alias) ?? '';
        else if (alias !== undefined) this.aliases.set(alias, topic);
      }
      frame.topic = topic;
      if (this.context.version !== undefined) frame.payloadHead = r.rest(PAYLOAD_HEAD);
    } else if (ID_FIRST.has(frame.type)) {
      frame.packetId = r.uint16();
    }
  }
}

function readFixedHeader(
  buf: Buffer,
  pos: number,
): { bodyStart: number; remaining: number } | undefined | 'broken' {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (pos + i >= buf.length) return undefined;
    const byte = buf[pos + i];
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { bodyStart: pos + i + 1, remaining };
    multiplier *= 128;
  }
  return 'broken';
}

/** MQTT 5 property identifier → how its value is encoded (the ones CONNECT and PUBLISH may carry). */
const PROPERTY_KINDS: Record<number, 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'pair'> = {
  1: 'byte', // payload format indicator
  2: 'u32', // message expiry interval
  3: 'string', // content type
  8: 'string', // response topic
  9: 'string', // correlation data (binary data: same layout)
  11: 'varint', // subscription identifier
  17: 'u32', // session expiry interval
  21: 'string', // authentication method
  22: 'string', // authentication data
  23: 'byte', // request problem information
  25: 'byte', // request response information
  33: 'u16', // receive maximum
  34: 'u16', // topic alias maximum
  35: 'u16', // topic alias
  38: 'pair', // user property
  39: 'u32', // maximum packet size
};

/** Reads a packet body; throws RangeError past its end. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
    private readonly end: number,
  ) {}

  skip(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('past the end of the packet');
    this.pos += n;
  }

  byte(): number {
    this.skip(1);
    return this.buf[this.pos - 1];
  }

  uint16(): number {
    this.skip(2);
    return this.buf.readUInt16BE(this.pos - 2);
  }

  varint(): number {
    let value = 0;
    for (let multiplier = 1, i = 0; i < 4; i++, multiplier *= 128) {
      const byte = this.byte();
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError('malformed variable byte integer');
  }

  string(): string {
    const length = this.uint16();
    this.skip(length);
    return this.buf.toString('latin1', this.pos - length, this.pos);
  }

  /** Up to `max` bytes of what is left, as latin1. */
  rest(max: number): string {
    return this.buf.toString('latin1', this.pos, Math.min(this.end, this.pos + max));
  }

  /** Reads an MQTT 5 property block; returns the numeric properties by identifier. */
  properties(): Map<number, number> {
    const length = this.varint();
    const stop = this.pos + length;
    const numbers = new Map<number, number>();
    while (this.pos < stop) {
      const id = this.varint();
      const kind = PROPERTY_KINDS[id];
      if (kind === undefined) {
        this.pos = stop; // unknown here: skip the rest of the block
        break;
      }
      if (kind === 'byte') numbers.set(id, this.byte());
      else if (kind === 'u16') numbers.set(id, this.uint16());
      else if (kind === 'u32') numbers.set(id, this.uint16() * 0x10000 + this.uint16());
      else if (kind === 'varint') numbers.set(id, this.varint());
      else if (kind === 'string') this.string();
      else {
        this.string();
        this.string();
      }
    }
    this.pos = stop;
    if (this.pos > this.end) throw new RangeError('properties past the end of the packet');
    return numbers;
  }
}
