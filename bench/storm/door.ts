/**
 * What the broker sees, timed to the millisecond: Mosquitto's log stamps whole
 * seconds only (its `log_timestamp_format` has no sub-second field in 2.0.11),
 * too coarse for connects per 100 ms. So the storm bench puts one of these in
 * front of the broker (or in its place):
 *
 * - `FrontDoor`: a counting TCP proxy to Mosquitto. It records when each
 *   connection was accepted, when its first packet (a CONNECT) arrived, and
 *   when the broker's CONNACK came back with success; it knows how many
 *   connections are up (CONNACK'd and still open) at any instant. `close()`
 *   stops listening and cuts every connection, so a broker outage looks to the
 *   clients exactly like a stopped broker (connection refused); `open()`
 *   listens on the same port again.
 * - `Dropper`: a fake broker that answers every CONNECT with a successful
 *   CONNACK and closes at once (the misconfigured ACL or overloaded proxy of
 *   issue 12), recording when each CONNECT arrived.
 *
 * Both only ever bind 127.0.0.1.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** MQTT control packet types (high nibble of the first byte), MQTT 3.1.1 / 5.0 section 2.1.2. */
const PacketType = { CONNECT: 1, CONNACK: 2 } as const;
/** CONNACK return / reason code for success (both versions). */
const CONNACK_ACCEPTED = 0;
/** Protocol level byte of MQTT 5.0 in a CONNECT. */
const PROTOCOL_LEVEL_5 = 5;

/** Bytes taken by the Remaining Length varint starting at `offset`, or 0 if incomplete. */
function varintLength(buf: Buffer, offset: number): number {
  for (let i = 0; i < 4; i++) {
    if (offset + i >= buf.length) return 0;
    if ((buf[offset + i] & 0x80) === 0) return i + 1;
  }
  return 0;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A large backlog: thousands of clients knock at once after an outage, and
    // the kernel's default (511) would turn a burst into SYN retries.
    server.listen({ port, host: '127.0.0.1', backlog: 65_535 }, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

export class FrontDoor {
  /** performance.now() of every accepted TCP connection. */
  readonly accepts: number[] = [];
  /** performance.now() of every CONNECT seen (first client packet). */
  readonly connects: number[] = [];
  /** performance.now() of every successful CONNACK passed back. */
  readonly connacks: number[] = [];
  /** Connections CONNACK'd and still open. */
  up = 0;
  /** performance.now() when `up` last reached `target`, if it did since `watch()`. */
  allUpAt: number | undefined;
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private target = Number.POSITIVE_INFINITY;

  private constructor(private readonly brokerPort: number) {}

  /** Listens on a free port (or `port`) and proxies to the broker on `brokerPort`. */
  static async start(brokerPort: number, port = 0): Promise<FrontDoor> {
    const door = new FrontDoor(brokerPort);
    await door.open(port);
    return door;
  }

  /** Records when `up` next reaches `count`. */
  watch(count: number): void {
    this.target = count;
    this.allUpAt = this.up >= count ? performance.now() : undefined;
  }

  async open(port = this.port): Promise<void> {
    const server = createServer({ noDelay: true }, (client) => this.accept(client));
    this.port = await listen(server, port);
    this.server = server;
  }

  /** Stops listening and cuts every connection (both sides). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepts.push(performance.now());
    const upstream = connect({ port: this.brokerPort, host: '127.0.0.1', noDelay: true });
    this.sockets.add(client);
    this.sockets.add(upstream);
    let sawConnect = false;
    let sawConnack = false;
    let isUp = false;
    const done = () => {
      if (isUp) {
        isUp = false;
        this.up--;
      }
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (!sawConnect) {
        sawConnect = true;
        if (chunk[0] >> 4 === PacketType.CONNECT) this.connects.push(performance.now());
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!sawConnack) {
        sawConnack = true;
        // CONNACK: type, Remaining Length, flags, return/reason code.
        const code = chunk[1 + varintLength(chunk, 1) + 1];
        if (chunk[0] >> 4 === PacketType.CONNACK && code === CONNACK_ACCEPTED) {
          isUp = true;
          this.up++;
          const now = performance.now();
          this.connacks.push(now);
          if (this.up >= this.target && this.allUpAt === undefined) this.allUpAt = now;
        }
      }
      client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', done);
      s.on('close', done);
    }
  }
}

export class Dropper {
  /** performance.now() of every CONNECT answered. */
  readonly connects: number[] = [];
  port = 0;
  private readonly server = createServer({ noDelay: true }, (s) => this.accept(s));
  private readonly sockets = new Set<Socket>();

  static async start(): Promise<Dropper> {
    const d = new Dropper();
    d.port = await listen(d.server, 0);
    return d;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      if (chunk[0] >> 4 !== PacketType.CONNECT) {
        socket.destroy();
        return;
      }
      this.connects.push(performance.now());
      // Fixed header, then protocol name (2 + 4 bytes "MQTT"), then the level.
      const level = chunk[1 + varintLength(chunk, 1) + 6];
      // Success, no session present; MQTT 5 adds an empty property length.
      const connack =
        level === PROTOCOL_LEVEL_5
          ? Buffer.from([PacketType.CONNACK << 4, 3, 0, CONNACK_ACCEPTED, 0])
          : Buffer.from([PacketType.CONNACK << 4, 2, 0, CONNACK_ACCEPTED]);
      socket.end(connack);
    });
  }
}
