/**
 * The stall probe: a connection that has stopped answering is raced by a
 * fresh one, and the client moves over when the fresh one gets through
 * while the old one is still silent.
 *
 * Why: after a path drops packets for a few seconds and heals, the old TCP
 * connection is deep in its retransmission backoff (0.2, 0.6, 1.4, 3, 6.2,
 * 12.6 s...): what it sent may not be retried for seconds more, and nothing
 * the application writes can hurry it. The keepalive deadline is far off at
 * the default keepalive. A fresh connection sends its SYN at once.
 *
 * Why it does not mistake a slow broker for a dead path: the probe travels
 * the same path as the old connection. Where the path is merely slow
 * (bufferbloat, a busy broker) the old connection's answer, queued first,
 * arrives first and the probe is closed unused. The probe starts only when
 * a request has gone unanswered for `after` ms and at least 4x the broker's
 * smoothed answer time, with nothing at all received meanwhile.
 *
 * Why a probe that opens at once is not enough: a proxy or load balancer
 * that terminates TCP in front of the broker completes the handshake itself,
 * so the probe connects while the broker (or the proxy) is stalled, and the
 * old connection is not stuck in any backoff. The probe is evidence of a path
 * that was dark and came back only when the probes saw it dark: another
 * probe of this stall still pending, or this one slow to open. A probe that
 * opens at once with none pending ends probing for this stall.
 */
import type { Connection, Link, LinkHandlers } from '../links/types.ts';
import type { AttemptClock } from './open-attempts.ts';

/** A probe's answer time multiple below which a wait is still normal. */
const ANSWER_TIME_MULTIPLE = 4;
/** A probe that takes longer than this (ms, and 2x the answer time) to open was held up on the path. */
const DELAYED_OPEN_MS = 250;

/** A connection the probe opened, handed over to the supervisor with its events still to be routed. */
export interface ProbedConnection {
  readonly connection: Connection;
  /** Routes the connection's events to `handlers` (a close that already happened is reported now). */
  attach(handlers: LinkHandlers): void;
  /** How long the old connection had been waiting for an answer when this one opened. */
  readonly stalledFor: number;
}

export interface StallProbeOptions {
  /** Ms a request may go unanswered before probing; 0 turns the probe off. */
  after: number;
  /** Ms between fresh probes while the stall lasts. */
  interval: number;
  /** Probes pending at once; the oldest is abandoned to make room. */
  maxPending: number;
}

export interface StallProbeHost {
  now(): number;
  /** Since when a request has gone unanswered (nothing received since), or undefined. */
  awaitingSince(): number | undefined;
  /** The broker's smoothed answer time in ms, if known. */
  answerTime(): number | undefined;
  /** A fresh connection opened while the stall lasted: move to it. */
  switchTo(probed: ProbedConnection): void;
}

interface Probe {
  abort: AbortController;
}

export class StallProbe {
  #link: Link | undefined;
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #pending: Probe[] = [];
  /** The stall (its awaitingSince) that a probe showed to be no dark path: no more probes for it. */
  #endpointAnswered: number | undefined;
  /** Probes of the current stall abandoned unopened (the oldest, to make room). */
  #abandoned = 0;
  /** Fresh connections tried because the current one went silent. */
  started = 0;

  constructor(
    private readonly clock: AttemptClock,
    private readonly options: StallProbeOptions,
    private readonly host: StallProbeHost,
  ) {}

  /** A connection on `link` is up: probe it when it stalls (only if the link allows concurrent opens). */
  watch(link: Link): void {
    this.stop();
    if (link.concurrentOpens === true && this.options.after > 0) this.#link = link;
  }

  /** Something was sent or received: re-arm for the current stall, or stand down when there is none. */
  check(): void {
    if (this.#link === undefined) return;
    const since = this.host.awaitingSince();
    // No stall: the probes stand down, but an armed timer is left to fire and find nothing to do.
    // Clearing it here and setting it again on the next write cost a timer pair per write and
    // read (3% of a QoS 1 publisher's CPU); a timer that fires early re-arms itself (#onTimer).
    if (since === undefined || since === this.#endpointAnswered) return this.#abandonProbes();
    const at = this.#pending.length > 0 ? this.#timerAt : since + this.#threshold();
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#arm(at);
  }

  /** The connection ended: abandon every probe and stop watching. */
  stop(): void {
    this.#link = undefined;
    this.#standDown();
  }

  #threshold(): number {
    const answer = this.host.answerTime() ?? 0;
    return Math.max(this.options.after, ANSWER_TIME_MULTIPLE * answer);
  }

  #standDown(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#abandonProbes();
  }

  #abandonProbes(): void {
    if (this.#pending.length > 0) for (const p of this.#pending.splice(0)) p.abort.abort();
    this.#abandoned = 0;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.clock.setTimeout(this.#onTimer, Math.max(0, at - this.host.now()));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const link = this.#link;
    const since = this.host.awaitingSince();
    if (link === undefined || since === undefined) return this.#standDown();
    if (this.host.now() < since + this.#threshold()) return this.check();
    this.#probe(link, since);
    this.#arm(this.host.now() + this.options.interval);
  };

  #probe(link: Link, since: number): void {
    if (this.#pending.length >= this.options.maxPending) {
      this.#pending.shift()?.abort.abort();
      this.#abandoned++;
    }
    const probe: Probe = { abort: new AbortController() };
    const startedAt = this.host.now();
    this.#pending.push(probe);
    this.started++;
    let target: LinkHandlers | undefined;
    let closed: { error?: Error } | undefined;
    const routed: LinkHandlers = {
      data: (chunk) => target?.data(chunk),
      close: (error) => {
        if (target !== undefined) target.close(error);
        else closed = { error };
      },
      drain: () => target?.drain?.(),
    };
    link.open(routed, probe.abort.signal).then(
      (connection) => {
        const index = this.#pending.indexOf(probe);
        // Abandoned, or the old connection answered meanwhile: the probe is not needed.
        if (index < 0 || this.host.awaitingSince() !== since) return connection.close();
        this.#pending.splice(index, 1);
        const delayed =
          this.host.now() - startedAt > Math.max(DELAYED_OPEN_MS, 2 * (this.host.answerTime() ?? 0));
        if (!delayed && this.#pending.length === 0 && this.#abandoned === 0) {
          // Through at once with no probe held up: the far end of TCP is fine (a proxy that
          // terminates TCP, a stalled broker), and the old connection is not stuck on the path.
          this.#endpointAnswered = since;
          this.#standDown();
          return connection.close();
        }
        this.host.switchTo({
          connection,
          stalledFor: this.host.now() - since,
          attach(handlers) {
            target = handlers;
            if (closed !== undefined) handlers.close(closed.error);
          },
        });
      },
      () => {
        // A probe that cannot open says the path is still down; the next one tries again.
        const index = this.#pending.indexOf(probe);
        if (index >= 0) this.#pending.splice(index, 1);
      },
    );
  }
}
