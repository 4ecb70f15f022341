/**
 * What the lite client's API hands out and takes: its options, its events and
 * the message class (the full client's `Message` without the MQTT 5 parts).
 */
import type { PublishPacket, QoS } from '../codec/types.ts';
import type { Link } from '../links/types.ts';

/** Options for `LiteClient`. */
export interface LiteOptions {
  /** How bytes reach the broker (`connect()` in `steadfast-mqtt/lite` makes a WebSocket link from a URL). */
  link: Link;
  /** Client identifier, fixed for the client's life. Default `steadfast_` and 8 random characters. */
  clientId?: string;
  /**
   * Clean session: start a new session on every connection, dropping what the
   * broker kept. Default `false`, so that the broker keeps subscriptions and
   * queued messages through outages.
   */
  clean?: boolean;
  /** Keepalive in seconds; 0 turns it off. A PINGREQ goes out every ¾ of it, and a link that answers nothing until the next one is taken down. Default `60`. */
  keepalive?: number;
  /** User name. Default none. */
  username?: string;
  /** Password (MQTT 3.1.1 allows it only with a user name). Default none. */
  password?: string | Uint8Array;
  /** Will message the broker publishes if the connection is lost. Default none. */
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean };
  /** First reconnect delay in ms; doubles per failed attempt, with full jitter. Default `1000`. */
  reconnectPeriod?: number;
  /** Largest reconnect delay in ms. Default `30000`. */
  reconnectPeriodMax?: number;
  /** How long opening the link and receiving CONNACK may take, in ms. Default `30000`. */
  connectTimeout?: number;
  /** Largest packet accepted from the broker, in bytes. Default 268,435,460 (MQTT's limit). */
  maximumPacketSize?: number;
  /**
   * Milliseconds a message no subscription handler or `message` listener
   * takes waits for one (a resumed session's queued messages arrive right
   * after CONNACK); then it is acknowledged and dropped. At most 100 wait,
   * and only in this long after the first connection. Default `30000`.
   */
  unclaimedTimeout?: number;
}

/** Events of `LiteClient`. */
export interface LiteEvents {
  /** Connected (CONNACK accepted); `sessionPresent` says whether the broker still had the session. */
  up: { sessionPresent: boolean };
  /** The connection was lost; the client reconnects on its own unless it was ended. */
  down: { cause: Error };
  /**
   * Every message received, whichever subscription it came through. A message
   * is acknowledged once every handler and listener that got it has returned
   * (a handler's promise settled), never on arrival.
   */
  message: LiteMessage;
}

let textDecoder: TextDecoder | undefined;

/** A message as the application sees it (the full client's `Message` without the MQTT 5 parts). */
export class LiteMessage {
  readonly topic: string;
  /** The payload bytes (a view of what was received, not a copy). */
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  /** Set when the broker says this may be a re-delivery. */
  readonly dup: boolean;

  constructor(p: PublishPacket) {
    this.topic = p.topic;
    this.payload = p.payload;
    this.qos = p.qos;
    this.retain = p.retain;
    this.dup = p.dup;
  }

  /** The payload decoded as UTF-8 text. */
  get text(): string {
    textDecoder ??= new TextDecoder();
    return textDecoder.decode(this.payload);
  }

  /** The payload parsed as JSON. Throws SyntaxError when it is not JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text) as T;
  }
}
