/**
 * A broker-side driver for the sans-IO Session: no sockets, a fake clock.
 *
 * The harness plays the broker. What the Session writes is decoded back into
 * packets with a server-side PacketDecoder; what the broker says is encoded
 * and fed to `session.received`, whole or one byte at a time. Time moves only
 * through `advance`, which calls `tick` at every deadline the Session asks for,
 * so a test can put an outage exactly between any two packets. The harness
 * drains the Session's outbox after each of its inputs, and before it answers
 * `sent()` or `events()` (a test may also call the Session directly).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import type {
  ConnackPacket,
  ConnectPacket,
  Packet,
  Properties,
  ProtocolVersion,
  QoS,
} from '../../src/codec/types.ts';
import { Session } from '../../src/session/session.ts';
import type { OutboundMessage, SessionEvent, SessionOptions } from '../../src/session/types.ts';

export const VERSIONS: ProtocolVersion[] = [4, 5];

export interface ConnackOptions {
  sessionPresent?: boolean;
  reasonCode?: number;
  properties?: Properties;
}

export interface DeliverOptions {
  /** Feed the packet one byte per `received` call. */
  split?: boolean;
}

const text = new TextEncoder();

export class SessionHarness {
  readonly session: Session;
  readonly version: ProtocolVersion;
  /** The fake clock, in ms. */
  now: number;
  /** Everything the session wrote, briefly, CONNECTs included, since the harness was made. */
  readonly transcript: string[] = [];
  private readonly server: PacketDecoder;
  private outbox: Packet[] = [];
  private log: SessionEvent[] = [];
  private link = false;

  /** Options as for Session; clientId defaults to 'client' (MQTT 3.1.1 needs one to keep a session). */
  constructor(options: SessionOptions = {}, start = 1_000_000) {
    this.now = start;
    this.version = options.protocolVersion ?? 5;
    this.server = new PacketDecoder({ protocolVersion: this.version });
    this.session = new Session({ clientId: 'client', ...options });
  }

  /** Takes everything out of the Session's outbox. */
  drain(): void {
    const s = this.session;
    for (let bytes = s.nextBytes(); bytes !== undefined; bytes = s.nextBytes()) this.onSend(bytes);
    for (let event = s.nextEvent(); event !== undefined; event = s.nextEvent()) this.log.push(event);
  }

  private onSend(bytes: Uint8Array): void {
    if (!this.link) throw new Error(`the session wrote ${bytes.length} bytes while the link was down`);
    this.server.push(bytes);
    for (let p = this.server.next(); p !== undefined; p = this.server.next()) {
      this.outbox.push(p);
      this.transcript.push(brief(p));
    }
  }

  /** The link comes up; returns the CONNECT the session sent (taken out of `sent()`). */
  linkUp(clean = false): ConnectPacket {
    this.drain();
    this.link = true;
    this.server.reset();
    this.session.linkUp(this.now, clean);
    this.drain();
    const connect = this.outbox.pop();
    if (connect?.type !== 'connect') throw new Error(`expected CONNECT, got ${connect?.type}`);
    return connect;
  }

  /** The link goes down (the session is told; nothing is sent). */
  linkDown(): void {
    this.drain();
    this.session.linkDown(this.now);
    this.drain();
    this.link = false;
  }

  /** linkDown then linkUp: returns the new CONNECT. */
  outage(clean = false): ConnectPacket {
    this.linkDown();
    return this.linkUp(clean);
  }

  connack(options: ConnackOptions = {}): void {
    const connack: ConnackPacket = {
      type: 'connack',
      sessionPresent: options.sessionPresent ?? false,
      reasonCode: options.reasonCode ?? 0,
    };
    if (options.properties !== undefined) connack.properties = options.properties;
    this.deliver(connack);
  }

  /** linkUp + CONNACK, then forgets what was sent and emitted: a session that is up. */
  connect(clean = true, connack: ConnackOptions = {}): this {
    this.linkUp(clean);
    this.connack(connack);
    this.sent();
    this.events();
    return this;
  }

  /** The broker sends `packet`. */
  deliver(packet: Packet, options: DeliverOptions = {}): void {
    this.deliverBytes(encode(packet, this.version), options);
  }

  /** Raw bytes from the broker (for malformed input). */
  deliverBytes(bytes: Uint8Array, options: DeliverOptions = {}): void {
    this.drain();
    if (!options.split) {
      this.session.received(bytes, this.now);
      return this.drain();
    }
    for (let i = 0; i < bytes.length; i++) {
      this.session.received(bytes.subarray(i, i + 1), this.now);
      this.drain();
    }
  }

  /** Packets the session sent since the last call. */
  sent(): Packet[] {
    this.drain();
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** `sent()`, briefly. */
  sentBrief(): string[] {
    return this.sent().map(brief);
  }

  /** Events the session emitted since the last call. */
  events(): SessionEvent[] {
    this.drain();
    const out = this.log;
    this.log = [];
    return out;
  }

  /** `events()`, briefly. */
  eventsBrief(): string[] {
    return this.events().map(briefEvent);
  }

  /** Moves the fake clock by `ms`, calling `tick` at each deadline passed on the way. */
  advance(ms: number): void {
    this.drain();
    const target = this.now + ms;
    for (let n = 0; ; n++) {
      const deadline = this.session.nextDeadline();
      if (deadline > target) break;
      if (n > 10_000) throw new Error(`the session keeps asking for a tick at ${deadline}`);
      this.now = Math.max(this.now, deadline);
      this.session.tick(this.now);
      this.drain();
    }
    this.now = target;
  }

  /** Publishes with defaults (payload 'x', QoS 0, no retain); the token defaults to the topic. */
  publish(message: Partial<OutboundMessage> & { topic: string }, token: unknown = message.topic): void {
    this.drain();
    this.session.publish({ payload: text.encode('x'), qos: 0, retain: false, ...message }, token, this.now);
    this.drain();
  }
}

/**
 * Asserts an event's or packet's type and narrows it. (A failing `assert.ok(expr)`
 * without a message makes node re-parse the source to print `expr`, which takes
 * seconds to minutes on a tsx-loaded file; `assert.equal` does not.)
 */
export function assertType<U extends { type: string }, T extends U['type']>(
  value: U | undefined,
  type: T,
): asserts value is Extract<U, { type: T }> {
  assert.equal(value?.type, type);
}

// ---- brief forms, so that a test's expectation reads like a trace ----

export function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

/** `PUBLISH a #1 dup`, `PUBREL #1`, `PUBCOMP #1 0x92`, `SUBSCRIBE #2 a,b`, `DISCONNECT 0x93`. */
export function brief(p: Packet): string {
  switch (p.type) {
    case 'publish':
      return `PUBLISH ${p.topic || '~'}${p.packetId ? ` #${p.packetId}` : ''}${p.dup ? ' dup' : ''}`;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return `${p.type.toUpperCase()} #${p.packetId}${p.reasonCode ? ` ${hex(p.reasonCode)}` : ''}`;
    case 'subscribe':
      return `SUBSCRIBE #${p.packetId} ${p.subscriptions.map((s) => s.topic).join(',')}`;
    case 'unsubscribe':
      return `UNSUBSCRIBE #${p.packetId} ${p.topics.join(',')}`;
    case 'suback':
    case 'unsuback':
      return `${p.type.toUpperCase()} #${p.packetId}`;
    case 'disconnect':
    case 'auth':
      return `${p.type.toUpperCase()} ${hex(p.reasonCode ?? 0)}`;
    case 'connect':
    case 'connack':
    case 'pingreq':
    case 'pingresp':
      return p.type.toUpperCase();
    default: {
      const never: never = p;
      return String(never);
    }
  }
}

/** `published a`, `failed a REFUSED 0x9b`, `message t #1 dup`, `close TIMEOUT`. */
export function briefEvent(e: SessionEvent): string {
  switch (e.type) {
    case 'up':
      return `up${e.sessionPresent ? ' present' : ''}${e.resubscribe ? ' resubscribe' : ''}`;
    case 'message': {
      const m = e.message;
      return `message ${m.topic}${m.packetId ? ` #${m.packetId}` : ''}${m.dup ? ' dup' : ''}`;
    }
    case 'published':
      return `published ${String(e.token)}${e.reasonCode ? ` ${hex(e.reasonCode)}` : ''}`;
    case 'publish-failed':
    case 'subscribe-failed': {
      const code = e.error.reasonCode === undefined ? '' : ` ${hex(e.error.reasonCode)}`;
      return `${e.type === 'publish-failed' ? 'failed' : 'subscribe-failed'} ${String(e.token)} ${e.error.code}${code}`;
    }
    case 'subscribed':
    case 'unsubscribed':
      return `${e.type} ${String(e.token)}`;
    case 'auth':
      return 'auth';
    case 'server-disconnect':
      return `server-disconnect ${hex(e.disconnect.reasonCode ?? 0)}`;
    case 'discarded':
      return 'discarded';
    case 'redirect':
      return `redirect ${e.reference}${e.permanent ? ' permanent' : ''}`;
    case 'close':
      return `close ${e.error.code}${e.error.reasonCode === undefined ? '' : ` ${hex(e.error.reasonCode)}`}`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}

// ---- steps for the interleaving tables ----

/** One step of an interleaving; `present` is the Session Present the broker answers after an outage. */
export type Step = (h: SessionHarness, present: boolean) => void;

export const step = {
  publish:
    (topic: string, qos: QoS, extra: Partial<OutboundMessage> = {}): Step =>
    (h) =>
      h.publish({ topic, qos, ...extra }),
  /** The broker sends a PUBACK / PUBREC / PUBREL / PUBCOMP. */
  ack:
    (type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', packetId: number, reasonCode?: number): Step =>
    (h) =>
      h.deliver(reasonCode === undefined ? { type, packetId } : { type, packetId, reasonCode }),
  /** The broker sends a PUBLISH. */
  message:
    (topic: string, qos: QoS, packetId: number | undefined, dup = false): Step =>
    (h) =>
      h.deliver({ type: 'publish', topic, qos, packetId, dup, retain: false, payload: text.encode(topic) }),
  /** The link goes down. */
  down: ((h) => h.linkDown()) as Step,
  /** The link comes back and the broker accepts (Session Present from the table's loop). */
  up: ((h, present) => {
    h.linkUp(false);
    h.connack({ sessionPresent: present });
  }) as Step,
  /** down + up. */
  outage: ((h, present) => {
    h.outage(false);
    h.connack({ sessionPresent: present });
  }) as Step,
  advance:
    (ms: number): Step =>
    (h) =>
      h.advance(ms),
  /** Manual ack of an inbound message received `generationsAgo` sessions ago (the broker lost one since); checks what it returns. */
  acknowledge:
    (
      packetId: number,
      qos: 1 | 2,
      options: { generationsAgo?: number; reasonCode?: number; accepted?: boolean } = {},
    ): Step =>
    (h) => {
      const generation = h.session.generation - (options.generationsAgo ?? 0);
      const accepted = h.session.acknowledge(packetId, qos, generation, options.reasonCode);
      assert.equal(
        accepted,
        options.accepted ?? true,
        `acknowledge(${packetId}, ${qos}) returned ${accepted}`,
      );
    },
};

/** An interleaving: what happens, and the whole trace the session must produce. */
export interface FlowCase {
  name: string;
  /** Session Present in the CONNACKs after outages; [true, false] when omitted. */
  present?: boolean[];
  /** Options for the session (manualAck, ...); protocolVersion comes from the loop. */
  options?: SessionOptions;
  steps: Step[];
  /** The whole trace; a function when it depends on the version or on Session Present. */
  expect: FlowExpect | ((version: ProtocolVersion, present: boolean) => FlowExpect);
}

export interface FlowExpect {
  /** Every packet the session wrote after the first CONNACK, CONNECTs included. */
  sent: string[];
  /** Every event after the first CONNACK, `up` events left out. */
  events: string[];
}

/** Runs one case on a session that is up (clean start, no session present), and returns its trace. */
export function runFlow(c: FlowCase, version: ProtocolVersion, present: boolean) {
  const h = new SessionHarness({ ...c.options, protocolVersion: version }).connect();
  const before = h.transcript.length;
  const events: string[] = [];
  for (const s of c.steps) {
    s(h, present);
    for (const e of h.eventsBrief()) if (!e.startsWith('up')) events.push(e);
  }
  return { sent: h.transcript.slice(before), events, harness: h };
}

/** Registers one test per case, protocol version and Session Present. */
export function flowTests(cases: FlowCase[]): void {
  for (const version of VERSIONS) {
    describe(`MQTT ${version === 4 ? '3.1.1' : '5.0'}`, () => {
      for (const c of cases) {
        const presents = c.present ?? [true, false];
        for (const present of presents) {
          const suffix = presents.length > 1 ? ` [session present ${present}]` : '';
          it(`${c.name}${suffix}`, () => {
            const expected = typeof c.expect === 'function' ? c.expect(version, present) : c.expect;
            const { sent, events } = runFlow(c, version, present);
            assert.deepEqual({ sent, events }, expected);
          });
        }
      }
    });
  }
}
