/**
 * The simulated medium across processes (Node only). `serveMedium` listens on
 * a Unix socket; `connectMedium` attaches a radio from another process (or
 * the same one) whose frames go through the serving process's medium: its
 * range, loss, collisions and duty cycle apply exactly as to a radio attached
 * in-process. The protocol is in ./medium/wire.ts.
 */
import { unlink } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { localError, MqttError, type MqttErrorCode } from '../errors.ts';
import type { SimulatedMedium } from './medium/medium.ts';
import { type ProfileSpec, profileFromSpec, type RadioProfile } from './medium/profiles.ts';
import type { Position, Waypoint } from './medium/propagation.ts';
import type { AttachOptions, SimulatedRadio, SimulatedRadioStats } from './medium/sim-radio.ts';
import { encodeMessage, WireDecoder, type WireError, type WireMessage } from './medium/wire.ts';
import type { Radio, RadioHandlers, RadioStats } from './types.ts';

/** Linux allows 107 bytes in a Unix socket path (sun_path is 108 with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** Options for {@link serveMedium}. */
export interface ServeMediumOptions {
  /** Filesystem path of the Unix socket. A stale socket file left by a dead server is replaced. */
  path: string;
}

/** A medium served on a Unix socket, returned by {@link serveMedium}. */
export interface MediumServer {
  readonly path: string;
  /** Radios currently connected. */
  readonly connections: number;
  /** Stops listening, disconnects every remote radio and removes the socket file. The medium stays open. */
  close(): Promise<void>;
}

/** What `connectMedium` sends to attach: `AttachOptions`, with the profile sent as its plain spec. */
export interface ConnectMediumOptions extends Omit<AttachOptions, 'profile'> {
  /** The radio profile. Default: the serving medium's. */
  profile?: RadioProfile;
  /** How long to wait for the server to accept the radio, wall-clock ms. Default 5000. */
  timeoutMs?: number;
}

interface AttachRequest extends Omit<AttachOptions, 'profile'> {
  profile?: ProfileSpec;
}

interface AttachedInfo {
  id: string;
  name: string;
  profile: ProfileSpec;
  timeScale: number;
}

type MoveRequest = { position: Position } | { path: Waypoint[] };

function toWire(error: unknown): WireError {
  if (error instanceof MqttError) return { code: error.code, message: error.message };
  return { code: 'LINK_ERROR', message: error instanceof Error ? error.message : String(error) };
}

function fromWire(error: WireError): MqttError {
  return new MqttError(error.code as MqttErrorCode, error.message);
}

function checkSocketPath(path: string): void {
  if (typeof path !== 'string' || path.length === 0)
    throw localError('INVALID_ARGUMENT', 'a medium socket path is required');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw localError(
      'INVALID_ARGUMENT',
      `medium socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${path}`,
    );
  }
}

/** Resolves true when something accepts connections at `path`. */
function somethingListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = netConnect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(path);
  });
}

/**
 * Serves `medium` on a Unix socket so that radios in other processes can attach.
 * Rejects with LINK_ERROR when another server is live at `path` or the socket cannot be created.
 */
export async function serveMedium(
  medium: SimulatedMedium,
  options: ServeMediumOptions,
): Promise<MediumServer> {
  const path = options.path;
  checkSocketPath(path);
  if (medium.closed) throw localError('LINK_ERROR', 'cannot serve a closed medium');
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(medium, socket);
  });
  try {
    await listen(server, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw new MqttError('LINK_ERROR', `cannot serve the medium at ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (await somethingListens(path)) {
      throw new MqttError('LINK_ERROR', `a medium (or something else) is already served at ${path}`, {
        cause: error,
      });
    }
    // A socket file left behind by a server that died: nobody answers, so it is safe to replace.
    await unlink(path).catch(() => {});
    try {
      await listen(server, path);
    } catch (retry) {
      throw new MqttError('LINK_ERROR', `cannot serve the medium at ${path}: ${(retry as Error).message}`, {
        cause: retry,
      });
    }
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      stopWatching();
      // server.close() removes the socket file; it waits for connections, so end them.
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  const stopWatching = medium.observe((event) => {
    if (event.type === 'close') void close();
  });
  return {
    path,
    get connections() {
      return sockets.size;
    },
    close,
  };
}

/** One remote radio: the server side of the protocol. */
function serveConnection(medium: SimulatedMedium, socket: Socket): void {
  const decoder = new WireDecoder();
  let radio: SimulatedRadio | undefined;
  const write = (m: WireMessage) => {
    if (!socket.destroyed && socket.writable) socket.write(encodeMessage(m));
  };
  const fail = (error: unknown) => {
    write({ type: 'error', error: toWire(error) });
    socket.end();
    void radio?.close();
  };
  const handle = (m: WireMessage) => {
    if (!radio) {
      if (m.type !== 'attach') throw localError('PROTOCOL_ERROR', `medium socket: ${m.type} before attach`);
      const request = m.options as AttachRequest;
      const profile = request.profile ? profileFromSpec(request.profile) : undefined;
      radio = medium.attach({ ...request, profile });
      const info: AttachedInfo = {
        id: radio.id,
        name: radio.name,
        profile: radio.profile.spec,
        timeScale: medium.timeScale,
      };
      write({ type: 'attached', info });
      return;
    }
    const r = radio;
    switch (m.type) {
      case 'open':
        void r.open({
          receive: (frame, rssi) => write({ type: 'receive', frame, rssi }),
          close: (error) => fail(error ?? localError('LINK_ERROR', 'radio closed')),
        });
        return;
      case 'send':
        r.send(m.frame).then(
          () => write({ type: 'sent', id: m.id }),
          (error) => write({ type: 'sendFailed', id: m.id, error: toWire(error) }),
        );
        return;
      case 'move': {
        const move = m.move as MoveRequest;
        if ('path' in move) r.follow(move.path);
        else r.moveTo(move.position);
        return;
      }
      case 'stats':
        write({ type: 'statsReply', id: m.id, stats: r.stats });
        return;
      case 'close':
        void r.close();
        socket.end();
        return;
      default:
        throw localError('PROTOCOL_ERROR', `medium socket: unexpected ${m.type} from a radio`);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      for (const m of decoder.push(chunk)) handle(m);
    } catch (error) {
      fail(error);
    }
  });
  socket.on('error', () => {}); // 'close' follows and cleans up
  socket.on('close', () => void radio?.close());
  // The medium closed while this radio had not opened: nothing else would tell the client.
  const stop = medium.observe((event) => {
    if (event.type === 'close') fail(localError('LINK_ERROR', 'the simulated medium was closed'));
  });
  socket.once('close', stop);
}

/**
 * Attaches a radio to the medium served at `path`. Rejects with LINK_ERROR when
 * nothing serves there, with the server's error (e.g. INVALID_ARGUMENT for a
 * name in use) when it refuses, with TIMEOUT when it does not answer.
 */
export function connectMedium(path: string, options: ConnectMediumOptions = {}): Promise<RemoteRadio> {
  checkSocketPath(path);
  const { timeoutMs = 5000, profile, ...attach } = options;
  const request: AttachRequest = { ...attach, profile: profile?.spec };
  return new Promise((resolve, reject) => {
    const socket = netConnect({ path });
    const decoder = new WireDecoder();
    const giveUp = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => giveUp(localError('TIMEOUT', `the medium at ${path} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(encodeMessage({ type: 'attach', options: request })));
    socket.once('error', (error) =>
      giveUp(
        new MqttError('LINK_ERROR', `cannot reach the medium at ${path}: ${error.message}`, { cause: error }),
      ),
    );
    socket.once('close', () =>
      giveUp(localError('LINK_ERROR', `the medium at ${path} closed the connection`)),
    );
    const onData = (chunk: Buffer) => {
      let messages: WireMessage[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        giveUp(error as Error);
        return;
      }
      const first = messages[0];
      if (!first) return;
      if (first.type === 'error') return giveUp(fromWire(first.error));
      if (first.type !== 'attached')
        return giveUp(localError('PROTOCOL_ERROR', `medium socket: got ${first.type} before attached`));
      clearTimeout(timer);
      socket.removeAllListeners();
      const radio = new RemoteRadio(socket, decoder, first.info as AttachedInfo);
      resolve(radio);
      for (const m of messages.slice(1)) radio.handle(m);
    };
    socket.on('data', onData);
  });
}

/** A radio attached to a medium in another process (or over the socket in this one). */
export class RemoteRadio implements Radio {
  /** The name it has on the medium. */
  readonly id: string;
  readonly name: string;
  readonly profile: RadioProfile;
  readonly mtu: number;
  readonly dutyCycle: number;
  /** The serving medium's time scale. */
  readonly timeScale: number;
  /** Counted here as acknowledgements arrive; `airtimeMs` is modelled ms. `fetchStats()` has the medium's full view. */
  readonly stats: RadioStats = { framesSent: 0, bytesSent: 0, framesReceived: 0, airtimeMs: 0 };

  private handlers: RadioHandlers | undefined;
  private closed = false;
  private nextId = 1;
  private readonly sends = new Map<
    number,
    { bytes: number; resolve: () => void; reject: (error: Error) => void }
  >();
  private readonly statsRequests = new Map<
    number,
    { resolve: (stats: SimulatedRadioStats) => void; reject: (error: Error) => void }
  >();
  private readonly gone: Promise<void>;

  /** @internal Made by `connectMedium`. */
  constructor(
    private readonly socket: Socket,
    decoder: WireDecoder,
    info: AttachedInfo,
  ) {
    this.id = info.id;
    this.name = info.name;
    this.profile = profileFromSpec(info.profile);
    this.mtu = this.profile.mtu;
    this.dutyCycle = this.profile.dutyCycle;
    this.timeScale = info.timeScale;
    this.gone = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of decoder.push(chunk)) this.handle(m);
      } catch (error) {
        this.lost(error as Error);
      }
    });
    socket.on('error', (error) =>
      this.lost(new MqttError('LINK_ERROR', `medium socket: ${error.message}`, { cause: error })),
    );
    socket.on('close', () => this.lost(localError('LINK_ERROR', 'the medium socket closed')));
  }

  /** Wall-clock ms a frame of `bytes` bytes occupies the air on the serving medium. */
  airtimeMs(bytes: number): number {
    return this.profile.airtimeMs(bytes) / this.timeScale;
  }

  async open(handlers: RadioHandlers): Promise<void> {
    if (this.closed) throw localError('LINK_ERROR', `${this.name}: radio is closed`);
    this.handlers = handlers;
    this.write({ type: 'open' });
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(localError('LINK_ERROR', `${this.name}: radio is closed`));
    if (frame.length > this.mtu) {
      return Promise.reject(
        localError(
          'LINK_ERROR',
          `${this.name}: frame of ${frame.length} bytes exceeds the MTU of ${this.mtu}`,
        ),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.sends.set(id, { bytes: frame.length, resolve, reject });
      this.write({ type: 'send', id, frame });
    });
  }

  /** Puts the radio at `position` on the serving medium. */
  moveTo(position: Position): void {
    this.write({ type: 'move', move: { position } });
  }

  /** Makes the radio follow `path` (waypoint times count modelled ms from when the server gets it). */
  follow(path: readonly Waypoint[]): void {
    this.write({ type: 'move', move: { path } });
  }

  /** The medium's counters for this radio, including frames lost, collided and corrupted at it. */
  fetchStats(): Promise<SimulatedRadioStats> {
    if (this.closed) return Promise.reject(localError('LINK_ERROR', `${this.name}: radio is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.statsRequests.set(id, { resolve, reject });
      this.write({ type: 'stats', id });
    });
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.write({ type: 'close' });
      this.socket.end();
      this.shutdown(localError('LINK_ERROR', `${this.name}: radio closed`));
    }
    await this.gone;
  }

  /** @internal */
  handle(m: WireMessage): void {
    switch (m.type) {
      case 'receive':
        if (!this.handlers || this.closed) return;
        this.stats.framesReceived++;
        this.handlers.receive(m.frame, m.rssi);
        return;
      case 'sent': {
        const send = this.sends.get(m.id);
        if (!send) return;
        this.sends.delete(m.id);
        this.stats.framesSent++;
        this.stats.bytesSent += send.bytes;
        this.stats.airtimeMs += this.profile.airtimeMs(send.bytes);
        send.resolve();
        return;
      }
      case 'sendFailed': {
        const send = this.sends.get(m.id);
        this.sends.delete(m.id);
        send?.reject(fromWire(m.error));
        return;
      }
      case 'statsReply': {
        const request = this.statsRequests.get(m.id);
        this.statsRequests.delete(m.id);
        request?.resolve(m.stats as SimulatedRadioStats);
        return;
      }
      case 'error':
        this.lost(fromWire(m.error));
        return;
      default:
        this.lost(localError('PROTOCOL_ERROR', `medium socket: unexpected ${m.type} from the medium`));
    }
  }

  private write(m: WireMessage): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(encodeMessage(m));
  }

  /** The medium went away (closed, server stopped, socket broke): tell the owner once. */
  private lost(error: Error): void {
    if (this.closed) return;
    const handlers = this.handlers;
    this.shutdown(error);
    this.socket.destroy();
    handlers?.close?.(error);
  }

  private shutdown(error: Error): void {
    this.closed = true;
    this.handlers = undefined;
    for (const send of this.sends.values()) send.reject(error);
    this.sends.clear();
    for (const request of this.statsRequests.values()) request.reject(error);
    this.statsRequests.clear();
  }
}
