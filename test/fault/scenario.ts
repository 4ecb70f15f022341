// The standard fault-test setup, so each test only says which fault it
// injects: a FaultNet, Mosquitto in the broker namespace, optionally the fault
// proxy in front of it, a "device" worker in the client namespace and a "peer"
// worker on the broker's loopback (never touched by faults). Streams both
// ways: the device publishes QoS 1 and 2 on up/q1, up/q2 and subscribes to
// down/q1, down/q2; the peer does the opposite. A DeliveryChecker is fed
// every event as it comes.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { NsBroker } from './broker.ts';
import { DeliveryChecker, type DeliveryReport, formatReport } from './checker.ts';
import { HandoffTracker } from './handoff.ts';
import { FaultNet, faultNetUnsupported } from './netns.ts';
import type { ProxyEvent } from './proxy.ts';
import { ProxyProcess } from './proxy-process.ts';
import { type AnyWorkerEvent, Worker } from './worker.ts';
import type { WorkerConfig } from './worker-protocol.ts';

/** Client timing for fault tests: outages are noticed in seconds and reconnects are quick. */
export const FAST: Partial<WorkerConfig> = {
  keepalive: 2,
  responseTimeout: 2000,
  reconnectPeriod: 200,
  reconnectPeriodMax: 1000,
  connectTimeout: 2000,
};

/** Per-test timeout (node:test option): generous, the slowest test takes ~15 s. */
export const FAULT_TEST = { timeout: 90_000 };

/** Why these tests cannot run here, or undefined. Use as `test(name, { skip: FAULT_SKIP })`. */
export const FAULT_SKIP: string | false = faultNetUnsupported() ?? false;

/** Options for {@link Scenario.start}. */
export interface ScenarioOptions {
  /** MQTT version of both clients. Default 5. */
  version?: 4 | 5;
  /** Route the device through the fault proxy (in the broker namespace). Default false. */
  proxy?: boolean;
  /**
   * Route both clients through the proxy (the peer over the broker's
   * loopback) with packet tracing on, and feed the broker's PUBACK/PUBREC
   * times to the checker (handoff.ts), for exact blame at a broker kill -9.
   * Default false.
   */
  trace?: boolean;
  /** Device client settings over {@link FAST}. */
  device?: Partial<WorkerConfig>;
  /** Messages per stream. Default 40. */
  count?: number;
  /** ms between publishes. Default 50. */
  interval?: number;
  /** Payload size in bytes. Default: just the digits. */
  size?: number;
  /** Mosquitto logs every packet. Default false. */
  verboseBroker?: boolean;
}

export const TOPICS = { up1: 'up/q1', up2: 'up/q2', down1: 'down/q1', down2: 'down/q2' } as const;

export class Scenario {
  readonly checker = new DeliveryChecker();
  /** `Date.now()` at start, to print times relative to it. */
  readonly t0 = Date.now();
  private constructor(
    private readonly t: TestContext,
    readonly options: ScenarioOptions,
    readonly net: FaultNet,
    readonly broker: NsBroker,
    readonly proxy: ProxyProcess | undefined,
    readonly device: Worker,
    readonly peer: Worker,
  ) {
    for (const w of [device, peer]) {
      for (const e of w.events) this.checker.record(e);
      w.on((e) => this.checker.record(e));
    }
    const handoffs = new HandoffTracker();
    proxy?.child.on((e) => {
      if (e.ev !== 'packet') return;
      const handoff = handoffs.feed(e);
      if (handoff) this.checker.record(handoff);
    });
  }

  /** Sets everything up, subscribes both clients, and registers the teardown with `t`. */
  static async start(t: TestContext, options: ScenarioOptions = {}): Promise<Scenario> {
    const version = options.version ?? 5;
    const net = await FaultNet.create();
    const parts: { broker?: NsBroker; proxy?: ProxyProcess; workers: Worker[] } = { workers: [] };
    t.after(async () => {
      for (const w of parts.workers) await w.end().catch(() => w.kill9());
      await parts.proxy?.close();
      await parts.broker?.destroy();
      await net.destroy();
    });
    const broker = await NsBroker.start({ net, verbose: options.verboseBroker });
    parts.broker = broker;
    let deviceUrl = broker.url;
    let peerUrl = broker.localUrl;
    if (options.proxy || options.trace) {
      const proxy = await ProxyProcess.start({ net, targetPort: broker.port });
      parts.proxy = proxy;
      deviceUrl = `mqtt://${net.ip.broker}:${proxy.port}`;
      if (options.trace) peerUrl = `mqtt://127.0.0.1:${proxy.port}`;
    }
    const [device, peer] = await Promise.all([
      Worker.start({
        name: 'device',
        net,
        side: 'client',
        url: deviceUrl,
        clientId: 'device',
        version,
        ...FAST,
        ...options.device,
      }),
      Worker.start({
        name: 'peer',
        net,
        side: 'broker',
        url: peerUrl,
        clientId: 'peer',
        version,
        ...FAST,
      }),
    ]);
    parts.workers.push(device, peer);
    await Promise.all([
      device.subscribe(TOPICS.down1, 1),
      device.subscribe(TOPICS.down2, 2),
      peer.subscribe(TOPICS.up1, 1),
      peer.subscribe(TOPICS.up2, 2),
    ]);
    const scenario = new Scenario(t, options, net, broker, parts.proxy, device, peer);
    if (options.trace) await parts.proxy!.trace(true);
    return scenario;
  }

  /** Starts all four streams (device up, peer down); returns at once. */
  startStreams(): void {
    const { count = 40, interval = 50, size } = this.options;
    this.device.publish({ topic: TOPICS.up1, qos: 1, count, interval, size });
    this.device.publish({ topic: TOPICS.up2, qos: 2, count, interval, size });
    this.peer.publish({ topic: TOPICS.down1, qos: 1, count, interval, size });
    this.peer.publish({ topic: TOPICS.down2, qos: 2, count, interval, size });
  }

  /** Waits until the device has received `n` messages (any stream): the streams are flowing. */
  async waitFlowing(n = 8): Promise<void> {
    let seen = 0;
    await this.device.waitFor((e) => e.ev === 'recv' && ++seen >= n, { from: 0, what: `${n} messages` });
  }

  /** Kills the broker with SIGKILL and tells the checker. */
  async killBroker(): Promise<void> {
    this.checker.brokerKilled(await this.broker.kill9());
  }

  /**
   * Waits until every publish has settled and every announced message has
   * arrived. Resolves false instead of failing after `timeoutMs`, so the
   * report can say what is missing.
   */
  waitDelivered(timeoutMs = 30_000): Promise<boolean> {
    const workers = [this.device, this.peer];
    const unsettled = new Set<string>(Object.values(TOPICS));
    const settle = (e: AnyWorkerEvent) => {
      if (e.ev === 'pubdone') unsettled.delete(e.topic);
    };
    for (const w of workers) w.events.forEach(settle);
    const done = () => unsettled.size === 0 && this.checker.missing() === 0;
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const offs = workers.map((w) =>
        w.on((e) => {
          settle(e);
          if (done()) finish(true);
        }),
      );
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        for (const off of offs) off();
        resolve(ok);
      };
    });
  }

  /**
   * Ends both clients cleanly (so every message they got is reported) and
   * returns the checker's report, also printed as a test diagnostic.
   */
  async finish(): Promise<DeliveryReport> {
    await Promise.all([this.device.end(), this.peer.end()]);
    const report = this.checker.report();
    // What the broker was blamed for, with the packets behind it, so the blame can be checked.
    const blamed = report.streams.flatMap((st) =>
      [...new Set([...st.brokerLostSeqs, ...(st.qos === 2 ? st.brokerDupSeqs : [])])].map((seq) =>
        this.packetsOf(st.topic, seq),
      ),
    );
    this.t.diagnostic([formatReport(report), this.timeline(), ...blamed.filter(Boolean)].join('\n'));
    this.dump();
    return report;
  }

  /**
   * With `SFM_DUMP=<dir>` in the environment: writes every event of the
   * device, the peer and the proxy to `<dir>/<test name>.<who>.jsonl`, for a
   * look at a run afterwards.
   */
  dump(): void {
    const dir = process.env.SFM_DUMP;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const base = join(dir, this.t.name.replace(/[^\w.-]+/g, '_'));
    const sources: [string, readonly object[]][] = [
      ['device', this.device.events],
      ['peer', this.peer.events],
      ['proxy', this.proxy?.events ?? []],
      ['kills', this.broker.killTimes.map((t) => ({ ev: 'kill', t }))],
    ];
    for (const [who, events] of sources) {
      writeFileSync(`${base}.${who}.jsonl`, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    }
  }

  /**
   * Asserts QoS 1: nothing lost; QoS 2: nothing lost and nothing duplicated
   * (losses and duplicates the checker blames on a broker kill -9 excepted).
   */
  assertDelivery(report: DeliveryReport): void {
    const suspects = report.streams.flatMap((st) =>
      [...st.lostSeqs, ...st.dupSeqs].map((seq) => [st.topic, seq] as const),
    );
    const traces = suspects.map(([topic, seq]) => this.packetsOf(topic, seq)).filter(Boolean);
    const why = `\n${formatReport(report)}\n${this.timeline()}${traces.length ? `\n${traces.join('\n')}` : ''}`;
    // publish() must never give up on a message because of an outage.
    const failed = [...this.device.events, ...this.peer.events].filter((e) => e.ev === 'failed');
    assert.deepEqual(failed, [], `publishes failed${why}`);
    for (const qos of [1, 2] as const) {
      const counts = report.byQos[qos];
      assert.ok(counts.sent > 0, `nothing was published at QoS ${qos}${why}`);
      assert.equal(counts.lost, 0, `QoS ${qos}: ${counts.lost} lost${why}`);
    }
    assert.equal(report.byQos[2].dup, 0, `QoS 2: ${report.byQos[2].dup} duplicates${why}`);
  }

  /**
   * With tracing on: every packet that carried message `seq` of `topic`, and
   * every later packet of the same client with the same packet id, for
   * failure messages. Empty without a trace.
   */
  packetsOf(topic: string, seq: number): string {
    const rel = (t: number) => `${((t - this.t0) / 1000).toFixed(3)}s`;
    const ids = new Set<string>();
    const lines: string[] = [];
    const packets = (this.proxy?.events ?? []).filter(
      (e): e is ProxyEvent & { ev: 'packet' } => e.ev === 'packet',
    );
    const kills = this.broker.killTimes.map((t) => ({ ev: 'kill' as const, t }));
    const events = [...packets, ...kills].sort((a, b) => a.t - b.t);
    for (const e of events) {
      if (e.ev === 'kill') {
        if (lines.length) lines.push(`  ${rel(e.t)} broker kill -9`);
        continue;
      }
      if (e.packetId === undefined) continue;
      const key = `${e.client}:${e.packetId}`;
      const carries =
        e.type === 'PUBLISH' && e.topic === topic && Number.parseInt(e.payloadHead ?? '', 10) === seq;
      if (carries) ids.add(key);
      else if (!ids.has(key)) continue;
      else if (e.type === 'PUBLISH') {
        ids.delete(key); // the id now carries another message
        continue;
      }
      const what = e.type === 'PUBLISH' ? ` dup=${e.dup} qos=${e.qos}` : '';
      const dropped = e.dropped ? ' (dropped by a cut)' : '';
      lines.push(
        `  ${rel(e.t)} conn ${e.conn} ${e.client} ${e.direction} ${e.type} id=${e.packetId}${what}${dropped}`,
      );
    }
    return lines.length ? `packets of ${topic} #${seq}:\n${lines.join('\n')}` : '';
  }

  /** The device's connection events (and broker kills), times relative to the start, for failure messages. */
  timeline(): string {
    const rel = (t: number) => `${((t - this.t0) / 1000).toFixed(2)}s`;
    const lines: string[] = [];
    for (const e of this.device.events as AnyWorkerEvent[]) {
      if (e.ev === 'up') lines.push(`${rel(e.t)} device up sessionPresent=${e.sessionPresent}`);
      if (e.ev === 'down') lines.push(`${rel(e.t)} device down wasUp=${e.wasUp} ${e.cause}`);
      if (e.ev === 'exit') lines.push(`${rel(e.t)} device exit ${e.code ?? e.signal}`);
    }
    for (const k of this.broker.killTimes) lines.push(`${rel(k)} broker kill -9`);
    for (const e of this.proxy?.events ?? []) {
      if (e.ev !== 'cut') continue;
      const { ev: _ev, t, ...rest } = e;
      lines.push(`${rel(t)} proxy cut ${JSON.stringify(rest)}`);
    }
    return lines.sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b)).join('\n');
  }

  /**
   * Asserts that the device went down after event index `from` and came back
   * up with its session. Returns the down and up events.
   */
  async assertReconnected(
    from: number,
  ): Promise<{ down: AnyWorkerEvent & { ev: 'down' }; up: AnyWorkerEvent & { ev: 'up' } }> {
    const down = await this.device.waitDown({ from, timeoutMs: 30_000 });
    const downAt = this.device.events.indexOf(down);
    const up = await this.device.waitUp({ from: downAt, timeoutMs: 30_000 });
    assert.ok(up.sessionPresent, `the device's session was not resumed\n${this.timeline()}`);
    return { down, up };
  }
}
