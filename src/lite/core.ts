/**
 * The lite client's engine: MQTT 3.1.1 with no I/O, no clock and no chance
 * of its own (STYLE.md 1). Inputs: the host's link news (`opened`,
 * `received`, `closed`), the time (`tick`) and the application's commands,
 * each with `now`. Outputs: bytes and events appended to an outbox that the
 * host empties with `drain()` after every input, and `nextDeadline()`, when
 * to call `tick` next. The random source (jitter, the default client id) is
 * passed in.
 *
 * Where it overlaps the full engine (src/session, with the client's
 * supervisor) it behaves the same, and test/engine runs one scenario suite
 * against both: keepalive by the same `Liveness` rule; a quiet period after
 * a connection that had opened, then full-jitter backoff; at most 20 QoS 1/2
 * messages in flight (Mosquitto drops QoS 2 beyond its window); one FIFO for
 * every QoS; packet ids taken when a message first leaves; in-flight PUBLISH
 * re-sent with DUP and PUBREL re-sent on every reconnect, except that a
 * broker that lost the session gets no PUBREL (the message was the broker's
 * at PUBREC [MQTT-4.3.3-2]): the flow completes instead; subscriptions made
 * again first, then unanswered requests, then the in-flight messages.
 */

import { backoff } from '../backoff.ts';
import {
  ClientDecoder4,
  type Connect4,
  DISCONNECT_4,
  encodeAck4,
  encodeConnect4,
  encodeSubscribe4,
  PINGREQ_4,
  type ServerPacket4,
} from '../codec/client-v4.ts';
import { connackV4Name } from '../codec/connack-v4.ts';
import { ReasonCode } from '../codec/reason-code.ts';
import type { PublishPacket, QoS } from '../codec/types.ts';
import { MqttError } from '../errors.ts';

/**
 * QoS 1/2 messages in flight at once: MQTT 3.1.1 brokers cannot announce a
 * Receive Maximum, and Mosquitto 2.0 answers a QoS 2 PUBLISH beyond its
 * window (20 by default) with PUBREC and drops it. The full engine's
 * MQTT3_SEND_QUOTA (src/session/session.ts).
 */
export const LITE_SEND_QUOTA = 20;

/** What the engine needs to know; the defaults are the lite client's (src/lite/message.ts). */
export interface LiteCoreOptions {
  connect: Omit<Connect4, 'clientId'> & { clientId?: string };
  connectTimeout?: number;
  quietPeriod?: number;
  reconnectPeriod?: number;
  reconnectPeriodMax?: number;
  responseTimeout?: number;
  maximumPacketSize?: number;
  /** A number in [0, 1): backoff jitter and the default client id. */
  random: () => number;
}

/** What the engine asks of its host, in order; `T` is the host's handle for a command. */
export type LiteCoreEvent<T> =
  /** Open the link now, then call `opened` (or `closed` if it fails). */
  | { type: 'open' }
  /** Close the link now; the engine is done with it. */
  | { type: 'close'; error: MqttError }
  | { type: 'up'; sessionPresent: boolean }
  | { type: 'down'; cause: MqttError }
  /** A message; call `taken(message, epoch)` once the application has it (its ack waits till then). */
  | { type: 'message'; message: PublishPacket; epoch: number }
  /** A command completed: SUBACK's return codes for a subscribe, else empty. */
  | { type: 'done'; token: T; codes: number[] }
  | { type: 'failed'; token: T; error: MqttError };

type Ack = 'puback' | 'pubrec' | 'pubcomp' | 'suback' | 'unsuback';

/** A command on its way: queued (no id yet) or in flight (keyed by its packet id). */
interface Flow<T> {
  bytes: Uint8Array;
  qos: QoS;
  expect?: Ack;
  /** SUBSCRIBE: the filters it asks for (kept on SUBACK); UNSUBSCRIBE: the ones it drops. */
  filters?: string[];
  /** Made by the engine (resubscribe, no token): nobody awaits it. */
  internal?: boolean;
  sent?: boolean;
  token?: T;
}

export type LitePhase = 'idle' | 'opening' | 'connecting' | 'up' | 'waiting' | 'ended';

/** An inbound QoS 1/2 id the application still holds, or has taken while the broker waits for the ack. */
const HELD = 0;
/** QoS 1: acked while offline, the PUBACK answers the broker's re-send. QoS 2: PUBREC sent (or owed). */
const TAKEN = 1;

function closedError(): MqttError {
  return new MqttError('CLIENT_CLOSED', 'the client was ended');
}

export class LiteCore<T> {
  readonly clientId: string;
  phase: LitePhase = 'idle';
  readonly #o: LiteCoreOptions;
  readonly #connect: Uint8Array;
  #decoder: ClientDecoder4 | undefined;
  /** Keepalive in ms (0: off) and, for it, when we last sent, last heard, pinged, and first asked since. */
  readonly #keepalive: number;
  #sentAt = 0;
  #heardAt = 0;
  #pingAt: number | undefined;
  #askedAt: number | undefined;
  /** CONNACK or link-open deadline, or the end of the quiet period and backoff. */
  #deadline = Infinity;
  #failures = 0;
  /** The current attempt's link opened: its end calls for a quiet period. */
  #opened = false;
  /** The connection's first byte has come. */
  #heard = false;
  #out: Uint8Array[] = [];
  #events: LiteCoreEvent<T>[] = [];
  #lastId = 0;
  /** In flight by packet id, in the order they took it (a Map keeps insertion order). */
  readonly #flows = new Map<number, Flow<T>>();
  /** Not sent yet, every QoS in publish order. */
  #queue: Flow<T>[] = [];
  #publishing = 0;
  /** Inbound QoS 1/2 ids by state (HELD, TAKEN), and their QoS. */
  readonly #inbound = new Map<number, [state: number, qos: QoS]>();
  /** Counts sessions: an ack for a message of a session the broker lost names nothing. */
  #epoch = 0;
  /** Granted subscriptions, made again when the broker has lost the session. */
  readonly granted = new Map<string, QoS>();

  constructor(options: LiteCoreOptions) {
    this.#o = options;
    const c = options.connect;
    this.clientId = c.clientId ?? `steadfast_${options.random().toString(36).slice(2, 10)}`;
    this.#connect = encodeConnect4({ ...c, clientId: this.clientId });
    this.#keepalive = c.keepalive * 1000;
  }

  /** Empties the outbox: bytes to write in order, then what to do. */
  drain(): [bytes: Uint8Array[], events: LiteCoreEvent<T>[]] {
    const out: [Uint8Array[], LiteCoreEvent<T>[]] = [this.#out, this.#events];
    this.#out = [];
    this.#events = [];
    return out;
  }

  /** When `tick` is due next; Infinity when nothing is. */
  nextDeadline(): number {
    if (this.phase !== 'up') return this.#deadline;
    const ping = this.#keepalive > 0 && this.#pingAt === undefined ? this.#pingDue() : Infinity;
    return Math.min(ping, this.#deadAt());
  }

  /** Starts connecting (asks for the link). */
  start(now: number): void {
    if (this.phase === 'idle') this.#open(now);
  }

  #open(now: number): void {
    this.phase = 'opening';
    this.#opened = false;
    this.#deadline = now + (this.#o.connectTimeout ?? 30_000);
    this.#events.push({ type: 'open' });
  }

  /** The link asked for is open: CONNECT goes out. */
  opened(now: number): void {
    if (this.phase !== 'opening') return;
    this.phase = 'connecting';
    this.#opened = true;
    this.#deadline = now + (this.#o.connectTimeout ?? 30_000);
    this.#decoder = new ClientDecoder4(this.#o.maximumPacketSize);
    this.#heard = false;
    this.#reset(now);
    this.#write(this.#connect, now);
  }

  /** The link failed to open or closed by itself. */
  closed(error: MqttError, now: number): void {
    if (this.phase === 'opening' || this.phase === 'connecting' || this.phase === 'up')
      this.#down(error, now, false);
  }

  tick(now: number): void {
    if (this.phase === 'waiting' && now >= this.#deadline) return this.#open(now);
    if (this.phase === 'opening' || this.phase === 'connecting') {
      if (now >= this.#deadline) this.#down(new MqttError('TIMEOUT', 'not connected in time'), now, true);
      return;
    }
    if (this.phase !== 'up') return;
    if (now >= this.#deadAt()) {
      const silent = now - this.#heardAt;
      return this.#down(
        new MqttError('TIMEOUT', `the broker was silent for ${silent} ms: the link is dead`),
        now,
        true,
      );
    }
    if (this.#keepalive > 0 && this.#pingAt === undefined && now >= this.#pingDue()) {
      this.#pingAt = now;
      this.#write(PINGREQ_4, now);
    }
  }

  // Keepalive, by the rule of the full engine's Liveness (src/session/liveness.ts; the engine suite holds
  // them to it): a PINGREQ after a keepalive of silence in either direction; the link is dead when the
  // broker has said nothing for 1.5 x keepalive after a PINGREQ (which gets at least half a keepalive),
  // or `responseTimeout` after it, or has left a request unanswered that long.

  #pingDue(): number {
    return Math.min(this.#sentAt, this.#heardAt) + this.#keepalive;
  }

  #deadAt(): number {
    const k = this.#keepalive;
    const timeout = this.#o.responseTimeout;
    const ping = this.#pingAt;
    let at = Infinity;
    if (ping !== undefined) at = timeout ?? Math.max(this.#heardAt + 1.5 * k - ping, 0.5 * k);
    const within = timeout ?? (k > 0 ? 1.5 * k : Infinity);
    return Math.min(at + (ping ?? 0), (this.#askedAt ?? Infinity) + within);
  }

  #reset(now: number): void {
    this.#sentAt = this.#heardAt = now;
    this.#pingAt = this.#askedAt = undefined;
  }

  /** Bytes from the broker; a protocol violation takes the connection down. */
  received(chunk: Uint8Array, now: number): void {
    const decoder = this.#decoder;
    if (decoder === undefined) return;
    this.#heardAt = now;
    this.#pingAt = this.#askedAt = undefined;
    if (this.phase === 'connecting' && chunk.length > 0 && !this.#heard) {
      this.#heard = true;
      // A byte no MQTT packet starts with (an HTTP server's 'H' would read as PUBACK with flags 8, and the
      // decoder would wait for its 84 bytes): wrong port or service, said at once as the full engine does.
      const type = chunk[0] >> 4;
      const flags = chunk[0] & 15;
      if (type === 0 || type === 15 || (type === 3 ? (flags & 6) === 6 : flags !== (type === 6 ? 2 : 0))) {
        const error = new MqttError('NOT_MQTT', 'not an MQTT broker: wrong port or service?', {
          side: 'remote',
        });
        return this.#down(error, now, true);
      }
    }
    decoder.push(chunk);
    try {
      for (let p = decoder.next(); p !== undefined && this.#decoder === decoder; p = decoder.next())
        this.#handle(p, now);
    } catch (error) {
      this.#down(error as MqttError, now, true);
    }
  }

  /**
   * Queues a PUBLISH already encoded with packet id 1 for QoS 1/2 (so that
   * what MQTT cannot carry fails before anything is queued); its real id is
   * written in when it first leaves.
   */
  publish(bytes: Uint8Array, qos: QoS, token: T, now: number): void {
    if (this.phase === 'ended') return this.#fail(token, closedError());
    this.#queue.push({ bytes, qos, token });
    this.#pump(now);
  }

  /** SUBSCRIBE (`qos` given) or UNSUBSCRIBE; throws what MQTT cannot carry. */
  subscribe(filters: string[], qos: QoS | undefined, token: T | undefined, now: number): void {
    if (this.phase === 'ended') return this.#fail(token, closedError());
    const id = this.#takeId();
    const flow: Flow<T> = {
      bytes: encodeSubscribe4(id, filters, qos),
      qos: 1,
      expect: qos === undefined ? 'unsuback' : 'suback',
      filters,
      internal: token === undefined,
      token,
    };
    this.#flows.set(id, flow);
    if (this.phase === 'up') this.#write(flow.bytes, now);
  }

  /** The application has taken an inbound message (`epoch` from its event): its ack goes out, or is owed. */
  taken(message: PublishPacket, epoch: number, now: number): void {
    const id = message.packetId!;
    const entry = this.#inbound.get(id);
    if (epoch !== this.#epoch || entry?.[0] !== HELD) return;
    const up = this.phase === 'up';
    if (message.qos === 1 && up) this.#inbound.delete(id);
    else entry[0] = TAKEN;
    if (up) this.#write(encodeAck4(message.qos === 1 ? 'puback' : 'pubrec', id), now);
  }

  /** Ends for good: DISCONNECT if up (the broker drops the will), every command fails with CLIENT_CLOSED. */
  end(now: number): void {
    if (this.phase === 'ended') return;
    if (this.phase === 'up') this.#write(DISCONNECT_4, now);
    const error = closedError();
    if (this.phase !== 'waiting' && this.phase !== 'idle') this.#events.push({ type: 'close', error });
    if (this.phase === 'up') this.#events.push({ type: 'down', cause: error });
    this.phase = 'ended';
    this.#deadline = Infinity;
    this.#decoder = undefined;
    for (const flow of [...this.#flows.values(), ...this.#queue]) this.#fail(flow.token, error);
    this.#flows.clear();
    this.#queue = [];
  }

  #fail(token: T | undefined, error: MqttError): void {
    if (token !== undefined) this.#events.push({ type: 'failed', token, error });
  }

  #done(flow: Flow<T>, codes: number[] = []): void {
    if (!flow.internal) this.#events.push({ type: 'done', token: flow.token!, codes });
  }

  #write(bytes: Uint8Array, now: number): void {
    const type = bytes[0] >> 4;
    // A QoS 1/2 PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE or PINGREQ: the broker owes an answer.
    if (type === 3 ? bytes[0] & 6 : type === 6 || type === 8 || type === 10 || type === 12)
      this.#askedAt ??= now;
    this.#sentAt = now;
    this.#out.push(bytes);
  }

  #takeId(): number {
    if (this.#flows.size >= 0xffff)
      throw new MqttError('QUEUE_FULL', 'all 65,535 packet identifiers are in use');
    let id = this.#lastId;
    do id = (id % 0xffff) + 1;
    while (this.#flows.has(id));
    this.#lastId = id;
    return id;
  }

  /** Sends what the quota allows, in publish order. */
  #pump(now: number): void {
    while (this.phase === 'up' && this.#queue.length > 0) {
      const flow = this.#queue[0];
      if (flow.qos > 0) {
        if (this.#publishing >= LITE_SEND_QUOTA) return;
        const id = this.#takeId();
        // Past the fixed header's remaining length and the topic: the packet id's two bytes.
        const b = flow.bytes;
        let at = 1;
        while (b[at++] & 0x80);
        at += 2 + ((b[at] << 8) | b[at + 1]);
        b[at] = id >> 8;
        b[at + 1] = id & 0xff;
        flow.expect = flow.qos === 1 ? 'puback' : 'pubrec';
        flow.sent = true;
        this.#publishing++;
        this.#flows.set(id, flow);
      }
      this.#queue.shift();
      this.#write(flow.bytes, now);
      if (flow.qos === 0) this.#done(flow);
    }
  }

  #finish(id: number, flow: Flow<T>, codes?: number[]): void {
    this.#flows.delete(id);
    if (flow.filters === undefined) this.#publishing--;
    this.#done(flow, codes);
  }

  #handle(p: ServerPacket4, now: number): void {
    if (this.phase === 'connecting' || p.type === 'connack') {
      if (p.type === 'connack' && this.phase === 'connecting')
        return this.#accepted(p.sessionPresent, p.reasonCode, now);
      throw new MqttError('PROTOCOL_ERROR', `a broker must not send ${p.type.toUpperCase()} here`, {
        side: 'remote',
      });
    }
    switch (p.type) {
      case 'publish': {
        if (p.qos === 0) return void this.#events.push({ type: 'message', message: p, epoch: this.#epoch });
        const id = p.packetId!;
        const entry = this.#inbound.get(id);
        if (entry !== undefined) {
          // The same message again (a sender may not reuse an id before its ack): never delivered twice.
          // Answered if the application has taken it; else its ack will be.
          if (entry[0] === TAKEN) {
            this.#write(encodeAck4(entry[1] === 1 ? 'puback' : 'pubrec', id), now);
            if (entry[1] === 1) this.#inbound.delete(id);
          }
          return;
        }
        this.#inbound.set(id, [HELD, p.qos]);
        return void this.#events.push({ type: 'message', message: p, epoch: this.#epoch });
      }
      case 'pubrel': {
        // Before our PUBREC the application still has the message: answering now could lose it.
        if (this.#inbound.get(p.packetId)?.[0] === HELD) return;
        this.#inbound.delete(p.packetId);
        return this.#write(encodeAck4('pubcomp', p.packetId), now);
      }
      case 'pubrec': {
        // Also for an id we no longer know (completed before an outage): the broker waits for PUBREL.
        const flow = this.#flows.get(p.packetId);
        const pubrel = encodeAck4('pubrel', p.packetId);
        if (flow?.expect === 'pubrec') Object.assign(flow, { bytes: pubrel, expect: 'pubcomp' });
        return this.#write(pubrel, now);
      }
      case 'pingresp':
        return;
      default: {
        const flow = this.#flows.get(p.packetId);
        if (flow?.expect !== p.type) return; // a late duplicate
        const filters = flow.filters ?? [];
        if (p.type === 'suback') {
          filters.forEach((f, i) => {
            if (p.reasonCodes[i] < ReasonCode.UnspecifiedError) this.granted.set(f, p.reasonCodes[i] as QoS);
            // The broker now refuses what it granted before: forget it rather than retry forever.
            else if (flow.internal) this.granted.delete(f);
          });
        } else for (const f of filters) this.granted.delete(f);
        this.#finish(p.packetId, flow, p.type === 'suback' ? p.reasonCodes : []);
        this.#pump(now);
      }
    }
  }

  #accepted(sessionPresent: boolean, code: number, now: number): void {
    if (code !== 0) {
      throw new MqttError('CONNECTION_REFUSED', `the broker refused the connection: ${connackV4Name(code)}`, {
        reasonCode: code,
        side: 'remote',
      });
    }
    this.phase = 'up';
    this.#failures = 0;
    this.#deadline = Infinity;
    this.#reset(now);
    this.#events.push({ type: 'up', sessionPresent });
    const flows = [...this.#flows];
    if (!sessionPresent) {
      // The broker has no session: its ids mean nothing now, and a PUBREC'd message is its own.
      this.#epoch++;
      this.#inbound.clear();
      for (const [id, flow] of flows) if (flow.expect === 'pubcomp') this.#finish(id, flow);
      // The order of the full engine: subscriptions made again, unanswered requests, in-flight messages
      // [MQTT-4.4.0-1], then the queue.
      const byQos = new Map<QoS, string[]>();
      for (const [f, qos] of this.granted) byQos.set(qos, [...(byQos.get(qos) ?? []), f]);
      for (const [qos, filters] of byQos) this.subscribe(filters, qos, undefined, now);
    }
    for (const subscriptions of [true, false]) {
      for (const [id, flow] of flows) {
        if (this.#flows.get(id) !== flow || (flow.filters !== undefined) !== subscriptions) continue;
        let bytes = flow.bytes;
        if (flow.expect !== 'pubcomp' && flow.sent) {
          // A re-sent PUBLISH carries DUP [MQTT-3.3.1-1]; a copy, since the link may still hold the first one.
          bytes = bytes.slice();
          bytes[0] |= 0x08;
        }
        this.#write(bytes, now);
      }
    }
    this.#pump(now);
  }

  /** The connection is over: close it, then wait the quiet period (if it had opened) and the backoff. */
  #down(cause: MqttError, now: number, close: boolean): void {
    const wasUp = this.phase === 'up';
    this.#decoder = undefined;
    if (close) this.#events.push({ type: 'close', error: cause });
    if (wasUp) this.#events.push({ type: 'down', cause });
    this.phase = 'waiting';
    this.#failures = wasUp ? 0 : this.#failures + 1;
    const o = this.#o;
    this.#deadline =
      now +
      (this.#opened ? (o.quietPeriod ?? 1000) : 0) +
      backoff(this.#failures, o.reconnectPeriod ?? 1000, o.reconnectPeriodMax ?? 30_000, o.random);
  }
}
