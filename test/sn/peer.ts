/**
 * A scripted MQTT-SN gateway side for client tests: a real UDP socket on loopback that decodes
 * what arrives, lets the test await the next message of a type and answer it.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decodeSn, encodeSn, type SnMessage } from '../../src/sn/codec/index.ts';

/** The message whose `type` is T (some interfaces carry two types). */
export type Of<T extends SnMessage['type']> = SnMessage & { type: T };

export class ScriptedPeer {
  private queue: SnMessage[] = [];
  private waiting: { type: SnMessage['type']; resolve: (m: SnMessage) => void }[] = [];
  private remote: RemoteInfo | undefined;
  /** Every message received, in order. */
  readonly log: SnMessage[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (bytes, rinfo) => {
      this.remote = rinfo;
      const msg = decodeSn(new Uint8Array(bytes));
      this.log.push(msg);
      const i = this.waiting.findIndex((w) => w.type === msg.type);
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(msg);
      else this.queue.push(msg);
    });
  }

  static async start(): Promise<ScriptedPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new ScriptedPeer(socket, socket.address().port);
  }

  /** The next message of `type` (already received or still to come). */
  next<T extends SnMessage['type']>(type: T): Promise<Of<T>> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as Of<T>);
    return new Promise((resolve) => this.waiting.push({ type, resolve: resolve as (m: SnMessage) => void }));
  }

  send(msg: SnMessage): void {
    this.sendRaw(encodeSn(msg));
  }

  sendRaw(bytes: Uint8Array): void {
    if (!this.remote) throw new Error('no client has spoken yet');
    this.socket.send(bytes, this.remote.port, this.remote.address);
  }

  close(): void {
    this.socket.close();
  }
}
