/**
 * The supervisor owns the link and the clock for one Session: it opens the
 * link, feeds the Session, writes what it sends (batched per turn of the
 * event loop, after the store's write barrier), keeps its timer, and when a
 * connection ends for any reason takes it down cleanly, stays down for the
 * quiet period (resetting the link if it can), and tries again with backoff,
 * rotating servers. Its phase is one `ClientStatus` (status.ts).
 */
import { MqttError } from '../errors.ts';
import { concatBytes, contiguousRuns } from '../links/batch.ts';
import type { Connection, Link, LinkHandlers } from '../links/types.ts';
import type { SessionStore } from '../session/store.ts';
import { DEFAULT_MAX_PENDING_OPENS, openAttempts } from './open-attempts.ts';
import { endedByPeer, isPermanentRefusal, provedHealthy } from './reconnect-rules.ts';
import type { SessionDriver } from './session-driver.ts';
import type { ClientStatus } from './status.ts';

/** What the Supervisor feeds and asks of the Session: the link's inputs and the timer's, through the driver. */
export type SupervisedSession = Pick<
  SessionDriver<unknown, unknown>,
  'linkUp' | 'received' | 'linkDown' | 'tick' | 'session'
>;

import { type ProbedConnection, StallProbe } from './stall-probe.ts';
import { deferFlush, realClock, type SupervisorClock } from './supervisor-clock.ts';

export type { SupervisorClock } from './supervisor-clock.ts';

export interface SupervisorOptions {
  links: Link[];
  /** Clean start on this attempt? Asked anew for every connection. */
  clean: (attempt: ConnectionAttempt) => boolean;
  /**
   * Is this attempt (a clean one) only to discard the broker's stale session
   * (MQTT 3.1.1 cleanInit)? Asked with `clean`. Default never.
   */
  discard?: (attempt: ConnectionAttempt) => boolean;
  reconnectPeriod: number;
  reconnectPeriodMax: number;
  connectTimeout: number;
  /** Ms to stay down after a connection ends, before the next attempt (and its backoff). */
  quietPeriod: number;
  /** Ms a write may go without any progress in draining before the link is declared dead. */
  writeTimeout: number;
  /**
   * Ms a connection must stay up before the backoff starts over; one that ends
   * sooner counts as a failed attempt. Default 0: any CONNACK resets it.
   */
  resetBackoffAfter?: number;
  /** Ms between fresh open attempts while one is pending (links with concurrent opens); 0 for one at a time. */
  openRetryInterval?: number;
  /** Ms a request may go unanswered before a fresh connection is tried beside it; 0 for never. */
  stallProbeAfter?: number;
  /** Its `sync()` is the write barrier before every link write. */
  store?: SessionStore;
  clock?: SupervisorClock;
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
  /** The status changed (`connected` before the `up` it leads to; after a `down`, the state it leads to). */
  status(status: ClientStatus): void;
}

/**
 * How a connection is ended on purpose: gracefully (DISCONNECT first, by
 * `stop()`), to open the next one at once without an outage (`reconnect`),
 * or to move to a connection the stall probe got through.
 */
type Ending = 'graceful' | 'reconnect' | ProbedConnection;

/** How a connection ended: why, whether its link had opened, and what comes next when that was decided. */
interface Ended {
  cause: MqttError;
  opened: boolean;
  then: 'reconnect' | ProbedConnection | undefined;
}

/** How long `stop()` waits for the link to send what is queued (the DISCONNECT) and close, in ms. */
export const GRACEFUL_CLOSE_TIMEOUT = 2000;

export class Supervisor {
  #connection: Connection | undefined;
  #endConnection: ((cause: MqttError, how?: Ending) => void) | undefined;
  #batch: Uint8Array[] = [];
  #flushScheduled = false;
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #stopper = new AbortController();
  #status: ClientStatus = { state: 'idle' };
  /** When the current connection reached CONNACK. */
  #upAt = 0;
  #established = 0;
  #loopDone: Promise<void> | undefined;
  readonly #clock: SupervisorClock;
  readonly #links: Link[];
  /**
   * A server reference to follow, once, without backoff: a temporary one goes
   * to `link` instead of the rotation; a permanent one has replaced the
   * rotation's entry already.
   */
  #reference: { link: Link; permanent: boolean } | undefined;
  #index = 0;
  /** Write-progress watch: armed while the link has not drained. */
  #drainTimer: unknown;
  #drainBuffered = 0;
  readonly #probe: StallProbe;

  constructor(
    private readonly driver: SupervisedSession,
    private readonly options: SupervisorOptions,
    private readonly hooks: SupervisorHooks,
  ) {
    this.#clock = options.clock ?? realClock;
    this.#links = [...options.links];
    const clock = this.#clock;
    this.#probe = new StallProbe(
      clock,
      {
        after: options.stallProbeAfter ?? 0,
        interval: options.openRetryInterval || 1000,
        maxPending: DEFAULT_MAX_PENDING_OPENS,
      },
      {
        now: () => clock.now(),
        awaitingSince: () => driver.session.awaitingAnswerSince,
        answerTime: () => driver.session.answerTime,
        switchTo: (probed) => this.#onProbeThrough(probed),
      },
    );
  }

  /** Fresh connections tried beside one that had stopped answering. */
  get stallProbes(): number {
    return this.#probe.started;
  }

  /** The stall probe got a fresh connection through while the current one stays silent: move to it. */
  #onProbeThrough(probed: ProbedConnection): void {
    if (this.stopped || this.#endConnection === undefined) return probed.connection.close();
    this.#endConnection(
      new MqttError(
        'TIMEOUT',
        `no answer from the broker for ${Math.round(probed.stalledFor)} ms while a fresh connection got through: the link is stalled`,
      ),
      probed,
    );
  }

  /** Where the client stands (see ClientStatus). */
  get status(): ClientStatus {
    return this.#status;
  }

  /** Stopped for good: the loop ends and no new connection is opened. */
  get stopped(): boolean {
    return this.#status.state === 'stopped';
  }

  /**
   * Moves to `status` and reports it. Nothing leaves `stopped`; the connection
   * opened at once after one that only discarded a stale session is the same
   * `opening`.
   */
  #setStatus(status: ClientStatus): void {
    const now = this.#status.state;
    if (now === 'stopped' || (now === 'opening' && status.state === 'opening')) return;
    this.#status = status;
    this.hooks.status(status);
  }

  now(): number {
    return this.#clock.now();
  }

  /** The clock it runs on, for the client's other timers. */
  get clock(): SupervisorClock {
    return this.#clock;
  }

  /** Position in the rotation of servers of the link in use or the next one to be tried. */
  get rotationIndex(): number {
    return this.#index % this.#links.length;
  }

  /** The link in use or the next one to be tried. */
  get currentLink(): Link {
    const reference = this.#reference;
    return reference !== undefined && !reference.permanent
      ? reference.link
      : this.#links[this.#index % this.#links.length];
  }

  /**
   * MQTT 5 server reference: the next attempt goes to `link`. A permanent
   * move (0x9D) also replaces the current server in the rotation.
   */
  redirect(link: Link, permanent: boolean): void {
    if (permanent) this.#links[this.#index % this.#links.length] = link;
    this.#reference = { link, permanent };
  }

  start(): void {
    this.#loopDone ??= this.#loop();
  }

  /** The session reached CONNACK; returns how many connections have so far. */
  markUp(): number {
    this.#upAt = this.#clock.now();
    const status = this.#status;
    if (status.state === 'opening') this.#setStatus({ state: 'connected', server: status.server });
    return ++this.#established;
  }

  /** The session asks for the link to be closed (timeout, protocol error, refusal, server DISCONNECT). */
  closeLink(cause: MqttError): void {
    this.#endConnection?.(cause);
  }

  /**
   * Ends the current connection and opens the next one at once, to the same
   * server, without reporting an outage (MQTT 3.1.1 cleanInit's clean connect).
   */
  reconnectNow(): void {
    this.#endConnection?.(new MqttError('CONNECTION_LOST', 'reconnecting'), 'reconnect');
  }

  /** Bytes from the session: written in one batch at the end of this turn. */
  write(bytes: Uint8Array): void {
    if (this.#connection === undefined) return;
    this.#batch.push(bytes);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      deferFlush(this.flush);
    }
  }

  /** Writes now what is batched (before a close, so DISCONNECT goes out). */
  readonly flush = (): void => {
    this.#flushScheduled = false;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const connection = this.#connection;
    if (connection === undefined) return;
    // The write barrier: nothing reaches the wire that the store could forget.
    this.options.store?.sync();
    // Packets side by side in the codec's slab go as one view; only what is not adjacent is
    // written apart (writev) or, on a link without writev, joined.
    const runs = contiguousRuns(batch);
    const ok =
      runs.length === 1
        ? connection.write(runs[0])
        : connection.writev !== undefined
          ? connection.writev(runs)
          : connection.write(concatBytes(runs));
    if (!ok) this.#watchDrain();
    this.#probe.check();
  };

  /**
   * The link is not keeping up. A slow link is fine as long as it makes
   * progress; one whose buffer has not shrunk for `writeTimeout` is dead
   * (a stalled radio, a send window that never opens).
   */
  #watchDrain(): void {
    if (this.#drainTimer !== undefined || this.#connection === undefined) return;
    this.#drainBuffered = this.#connection.bufferedAmount;
    this.#drainTimer = this.#clock.setTimeout(this.#onDrainTimer, this.options.writeTimeout);
  }

  readonly #onDrainTimer = (): void => {
    this.#drainTimer = undefined;
    const connection = this.#connection;
    if (connection === undefined || connection.bufferedAmount === 0) return;
    if (connection.bufferedAmount < this.#drainBuffered) return this.#watchDrain();
    this.closeLink(
      new MqttError(
        'TIMEOUT',
        `a write to ${this.currentLink.name} made no progress in time: the link is dead`,
      ),
    );
  };

  readonly #onDrain = (): void => {
    if (this.#drainTimer === undefined) return;
    this.#clock.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  };

  /** Arms the timer for the session's next deadline; the driver calls it after every input to the session. */
  armTimer(deadline: number): void {
    this.#probe.check();
    if (deadline === Number.POSITIVE_INFINITY || (this.#timer !== undefined && this.#timerAt <= deadline))
      return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(0, deadline - this.#clock.now()));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.driver.tick(this.#clock.now()); // which re-arms the timer
  };

  /**
   * Ends the loop and closes the link (status `stopped` with `cause`, default
   * CLIENT_CLOSED); resolves when everything is down.
   */
  async stop(cause = new MqttError('CLIENT_CLOSED', 'the client was closed')): Promise<void> {
    this.#setStatus({ state: 'stopped', cause });
    this.#stopper.abort();
    this.flush();
    this.#endConnection?.(cause, 'graceful');
    this.#clearTimer();
    await this.#loopDone;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    /** A fresh connection the stall probe got through: the next connection, opened already. */
    let switchTo: ProbedConnection | undefined;
    while (!this.stopped) {
      const link = this.currentLink;
      const reference = this.#reference;
      const redirected = reference !== undefined && !reference.permanent;
      if (redirected) this.#reference = undefined;
      this.#setStatus({ state: 'opening', server: link.name });
      const { cause, opened, then } = await this.#runConnection(link, switchTo);
      switchTo = undefined;
      this.driver.linkDown(this.#clock.now());
      this.#clearTimer();
      if (this.stopped) {
        if (typeof then === 'object') then.connection.close();
        break;
      }
      if (then === 'reconnect') continue;
      const wasUp = this.#status.state === 'connected';
      this.hooks.down(cause, wasUp);
      if (then !== undefined) {
        // A fresh connection is through already: the path works, so no quiet period or backoff.
        failures = 0;
        switchTo = then;
        continue;
      }
      if (!wasUp && this.#established === 0 && isPermanentRefusal(cause, this.driver.session.version)) {
        this.hooks.fatal(cause);
        break;
      }
      if (
        wasUp &&
        !provedHealthy(this.#clock.now() - this.#upAt, this.driver.session, this.options) &&
        endedByPeer(cause)
      ) {
        // Accepted, then dropped by the other end before it proved healthy (an overloaded broker,
        // an ACL, a proxy): back off as from a failed attempt, so a fleet does not reconnect every
        // second forever. Outages we detect ourselves (keepalive, a dead link) start over as usual.
        failures++;
      } else if (wasUp) {
        failures = 0;
      } else {
        failures++;
        // Try the next server; a failed redirect falls back to the rotation where it was.
        if (!redirected) this.#index++;
      }
      // Stay down for the quiet period (resetting the link meanwhile), so every hop sees the
      // link die and the next attempt starts from a known state. Only once the link had opened:
      // a failed open left nothing behind. A server reference is followed once the quiet period
      // is over; anything else backs off.
      if (opened) {
        this.#setStatus({ state: 'quiet', cause, ms: this.options.quietPeriod });
        await this.#quiet(link);
      }
      if (this.#reference === undefined) {
        const ms = this.backoff(failures);
        this.#setStatus({ state: 'backoff', cause, ms, failures });
        await this.#sleep(ms);
      }
      if (this.#reference?.permanent) this.#reference = undefined;
    }
    switchTo?.connection.close();
    this.#clearTimer();
  }

  /** The quiet period, with the link's own reset (bounded by connectTimeout) running meanwhile. */
  async #quiet(link: Link): Promise<void> {
    const waits = [this.#sleep(this.options.quietPeriod)];
    if (link.reset !== undefined) {
      const resetting = link.reset(this.#stopper.signal).catch(() => {
        // A reset that fails is followed by a normal attempt, whose failure is then reported.
      });
      waits.push(Promise.race([resetting, this.#sleep(this.options.connectTimeout)]));
    }
    await Promise.all(waits);
  }

  /** Full jitter: a random wait up to min(max, period × 2^failures), never zero so loops cannot spin. */
  backoff(failures: number): number {
    const { reconnectPeriod, reconnectPeriodMax } = this.options;
    const cap = Math.min(reconnectPeriodMax, reconnectPeriod * 2 ** Math.min(failures, 20));
    return Math.max(10, this.#clock.random() * cap);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const clock = this.#clock;
      const timer = clock.setTimeout(done, ms);
      const signal = this.#stopper.signal;
      function done() {
        clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  /** One connection, from opening the link to its end; resolves with why it ended and whether the link had opened. */
  #runConnection(link: Link, switchTo: ProbedConnection | undefined): Promise<Ended> {
    return new Promise((resolve) => {
      let ended = false;
      let connection: Connection | undefined;
      // Aborts the open on stop; dropped once open (from then on `stop` ends the connection itself).
      let opening: AbortController | undefined = new AbortController();
      const onStop = () => opening?.abort();
      this.#stopper.signal.addEventListener('abort', onStop);
      const clock = this.#clock;
      // Dropped once cleared: `finish` lives as long as the connection and would keep it.
      let openTimer: unknown = clock.setTimeout(() => {
        finish(new MqttError('TIMEOUT', `could not open ${link.name} in time`));
      }, this.options.connectTimeout);
      // Called first when the link reports its close: ends a graceful close's wait.
      let linkClosed: (() => void) | undefined;
      const finish = (cause: MqttError, how?: Ending) => {
        if (ended) return;
        ended = true;
        if (openTimer !== undefined) clock.clearTimeout(openTimer);
        openTimer = undefined;
        this.#stopper.signal.removeEventListener('abort', onStop);
        this.flush();
        if (this.#drainTimer !== undefined) clock.clearTimeout(this.#drainTimer);
        this.#drainTimer = undefined;
        this.#connection = undefined;
        this.#endConnection = undefined;
        this.#probe.stop();
        this.#batch = [];
        opening?.abort();
        opening = undefined;
        const open = connection;
        const then = how === 'graceful' ? undefined : how;
        if (how === 'graceful' && open?.end !== undefined) {
          // end(): DISCONNECT and what came before it go out before the link closes, within a bound.
          const timer = clock.setTimeout(() => linkClosed?.(), GRACEFUL_CLOSE_TIMEOUT);
          linkClosed = () => {
            linkClosed = undefined;
            clock.clearTimeout(timer);
            open.close();
            resolve({ cause, opened: true, then });
          };
          open.end();
          return;
        }
        open?.close();
        resolve({ cause, opened: open !== undefined, then });
      };
      this.#endConnection = finish;
      if (this.stopped) {
        switchTo?.connection.close();
        return finish(new MqttError('CLIENT_CLOSED', 'the client was closed'));
      }
      const handlers: LinkHandlers = {
        data: (chunk) => {
          if (ended) return;
          this.driver.received(chunk, clock.now());
        },
        drain: this.#onDrain,
        close: (error) => {
          linkClosed?.();
          finish(
            new MqttError('CONNECTION_LOST', `${link.name} closed${error ? `: ${error.message}` : ''}`, {
              cause: error,
            }),
          );
        },
      };
      let ready: Promise<Connection>;
      if (switchTo !== undefined) {
        switchTo.attach(handlers);
        ready = Promise.resolve(switchTo.connection);
      } else {
        ready = openAttempts(link, handlers, opening!.signal, clock, {
          interval: this.options.openRetryInterval ?? 0,
          maxPending: DEFAULT_MAX_PENDING_OPENS,
        });
      }
      ready.then(
        (opened) => {
          if (ended) {
            opened.close();
            return;
          }
          clock.clearTimeout(openTimer);
          openTimer = undefined;
          this.#stopper.signal.removeEventListener('abort', onStop);
          opening = undefined;
          connection = opened;
          this.#connection = opened;
          this.#probe.watch(link);
          const attempt = { established: this.#established };
          try {
            const clean = this.options.clean(attempt);
            this.driver.linkUp(clock.now(), clean, clean && this.options.discard?.(attempt) === true);
          } catch (error) {
            // Options no CONNECT can carry: no attempt will do better.
            const cause =
              error instanceof MqttError
                ? error
                : new MqttError('INVALID_ARGUMENT', String(error), { cause: error });
            finish(cause);
            this.hooks.fatal(cause);
          }
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
