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
  /**
   * Keepalive in seconds; 0 turns it off. As in the full client, a PINGREQ
   * goes out when nothing was sent or nothing received for this long, and the
   * link is taken down when the broker has said nothing for 1.5 × keepalive
   * (a PINGREQ gets at least half a keepalive), or has left a request
   * unanswered that long. Default `60`.
   */
  keepalive?: number;
  /**
   * Ms the broker may take to answer a PINGREQ or any request (QoS 1/2
   * PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE) before the link is declared
   * dead (mqtt_as's response_time). Default 1.5 × keepalive.
   */
  responseTimeout?: number;
  /** User name. Default none. */
  username?: string;
  /** Password (MQTT 3.1.1 allows it only with a user name). Default none. */
  password?: string | Uint8Array;
  /** Will message the broker publishes if the connection is lost. Default none. */
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean };
  /**
   * Ms to stay down after a connection that had opened ends, before the
   * backoff and the next attempt, so that every hop in the chain (AP,
   * gateway, broker) has seen the link die. Default `1000`, as the full client.
   */
  quietPeriod?: number;
  /** First reconnect delay in ms; doubles per failed attempt, with full jitter. Default `1000`. */
  reconnectPeriod?: number;
  /** Largest reconnect delay in ms. Default `30000`. */
  reconnectPeriodMax?: number;
  /** How long opening the link may take, and then receiving CONNACK, in ms (each). Default `30000`. */
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

/** Events of `LiteClient` (a type, not an interface, so that it is a record of events). */
export type LiteEvents = {
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
};

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
