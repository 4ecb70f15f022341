/**
 * Where a session's state lives between `publish()` and the final ack, so a
 * client restarted after a crash resumes it (DESIGN.md, "the resilience
 * model", rule 5).
 *
 * The Session tells the store every change as it happens, synchronously and
 * before any byte that depends on it is handed to the host: a record is added
 * when `publish()` accepts a QoS 1/2 message, updated when it takes a packet
 * id (before its PUBLISH is written) and when its PUBREC arrives (before the
 * PUBREL is written), removed at its final ack. An inbound QoS 2 id is stored
 * before the message is delivered and removed at PUBREL. The host calls
 * `sync()` before it writes to the link: the write barrier that makes
 * everything told so far durable (a file store fsyncs there).
 *
 * The interface is synchronous on purpose: the order "store, then wire" must
 * hold without the engine awaiting anything, and a synchronous store is what
 * a browser (localStorage) or a microcontroller (flash) can offer too.
 */

import type { OutboundMessage, OutboundState } from './types.ts';

/** An outbound QoS 1/2 message as a store keeps it. */
export interface StoredOutbound {
  /** Unique per session and increasing in publish order: the store's key and the resend order. */
  key: number;
  message: OutboundMessage;
  /** 0 until the message first goes out. */
  packetId: number;
  state: OutboundState;
}

/** An inbound QoS 2 id held between PUBLISH and PUBREL ('acked' once PUBREC went out). */
export type InboundQos2State = 'delivered' | 'acked';

/** What a store hands back when a session starts. */
export interface StoredSession {
  /** Outbound messages, in publish (key) order. */
  outbound: StoredOutbound[];
  /** Inbound QoS 2 packet ids and their state. */
  inbound: Array<[packetId: number, state: InboundQos2State]>;
}

/**
 * What must survive a restart of the process: outbound QoS 1/2 messages until their final ack and inbound QoS 2 ids until PUBREL.
 * Implement it to keep a session elsewhere (a database, browser storage); `MemoryStore` and `FileStore` are the built-in ones.
 */
export interface SessionStore {
  /** Everything the store holds; called once, when the session is created. */
  load(): StoredSession;
  /** A QoS 1/2 message was accepted by `publish()`. */
  addOutbound(record: StoredOutbound): void;
  /** Its packet id or state changed (taken a packet id and sent; PUBREC received). */
  updateOutbound(record: StoredOutbound): void;
  /** Its flow ended (final ack, refusal, or the client was closed). */
  removeOutbound(record: StoredOutbound): void;
  /** An inbound QoS 2 id was first seen, or its PUBREC went out. */
  setInbound(packetId: number, state: InboundQos2State): void;
  /** PUBREL arrived for an inbound QoS 2 id (or the message was refused). */
  removeInbound(packetId: number): void;
  /** The broker has no session for us: forget every inbound QoS 2 id. */
  clearInbound(): void;
  /** The write barrier: what was told before is durable when this returns. */
  sync(): void;
  /** Releases the store (file handles, locks). The session's state stays stored. */
  close(): void;
}

/**
 * The default store: keeps the session in memory, so it survives reconnects
 * and can be handed to a new Client in the same process (the new client
 * resumes it), but not a restart of the process. Costs a Map operation per
 * state change.
 */
export class MemoryStore implements SessionStore {
  // Made on first write: an idle client (most of a fleet) holds no state (~200 bytes per Map).
  #outboundMap: Map<number, StoredOutbound> | undefined;
  #inboundMap: Map<number, InboundQos2State> | undefined;

  get #outbound(): Map<number, StoredOutbound> {
    this.#outboundMap ??= new Map();
    return this.#outboundMap;
  }

  get #inbound(): Map<number, InboundQos2State> {
    this.#inboundMap ??= new Map();
    return this.#inboundMap;
  }

  load(): StoredSession {
    const outbound = [...this.#outbound.values()]
      .sort((a, b) => a.key - b.key)
      .map((r) => ({ key: r.key, message: r.message, packetId: r.packetId, state: r.state }));
    return { outbound, inbound: [...this.#inbound] };
  }

  addOutbound(record: StoredOutbound): void {
    this.#outbound.set(record.key, record);
  }

  updateOutbound(record: StoredOutbound): void {
    // The map holds the session's own record object: its fields are already current.
    this.#outbound.set(record.key, record);
  }

  removeOutbound(record: StoredOutbound): void {
    this.#outboundMap?.delete(record.key);
  }

  setInbound(packetId: number, state: InboundQos2State): void {
    this.#inbound.set(packetId, state);
  }

  removeInbound(packetId: number): void {
    this.#inboundMap?.delete(packetId);
  }

  clearInbound(): void {
    this.#inboundMap?.clear();
  }

  sync(): void {}

  close(): void {}

  /** Messages and QoS 2 ids held: for tests and status. */
  get size(): { outbound: number; inbound: number } {
    return { outbound: this.#outboundMap?.size ?? 0, inbound: this.#inboundMap?.size ?? 0 };
  }
}
