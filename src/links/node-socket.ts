/**
 * What the TCP and TLS links share: waiting for a node:net socket to become
 * ready, and turning it into a Connection. Node only.
 */
import type { Socket } from 'node:net';
import type { MqttError } from '../errors.ts';
import { linkError, runOpening } from './opening.ts';
import type { Connection, LinkHandlers } from './types.ts';

/** How one kind of socket is opened. */
export interface SocketOpener {
  /** Link name for messages, e.g. `tcp 127.0.0.1:1883`. */
  name: string;
  /** Connect timeout in ms (0 for none). */
  timeoutMs: number;
  /** The event that means "ready": `connect` for TCP, `secureConnect` for TLS. */
  readyEvent: 'connect' | 'secureConnect';
  /** Starts connecting. */
  connect(): Socket;
  /**
   * Turns a socket error, while opening or after, into what is reported.
   * Default: LINK_ERROR with the error as cause.
   */
  describeError?(err: Error): MqttError;
}

const ignore = () => {};

/**
 * Opens a socket and resolves with a Connection once it is ready. On any
 * failure the socket is destroyed and our listeners are removed (a no-op
 * `error` listener stays so that a late error on the dead socket cannot
 * crash the process).
 */
export function openSocket(
  opener: SocketOpener,
  handlers: LinkHandlers,
  signal?: AbortSignal,
): Promise<Connection> {
  const { name } = opener;
  return runOpening<Connection>(name, opener.timeoutMs, signal, (opening) => {
    const socket = opener.connect();
    const describe = (err: Error) => opener.describeError?.(err) ?? linkError(name, err);
    const onError = (err: Error) => opening.reject(describe(err));
    const onClose = () => opening.reject(linkError(name, undefined, 'closed while opening'));
    const onReady = () => {
      detach();
      opening.resolve(wrapSocket(opener, socket, handlers));
    };
    function detach(): void {
      socket.off(opener.readyEvent, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    socket.once(opener.readyEvent, onReady);
    socket.on('error', onError);
    socket.once('close', onClose);
    return () => {
      detach();
      socket.on('error', ignore);
      socket.destroy();
    };
  });
}

/**
 * A Connection over a ready socket; `handlers.close` is called once, from the
 * socket's `close` event. Its closures are made here, not in `openSocket`, so
 * that a long-lived connection does not keep the opening's state alive.
 */
function wrapSocket(opener: SocketOpener, socket: Socket, handlers: LinkHandlers): Connection {
  const name = opener.name;
  const describe = (err: Error) => opener.describeError?.(err) ?? linkError(name, err);
  let closing = false;
  let failure: Error | undefined;
  // Buffers from node:net are freshly allocated per read, so they are handed
  // on as they are (a Buffer is a Uint8Array): no copy.
  socket.on('data', (chunk: Buffer) => handlers.data(chunk));
  socket.on('drain', () => handlers.drain?.());
  // `error` is always followed by `close`; keep the first one as the reason.
  socket.on('error', (err) => {
    failure ??= err;
  });
  socket.once('close', () => {
    socket.removeAllListeners('data');
    socket.removeAllListeners('drain');
    if (failure !== undefined) handlers.close(describe(failure));
    else if (closing) handlers.close();
    // The peer ended the connection: not something we asked for, so say so.
    else handlers.close(linkError(name, undefined, 'closed by the peer'));
  });
  return {
    write(bytes) {
      // After close (ours or the peer's) the bytes are dropped; writing to an
      // ended socket would only raise a second, late error.
      if (!socket.writable) return false;
      return socket.write(bytes);
    },
    writev(chunks) {
      if (!socket.writable) return false;
      // Corked, the chunks leave in one writev system call when uncorked, none of them copied.
      socket.cork();
      let ok = true;
      for (const c of chunks) ok = socket.write(c);
      socket.uncork();
      return ok;
    },
    get bufferedAmount() {
      return socket.writableLength;
    },
    close() {
      closing = true;
      socket.destroy();
    },
    end() {
      closing = true;
      // A destroy with unread data in the receive buffer makes the kernel send a reset and drop
      // what is still queued; end() sends a FIN after it, and `close` follows the peer's FIN.
      socket.end();
    },
  };
}
