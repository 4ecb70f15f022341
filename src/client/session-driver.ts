/**
 * The one place the Session is fed and drained. Every input (bytes from the
 * link, a command from the application, the timer) goes through a method
 * here, which hands it to the Session and then drains the Session's outbox:
 * the bytes to the link first (so a `close` event finds what came before
 * it, a DISCONNECT say, already written), then the events, one at a time,
 * and last the timer, re-armed for the Session's next deadline. So the
 * timer is always re-armed, whichever input it was, and an event handler
 * that feeds the Session again (an acknowledgement, a publish from an `up`
 * listener) only appends to the outbox this same drain is emptying.
 */
import type { Session } from '../session/session.ts';
import type { OutboundMessage, SessionEvent } from '../session/types.ts';

/** Where the outputs go. */
export interface SessionSink<P, S> {
  /** Bytes for the link, in order. */
  write(bytes: Uint8Array): void;
  /** An event of the Session's. */
  event(event: SessionEvent<P, S>): void;
  /** The Session needs `tick` at `at` (ms on the host's clock; Infinity for never). */
  deadline(at: number): void;
}

/**
 * What the Session answers without being an input: queries only. The driver
 * gives this view out, so that an input can only be made through the driver.
 */
export type SessionView<P, S> = Readonly<
  Pick<
    Session<P, S>,
    | 'version'
    | 'clientId'
    | 'state'
    | 'server'
    | 'stats'
    | 'generation'
    | 'publications'
    | 'awaitingAnswerSince'
    | 'answerTime'
    | 'checkConnect'
    | 'servedThisConnection'
  >
>;

export class SessionDriver<P, S> {
  readonly #session: Session<P, S>;
  readonly #sink: SessionSink<P, S>;
  #draining = false;

  constructor(session: Session<P, S>, sink: SessionSink<P, S>) {
    this.#session = session;
    this.#sink = sink;
  }

  /** The Session, for queries. */
  get session(): SessionView<P, S> {
    return this.#session;
  }

  // ---- inputs ----

  linkUp(now: number, clean: boolean, discard: boolean): void {
    this.#session.linkUp(now, clean, discard);
    this.#drain();
  }

  received(chunk: Uint8Array, now: number): void {
    this.#session.received(chunk, now);
    this.#drain();
  }

  linkDown(now: number): void {
    this.#session.linkDown(now);
    this.#drain();
  }

  tick(now: number): void {
    this.#session.tick(now);
    this.#drain();
  }

  publish(message: OutboundMessage, token: P, now: number): void {
    this.#session.publish(message, token, now);
    this.#drain();
  }

  acknowledge(packetId: number, qos: 1 | 2, generation: number, reasonCode: number): boolean {
    const accepted = this.#session.acknowledge(packetId, qos, generation, reasonCode);
    this.#drain();
    return accepted;
  }

  /**
   * Any other input (subscribe, unsubscribe, withdraw, auth, disconnect,
   * close): `feed` makes it on the Session, then the outbox is drained.
   * The inputs on the hot paths have methods of their own, with no closure.
   */
  input<R>(feed: (session: Session<P, S>) => R): R {
    const result = feed(this.#session);
    this.#drain();
    return result;
  }

  // ---- outputs ----

  #drain(): void {
    // An event handler fed the Session: the drain below it is still running and takes the rest.
    if (this.#draining) return;
    this.#draining = true;
    const session = this.#session;
    const sink = this.#sink;
    try {
      for (;;) {
        for (let bytes = session.nextBytes(); bytes !== undefined; bytes = session.nextBytes()) {
          sink.write(bytes);
        }
        const event = session.nextEvent();
        if (event === undefined) break;
        sink.event(event);
      }
    } finally {
      this.#draining = false;
    }
    sink.deadline(session.nextDeadline());
  }
}
