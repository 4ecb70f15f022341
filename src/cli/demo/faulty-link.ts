/**
 * The demo's faulty link: a TCP relay on a loopback port between the demo's
 * clients and the broker, whose state the script changes.
 *
 * - `up`: bytes flow.
 * - `down`: a link drop (an access point reboots): every connection is
 *   reset, new ones are reset as soon as they are accepted.
 * - `half-open`: a blackhole. Bytes stop both ways but every socket stays
 *   open and nobody is told, as when a NAT box or a radio path dies
 *   silently; only the client's keepalive can find it. Bytes are held, not
 *   dropped, as TCP would retransmit them: a connection that outlives the
 *   blackhole carries on unharmed, one that either side closed meanwhile is
 *   reset when the path returns (the peer's retransmission meets a closed port).
 * - `lossy`: radio-style loss. Each chunk is lost with some probability and
 *   "retransmitted" after a random timeout (doubling when lost again), and
 *   since the stream is in order, everything behind it waits too: bursts of
 *   stalls and latency, never corrupted bytes.
 *
 * It knows nothing of MQTT: it relays bytes, as a real network would.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export type LinkState = 'up' | 'down' | 'half-open' | 'lossy';

export interface FaultyLinkOptions {
  /** Where the broker listens. */
  targetHost: string;
  targetPort: number;
  /** In `lossy`: the chance that a chunk is lost (each try). Default 0.3. */
  lossProbability?: number;
  /** In `lossy`: the first retransmission timeout range in ms. Default [250, 1200]. */
  retransmitMs?: [number, number];
  /** Random numbers in [0, 1), seeded by the demo so runs repeat. Default Math.random. */
  random?: () => number;
  /** Called per connection; what it returns sees every chunk delivered to the client. Default none. */
  tapToClient?: () => (chunk: Buffer) => void;
}

export class FaultyLink {
  private readonly relays = new Set<Relay>();
  private current: LinkState = 'up';

  private constructor(
    private readonly server: Server,
    /** @internal */ readonly options: FaultyLinkOptions,
  ) {}

  /** Listens on a free loopback port. */
  static async start(options: FaultyLinkOptions): Promise<FaultyLink> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const link = new FaultyLink(server, options);
    server.on('connection', (socket) => link.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return link;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : -1;
  }

  get state(): LinkState {
    return this.current;
  }

  /** Connections open through the link right now. */
  get connections(): number {
    return this.relays.size;
  }

  setState(state: LinkState): void {
    const was = this.current;
    this.current = state;
    if (state === 'down') {
      for (const relay of this.relays) relay.reset();
      return;
    }
    if (was === 'half-open' && state !== 'half-open') {
      for (const relay of [...this.relays]) relay.pathReturned();
    }
    for (const relay of this.relays) relay.reschedule();
  }

  async close(): Promise<void> {
    for (const relay of this.relays) relay.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** @internal */
  forget(relay: Relay): void {
    this.relays.delete(relay);
  }

  /** @internal A delay for a chunk sent now: 0, or the retransmissions it took in `lossy`. */
  lossDelay(): number {
    if (this.current !== 'lossy') return 0;
    const random = this.options.random ?? Math.random;
    const p = this.options.lossProbability ?? 0.3;
    const [min, max] = this.options.retransmitMs ?? [250, 1200];
    let delay = 0;
    let timeout = min + random() * (max - min);
    // Lost, retransmitted after the timeout, maybe lost again: the timeout doubles (capped tries).
    for (let tries = 0; tries < 4 && random() < p; tries++) {
      delay += timeout;
      timeout *= 2;
    }
    return delay;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    if (this.current === 'down') {
      socket.resetAndDestroy();
      return;
    }
    this.relays.add(new Relay(this, socket));
  }
}

/** One relayed connection: the client's socket, the broker's, and a pipe each way. */
class Relay {
  private upstream: Socket | undefined;
  private readonly toBroker: Pipe;
  private readonly toClient: Pipe;
  private dead = false;
  /** A side closed while the path was a blackhole: reset both when it returns. */
  private closedInBlackhole = false;

  constructor(
    private readonly link: FaultyLink,
    private readonly client: Socket,
  ) {
    this.toBroker = new Pipe(link, () => this.upstream);
    this.toClient = new Pipe(link, () => this.client, link.options.tapToClient?.());
    this.watch(client, this.toBroker);
    // In a blackhole not even the SYN gets through: connect to the broker when the path returns.
    if (link.state !== 'half-open') this.connectUpstream();
  }

  private connectUpstream(): void {
    const { targetHost, targetPort } = this.link.options;
    const upstream = tcpConnect({ host: targetHost, port: targetPort, allowHalfOpen: true, noDelay: true });
    this.upstream = upstream;
    this.watch(upstream, this.toClient);
    this.toBroker.schedule();
  }

  /** Bytes from `socket` go into `pipe`; its end and failure are handled by the link's state. */
  private watch(socket: Socket, pipe: Pipe): void {
    socket.on('data', (chunk: Buffer) => pipe.push(chunk));
    socket.on('end', () => {
      if (this.link.state === 'half-open') this.closedInBlackhole = true;
      pipe.push(undefined);
    });
    socket.on('error', () => {
      // A broker that is down refuses; a socket that failed takes its peer with it.
      if (this.link.state === 'half-open') this.closedInBlackhole = true;
      else this.reset();
    });
    socket.on('close', () => {
      if (this.dead) return;
      if (this.link.state === 'half-open') this.closedInBlackhole = true;
      else if (!pipe.pending) this.reset();
      else pipe.onDrained = () => this.reset();
    });
  }

  reschedule(): void {
    this.toBroker.schedule();
    this.toClient.schedule();
  }

  /** The blackhole ended: resume, or reset a connection that was closed meanwhile. */
  pathReturned(): void {
    if (this.dead) return;
    if (this.closedInBlackhole || this.client.destroyed) {
      this.reset();
      return;
    }
    if (this.upstream === undefined) this.connectUpstream();
  }

  reset(): void {
    if (this.dead) return;
    this.dead = true;
    this.toBroker.drop();
    this.toClient.drop();
    for (const socket of [this.client, this.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      // A reset is refused while a shutdown (our FIN) is pending (libuv's uv_tcp_close_reset says
      // EINVAL), and the handle is then never closed: the process spins at exit. Plain destroy then.
      if (socket.writableEnded) socket.destroy();
      else socket.resetAndDestroy();
    }
    this.link.forget(this);
  }
}

interface Held {
  /** When it may be forwarded (ms, Date.now clock). */
  at: number;
  /** Bytes, or undefined for the sender's FIN. */
  data: Buffer | undefined;
}

/** One direction: holds chunks until due (loss delays, blackhole), then forwards them in order. */
class Pipe {
  private queue: Held[] = [];
  private lastAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  onDrained: (() => void) | undefined;

  constructor(
    private readonly link: FaultyLink,
    private readonly destination: () => Socket | undefined,
    private readonly tap?: (chunk: Buffer) => void,
  ) {}

  get pending(): boolean {
    return this.queue.length > 0;
  }

  push(data: Buffer | undefined): void {
    // In order: a chunk never overtakes the one before it, as in TCP.
    const at = Math.max(this.lastAt, Date.now() + this.link.lossDelay());
    this.lastAt = at;
    this.queue.push({ at, data });
    this.schedule();
  }

  drop(): void {
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  schedule(): void {
    if (this.link.state === 'half-open' || this.link.state === 'down') return;
    const to = this.destination();
    if (to === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.at > now) {
        this.timer = setTimeout(() => this.schedule(), head.at - now);
        return;
      }
      this.queue.shift();
      if (to.destroyed) continue;
      if (head.data === undefined) to.end();
      else {
        to.write(head.data);
        this.tap?.(head.data);
      }
    }
    const drained = this.onDrained;
    this.onDrained = undefined;
    drained?.();
  }
}
