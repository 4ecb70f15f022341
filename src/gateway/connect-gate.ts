/**
 * The gateway reads the first MQTT packet of each node stream before it
 * opens a broker connection: it must be a CONNECT, within a deadline, and
 * name a client id the node may use (its keys file entry). Until then the
 * node's bytes wait here; none reaches a broker. Nothing of the CONNECT is
 * logged but the client id.
 */

import { PacketDecoder } from '../codec/decoder.ts';
import type { LinkClock } from '../radio/link/clock.ts';
import { ResetReason } from '../radio/link/frame.ts';

/** The largest CONNECT a node may send (client id, will, credentials), in bytes. */
export const MAX_CONNECT_BYTES = 4096;

/** What a ConnectGate is told to do. */
export interface ConnectGateOptions {
  /** Time allowed for the whole CONNECT, in ms. */
  deadlineMs: number;
  clock: LinkClock;
  /** May the node use this client id? */
  check(clientId: string): boolean;
  /** Refuse the stream: `why` for the log, `reason` for the RESET. */
  refused(why: string, reason: ResetReason): void;
  /** The CONNECT passed: `bytes` is all the node sent so far; returns where later bytes go. */
  connect(clientId: string, bytes: Uint8Array): (bytes: Uint8Array) => void;
}

/** One stream's first packet, checked (see the module comment). */
export class ConnectGate {
  private readonly decoder = new PacketDecoder({ protocolVersion: 4, maximumPacketSize: MAX_CONNECT_BYTES });
  private buffered: Uint8Array[] = [];
  private size = 0;
  private forward: ((bytes: Uint8Array) => void) | undefined;
  private done = false;
  private readonly timer: unknown;

  constructor(private readonly options: ConnectGateOptions) {
    this.timer = options.clock.setTimeout(() => {
      if (this.done) return;
      this.refuse(`no CONNECT within ${options.deadlineMs} ms`, ResetReason.NO_CONNECT);
    }, options.deadlineMs);
  }

  /** Node bytes, in order. */
  push(bytes: Uint8Array): void {
    if (this.forward !== undefined) return this.forward(bytes);
    if (this.done) return;
    this.buffered.push(bytes);
    this.size += bytes.length;
    this.decoder.push(bytes);
    let packet: ReturnType<PacketDecoder['next']>;
    try {
      packet = this.decoder.next();
    } catch (error) {
      return this.refuse(`first packet unreadable (${(error as Error).message})`, ResetReason.NOT_AUTHORIZED);
    }
    if (packet === undefined) {
      if (this.size > MAX_CONNECT_BYTES) this.refuse('first packet too long', ResetReason.NOT_AUTHORIZED);
      return;
    }
    if (packet.type !== 'connect')
      return this.refuse(`first packet is ${packet.type}, not CONNECT`, ResetReason.NOT_AUTHORIZED);
    if (!this.options.check(packet.clientId))
      return this.refuse(
        `CONNECT as "${packet.clientId}" refused: not a client id of this node`,
        ResetReason.NOT_AUTHORIZED,
      );
    this.finish();
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const chunk of this.buffered) {
      all.set(chunk, at);
      at += chunk.length;
    }
    this.buffered = [];
    this.forward = this.options.connect(packet.clientId, all);
  }

  /** The stream ended: stop the deadline. */
  cancel(): void {
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.options.clock.clearTimeout(this.timer);
  }

  private refuse(why: string, reason: ResetReason): void {
    this.finish();
    this.buffered = [];
    this.options.refused(why, reason);
  }
}
