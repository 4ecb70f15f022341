/**
 * The raw writer and reader: the practical ceiling for a client on this
 * machine. No client library at all: PUBLISH packets are encoded before the
 * clock starts and written to a socket as fast as the broker reads them
 * (respecting `write()` back-pressure); the reader only frames packets and
 * answers what the protocol requires (PUBACK, PUBREC, PUBCOMP). For QoS 1/2
 * the writer keeps at most the broker's Receive Maximum in flight, as any
 * compliant client must.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { encode } from '../../src/codec/index.ts';
import type { QoS } from './contenders.ts';

const V5 = 5;

/** A connected raw MQTT 5 socket with a minimal frame reader. */
export class RawConnection {
  /** From CONNACK's Receive Maximum property (default 65,535). */
  receiveMaximum = 65_535;
  private pending: Buffer | undefined;
  onPacket: (type: number, flags: number, body: Buffer) => void = () => {};

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  static async open(port: number, clientId: string): Promise<RawConnection> {
    const socket = tcpConnect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawConnection(socket);
    // A broker that closes before its CONNACK fails the benchmark instead of leaving it waiting on a
    // promise nothing will settle (Node then exits 13 with no word of why).
    const connack = new Promise<Buffer>((resolve, reject) => {
      c.onPacket = (type, _flags, body) => {
        if (type === 2) resolve(body);
      };
      socket.once('close', () => reject(new Error(`raw ${clientId}: the broker closed before CONNACK`)));
    });
    socket.write(encode({ type: 'connect', protocolVersion: V5, clientId, clean: true, keepalive: 0 }, V5));
    const body = await connack;
    if (body[1] !== 0) throw new Error(`raw: CONNACK refused, reason ${body[1]}`);
    c.receiveMaximum = readReceiveMaximum(body) ?? 65_535;
    c.onPacket = () => {};
    return c;
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let pos = 0;
    while (pos + 2 <= buf.length) {
      // Remaining length: a varint of up to 4 bytes.
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      while (i < buf.length && i < pos + 5) {
        const b = buf[i++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || i + len > buf.length) break;
      this.onPacket(buf[pos] >> 4, buf[pos] & 0x0f, buf.subarray(i, i + len));
      pos = i + len;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    buf = chunk; // drop the reference to a concatenated buffer
  }
}

/** CONNACK v5 body: flags, reason code, properties (varint length, then id/value pairs). */
function readReceiveMaximum(body: Buffer): number | undefined {
  let i = 2;
  let len = 0;
  let mul = 1;
  for (;;) {
    const b = body[i++];
    len += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) break;
  }
  const end = i + len;
  while (i < end) {
    const id = body[i++];
    if (id === 0x21) return body.readUInt16BE(i);
    // Skip the value by the property's type (only what Mosquitto sends in CONNACK).
    if (id === 0x24 || id === 0x25 || id === 0x28 || id === 0x29 || id === 0x2a) i += 1;
    else if (id === 0x13 || id === 0x22) i += 2;
    else if (id === 0x11 || id === 0x27) i += 4;
    else if (id === 0x12 || id === 0x1a || id === 0x1c || id === 0x1f) i += 2 + body.readUInt16BE(i);
    else return undefined;
  }
  return undefined;
}

/** Packet id of a PUBLISH body with QoS > 0 (after the topic). */
function publishPacketId(body: Buffer): number {
  const topicLength = body.readUInt16BE(0);
  return body.readUInt16BE(2 + topicLength);
}

function ack(type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', packetId: number): Uint8Array {
  return encode({ type, packetId }, V5);
}

/** Reads `count` messages on `topic` at `qos`; resolves with each message's arrival time via `onMessage`. */
export async function rawSubscriber(
  port: number,
  clientId: string,
  topic: string,
  qos: QoS,
  onMessage: (body: Buffer) => void,
): Promise<RawConnection> {
  const c = await RawConnection.open(port, clientId);
  // One handler from the start: messages may come in the same read as the SUBACK (the sink sends them at once).
  let subscribed: () => void = () => {};
  const suback = new Promise<void>((resolve, reject) => {
    subscribed = resolve;
    c.socket.once('close', () => reject(new Error(`raw ${clientId}: the broker closed before SUBACK`)));
  });
  c.onPacket = (type, flags, body) => {
    if (type === 3) {
      const q = (flags >> 1) & 3;
      if (q === 1) c.write(ack('puback', publishPacketId(body)));
      else if (q === 2) c.write(ack('pubrec', publishPacketId(body)));
      onMessage(body);
    } else if (type === 6) {
      c.write(ack('pubcomp', body.readUInt16BE(0)));
    } else if (type === 9) {
      subscribed();
    }
  };
  c.write(encode({ type: 'subscribe', packetId: 1, subscriptions: [{ topic, qos }] }, V5));
  await suback;
  return c;
}

/**
 * A raw publisher: `prepare` encodes the PUBLISH packets (outside timing);
 * `run` writes them and resolves when the last one is complete (QoS 0:
 * written to the socket; QoS 1: PUBACK; QoS 2: PUBCOMP).
 */
export class RawPublisher {
  private constructor(private readonly c: RawConnection) {}

  static async open(port: number, clientId: string): Promise<RawPublisher> {
    return new RawPublisher(await RawConnection.open(port, clientId));
  }

  /**
   * Encodes one PUBLISH per payload. QoS 1/2 ids cycle through 1..window, so
   * an id is never reused before its flow ends. QoS 0 packets are also joined
   * into 64-packet buffers, each written with one call.
   */
  prepare(topic: string, payloads: Uint8Array[], qos: QoS): Uint8Array[] {
    const window = this.c.receiveMaximum;
    const packets = payloads.map((payload, i) => {
      const packet = { type: 'publish' as const, topic, payload, qos, retain: false, dup: false };
      return encode(qos === 0 ? packet : { ...packet, packetId: (i % window) + 1 }, V5);
    });
    if (qos > 0) return packets;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < packets.length; i += 64) chunks.push(Buffer.concat(packets.slice(i, i + 64)));
    return chunks;
  }

  /** Writes what `prepare` made; resolves when the last message is complete. */
  run(packets: Uint8Array[], qos: QoS): Promise<void> {
    const c = this.c;
    return new Promise<void>((resolve, reject) => {
      c.socket.once('close', () => reject(new Error('raw publisher: the broker closed mid-run')));
      let next = 0;
      let done = 0;
      if (qos === 0) {
        // As fast as the socket drains.
        const pump = () => {
          while (next < packets.length) {
            if (!c.write(packets[next++])) return void c.socket.once('drain', pump);
          }
          // Written: the callback of an empty write runs once everything before it was flushed.
          c.socket.write(new Uint8Array(0), () => resolve());
        };
        return pump();
      }
      const window = c.receiveMaximum;
      const send = () => {
        while (next < packets.length && next - done < window) c.write(packets[next++]);
      };
      c.onPacket = (type, _flags, body) => {
        const id = body.readUInt16BE(0);
        if (type === 4 || type === 7) {
          done++;
          if (done === packets.length) return resolve();
          send();
        } else if (type === 5) {
          c.write(ack('pubrel', id));
        }
      };
      send();
    });
  }

  close(): void {
    this.c.close();
  }
}
