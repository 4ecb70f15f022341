/**
 * The Session: the MQTT protocol engine, with no I/O and no clock.
 *
 * Inputs: `linkUp`, `received`, `linkDown`, `tick(now)` and the application's
 * commands (`publish`, `subscribe`, `acknowledge`, ..., `close`). Each input
 * appends its outputs to the outbox and returns: bytes to write
 * (`nextBytes()`) and events (`nextEvent()`), and `nextDeadline()` says when
 * the host must call `tick` again. The host drains all three after every
 * input, in one place; the Session never calls the host, so nothing re-enters
 * it half way through an input. Everything that must survive a reconnect
 * (in-flight messages, packet ids, QoS 2 ids, subscriptions) lives here,
 * across any number of `linkDown`/`linkUp`.
 *
 * States: down → connecting (CONNECT sent) → up (CONNACK accepted) → down.
 * A `close` event asks the host to take the link down; until `linkDown` the
 * session ignores further input ("closing").
 */

import { clientDecoder, encodeFromClient } from '../codec/client-role.ts';
import { MAX_PACKET_SIZE } from '../codec/constants.ts';
import { ReasonCode, reasonCodeName } from '../codec/reason-codes.ts';
import type { StreamDecoder } from '../codec/stream-decoder.ts';
import type {
  ConnackPacket,
  ConnectPacket,
  Packet,
  Properties,
  ProtocolVersion,
  QoS,
  Subscription,
} from '../codec/types.ts';
import { type MqttError, MqttError as MqttErrorClass, remoteError } from '../errors.ts';
import { EMPTY_BYTES, firstAnswer } from './first-answer.ts';
import { Inbound } from './inbound.ts';
import { Liveness } from './liveness.ts';
import { Outbound } from './outbound.ts';
import { PacketIds } from './packet-ids.ts';
import { DEFAULT_QUEUE_LIMITS } from './publish-queue.ts';
import { DEFAULT_ROLLBACK_GUARD } from './rollback-guard.ts';
import { brokerServed } from './served.ts';
import type { SessionStore } from './store.ts';
import { Subscriptions } from './subscriptions.ts';
import { OutboundAliases } from './topic-aliases.ts';
import type { OutboundMessage, OutboundRecord, SessionEvent, SessionIo, SessionOptions } from './types.ts';

export type SessionState = 'down' | 'connecting' | 'up' | 'closing';

/** Keepalive in seconds when the options give none: the interval MQTT.js and Paho use too. */
export const DEFAULT_KEEPALIVE = 60;

/** Milliseconds to wait for CONNACK after the link comes up, when the options give no connectTimeout. */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;

/**
 * QoS 1/2 publications in flight at once on MQTT 3.1.1, where the broker
 * cannot announce a Receive Maximum. Brokers still have one: Mosquitto 2.0
 * answers a QoS 2 PUBLISH beyond its max_inflight_messages (default 20)
 * with a PUBREC and drops the message, so sending more would lose messages.
 * 20 is also Mosquitto's and Paho Python's client default.
 */
export const MQTT3_SEND_QUOTA = 20;

/**
 * QoS 1/2 publications in flight at once on MQTT 5 when the broker announces
 * no Receive Maximum, or the protocol's largest (65,535), which in practice
 * means "no limit announced". Measured (docs/performance.md, `npm run bench
 * -- throughput --inflight`): Mosquitto's cost per message grows with the
 * number in flight, so an unbounded window is slower there, and against a
 * broker that costs nothing a window of 100 is already past the knee.
 */
export const DEFAULT_MAX_INFLIGHT = 100;

/** The largest Receive Maximum the protocol can express (a two-byte integer). */
const RECEIVE_MAXIMUM_UNLIMITED = 65_535;

/** What the broker said about itself in CONNACK, with the spec's defaults filled in. */
export interface ServerCapabilities {
  receiveMaximum: number;
  maximumPacketSize: number;
  maximumQoS: QoS;
  retainAvailable: boolean;
  topicAliasMaximum: number;
  wildcardSubscriptionAvailable: boolean;
  subscriptionIdentifiersAvailable: boolean;
  sharedSubscriptionAvailable: boolean;
  /** Seconds; the server's keepalive when it set one, else ours. */
  keepalive: number;
  responseInformation?: string;
  serverReference?: string;
}

/** Counters of the outbound side, for status displays. */
export interface SessionStats {
  /** PUBLISH and PUBREL packets sent again after reconnects. */
  resent: number;
  /** QoS 0 messages dropped from a full queue. */
  dropped: number;
  /** Messages queued, not sent yet. */
  queued: number;
  /** QoS 1/2 messages sent and not yet acknowledged. */
  inflight: number;
  /** Messages waiting for room in a full queue (back-pressure). */
  waiting: number;
  /** Inbound QoS 1/2 messages the broker sent beyond our Receive Maximum (counted, not refused). */
  receiveMaximumExceeded: number;
  /** The most inbound QoS 1/2 messages unanswered at once on one connection, when that was beyond our Receive Maximum (else 0). */
  peakOverReceiveMaximum: number;
  /** Inbound QoS 2 re-sends of messages already completed (a broker's rollback), acknowledged and not delivered. */
  qos2RollbackCopies: number;
  /** Inbound QoS 2 messages that came under an id whose flow was still open here (the broker forgot it), delivered as new. */
  qos2IdsReused: number;
}

export class Session<P = unknown, S = unknown> {
  readonly version: ProtocolVersion;
  /** The client id in use; the broker may assign one on MQTT 5, which is then kept for reconnects. */
  clientId: string;
  state: SessionState = 'down';
  server: ServerCapabilities | undefined;

  readonly #options: SessionOptions;
  readonly #decoder: StreamDecoder;
  readonly #ids = new PacketIds();
  readonly #outboundAliases = new OutboundAliases();
  readonly #outbound: Outbound<P>;
  readonly #inbound: Inbound;
  readonly #subscriptions: Subscriptions<S>;
  /**
   * The outbox: what inputs produced and the host has not taken yet, each in
   * order (h11's `next_event`, rumqttc's event queue). One chunk of PUBACKs
   * leaves a `published` event per message; `shift()` moved the rest of the
   * array for each (2% of a QoS 1 publisher's CPU), so each is a queue over
   * an array that is reused, not truncated (which would free and regrow it).
   */
  readonly #bytes = new Outbox<Uint8Array>();
  readonly #events = new Outbox<SessionEvent<P, S>>();

  readonly #liveness: Liveness;
  /** The broker acked a request or delivered a message on this connection (served.ts). */
  #served = false;
  /**
   * The latest time the host gave us. Commands without a `now` (subscribe,
   * acknowledge, ...) send at this time: never later than the truth, so a
   * ping can only come early, never late.
   */
  #now = 0;
  #connackDeadline = Number.POSITIVE_INFINITY;
  /** When the current CONNECT asked for a clean start. */
  #cleanStart = false;
  /**
   * The connection's first bytes, held until they show what answered: a
   * CONNACK (or AUTH), a 3.1.1 broker refusing 5.0, or no MQTT broker at all.
   * Undefined once decided. Kept across chunks, since a serial line may
   * deliver the answer one byte at a time.
   */
  #connectPrefix: Uint8Array | undefined;
  /** This connection only discards the broker's stale session (linkUp's `discard`). */
  #discard = false;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.version = options.protocolVersion ?? 5;
    this.clientId = options.clientId ?? '';
    this.#liveness = new Liveness(this.#keepalive, options.responseTimeout);
    const props = this.version === 5 ? options.properties : undefined;
    this.#decoder = clientDecoder({
      protocolVersion: this.version,
      maximumPacketSize: props?.maximumPacketSize ?? MAX_PACKET_SIZE,
    });
    // Bytes go through here so that keepalive knows when we last sent.
    const io: SessionIo<P, S> = {
      send: (bytes) => this.#send(bytes),
      emit: (event) => this.#emit(event),
    };
    const store = options.store;
    this.#outbound = new Outbound<P>(
      io,
      this.#ids,
      this.#outboundAliases,
      store,
      options.queueLimits ?? DEFAULT_QUEUE_LIMITS,
    );
    this.#inbound = new Inbound(
      io,
      props?.receiveMaximum ?? RECEIVE_MAXIMUM_UNLIMITED,
      options.manualAck ?? false,
      store,
      options.qos2RollbackGuard ?? DEFAULT_ROLLBACK_GUARD,
    );
    this.#subscriptions = new Subscriptions<S>(io, this.#ids, this.version);
    if (store !== undefined) this.#load(store, options.resume ?? true);
  }

  get #keepalive(): number {
    return this.#options.keepalive ?? DEFAULT_KEEPALIVE;
  }

  /**
   * Takes back what a store holds (a restarted process resumes its session),
   * or empties it when the session starts afresh. Restored messages have no
   * token: nobody in this process awaits them. Their expiry counts from now.
   */
  #load(store: SessionStore, resume: boolean): void {
    const stored = store.load();
    for (const r of stored.outbound) {
      if (!resume) {
        store.removeOutbound(r);
        continue;
      }
      const record: OutboundRecord<P> = { ...r, acceptedAt: this.#now, token: undefined };
      this.#outbound.restore(record);
    }
    if (!resume) store.clearInbound();
    else for (const [id, state] of stored.inbound) this.#inbound.restore(id, state);
  }

  /**
   * Gives each publication restored from the store (which has no token:
   * nobody in this process published it) the token `make` returns, so that
   * its end is reported like any other's.
   */
  adopt(make: (record: OutboundRecord<P>) => P): void {
    for (const record of this.#outbound.records())
      if (record.token === undefined) record.token = make(record);
  }

  /** Every publication not finished yet (in flight, queued, parked), oldest first. A copy; the records are live. */
  publications(): readonly OutboundRecord<P>[] {
    return this.#outbound.records();
  }

  /**
   * Counts sessions: it changes when a connection comes up without our
   * session (the broker lost it). An `acknowledge` must name the generation
   * its message arrived in.
   */
  get generation(): number {
    return this.#inbound.generation;
  }

  // ---- outputs: the outbox ----

  /** The oldest bytes to write to the link that the host has not taken yet; undefined when none wait. */
  nextBytes(): Uint8Array | undefined {
    return this.#bytes.take();
  }

  /** The oldest event the host has not taken yet; undefined when none waits. */
  nextEvent(): SessionEvent<P, S> | undefined {
    return this.#events.take();
  }

  /** Counters for status displays. */
  get stats(): SessionStats {
    const outbound = this.#outbound;
    const inbound = this.#inbound;
    return {
      resent: outbound.resent,
      dropped: outbound.queue.dropped,
      queued: outbound.queued,
      inflight: outbound.inflight.size,
      waiting: outbound.queue.waitingCount,
      receiveMaximumExceeded: inbound.receiveMaximumExceeded,
      peakOverReceiveMaximum: inbound.peakOverReceiveMaximum,
      qos2RollbackCopies: inbound.rollback.dropped,
      qos2IdsReused: inbound.rollback.reused,
    };
  }

  #emit(event: SessionEvent<P, S>): void {
    this.#events.put(event);
  }

  #send(bytes: Uint8Array): void {
    this.#liveness.sent(this.#now, bytes[0]);
    this.#bytes.put(bytes);
  }

  #sendPacket(packet: Packet): void {
    this.#send(encodeFromClient(packet, this.version));
  }

  // ---- link events ----

  /**
   * The link is up: sends CONNECT. `clean` asks the broker to discard any
   * session it holds for this client id (and forgets ours), as on the first
   * connect with cleanInit. `discard` (with `clean`) opens this connection
   * only for that: once the broker accepts, the session sends DISCONNECT and
   * emits `discarded` instead of `up` (MQTT 3.1.1 cleanInit, where a clean
   * session ends with its connection and the lasting one must be opened
   * without clean).
   */
  linkUp(now: number, clean: boolean, discard = false): void {
    if (this.state !== 'down') this.linkDown(now);
    this.#now = now;
    this.#decoder.reset();
    this.#cleanStart = clean;
    this.#discard = discard;
    this.state = 'connecting';
    this.#liveness.reset(now);
    this.#served = false;
    this.#connectPrefix = EMPTY_BYTES;
    this.#connackDeadline = now + (this.#options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT);
    this.#sendPacket(this.#connectPacket(clean));
  }

  /**
   * Throws the error (INVALID_ARGUMENT, ...) that a CONNECT with these options
   * would meet, so that a client can refuse its options where the user passed
   * them instead of failing at every connection attempt.
   */
  checkConnect(clean: boolean): void {
    encodeFromClient(this.#connectPacket(clean), this.version);
  }

  #connectPacket(clean: boolean): ConnectPacket {
    const o = this.#options;
    const connect: ConnectPacket = {
      type: 'connect',
      protocolVersion: this.version,
      clientId: this.clientId,
      clean,
      keepalive: this.#keepalive,
    };
    if (o.username !== undefined) connect.username = o.username;
    if (o.password !== undefined) connect.password = o.password;
    if (o.will !== undefined) connect.will = o.will;
    if (this.version === 5 && o.properties !== undefined) connect.properties = o.properties;
    return connect;
  }

  /** The link went down, for any reason. In-flight state is kept for the next connection. */
  linkDown(now: number): void {
    this.state = 'down';
    this.#connackDeadline = Number.POSITIVE_INFINITY;
    this.#liveness.reset(now);
    this.#outbound.down();
    this.#inbound.down();
  }

  /** Bytes from the link. */
  received(chunk: Uint8Array, now: number): void {
    if (this.state === 'down' || this.state === 'closing') return;
    this.#now = now;
    this.#liveness.received(now);
    if (this.state === 'connecting' && this.#connectPrefix !== undefined) {
      const decided = this.#firstBytes(chunk);
      if (decided === undefined) return;
      chunk = decided;
    }
    this.#decoder.push(chunk);
    try {
      for (let packet = this.#decoder.next(); packet !== undefined; packet = this.#decoder.next()) {
        this.#handle(packet, now);
        // The packet may have closed the session (a DISCONNECT, a refusal): the rest is not read.
        // (The state changes behind TypeScript's narrowing, hence the casts.)
        if ((this.state as SessionState) !== 'up' && (this.state as SessionState) !== 'connecting') return;
      }
    } catch (error) {
      if (!(error instanceof MqttErrorClass)) throw error;
      this.#protocolFailure(error);
    }
  }

  /**
   * Looks at the first bytes of a connection. Returns the bytes to decode once
   * they are a plausible start of CONNACK/AUTH; undefined while more are needed
   * or when the connection was closed for what they showed.
   */
  #firstBytes(chunk: Uint8Array): Uint8Array | undefined {
    const answer = firstAnswer(this.#connectPrefix ?? EMPTY_BYTES, chunk, this.version);
    this.#connectPrefix = answer.kind === 'wait' ? answer.bytes : undefined;
    if (answer.kind === 'mqtt') return answer.bytes;
    if (answer.kind === 'refused' || answer.kind === 'not-mqtt') this.#close(answer.error);
    return undefined;
  }

  /** Advances time: keepalive pings, ping and CONNACK timeouts. */
  tick(now: number): void {
    this.#now = now;
    if (this.state === 'connecting' && now >= this.#connackDeadline) {
      return this.#close(new MqttErrorClass('TIMEOUT', 'no CONNACK from the broker in time'));
    }
    if (this.state !== 'up') return;
    const live = this.#liveness;
    if (now >= live.deadAt()) {
      const silent = Math.round(live.silentFor(now));
      return this.#close(
        new MqttErrorClass('TIMEOUT', `no packet from the broker for ${silent} ms: the link is dead`),
      );
    }
    if (live.pingDue(now)) {
      live.pinged(now);
      this.#sendPacket({ type: 'pingreq' });
    }
  }

  /** The time `tick` must next be called (ms on the host's clock); Infinity when nothing is pending. */
  nextDeadline(): number {
    if (this.state === 'connecting') return this.#connackDeadline;
    if (this.state !== 'up') return Number.POSITIVE_INFINITY;
    return this.#liveness.nextDeadline();
  }

  /**
   * Since when a packet that needs an answer (QoS 1/2 PUBLISH, PUBREL,
   * SUBSCRIBE, UNSUBSCRIBE, PINGREQ) has gone unanswered on the current
   * connection, with nothing at all received since; undefined when none has
   * or the session is not up. The client's stall probe reads it.
   */
  get awaitingAnswerSince(): number | undefined {
    return this.state === 'up' ? this.#liveness.awaitingSince : undefined;
  }

  /** The broker's smoothed answer time in ms (undefined before the first answer). */
  /**
   * Whether the broker served us on the current (or last) connection: acked a
   * request with success or delivered a message (served.ts). CONNACK alone
   * does not count.
   */
  get servedThisConnection(): boolean {
    return this.#served;
  }

  get answerTime(): number | undefined {
    return this.#liveness.answerTime;
  }

  // ---- commands ----

  /** Accepts a publication; `token` comes back in its `published` / `publish-failed` event. */
  publish(message: OutboundMessage, token: P, now: number): void {
    this.#now = now;
    this.#outbound.publish(message, token, now);
  }

  /**
   * Withdraws a publication that has not been sent yet (queued or waiting for
   * room): true when withdrawn, with no event to follow. False when its first
   * byte has gone: its flow then completes as usual (stopping a QoS flow half
   * way would break the protocol).
   */
  withdraw(token: P): boolean {
    return this.#outbound.withdraw(token);
  }

  /** Asks for subscriptions; `token` comes back in its `subscribed` / `subscribe-failed` event. */
  subscribe(subscriptions: Subscription[], properties: Properties | undefined, token: S): void {
    this.#subscriptions.subscribe(subscriptions, properties, token, this.state === 'up');
  }

  /** Asks to end subscriptions; `token` comes back in its `unsubscribed` / `subscribe-failed` event. */
  unsubscribe(topics: string[], properties: Properties | undefined, token: S): void {
    this.#subscriptions.unsubscribe(topics, properties, token, this.state === 'up');
  }

  /**
   * Manual acknowledgement of an inbound QoS 1/2 message (see
   * SessionOptions.manualAck); `generation` is the session's when the message
   * arrived. False when the ack is void (already made, or the broker lost the
   * session since).
   */
  acknowledge(
    packetId: number,
    qos: 1 | 2,
    generation: number,
    reasonCode: number = ReasonCode.Success,
  ): boolean {
    return this.#inbound.acknowledge(packetId, qos, generation, reasonCode);
  }

  /**
   * Ends every request for good (the host is closing): each publication not
   * finished and each SUBSCRIBE/UNSUBSCRIBE not answered gets its
   * `publish-failed` / `subscribe-failed` event with `error`, and nothing
   * stays in the store. The link must be down (or going down) already.
   */
  close(error: MqttError): void {
    this.#outbound.failAll(error);
    this.#subscriptions.failAll(error);
  }

  /** Sends AUTH (MQTT 5 extended authentication). */
  auth(reasonCode: number, properties?: Properties): void {
    const packet: Packet = { type: 'auth', reasonCode };
    if (properties !== undefined) packet.properties = properties;
    this.#sendPacket(packet);
  }

  /** Sends DISCONNECT; the host then closes the link. */
  disconnect(reasonCode: number = ReasonCode.NormalDisconnection, properties?: Properties): void {
    if (this.state === 'up' || this.state === 'connecting') {
      const packet: Packet = { type: 'disconnect', reasonCode };
      if (properties !== undefined) packet.properties = properties;
      this.#sendPacket(packet);
    }
    this.#closing();
  }

  // ---- inbound packets ----

  #handle(packet: Packet, now: number): void {
    if (this.state === 'connecting') {
      if (packet.type === 'connack') return this.#onConnack(packet, now);
      if (packet.type === 'auth') return this.#emit({ type: 'auth', auth: packet });
      throw remoteError('PROTOCOL_ERROR', `expected CONNACK, got ${packet.type.toUpperCase()}`);
    }
    if (!this.#served && brokerServed(packet)) this.#served = true;
    switch (packet.type) {
      case 'publish':
        return this.#inbound.onPublish(packet);
      case 'puback':
        return this.#outbound.onPuback(packet, now);
      case 'pubrec':
        return this.#outbound.onPubrec(packet, now);
      case 'pubcomp':
        return this.#outbound.onPubcomp(packet, now);
      case 'pubrel':
        return this.#inbound.onPubrel(packet);
      case 'suback':
        return this.#subscriptions.onSuback(packet);
      case 'unsuback':
        return this.#subscriptions.onUnsuback(packet);
      case 'pingresp':
        return;
      case 'disconnect': {
        this.#emit({ type: 'server-disconnect', disconnect: packet });
        const code = packet.reasonCode ?? ReasonCode.NormalDisconnection;
        this.#redirect(code, packet.properties?.serverReference);
        const reason = packet.properties?.reasonString;
        const name = reasonCodeName(code, 'disconnect');
        this.#closing();
        this.#emit({
          type: 'close',
          error: new MqttErrorClass(
            'CONNECTION_LOST',
            `the broker disconnected: ${name}${reason ? ` (${reason})` : ''}`,
            {
              reasonCode: code,
              side: 'remote',
            },
          ),
        });
        return;
      }
      case 'auth':
        return this.#emit({ type: 'auth', auth: packet });
      case 'connack':
      case 'connect':
      case 'subscribe':
      case 'unsubscribe':
      case 'pingreq':
        throw remoteError(
          'PROTOCOL_ERROR',
          `a broker must not send ${packet.type.toUpperCase()} to a client`,
        );
      default: {
        const never: never = packet;
        throw remoteError('PROTOCOL_ERROR', `unexpected packet ${(never as Packet).type}`);
      }
    }
  }

  #onConnack(connack: ConnackPacket, now: number): void {
    if (connack.reasonCode !== ReasonCode.Success) {
      this.#redirect(connack.reasonCode, connack.properties?.serverReference);
      const name = reasonCodeName(connack.reasonCode, 'connack', this.version);
      const detail = connack.properties?.reasonString;
      return this.#close(
        new MqttErrorClass(
          'CONNECTION_REFUSED',
          `the broker refused the connection: ${name}${detail ? ` (${detail})` : ''}`,
          {
            reasonCode: connack.reasonCode,
            side: 'remote',
          },
        ),
      );
    }
    if (this.version === 5 && this.#cleanStart && connack.sessionPresent) {
      // A broker that resumes a session we asked it to discard is confused about this client's
      // state; MQTT 5 requires the client to close [MQTT-3.2.2-4]. (3.1.1 leaves the choice to
      // the client: there the flag is ignored below, as the session is ours to rebuild.)
      this.#sendPacket({ type: 'disconnect', reasonCode: ReasonCode.ProtocolError });
      return this.#close(
        remoteError('PROTOCOL_ERROR', 'the broker said session present after our clean start [MQTT-3.2.2-4]'),
      );
    }
    const p = connack.properties ?? {};
    const server: ServerCapabilities = {
      receiveMaximum: p.receiveMaximum ?? RECEIVE_MAXIMUM_UNLIMITED,
      maximumPacketSize: p.maximumPacketSize ?? MAX_PACKET_SIZE,
      maximumQoS: (p.maximumQoS ?? 2) as QoS,
      retainAvailable: p.retainAvailable ?? true,
      topicAliasMaximum: p.topicAliasMaximum ?? 0,
      wildcardSubscriptionAvailable: p.wildcardSubscriptionAvailable ?? true,
      subscriptionIdentifiersAvailable: p.subscriptionIdentifiersAvailable ?? true,
      sharedSubscriptionAvailable: p.sharedSubscriptionAvailable ?? true,
      keepalive: p.serverKeepAlive ?? this.#keepalive,
    };
    if (p.responseInformation !== undefined) server.responseInformation = p.responseInformation;
    if (p.serverReference !== undefined) server.serverReference = p.serverReference;
    this.server = server;
    if (p.assignedClientIdentifier !== undefined) this.clientId = p.assignedClientIdentifier;
    this.#liveness.keepaliveMs = server.keepalive * 1000;
    this.#liveness.reset(this.#now);
    this.state = 'up';
    this.#connackDeadline = Number.POSITIVE_INFINITY;
    // A session can only be present if we asked to keep it [MQTT-3.2.2-4].
    const sessionPresent = connack.sessionPresent && !this.#cleanStart;
    const ourAliasMaximum = this.version === 5 ? (this.#options.properties?.topicAliasMaximum ?? 0) : 0;
    this.#inbound.up(this.version, ourAliasMaximum, sessionPresent);
    const useAliases = this.version === 5 && (this.#options.outboundTopicAliases ?? true);
    this.#outboundAliases.reset(useAliases ? server.topicAliasMaximum : 0);
    if (this.#discard) {
      // The broker has dropped the stale session; this connection has done its work.
      this.#emit({ type: 'discarded', connack });
      this.#sendPacket({ type: 'disconnect', reasonCode: ReasonCode.NormalDisconnection });
      return this.#closing();
    }
    const resubscribe = !sessionPresent && this.#subscriptions.size > 0;
    this.#emit({ type: 'up', connack, sessionPresent, resubscribe });
    this.#subscriptions.up(resubscribe);
    this.#outbound.up(
      {
        version: this.version,
        sendQuota:
          this.version === 4
            ? MQTT3_SEND_QUOTA
            : p.receiveMaximum === undefined || p.receiveMaximum === RECEIVE_MAXIMUM_UNLIMITED
              ? (this.#options.maxInflight ?? DEFAULT_MAX_INFLIGHT)
              : server.receiveMaximum,
        maximumPacketSize: server.maximumPacketSize,
        maximumQoS: server.maximumQoS,
        retainAvailable: server.retainAvailable,
      },
      now,
      sessionPresent,
    );
  }

  /** Use another server / Server moved, with a Server Reference: tell the host where to go. */
  #redirect(reasonCode: number, reference: string | undefined): void {
    const moved = reasonCode === ReasonCode.ServerMoved;
    if (reference === undefined || (!moved && reasonCode !== ReasonCode.UseAnotherServer)) return;
    this.#emit({ type: 'redirect', reference, permanent: moved });
  }

  /** The broker broke the protocol: tell it why (MQTT 5), then ask for the link to be closed. */
  #protocolFailure(error: MqttError): void {
    if (this.version === 5 && this.state === 'up' && error.reasonCode !== undefined) {
      this.#sendPacket({ type: 'disconnect', reasonCode: error.reasonCode });
    }
    this.#close(error);
  }

  #close(error: MqttError): void {
    this.#closing();
    this.#emit({ type: 'close', error });
  }

  /**
   * The link is on its way down: from here until `linkDown` nothing is
   * written, so publications and acks wait for the next connection instead
   * of going into a link the host is closing.
   */
  #closing(): void {
    this.state = 'closing';
    this.#liveness.reset(this.#now);
    this.#outbound.down();
    this.#inbound.down();
  }
}

/** A FIFO over one array whose slots are reused once read to the end; a slot read is cleared. */
class Outbox<T> {
  readonly #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  put(item: T): void {
    this.#items[this.#tail++] = item;
  }

  take(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const items = this.#items;
    const item = items[this.#head];
    items[this.#head++] = undefined; // the host owns it now: the outbox must not keep it alive
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    return item;
  }
}
