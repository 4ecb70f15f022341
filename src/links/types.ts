/**
 * A Link is how bytes reach a broker; it knows nothing of MQTT. Adding a
 * transport (TCP, TLS, WebSocket, serial, radio, cellular...) means writing
 * one Link.
 */

/** What a connection tells its owner. Each is called from the link's own event source. */
export interface LinkHandlers {
  /** Bytes arrived. The chunk may be kept (the link never reuses it). */
  data(chunk: Uint8Array): void;
  /**
   * The connection ended, for any reason, including `close()`. Called exactly
   * once per connection; `error` says why when it was not a normal close.
   */
  close(error?: Error): void;
  /** Buffered writes have gone out (after `write()` returned false). */
  drain?(): void;
}

/** One open connection over a link. */
export interface Connection {
  /**
   * Queues bytes for sending. Returns false when the link's buffer is past its
   * high-water mark: the bytes are still queued, and `drain` will be called.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Optional: queues several chunks as one write, in order, without joining
   * them first (TCP: one `writev`). Same return value as `write`. Without it
   * the client joins the chunks into one array and calls `write`.
   */
  writev?(chunks: readonly Uint8Array[]): boolean;
  /** Bytes queued but not yet handed to the operating system or the medium. */
  readonly bufferedAmount: number;
  /** Closes the connection; `handlers.close` follows. Safe to call more than once. */
  close(): void;
  /**
   * Optional: closes once what is queued has gone out (TCP: FIN after the
   * data, then the peer's close, so a last DISCONNECT is not lost to a reset);
   * `handlers.close` follows. The client bounds the wait and then calls
   * `close()`. Without it the client calls `close()`, which must then send
   * what is queued itself (as a WebSocket's close handshake does).
   */
  end?(): void;
}

export interface Link {
  /** A short description for logs and status, e.g. `tcp 127.0.0.1:1883`. */
  readonly name: string;
  /**
   * Opens a connection. Rejects with an MqttError (code LINK_ERROR, or TIMEOUT) when it cannot, or when
   * `signal` aborts first (then nothing stays open).
   */
  open(handlers: LinkHandlers, signal?: AbortSignal): Promise<Connection>;
  /**
   * `open()` may run again while an earlier call is pending, each call on a
   * connection of its own (a socket per call). The client then starts a fresh
   * attempt every second while one is pending, and probes a stalled
   * connection with a fresh one. Default `false` (a serial port or a radio
   * has one way out, opened once).
   */
  readonly concurrentOpens?: boolean;
  /**
   * Optional: take the medium down and bring it back (re-associate WiFi,
   * re-initialise a modem, re-sync a radio). The client calls it during the
   * quiet period after an outage.
   */
  reset?(signal?: AbortSignal): Promise<void>;
}
