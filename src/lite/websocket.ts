/**
 * The lite client's WebSocket link: the platform WebSocket and nothing more.
 * Compared with `websocketLink` (src/links/websocket.ts) it has no open
 * timeout or abort (the lite client times the whole connect itself and
 * closes a connection that opens too late), no write backpressure and no
 * drain polling, which keeps the 3.1.1-only bundle small.
 */
import { MqttError } from '../errors.ts';
import type { Connection, Link } from '../links/types.ts';
import type { WebSocketConstructor, WebSocketLike } from '../links/websocket.ts';

/**
 * A Link to a broker's websocket listener (`ws://` or `wss://`, path
 * included), offering the `mqtt` subprotocol. `open()` rejects with
 * INVALID_URL for a URL the platform refuses and LINK_ERROR when the socket
 * closes before it opens; a text message closes the connection with
 * LINK_ERROR, as MQTT travels only in binary messages [MQTT-6.0.0-1].
 *
 * @param WebSocket the class to use. Default `globalThis.WebSocket`.
 */
export function liteWebsocketLink(
  url: string,
  WebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
): Link {
  const name = `websocket ${url.replace(/\/\/[^/@]*@/, '//')}`;
  const failure = (what: string, cause?: unknown) =>
    new MqttError('LINK_ERROR', `${name}: ${what}`, { cause });
  return {
    name,
    open: (handlers) =>
      new Promise((resolve, reject) => {
        let socket: WebSocketLike;
        try {
          if (WebSocket === undefined) throw new TypeError('no global WebSocket in this runtime');
          socket = new WebSocket(url, ['mqtt']);
        } catch (error) {
          return reject(
            new MqttError('INVALID_URL', `${name}: ${(error as Error).message}`, { cause: error }),
          );
        }
        let opened = false;
        let closing = false;
        let error: MqttError | undefined;
        socket.binaryType = 'arraybuffer';
        socket.onmessage = ({ data }: { data: unknown }) => {
          if (error !== undefined) return;
          if (data instanceof ArrayBuffer) return handlers.data(new Uint8Array(data));
          error = failure('a text message: MQTT is sent in binary ones');
          socket.close(1003);
        };
        socket.onerror = (event: { message?: string }) => {
          error ??= failure(event.message || 'websocket error', event);
        };
        socket.onclose = ({ code }: { code?: number }) => {
          const why = error ?? failure(`closed ${opened ? 'by the peer' : 'while opening'} (code ${code})`);
          if (!opened) reject(why);
          else handlers.close(closing && error === undefined ? undefined : why);
        };
        socket.onopen = () => {
          opened = true;
          const connection: Connection = {
            write(bytes) {
              if (closing || socket.readyState !== 1) return false;
              socket.send(bytes);
              return true;
            },
            get bufferedAmount() {
              return socket.bufferedAmount;
            },
            close() {
              closing = true;
              socket.close();
            },
          };
          resolve(connection);
        };
      }),
  };
}
