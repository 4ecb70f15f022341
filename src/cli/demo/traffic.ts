/**
 * The demo's traffic: a publisher sending sequence-numbered messages at QoS
 * 1 and QoS 2, and a subscriber counting what arrives, both with persistent
 * sessions, both connected through the faulty link. It records what the
 * report needs: sends, deliveries (and duplicates) per QoS, and every
 * connection going down or up.
 */
import { type Client, createClient, type Message, type NodeClientOptions } from '../../node.ts';

export type Who = 'publisher' | 'subscriber';

/** The sequence number in a demo payload (`{"seq":N}`). */
export function seqOf(payload: Uint8Array): number | undefined {
  try {
    const seq = (JSON.parse(new TextDecoder().decode(payload)) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** One QoS level's counts. */
export class Tally {
  sent = 0;
  /** Publications whose QoS flow completed (PUBACK / PUBCOMP). */
  acked = 0;
  /** Publications that were refused (should stay 0). */
  failed = 0;
  /** Times each sequence number arrived. */
  readonly arrivals = new Map<number, number>();
  duplicates = 0;

  get delivered(): number {
    return this.arrivals.size;
  }

  /** Sent and never delivered (so far). */
  get missing(): number {
    return this.sent - this.delivered;
  }
}

export interface ConnectionEvent {
  /** ms since the run started. */
  t: number;
  who: Who;
  up: boolean;
  /** Why it went down, or "session resumed" when it came back. */
  detail: string;
}

export interface TrafficOptions {
  /** Client options both clients share (url through the link, version, credentials, TLS). */
  client: NodeClientOptions;
  /** Topic prefix unique to this run. */
  topicBase: string;
  /** Messages per second at each QoS. */
  rate: number;
  /** The run's clock: ms since it started. */
  now(): number;
}

export class Traffic {
  readonly tallies: Record<1 | 2, Tally> = { 1: new Tally(), 2: new Tally() };
  readonly events: ConnectionEvent[] = [];
  /** When each delivery happened (ms since the run started), in order. */
  readonly deliveryTimes: number[] = [];
  readonly publisher: Client;
  readonly subscriber: Client;
  private timer: ReturnType<typeof setInterval> | undefined;
  private publishingSince = 0;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly up: Record<Who, boolean> = { publisher: false, subscriber: false };

  constructor(private readonly options: TrafficOptions) {
    const id = options.topicBase.split('/').pop();
    this.publisher = this.make('publisher', `demo-${id}-pub`);
    this.subscriber = this.make('subscriber', `demo-${id}-sub`);
  }

  isUp(who: Who): boolean {
    return this.up[who];
  }

  private make(who: Who, clientId: string): Client {
    const client = createClient({ ...this.options.client, clientId });
    client.on('up', ({ sessionPresent }) => {
      this.up[who] = true;
      this.events.push({
        t: this.options.now(),
        who,
        up: true,
        detail: sessionPresent ? 'session resumed' : 'new session',
      });
    });
    client.on('down', ({ cause, wasUp }) => {
      if (!wasUp) return; // a failed attempt during an outage, not a new outage
      this.up[who] = false;
      this.events.push({ t: this.options.now(), who, up: false, detail: cause.message });
    });
    return client;
  }

  /** Connects both, subscribes, within `timeoutMs`. */
  async connect(timeoutMs: number): Promise<void> {
    this.subscriber.start();
    this.publisher.start();
    await Promise.all([this.subscriber.ready(timeoutMs), this.publisher.ready(timeoutMs)]);
    await this.subscriber.subscribe(`${this.options.topicBase}/#`, {
      qos: 2,
      onMessage: (message) => this.received(message),
    });
    // Aedes keeps (and reports as present) only the sessions of clients with a subscription, so
    // without one the publisher would read "new session" after every outage although the broker
    // kept its QoS 2 state. Nothing is ever published here.
    await this.publisher.subscribe(`${this.options.topicBase}/control/publisher`, { qos: 1 });
  }

  /** Publishes `rate` messages per second at each QoS until `stopPublishing`. */
  startPublishing(): void {
    this.publishingSince = this.options.now();
    const tick = Math.max(5, Math.floor(1000 / this.options.rate));
    this.timer = setInterval(() => this.catchUp(), tick);
  }

  stopPublishing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Publishes what the clock says is due, so a busy event loop delays messages but never skips them. */
  private catchUp(): void {
    const due = Math.floor(((this.options.now() - this.publishingSince) / 1000) * this.options.rate);
    while (this.tallies[1].sent < due) {
      for (const qos of [1, 2] as const) this.publish(qos, this.tallies[qos].sent++);
    }
  }

  private publish(qos: 1 | 2, seq: number): void {
    const tally = this.tallies[qos];
    const done = this.publisher
      .publish(`${this.options.topicBase}/qos${qos}`, JSON.stringify({ seq }), { qos })
      .then(
        () => void tally.acked++,
        () => void tally.failed++,
      );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  private received(message: Message): void {
    const qos = message.topic.endsWith('/qos1') ? 1 : message.topic.endsWith('/qos2') ? 2 : undefined;
    if (qos === undefined) return;
    const seq = seqOf(message.payload);
    if (seq === undefined) return;
    const tally = this.tallies[qos];
    const times = (tally.arrivals.get(seq) ?? 0) + 1;
    tally.arrivals.set(seq, times);
    if (times > 1) tally.duplicates++;
    this.deliveryTimes.push(this.options.now());
  }

  /** Everything sent has been delivered and acknowledged. */
  get settled(): boolean {
    return this.pending.size === 0 && this.tallies[1].missing === 0 && this.tallies[2].missing === 0;
  }

  /** Waits until settled, or `timeoutMs`. */
  async drain(timeoutMs: number, onTick?: () => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.settled && Date.now() < deadline) {
      onTick?.();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The longest time without a delivery between `from` and `to` (from the last delivery before `from`). */
  longestPause(from: number, to: number): number {
    let i = this.#indexAtOrAfter(from);
    let last = i === 0 ? from : this.deliveryTimes[i - 1];
    let longest = 0;
    for (; i < this.deliveryTimes.length && this.deliveryTimes[i] <= to; i++) {
      longest = Math.max(longest, this.deliveryTimes[i] - last);
      last = this.deliveryTimes[i];
    }
    return Math.max(longest, to - last);
  }

  /** The first delivery at or after `t`, if any. */
  firstDeliveryAfter(t: number): number | undefined {
    return this.deliveryTimes[this.#indexAtOrAfter(t)];
  }

  #indexAtOrAfter(t: number): number {
    // Binary search: the times are in order.
    let lo = 0;
    let hi = this.deliveryTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.deliveryTimes[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Disconnects both, removing their sessions from the broker (MQTT 5) unless told to keep them. */
  async close(): Promise<void> {
    this.stopPublishing();
    const goodbye = this.options.client.protocolVersion === 5 ? { sessionExpiryInterval: 0 } : undefined;
    await Promise.all(
      [this.publisher, this.subscriber].map((c) => (c.connected && goodbye ? c.end(0, goodbye) : c.end())),
    );
  }
}
