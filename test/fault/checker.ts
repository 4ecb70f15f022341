// Checks end-to-end delivery from worker events: what publishers announced
// (`pub`), when the broker acknowledged it (`acked`), and what subscribers got
// (`recv`), per stream (topic). Pure: no I/O, no clock; feed it events as they
// come or all at the end, then ask for a report.
//
// Broker attribution: Mosquitto saves its state after every change here, but
// a kill -9 can still land between acknowledging a message and saving it.
// - A message the broker acknowledged at most `brokerWindowMs` before it was
//   killed, and that never arrived, is the broker's loss (`brokerLost`), not
//   the client's, unless the subscriber had acknowledged it to the broker
//   (`delivered`): then the subscriber lost it. The acknowledgement is the publisher's `acked`, or better a
//   `handoff` (handoff.ts: the broker's PUBACK/PUBREC seen on the wire; for
//   QoS 2 the PUBCOMP may come from the restarted broker, which no longer
//   knows the message).
// - A second copy is the broker's duplicate (`brokerDup`) only when the
//   broker had (nearly) completed the first delivery (`delivered`, from the
//   same trace: the subscriber's PUBACK, or the broker's PUBREL) at most
//   `brokerWindowMs` before the kill, and the copy came after it: the
//   broker's saved state went back. Without a trace every copy is a `dup`.
// Traced times may trail the recorded kill time by up to `killLagMs` (see
// CheckerOptions) and still count as before the kill.

/** The events the checker reads (worker-protocol.ts); it is given any event and ignores the others. */
export type CheckerEvent =
  | { ev: 'pub'; topic: string; seq: number; qos: number; t: number }
  | { ev: 'acked'; topic: string; seq: number; t: number }
  | { ev: 'handoff'; topic: string; seq: number; t: number }
  | { ev: 'delivered'; topic: string; seq: number; t: number }
  | { ev: 'recv'; topic: string; seq: number | null; qos: number; dup?: boolean; t: number };

/** Any event: the checker looks at `ev` first. */
export type AnyEvent = CheckerEvent | { readonly ev: string };

/** Options for {@link DeliveryChecker}. */
export interface CheckerOptions {
  /** How long before a broker kill -9 an acknowledgement may still be lost with the broker, in ms. Default 2000. */
  brokerWindowMs?: number;
  /**
   * How long after the recorded kill time a traced packet still belongs to
   * the killed broker, in ms. The kill time is taken just before SIGKILL,
   * the broker keeps going until the signal lands, and the proxy stamps
   * packets when it reads them; a restarted broker cannot answer that soon.
   * Default 250.
   */
  killLagMs?: number;
}

/** Delivery counts. */
export interface DeliveryCounts {
  /** Distinct sequence numbers announced by the publisher. */
  sent: number;
  /** Distinct announced sequence numbers that arrived. */
  received: number;
  /** Announced, never arrived, and not the broker's loss. */
  lost: number;
  /** Announced, never arrived, acknowledged (acked or handed off) by the broker just before it was killed. */
  brokerLost: number;
  /** Receptions beyond the first of a sequence number, not counting `brokerDup`. */
  dup: number;
  /** Duplicates the broker caused by forgetting a completed delivery at a kill -9. */
  brokerDup: number;
  /** First receptions of a sequence number lower than one already received. */
  outOfOrder: number;
  /** Distinct sequence numbers received but never announced (e.g. the publisher was killed mid-call). */
  extra: number;
}

/** Counts for one stream, with the sequence numbers behind them for failure messages. */
export interface StreamReport extends DeliveryCounts {
  topic: string;
  /** The publisher's QoS (the subscriber's when nothing was announced). */
  qos: number;
  lostSeqs: number[];
  brokerLostSeqs: number[];
  dupSeqs: number[];
  brokerDupSeqs: number[];
}

export interface DeliveryReport {
  /** Totals per QoS, over every stream of that QoS. */
  byQos: Record<0 | 1 | 2, DeliveryCounts>;
  streams: StreamReport[];
}

interface Stream {
  qos: number | undefined;
  /** seq → time announced. */
  sent: Map<number, number>;
  /** seq → time acknowledged (publisher's `acked`). */
  acked: Map<number, number>;
  /** seq → time the broker's PUBACK/PUBREC went by (`handoff`). */
  handoff: Map<number, number>;
  /** seq → times a delivery was (nearly) complete: subscriber's PUBACK, broker's PUBREL (`delivered`). */
  delivered: Map<number, number[]>;
  /** seq → reception times, in order. */
  received: Map<number, number[]>;
  outOfOrder: number;
  highest: number;
}

function emptyCounts(): DeliveryCounts {
  return { sent: 0, received: 0, lost: 0, brokerLost: 0, dup: 0, brokerDup: 0, outOfOrder: 0, extra: 0 };
}

export class DeliveryChecker {
  private readonly streams = new Map<string, Stream>();
  private readonly kills: number[] = [];
  private readonly windowMs: number;
  private readonly lagMs: number;

  constructor(options: CheckerOptions = {}) {
    this.windowMs = options.brokerWindowMs ?? 2000;
    this.lagMs = options.killLagMs ?? 250;
  }

  /** Takes one event; anything but `pub`, `acked`, `handoff`, `delivered` and `recv` is ignored. */
  record(event: AnyEvent): void {
    if (!('topic' in event)) return;
    const e = event as { ev: string; topic: string; seq: number | null; qos?: number; t: number };
    if (e.seq === null || e.seq === undefined) return;
    const stream = this.stream(e.topic);
    switch (e.ev) {
      case 'pub':
        stream.qos = e.qos;
        if (!stream.sent.has(e.seq)) stream.sent.set(e.seq, e.t);
        return;
      case 'acked':
        if (!stream.acked.has(e.seq)) stream.acked.set(e.seq, e.t);
        return;
      case 'handoff':
        if (!stream.handoff.has(e.seq)) stream.handoff.set(e.seq, e.t);
        return;
      case 'delivered': {
        const times = stream.delivered.get(e.seq);
        if (times) times.push(e.t);
        else stream.delivered.set(e.seq, [e.t]);
        return;
      }
      case 'recv': {
        const times = stream.received.get(e.seq);
        if (times) {
          times.push(e.t);
          return;
        }
        stream.received.set(e.seq, [e.t]);
        if (e.seq < stream.highest) stream.outOfOrder++;
        stream.highest = Math.max(stream.highest, e.seq);
        if (stream.qos === undefined) stream.qos = e.qos;
        return;
      }
    }
  }

  /** Takes many events, e.g. `worker.events` at the end of a run. */
  recordAll(events: Iterable<AnyEvent>): void {
    for (const event of events) this.record(event);
  }

  /** The broker was killed with SIGKILL at `t` (`Date.now()`). */
  brokerKilled(t: number): void {
    this.kills.push(t);
  }

  /**
   * Announced messages that have not arrived yet, over every stream, leaving
   * out those the broker lost at a kill -9: 0 when there is nothing more to
   * wait for.
   */
  missing(): number {
    let n = 0;
    for (const s of this.streams.values()) {
      for (const seq of s.sent.keys()) if (!s.received.has(seq) && !this.brokerLost(s, seq)) n++;
    }
    return n;
  }

  /** Announced messages not yet acknowledged, over every stream. */
  unacked(): number {
    let n = 0;
    for (const s of this.streams.values()) for (const seq of s.sent.keys()) if (!s.acked.has(seq)) n++;
    return n;
  }

  report(): DeliveryReport {
    const byQos: Record<0 | 1 | 2, DeliveryCounts> = { 0: emptyCounts(), 1: emptyCounts(), 2: emptyCounts() };
    const streams: StreamReport[] = [];
    for (const [topic, s] of [...this.streams].sort(([a], [b]) => a.localeCompare(b))) {
      const r = this.streamReport(topic, s);
      streams.push(r);
      const total = byQos[(r.qos === 1 || r.qos === 2 ? r.qos : 0) as 0 | 1 | 2];
      for (const key of Object.keys(total) as (keyof DeliveryCounts)[]) total[key] += r[key];
    }
    return { byQos, streams };
  }

  private streamReport(topic: string, s: Stream): StreamReport {
    const lostSeqs: number[] = [];
    const brokerLostSeqs: number[] = [];
    const dupSeqs: number[] = [];
    const brokerDupSeqs: number[] = [];
    let received = 0;
    for (const [seq] of s.sent) {
      if (s.received.has(seq)) received++;
      else if (this.brokerLost(s, seq)) brokerLostSeqs.push(seq);
      else lostSeqs.push(seq);
    }
    let extra = 0;
    let dup = 0;
    let brokerDup = 0;
    for (const [seq, times] of s.received) {
      if (!s.sent.has(seq)) extra++;
      for (const t of times.slice(1)) {
        if (this.forgotten(s.delivered.get(seq), t)) {
          brokerDup++;
          brokerDupSeqs.push(seq);
        } else {
          dup++;
          dupSeqs.push(seq);
        }
      }
    }
    const byNumber = (a: number, b: number) => a - b;
    return {
      topic,
      qos: s.qos ?? 0,
      sent: s.sent.size,
      received,
      lost: lostSeqs.length,
      brokerLost: brokerLostSeqs.length,
      dup,
      brokerDup,
      outOfOrder: s.outOfOrder,
      extra,
      lostSeqs: lostSeqs.sort(byNumber),
      brokerLostSeqs: brokerLostSeqs.sort(byNumber),
      dupSeqs: dupSeqs.sort(byNumber),
      brokerDupSeqs: brokerDupSeqs.sort(byNumber),
    };
  }

  /**
   * Whether the broker acknowledged `seq` at most `windowMs` before it was
   * killed, and the subscriber never acknowledged it: a message the subscriber
   * took from the broker (its PUBACK, or the broker's PUBREL, on the trace) and
   * never delivered is the subscriber's loss, kill or no kill.
   */
  private brokerLost(s: Stream, seq: number): boolean {
    if (s.delivered.has(seq)) return false;
    return [s.handoff.get(seq), s.acked.get(seq)].some((t) => t !== undefined && this.killedSoonAfter(t));
  }

  /** Whether a delivery completed at most `windowMs` before a broker kill that came before `copyAt`. */
  private forgotten(delivered: number[] | undefined, copyAt: number): boolean {
    return (delivered ?? []).some((d) => this.killedSoonAfter(d, copyAt));
  }

  /** Whether the broker was killed at most `windowMs` after `t` (allowing `lagMs`), and before `before`. */
  private killedSoonAfter(t: number, before = Number.POSITIVE_INFINITY): boolean {
    return this.kills.some((k) => k + this.lagMs >= t && k - t <= this.windowMs && k < before);
  }

  private stream(topic: string): Stream {
    let s = this.streams.get(topic);
    if (s === undefined) {
      s = {
        qos: undefined,
        sent: new Map(),
        acked: new Map(),
        handoff: new Map(),
        delivered: new Map(),
        received: new Map(),
        outOfOrder: 0,
        highest: -1,
      };
      this.streams.set(topic, s);
    }
    return s;
  }
}

/** One line per stream, for assertion messages and logs. */
export function formatReport(report: DeliveryReport): string {
  return report.streams
    .map((s) => {
      const parts = [
        `${s.topic} qos${s.qos}: sent ${s.sent} received ${s.received} lost ${s.lost}`,
        `brokerLost ${s.brokerLost} dup ${s.dup} brokerDup ${s.brokerDup} outOfOrder ${s.outOfOrder} extra ${s.extra}`,
      ];
      if (s.lostSeqs.length) parts.push(`lost=[${s.lostSeqs.join(',')}]`);
      if (s.brokerLostSeqs.length) parts.push(`brokerLost=[${s.brokerLostSeqs.join(',')}]`);
      if (s.dupSeqs.length) parts.push(`dup=[${s.dupSeqs.join(',')}]`);
      if (s.brokerDupSeqs.length) parts.push(`brokerDup=[${s.brokerDupSeqs.join(',')}]`);
      return parts.join(' ');
    })
    .join('\n');
}
