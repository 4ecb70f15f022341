// Raw MQTT 3.1.1 bytes and a recording LinkHandlers for the link tests.
// Deliberately independent of src/codec: a link test must not depend on
// the code a link is meant to carry.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { LinkHandlers } from '../../src/links/types.ts';

const utf8 = new TextEncoder();

/** Concatenates byte arrays (or plain byte lists). */
export function concat(parts: Array<Uint8Array | number[]>): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** MQTT variable byte integer (remaining length). */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function str(s: string): Uint8Array {
  const bytes = utf8.encode(s);
  return concat([[bytes.length >> 8, bytes.length & 0xff], bytes]);
}

function packet(first: number, body: Uint8Array): Uint8Array {
  return concat([[first, ...varint(body.length)], body]);
}

/** CONNECT, MQTT 3.1.1, clean session, keepalive 60 s. */
export function connectPacket(clientId: string): Uint8Array {
  return packet(0x10, concat([str('MQTT'), [0x04, 0x02, 0x00, 60], str(clientId)]));
}

/** SUBSCRIBE to one filter at QoS 0. */
export function subscribePacket(packetId: number, filter: string): Uint8Array {
  return packet(0x82, concat([[packetId >> 8, packetId & 0xff], str(filter), [0x00]]));
}

/** PUBLISH at QoS 0, not retained: the broker forwards it to a subscriber byte for byte. */
export function publishPacket(topic: string, payload: Uint8Array): Uint8Array {
  return packet(0x30, concat([str(topic), payload]));
}

/**
 * How many TCP sockets this process holds to `port` on any address, in any
 * state (Linux: matches /proc/net/tcp{,6} entries against our own file
 * descriptors). Node's getActiveResourcesInfo() cannot tell: an idle socket
 * nobody reads from is not "active", so a leak would go unseen.
 */
export function socketsTo(port: number): number {
  const ours = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) ours.add(inode);
    } catch {
      // closed since readdir
    }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remotePort = Number.parseInt(fields[2].split(':')[1], 16);
      if (remotePort === port && ours.has(fields[9])) count += 1;
    }
  }
  return count;
}

/** LinkHandlers that record every call, with ways to wait for them. */
export class Recorder implements LinkHandlers {
  readonly chunks: Uint8Array[] = [];
  readonly closes: Array<Error | undefined> = [];
  drains = 0;
  private received = 0;
  private taken = 0;
  private wakers = new Set<() => void>();

  readonly data = (chunk: Uint8Array): void => {
    this.chunks.push(chunk);
    this.received += chunk.length;
    this.wake();
  };
  readonly close = (error?: Error): void => {
    this.closes.push(error);
    this.wake();
  };
  readonly drain = (): void => {
    this.drains += 1;
    this.wake();
  };

  /** Resolves when `ready()` holds; rejects after `ms` or when the connection closes first. */
  until(what: string, ready: () => boolean, ms = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (ready()) return done(resolve);
        if (this.closes.length > 0) return done(() => reject(this.failure(what)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}`))), ms);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.wakers.delete(check);
        settle();
      };
      this.wakers.add(check);
      check();
    });
  }

  /** The next `n` bytes received, once they have all arrived. */
  async take(n: number): Promise<Uint8Array> {
    await this.until(`${n} bytes`, () => this.received - this.taken >= n);
    const all = concat(this.chunks);
    const out = all.slice(this.taken, this.taken + n);
    this.taken += n;
    return out;
  }

  private failure(what: string): Error {
    const error = this.closes[0];
    return new Error(`connection closed while waiting for ${what}${error ? `: ${error.message}` : ''}`, {
      cause: error,
    });
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}
