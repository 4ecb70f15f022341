/**
 * The medium socket protocol, as pure encode/decode (the socket itself is in
 * ../medium-socket.ts). One message is
 *
 *   u32 length (big endian, of what follows) | u8 type | body
 *
 * Bodies are JSON for control messages, and binary for frames: SEND is
 * u32 id + frame, RECEIVE is f64 RSSI (NaN when unknown) + frame, SENT is u32 id.
 * A client sends ATTACH first and gets ATTACHED (or ERROR) back.
 */
import { localError, remoteError } from '../../errors.ts';

export const MessageType = {
  attach: 1,
  open: 2,
  send: 3,
  move: 4,
  stats: 5,
  close: 6,
  attached: 129,
  error: 130,
  receive: 131,
  sent: 132,
  sendFailed: 133,
  statsReply: 134,
} as const;

export type WireMessage =
  | { type: 'attach'; options: unknown }
  | { type: 'open' }
  | { type: 'send'; id: number; frame: Uint8Array }
  | { type: 'move'; move: unknown }
  | { type: 'stats'; id: number }
  | { type: 'close' }
  | { type: 'attached'; info: unknown }
  | { type: 'error'; error: WireError }
  | { type: 'receive'; rssi: number | undefined; frame: Uint8Array }
  | { type: 'sent'; id: number }
  | { type: 'sendFailed'; id: number; error: WireError }
  | { type: 'statsReply'; id: number; stats: unknown };

/** An error as it crosses the socket: the MqttError code and message. */
export interface WireError {
  code: string;
  message: string;
}

/** The largest message either side accepts: far above any radio MTU, low enough to stop a runaway peer. */
export const MAX_MESSAGE_BYTES = 1 << 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function message(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1 + body.length);
  out[4] = type;
  out.set(body, 5);
  return out;
}

function withId(id: number, rest: Uint8Array): Uint8Array {
  const body = new Uint8Array(4 + rest.length);
  new DataView(body.buffer).setUint32(0, id);
  body.set(rest, 4);
  return body;
}

const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

export function encodeMessage(m: WireMessage): Uint8Array {
  switch (m.type) {
    case 'attach':
      return message(MessageType.attach, json(m.options));
    case 'open':
      return message(MessageType.open, new Uint8Array(0));
    case 'send':
      return message(MessageType.send, withId(m.id, m.frame));
    case 'move':
      return message(MessageType.move, json(m.move));
    case 'stats':
      return message(MessageType.stats, withId(m.id, new Uint8Array(0)));
    case 'close':
      return message(MessageType.close, new Uint8Array(0));
    case 'attached':
      return message(MessageType.attached, json(m.info));
    case 'error':
      return message(MessageType.error, json(m.error));
    case 'receive': {
      const body = new Uint8Array(8 + m.frame.length);
      new DataView(body.buffer).setFloat64(0, m.rssi ?? Number.NaN);
      body.set(m.frame, 8);
      return message(MessageType.receive, body);
    }
    case 'sent':
      return message(MessageType.sent, withId(m.id, new Uint8Array(0)));
    case 'sendFailed':
      return message(MessageType.sendFailed, withId(m.id, json(m.error)));
    case 'statsReply':
      return message(MessageType.statsReply, withId(m.id, json(m.stats)));
    default: {
      const unknown: never = m;
      throw localError('INVALID_ARGUMENT', `unknown medium message ${JSON.stringify(unknown)}`);
    }
  }
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body));
  } catch (cause) {
    throw remoteError('MALFORMED_PACKET', `medium socket: bad JSON body (${String(cause)})`);
  }
}

function readId(body: Uint8Array): number {
  if (body.length < 4) throw remoteError('MALFORMED_PACKET', 'medium socket: message too short for its id');
  return new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
}

function decodeBody(type: number, body: Uint8Array): WireMessage {
  switch (type) {
    case MessageType.attach:
      return { type: 'attach', options: parseJson(body) };
    case MessageType.open:
      return { type: 'open' };
    case MessageType.send:
      return { type: 'send', id: readId(body), frame: body.slice(4) };
    case MessageType.move:
      return { type: 'move', move: parseJson(body) };
    case MessageType.stats:
      return { type: 'stats', id: readId(body) };
    case MessageType.close:
      return { type: 'close' };
    case MessageType.attached:
      return { type: 'attached', info: parseJson(body) };
    case MessageType.error:
      return { type: 'error', error: parseJson(body) as WireError };
    case MessageType.receive: {
      if (body.length < 8) throw remoteError('MALFORMED_PACKET', 'medium socket: RECEIVE too short');
      const rssi = new DataView(body.buffer, body.byteOffset, body.byteLength).getFloat64(0);
      return { type: 'receive', rssi: Number.isNaN(rssi) ? undefined : rssi, frame: body.slice(8) };
    }
    case MessageType.sent:
      return { type: 'sent', id: readId(body) };
    case MessageType.sendFailed:
      return { type: 'sendFailed', id: readId(body), error: parseJson(body.subarray(4)) as WireError };
    case MessageType.statsReply:
      return { type: 'statsReply', id: readId(body), stats: parseJson(body.subarray(4)) };
    default:
      throw remoteError('MALFORMED_PACKET', `medium socket: unknown message type ${type}`);
  }
}

/** Splits a byte stream into messages; chunks may end anywhere. Throws MALFORMED_PACKET on garbage. */
export class WireDecoder {
  private buffer = new Uint8Array(0);

  push(chunk: Uint8Array): WireMessage[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const out: WireMessage[] = [];
    let offset = 0;
    while (joined.length - offset >= 4) {
      const length = new DataView(joined.buffer, offset, 4).getUint32(0);
      if (length < 1 || length > MAX_MESSAGE_BYTES) {
        throw remoteError('MALFORMED_PACKET', `medium socket: message length ${length} out of range`);
      }
      if (joined.length - offset - 4 < length) break;
      out.push(decodeBody(joined[offset + 4], joined.subarray(offset + 5, offset + 4 + length)));
      offset += 4 + length;
    }
    this.buffer = joined.slice(offset);
    return out;
  }
}
