/**
 * A Link over WebSocket, written against the WHATWG WebSocket API only, so
 * it runs unchanged in browsers, Deno, Bun, Node 22+ and, given the `ws`
 * package's class, Node 20 (see `websocket-node.ts`). Imports nothing from Node.
 */
import { MqttError } from '../errors.ts';
import { DEFAULT_CONNECT_TIMEOUT, linkError, runOpening } from './opening.ts';
import type { Connection, Link, LinkHandlers } from './types.ts';
import { redactUrl } from './url.ts';

/**
 * The part of the WHATWG WebSocket this link uses. The browser's WebSocket
 * and the `ws` package's class both fit. Handlers take `never` so that any
 * implementation's event types are accepted; this file reads events through
 * the narrow shapes below.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  /** Set by the link: the handshake completed. */
  onopen: ((event: never) => void) | null;
  /** Set by the link: a message arrived (binary, as an ArrayBuffer). */
  onmessage: ((event: never) => void) | null;
  /** Set by the link: the socket failed. */
  onerror: ((event: never) => void) | null;
  /** Set by the link: the socket closed. */
  onclose: ((event: never) => void) | null;
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `new WebSocket(url, protocols)`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Options for {@link websocketLink}. */
export interface WebSocketLinkOptions {
  /** `ws://` or `wss://` URL of the broker's websocket listener, path included (e.g. `/mqtt`). */
  url: string;
  /** Subprotocols to offer. MQTT 3.1.1 and 5.0 both register `mqtt`. Default `['mqtt']`. */
  protocols?: string[];
  /** The WebSocket class to use. Default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** How long `open()` may take, in ms, handshake included; 0 for no limit. Default `30000`. */
  connectTimeout?: number;
  /**
   * `write()` returns false once `bufferedAmount` is above this many bytes,
   * and `drain` follows when it is back at or under it. Default `1048576` (1 MiB).
   */
  highWaterMark?: number;
  /**
   * How often `bufferedAmount` is polled while above the mark, in ms: the
   * WebSocket API has no drain event. Default `10`.
   */
  drainPollInterval?: number;
}

/** WebSocket readyState OPEN (the constant is not on every implementation's instances). */
const OPEN = 1;
/** Close code for "received a data type it cannot accept" (RFC 6455 7.4.1). */
const UNSUPPORTED_DATA = 1003;
const ignore = () => {};

/** The event shapes read here (browsers' and `ws`'s events both have them). */
interface MessageLike {
  data: unknown;
}
interface CloseLike {
  code?: number;
  reason?: string;
}
interface ErrorLike {
  error?: unknown;
  message?: string;
}

/**
 * A Link to a broker's websocket listener. `open()` resolves on the
 * socket's `open` event (the HTTP upgrade and subprotocol agreed) and
 * rejects with LINK_ERROR, TIMEOUT or ABORTED, closing the half-open socket.
 * MQTT packets travel in binary messages; a text message closes the
 * connection with an error, as MQTT requires [MQTT-6.0.0-1].
 *
 * @throws MqttError INVALID_URL for a URL that is not ws:// or wss://, and
 *   INVALID_ARGUMENT when no WebSocket class is available.
 */
export function websocketLink(options: WebSocketLinkOptions): Link {
  const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (WebSocketClass === undefined) {
    throw new MqttError(
      'INVALID_ARGUMENT',
      'websocketLink: this runtime has no global WebSocket; pass options.WebSocket or use nodeWebsocketLink',
    );
  }
  const name = `websocket ${checkedUrl(options.url)}`;
  const { url } = options;
  const protocols = options.protocols ?? ['mqtt'];
  const settings: Settings = {
    name,
    highWaterMark: options.highWaterMark ?? 1024 * 1024,
    pollMs: options.drainPollInterval ?? 10,
  };
  return {
    name,
    concurrentOpens: true,
    open(handlers, signal) {
      return runOpening<Connection>(
        name,
        options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
        signal,
        (opening) => {
          const socket = new WebSocketClass(url, protocols);
          socket.binaryType = 'arraybuffer';
          socket.onopen = () => opening.resolve(wrapWebSocket(settings, socket, handlers));
          // Browsers give no detail in the error event (on purpose); `ws` gives the system error.
          socket.onerror = (event: ErrorLike) => opening.reject(eventError(name, event));
          socket.onclose = (event: CloseLike) =>
            opening.reject(linkError(name, event, `closed while opening${closeDetail(event)}`));
          return () => {
            detach(socket);
            socket.close();
          };
        },
      );
    },
  };
}

interface Settings {
  name: string;
  highWaterMark: number;
  pollMs: number;
}

/** A Connection over an open WebSocket; `handlers.close` is called once, from its `close` event. */
function wrapWebSocket(settings: Settings, socket: WebSocketLike, handlers: LinkHandlers): Connection {
  const { name } = settings;
  let closing = false;
  let ended = false;
  let failure: Error | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;

  const stopPolling = () => {
    if (poll !== undefined) clearInterval(poll);
    poll = undefined;
  };
  socket.onmessage = (event: MessageLike) => {
    if (failure !== undefined) return; // closing after a text message: deliver nothing more
    const { data } = event;
    // binaryType 'arraybuffer': the buffer is fresh for each message, so a view on it is safe to keep.
    if (data instanceof ArrayBuffer) handlers.data(new Uint8Array(data));
    else {
      failure ??= linkError(name, undefined, 'received a text message; MQTT travels only in binary messages');
      socket.close(UNSUPPORTED_DATA);
    }
  };
  socket.onerror = (event: ErrorLike) => {
    failure ??= eventError(name, event);
  };
  socket.onclose = (event: CloseLike) => {
    ended = true;
    stopPolling();
    detach(socket);
    if (failure !== undefined) handlers.close(failure);
    else if (closing) handlers.close();
    else handlers.close(linkError(name, event, `closed by the peer${closeDetail(event)}`));
  };

  return {
    write(bytes) {
      if (ended || closing || socket.readyState !== OPEN) return false;
      socket.send(bytes);
      if (socket.bufferedAmount <= settings.highWaterMark) return true;
      // No drain event in the WebSocket API: poll, but only while above the mark.
      poll ??= setInterval(() => {
        if (socket.bufferedAmount > settings.highWaterMark) return;
        stopPolling();
        if (!ended) handlers.drain?.();
      }, settings.pollMs);
      return false;
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    close() {
      if (closing || ended) return;
      closing = true;
      stopPolling();
      socket.close();
    },
  };
}

/** Drops our handlers; a no-op `onerror` stays because `ws` throws an error event nobody listens to. */
function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = ignore;
}

function eventError(name: string, event: ErrorLike): MqttError {
  const cause = event.error ?? event;
  const detail = event.error instanceof Error ? event.error.message : event.message || 'websocket error';
  return linkError(name, cause, detail);
}

function closeDetail(event: CloseLike): string {
  if (event.code === undefined) return '';
  return ` (code ${event.code}${event.reason ? `: ${event.reason}` : ''})`;
}

/** Validates a ws:// or wss:// URL and returns it without credentials, for the link's name. */
function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new MqttError('INVALID_URL', `websocketLink: not a valid URL: ${redactUrl(url)}`, { cause: err });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new MqttError('INVALID_URL', `websocketLink: expected ws:// or wss://, got ${parsed.protocol}`);
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}
