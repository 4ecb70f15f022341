// A scripted MQTT 3.1.1 connection for broker tests: the test decides every
// packet the "client" sends, so a broker's behaviour can be pinned to an
// exact sequence that no client library's own choices blur. Packets are
// encoded and decoded with our codec; nothing else of the client is used.
import { type Socket, connect as tcpConnect } from 'node:net';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet, PublishPacket } from '../../src/codec/types.ts';

/** How long {@link RawSession.expect} waits by default: generous, the machine is shared. */
export const EXPECT_MS = 15_000;

export class RawSession {
  /** Every packet received on this connection, in order. */
  readonly received: Packet[] = [];
  private readonly decoder = new PacketDecoder({ protocolVersion: 4 });
  private readonly waiters = new Set<() => void>();
  /** Indexes in `received` already returned by `expect`. */
  private readonly taken = new Set<number>();
  private closedFlag = false;
  private readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let p = this.decoder.next(); p !== undefined; p = this.decoder.next()) this.received.push(p);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Opens a TCP connection to 127.0.0.1:`port` (no MQTT yet). */
  static open(port: number): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawSession(socket));
      });
    });
  }

  /** Opens a connection, sends CONNECT and returns it with the CONNACK. */
  static async connect(
    port: number,
    clientId: string,
    clean: boolean,
  ): Promise<{ session: RawSession; sessionPresent: boolean }> {
    const session = await RawSession.open(port);
    session.send({ type: 'connect', protocolVersion: 4, clientId, clean, keepalive: 60 });
    const connack = await session.expect('connack');
    if (connack.reasonCode !== 0) throw new Error(`CONNACK refused: return code ${connack.reasonCode}`);
    return { session, sessionPresent: connack.sessionPresent };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  send(packet: Packet): void {
    this.socket.write(encode(packet, 4));
  }

  /**
   * Waits for the first packet of `type` received after the ones already
   * taken by earlier `expect` calls, that `match` accepts, and takes it.
   */
  async expect<T extends Packet['type']>(
    type: T,
    match: (packet: Extract<Packet, { type: T }>) => boolean = () => true,
    timeoutMs = EXPECT_MS,
  ): Promise<Extract<Packet, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(
        (p, i) => !this.taken.has(i) && p.type === type && match(p as Extract<Packet, { type: T }>),
      );
      if (found !== undefined) {
        this.taken.add(this.received.indexOf(found));
        return found as Extract<Packet, { type: T }>;
      }
      if (this.closedFlag) throw new Error(`connection closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /** The PUBLISH packets received so far, in order. */
  publishes(): PublishPacket[] {
    return this.received.filter((p): p is PublishPacket => p.type === 'publish');
  }

  /** A round trip: once PINGRESP is back, the broker has read everything sent before the PINGREQ. */
  async ping(): Promise<void> {
    this.send({ type: 'pingreq' });
    await this.expect('pingresp');
  }

  /** DISCONNECT, then waits for the broker to close the connection. */
  async disconnect(): Promise<void> {
    if (this.closedFlag) return;
    this.send({ type: 'disconnect' });
    this.socket.end();
    await this.closed;
  }

  /** Waits for the broker to close the connection. */
  async closedByPeer(timeoutMs = EXPECT_MS): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes at once (no DISCONNECT), for cleanup. */
  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Publishes `payload` at QoS 2 through a fresh clean-session connection, with the whole flow. */
export async function publishQos2(port: number, topic: string, payloads: string[]): Promise<void> {
  const { session } = await RawSession.connect(port, `pub-${Math.random().toString(16).slice(2)}`, true);
  try {
    let packetId = 1;
    for (const text of payloads) {
      session.send({
        type: 'publish',
        topic,
        payload: new TextEncoder().encode(text),
        qos: 2,
        retain: false,
        dup: false,
        packetId,
      });
      const id = packetId;
      await session.expect('pubrec', (p) => p.packetId === id);
      session.send({ type: 'pubrel', packetId: id });
      await session.expect('pubcomp', (p) => p.packetId === id);
      packetId++;
    }
    await session.disconnect();
  } finally {
    session.destroy();
  }
}

/** The text of a PUBLISH's payload. */
export function text(packet: PublishPacket): string {
  return new TextDecoder().decode(packet.payload);
}
