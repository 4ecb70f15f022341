/**
 * The supervisor owns the link and the clock for one Session: it opens the
 * link, feeds the Session, writes what it sends (batched per turn of the
 * event loop), keeps its timer, and when a connection ends for any reason
 * takes it down cleanly and tries again with backoff, rotating servers.
 */
import { MqttError } from '../errors.ts';
import type { Connection, Link } from '../links/types.ts';
import type { Session } from '../session/session.ts';

export interface SupervisorOptions {
  links: Link[];
  /** Clean start on this attempt? Asked anew for every connection. */
  clean: (attempt: ConnectionAttempt) => boolean;
  reconnectPeriod: number;
  reconnectPeriodMax: number;
  connectTimeout: number;
}

export interface ConnectionAttempt {
  /** Connections that reached CONNACK so far. */
  established: number;
}

export interface SupervisorHooks {
  /** A connection ended (or failed to start); `wasUp` when it had reached CONNACK. */
  down(cause: MqttError, wasUp: boolean): void;
  /** The attempt failed in a way retrying cannot fix (e.g. bad credentials before ever connecting). */
  fatal(cause: MqttError): void;
}

/** CONNACK refusals that retrying will not fix (3.1.1 return codes 1, 2, 4, 5 and their MQTT 5 kin). */
function isPermanentRefusal(error: MqttError, version: 4 | 5): boolean {
  if (error.code !== 'CONNECTION_REFUSED' || error.reasonCode === undefined) return false;
  if (version === 4) return [1, 2, 4, 5].includes(error.reasonCode);
  return [0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c].includes(error.reasonCode);
}

function now(): number {
  return globalThis.performance.now();
}

export class Supervisor {
  private connection: Connection | undefined;
  private endConnection: ((cause: MqttError) => void) | undefined;
  private batch: Uint8Array[] = [];
  private flushScheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly stopper = new AbortController();
  private reachedUp = false;
  private established = 0;
  private loopDone: Promise<void> | undefined;
  /** The current connection is being ended on purpose, to open the next one at once. */
  private quietReconnect = false;
  /** Set by `stop()`: the loop ends and no new connection is opened. */
  stopped = false;

  constructor(
    private readonly session: Session,
    private readonly options: SupervisorOptions,
    private readonly hooks: SupervisorHooks,
  ) {}

  now(): number {
    return now();
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** The session reached CONNACK. */
  markUp(): void {
    this.reachedUp = true;
    this.established++;
  }

  /** The session asks for the link to be closed (timeout, protocol error, refusal, server DISCONNECT). */
  closeLink(cause: MqttError): void {
    this.endConnection?.(cause);
  }

  /**
   * Ends the current connection and opens the next one at once, to the same
   * server, without reporting an outage (MQTT 3.1.1 cleanInit's clean connect).
   */
  reconnectNow(): void {
    this.quietReconnect = true;
    this.endConnection?.(new MqttError('CONNECTION_LOST', 'reconnecting'));
  }

  /** Bytes from the session: written in one batch at the end of this turn. */
  write(bytes: Uint8Array): void {
    if (this.connection === undefined) return;
    this.batch.push(bytes);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Writes now what is batched (before a close, so DISCONNECT goes out). */
  readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const connection = this.connection;
    if (connection === undefined) return;
    if (batch.length === 1) {
      connection.write(batch[0]);
      return;
    }
    let size = 0;
    for (const b of batch) size += b.length;
    const joined = new Uint8Array(size);
    let pos = 0;
    for (const b of batch) {
      joined.set(b, pos);
      pos += b.length;
    }
    connection.write(joined);
  };

  /** Re-arms the timer for the session's next deadline; called after every input to the session. */
  armTimer(): void {
    const deadline = this.session.nextDeadline();
    if (deadline === Number.POSITIVE_INFINITY || (this.timer !== undefined && this.timerAt <= deadline))
      return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, deadline - now()));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.session.tick(now());
    this.armTimer();
  };

  /** Ends the loop and closes the link; resolves when everything is down. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopper.abort();
    this.flush();
    this.endConnection?.(new MqttError('CLIENT_CLOSED', 'the client was closed'));
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let index = 0;
    const links = this.options.links;
    while (!this.stopped) {
      const link = links[index % links.length];
      this.reachedUp = false;
      const cause = await this.runConnection(link);
      this.session.linkDown(now());
      if (this.stopped) break;
      if (this.quietReconnect) {
        this.quietReconnect = false;
        continue;
      }
      const wasUp = this.reachedUp;
      this.hooks.down(cause, wasUp);
      if (!wasUp && this.established === 0 && isPermanentRefusal(cause, this.session.version)) {
        this.hooks.fatal(cause);
        break;
      }
      if (wasUp) {
        failures = 0;
      } else {
        failures++;
        index++; // try the next server
      }
      await this.sleep(this.backoff(failures));
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Full jitter: a random wait up to min(max, period × 2^failures), never zero so loops cannot spin. */
  private backoff(failures: number): number {
    const { reconnectPeriod, reconnectPeriodMax } = this.options;
    const cap = Math.min(reconnectPeriodMax, reconnectPeriod * 2 ** Math.min(failures, 20));
    return Math.max(10, Math.random() * cap);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const timer = setTimeout(done, ms);
      const signal = this.stopper.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  /** One connection, from opening the link to its end; resolves with why it ended. */
  private runConnection(link: Link): Promise<MqttError> {
    return new Promise<MqttError>((resolve) => {
      let ended = false;
      let connection: Connection | undefined;
      const opening = new AbortController();
      const onStop = () => opening.abort();
      this.stopper.signal.addEventListener('abort', onStop);
      const openTimer = setTimeout(() => {
        finish(new MqttError('TIMEOUT', `could not open ${link.name} in time`));
      }, this.options.connectTimeout);
      const finish = (cause: MqttError) => {
        if (ended) return;
        ended = true;
        clearTimeout(openTimer);
        this.stopper.signal.removeEventListener('abort', onStop);
        this.flush();
        this.connection = undefined;
        this.endConnection = undefined;
        this.batch = [];
        opening.abort();
        connection?.close();
        resolve(cause);
      };
      this.endConnection = finish;
      if (this.stopped) return finish(new MqttError('CLIENT_CLOSED', 'the client was closed'));
      link
        .open(
          {
            data: (chunk) => {
              if (ended) return;
              this.session.received(chunk, now());
              this.armTimer();
            },
            close: (error) =>
              finish(
                new MqttError('CONNECTION_LOST', `${link.name} closed${error ? `: ${error.message}` : ''}`, {
                  cause: error,
                }),
              ),
          },
          opening.signal,
        )
        .then(
          (opened) => {
            if (ended) {
              opened.close();
              return;
            }
            clearTimeout(openTimer);
            connection = opened;
            this.connection = opened;
            this.session.linkUp(now(), this.options.clean({ established: this.established }));
            this.armTimer();
          },
          (error: unknown) => {
            finish(
              error instanceof MqttError
                ? error
                : new MqttError('LINK_ERROR', `could not open ${link.name}: ${String(error)}`, {
                    cause: error,
                  }),
            );
          },
        );
    });
  }
}
