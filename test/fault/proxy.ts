// A userspace TCP proxy between MQTT clients and a broker, with the faults
// the kernel here cannot make (no netem): delay with jitter, stalls, cuts, and
// cuts at an exact point of the MQTT conversation ("right after the broker's
// PUBREC reached the client"). Runs in-process (`FaultProxy.start`) or as a
// child in the broker namespace (proxy-main.ts, driven by proxy-process.ts).
//
// Bytes are forwarded as they came, never re-encoded, but whole packets at a
// time: each direction is split into packets (mqtt-frames.ts), and the bytes
// of an unfinished packet wait for the rest, so a trigger can cut exactly
// before or after a packet and the trace can say what went by. MQTT only: a
// stream that does not parse as MQTT is passed through once detected.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type ConnectionContext, type Frame, MqttFramer, type PacketTypeName } from './mqtt-frames.ts';

/** `toBroker`: client → broker; `toClient`: broker → client. */
export type ProxyDirection = 'toBroker' | 'toClient';

/** Options for {@link FaultProxy.start}. */
export interface ProxyOptions {
  /** Broker address. Default `127.0.0.1`. */
  targetHost?: string;
  targetPort: number;
  /** Address to listen on. Default `0.0.0.0`. */
  listenHost?: string;
  /** Port to listen on. Default 0 (the kernel picks one; see {@link FaultProxy.port}). */
  listenPort?: number;
}

/** Cut a connection at a packet of this type going this way. */
export interface CutTrigger {
  type: PacketTypeName;
  direction: ProxyDirection;
  /** `after`: the packet is delivered, then the cut; `before`: it never arrives. Default `after`. */
  when?: 'after' | 'before';
  /** Let this many matching packets through first. Default 0: cut at the first one. */
  skip?: number;
}

/** What the proxy reports. `t` is `Date.now()`. */
export type ProxyEvent =
  | { ev: 'conn'; t: number; conn: number }
  | { ev: 'closed'; t: number; conn: number }
  | {
      ev: 'cut';
      t: number;
      conn: number;
      /** `trigger`: {@link FaultProxy.cutAfter}; `manual`: {@link FaultProxy.cut}; `error`: a socket failed (the other side is reset too). */
      reason: 'trigger' | 'manual' | 'error';
      /** For `error`: the socket error (e.g. ECONNREFUSED when the broker is down). */
      error?: string;
      /** For `trigger`: whether the packet was delivered before the cut. */
      when?: 'after' | 'before';
      type?: PacketTypeName;
      direction?: ProxyDirection;
      packetId?: number;
    }
  | ({
      ev: 'packet';
      t: number;
      conn: number;
      direction: ProxyDirection;
      /** The client id from this connection's CONNECT. */
      client?: string;
      /** Read after the connection was cut, and thrown away. */
      dropped?: true;
    } & Omit<Frame, 'start' | 'end'>);

interface Item {
  /** Earliest time to forward. */
  at: number;
  /** Bytes, or undefined for the sender's FIN. */
  data?: Buffer;
  frames: Frame[];
}

/**
 * The proxy. Faults apply to every connection, current and future, until
 * changed: {@link delay}, {@link stall}; {@link cut} and {@link cutAfter}
 * act once.
 */
export class FaultProxy {
  private readonly connections = new Set<ProxyConnection>();
  private readonly listeners = new Set<(event: ProxyEvent) => void>();
  private nextConn = 1;
  /** @internal */ delayMs = 0;
  /** @internal */ jitterMs = 0;
  /** @internal */ stallUntil = 0;
  /** @internal */ trigger: (CutTrigger & { seen: number }) | undefined;
  /** @internal */ tracing = false;
  private refusing = false;
  private readonly refused = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: ProxyOptions,
  ) {}

  /** Listens and resolves once the port is open. */
  static start(options: ProxyOptions): Promise<FaultProxy> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const proxy = new FaultProxy(server, options);
    server.on('connection', (socket) => proxy.accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.listenPort ?? 0, host: options.listenHost ?? '0.0.0.0' }, () => {
        server.off('error', reject);
        resolve(proxy);
      });
    });
  }

  /** The port the proxy listens on. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : -1;
  }

  /** Calls `listener` with every event; returns a function that stops it. */
  onEvent(listener: (event: ProxyEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Holds every chunk `ms` ± `jitterMs` (uniform, never below 0) before
   * forwarding it, both ways. Order is kept: a chunk never overtakes the one
   * before it, so jitter bunches chunks up rather than reordering the stream
   * (TCP could not deliver it out of order either). `delay(0)` ends it.
   */
  delay(ms: number, jitterMs = 0): void {
    this.delayMs = ms;
    this.jitterMs = jitterMs;
  }

  /**
   * Holds all bytes, both ways, on every connection (new ones too) for `ms`
   * from now, then lets them through in order: the link is frozen but not
   * broken, as with a radio fade or a stuck middlebox.
   */
  stall(ms: number): void {
    this.stallUntil = Date.now() + ms;
    for (const c of this.connections) c.reschedule();
  }

  /**
   * Cuts every open connection now, dropping what is held. Default: both
   * sockets are closed (FIN); with `reset`, both get a RST.
   */
  cut(options: { reset?: boolean } = {}): void {
    for (const c of this.connections) c.cut(options.reset ? 'reset' : 'close');
  }

  /**
   * Arms a one-shot trigger: everything before the next packet matching
   * `trigger` is forwarded, and the packet too unless `when` is `before`;
   * then its connection is cut: nothing more is forwarded either way, both
   * sockets get a FIN after what was forwarded, and bytes still arriving are
   * read and thrown away. So `{ type: 'PUBREC', direction: 'toClient' }`
   * guarantees the client got the PUBREC and the broker never got the
   * PUBREL; with `when: 'before'`, the client never got the PUBREC.
   */
  cutAfter(trigger: CutTrigger): void {
    this.trigger = { ...trigger, seen: 0 };
  }

  /**
   * Reports every packet as a `packet` event when the proxy reads it (so
   * before any delay; `dropped` when a cut throws it away). Off by default.
   */
  trace(on: boolean): void {
    this.tracing = on;
  }

  /** While on, new connections are closed at once (connection accepted, then FIN). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** Closes the listener and every connection. */
  close(): Promise<void> {
    for (const c of this.connections) c.cut('reset');
    // A refused socket waits for its peer's FIN (allowHalfOpen), which a peer that is gone never sends.
    for (const socket of this.refused) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** @internal */
  emit(event: ProxyEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  /** @internal */
  forget(connection: ProxyConnection): void {
    if (this.connections.delete(connection)) this.emit({ ev: 'closed', t: Date.now(), conn: connection.id });
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.end();
      client.on('error', () => {});
      this.refused.add(client);
      client.once('close', () => this.refused.delete(client));
      return;
    }
    const upstream = tcpConnect({
      host: this.options.targetHost ?? '127.0.0.1',
      port: this.options.targetPort,
      allowHalfOpen: true,
      noDelay: true,
    });
    const connection = new ProxyConnection(this, this.nextConn++, client, upstream);
    this.connections.add(connection);
    this.emit({ ev: 'conn', t: Date.now(), conn: connection.id });
  }
}

/** One proxied connection: two sockets and a pipe each way. */
class ProxyConnection {
  private readonly pipes: Pipe[];
  private dead = false;

  constructor(
    readonly proxy: FaultProxy,
    readonly id: number,
    readonly client: Socket,
    readonly upstream: Socket,
  ) {
    const context: ConnectionContext = {};
    this.pipes = [
      new Pipe(this, 'toBroker', client, upstream, context),
      new Pipe(this, 'toClient', upstream, client, context),
    ];
    let closed = 0;
    for (const socket of [client, upstream]) {
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // A reset on one side resets the other: the proxy is meant to be invisible.
        this.cut('reset', { reason: 'error', error: error.code ?? error.message });
      });
      socket.on('close', () => {
        if (++closed === 2) proxy.forget(this);
      });
    }
  }

  reschedule(): void {
    for (const pipe of this.pipes) pipe.schedule();
  }

  /** Stops forwarding, drops what is held, and closes both sockets (FIN, or RST with `reset`). */
  cut(how: 'close' | 'reset' | 'fin', info?: Omit<ProxyEvent & { ev: 'cut' }, 'ev' | 't' | 'conn'>): void {
    if (this.dead) return;
    this.dead = true;
    for (const pipe of this.pipes) pipe.drop();
    this.proxy.emit({ ev: 'cut', t: Date.now(), conn: this.id, reason: info?.reason ?? 'manual', ...info });
    if (how === 'reset') {
      // libuv refuses a reset while our FIN is pending and the handle then never closes: destroy.
      for (const s of [this.client, this.upstream])
        if (!s.destroyed) s.writableEnded ? s.destroy() : s.resetAndDestroy();
      return;
    }
    if (how === 'close') {
      this.destroyBoth();
      return;
    }
    // 'fin': shut down our sending side only, and keep reading (and discarding)
    // until the peer closes. Closing a socket with unread bytes would send a
    // RST, and a RST can make the peer's kernel throw away the packet we just
    // delivered before the application reads it.
    for (const s of [this.client, this.upstream]) {
      s.end();
      s.on('end', () => s.destroy());
    }
    setTimeout(() => this.destroyBoth(), 2000).unref();
  }

  isDead(): boolean {
    return this.dead;
  }

  private destroyBoth(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}

/** One direction of a connection: holds chunks until due, then forwards them in order. */
class Pipe {
  private readonly framer: MqttFramer;
  private queue: Item[] = [];
  private lastAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;

  constructor(
    private readonly connection: ProxyConnection,
    private readonly direction: ProxyDirection,
    from: Socket,
    private readonly to: Socket,
    private readonly context: ConnectionContext,
  ) {
    this.framer = new MqttFramer(context);
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => this.push(undefined));
  }

  private push(data: Buffer | undefined): void {
    const proxy = this.connection.proxy;
    const now = Date.now();
    // Whole packets only, so a cut can land just before one; at the sender's
    // FIN, an unfinished packet goes out unfinished, as it would have.
    const { bytes, frames } = data ? this.framer.split(data) : { bytes: this.framer.flush(), frames: [] };
    const dead = this.connection.isDead();
    if (proxy.tracing) {
      // Traced when read, not when forwarded: the trace says what each side
      // sent and when, even for bytes a delay holds or a cut throws away.
      for (const { start: _start, end: _end, ...frame } of frames) {
        proxy.emit({
          ev: 'packet',
          t: now,
          conn: this.connection.id,
          direction: this.direction,
          client: this.context.clientId,
          ...(dead ? { dropped: true } : {}),
          ...frame,
        });
      }
    }
    if (dead) return;
    const jitter = proxy.jitterMs * (2 * Math.random() - 1);
    const at = Math.max(this.lastAt, now + Math.max(0, proxy.delayMs + jitter));
    this.lastAt = at;
    if (bytes.length > 0) this.queue.push({ at, data: bytes, frames });
    if (data === undefined) this.queue.push({ at, frames: [] });
    this.schedule();
  }

  drop(): void {
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  schedule(): void {
    const proxy = this.connection.proxy;
    const now = Date.now();
    while (this.queue.length > 0 && !this.connection.isDead()) {
      const due = Math.max(this.queue[0].at, proxy.stallUntil);
      if (due > now) {
        if (this.timer === undefined || this.timerAt !== due) {
          clearTimeout(this.timer);
          this.timerAt = due;
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.schedule();
          }, due - now);
        }
        return;
      }
      this.forward(this.queue.shift()!);
    }
  }

  private forward(item: Item): void {
    if (item.data === undefined) {
      this.to.end();
      return;
    }
    const proxy = this.connection.proxy;
    const trigger = proxy.trigger;
    for (const frame of item.frames) {
      if (trigger && frame.type === trigger.type && this.direction === trigger.direction) {
        if (trigger.seen++ < (trigger.skip ?? 0)) continue;
        proxy.trigger = undefined;
        this.to.write(item.data.subarray(0, trigger.when === 'before' ? frame.start : frame.end));
        this.connection.cut('fin', {
          reason: 'trigger',
          when: trigger.when ?? 'after',
          type: frame.type,
          direction: this.direction,
          packetId: frame.packetId,
        });
        return;
      }
    }
    this.to.write(item.data);
  }
}
