/**
 * Runs the demo: a broker, the faulty link in front of it, the traffic
 * through the link, and the script of faults; then the table and the report.
 */
import { randomBytes } from 'node:crypto';
import type { NodeClientOptions } from '../../node.ts';
import { prng } from '../../radio/medium/random.ts';
import { UsageError } from '../args.ts';
import { CliFailure, describeError, EXIT } from '../exit.ts';
import { type DemoBroker, externalBroker, startAedes } from './brokers.ts';
import { Progress } from './display.ts';
import { FaultyLink } from './faulty-link.ts';
import { startLocalMosquitto } from './mosquitto.ts';
import type { Sample } from './report.ts';
import { buildScript, FAULT_KINDS, type ScheduledFault } from './script.ts';
import { type DemoResult, type FaultRecord, seconds, summarize } from './summary.ts';
import { seqOf, Traffic } from './traffic.ts';
import { BrokerResends, WireReader } from './wire-watch.ts';

export interface DemoOptions {
  /** `aedes` (embedded, default), `mosquitto` (started here) or a URL. */
  broker: { kind: 'aedes' } | { kind: 'mosquitto' } | { kind: 'url'; url: string };
  /** Default: the broker's (3.1.1 for Aedes, 5 otherwise). */
  version: 4 | 5 | undefined;
  durationMs: number;
  /** Messages per second at each QoS. */
  rate: number;
  /** Seed for the loss burst's randomness. */
  seed: number;
  /** Live terminal display (else plain lines). */
  live: boolean;
  /** TLS options for a broker given by URL. */
  tls: Pick<NodeClientOptions, 'ca' | 'rejectUnauthorized'>;
  /** Cancels the run (Ctrl-C). */
  signal: AbortSignal;
}

export interface DemoRun {
  result: DemoResult;
  samples: Sample[];
  faults: FaultRecord[];
  events: Traffic['events'];
  notes: string[];
}

async function openBroker(options: DemoOptions): Promise<DemoBroker> {
  switch (options.broker.kind) {
    case 'aedes':
      return startAedes();
    case 'mosquitto':
      return startLocalMosquitto();
    case 'url':
      return externalBroker(options.broker.url);
    default: {
      const never: never = options.broker;
      throw new Error(`unknown broker ${String(never)}`);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  const broker = await openBroker(options);
  const cleanups: (() => Promise<void>)[] = [() => broker.close()];
  try {
    const version = options.version ?? broker.defaultVersion;
    if (!broker.versions.includes(version)) {
      throw new UsageError(
        `${broker.description} cannot speak MQTT 5: use --broker mosquitto or --url for MQTT 5`,
      );
    }
    const resends = new BrokerResends((topic, payload) =>
      topic.endsWith('/qos2') ? seqOf(payload) : undefined,
    );
    const link = await FaultyLink.start({
      targetHost: broker.host,
      targetPort: broker.port,
      random: prng(options.seed),
      // Only plain MQTT can be read on the wire (not TLS, not WebSocket frames).
      ...(broker.protocol === 'mqtt'
        ? {
            tapToClient: () => {
              const reader = new WireReader(version, resends.listener());
              return (chunk: Buffer) => reader.push(chunk);
            },
          }
        : {}),
    });
    cleanups.unshift(() => link.close());
    const started = Date.now();
    const now = () => Date.now() - started;
    const client: NodeClientOptions = {
      url: `${broker.protocol}://127.0.0.1:${link.port}${broker.path ?? ''}`,
      protocolVersion: version,
      // Short timers, so a one-minute demo shows detection and recovery several times over.
      keepalive: 2,
      connectTimeout: 4000,
      quietPeriod: 500,
      reconnectPeriod: 500,
      reconnectPeriodMax: 2000,
      ...options.tls,
    };
    // Through the link the clients dial 127.0.0.1; TLS must still check the broker's own name.
    if (broker.protocol === 'mqtts' || broker.protocol === 'wss') client.servername = broker.host;
    if (broker.username !== undefined) client.username = broker.username;
    if (broker.password !== undefined) client.password = broker.password;
    // A broker of the user's should not keep our sessions forever if we die.
    if (version === 5 && options.broker.kind === 'url') client.properties = { sessionExpiryInterval: 600 };
    const runId = randomBytes(4).toString('hex');
    const traffic = new Traffic({ client, topicBase: `steadfast-demo/${runId}`, rate: options.rate, now });
    cleanups.unshift(() => traffic.close());
    const progress = new Progress(options.live);
    const said = [
      'A publisher sends numbered messages to a subscriber through a broker, at QoS 1 (at least once: a message may',
      'arrive twice, never not at all) and QoS 2 (exactly once). The network between them breaks on a script; the',
      'subscriber checks every number. Both clients keep their sessions on the broker, so nothing is lost meanwhile.',
      `broker: ${broker.description}`,
      `MQTT ${version === 5 ? '5.0' : '3.1.1'}, ${options.rate} messages/s at QoS 1 and at QoS 2, connections checked every 2 s (keepalive)`,
    ];
    // The broker's own notes go to the report, which has the room to explain them.
    const notes = [...said.slice(3), ...(broker.notes ?? [])];
    for (const line of said) progress.log(0, line);
    try {
      await traffic.connect(15_000);
    } catch (error) {
      const { message } = describeError(error);
      throw new CliFailure(
        `could not connect to the broker through the demo link: ${message}`,
        EXIT.UNREACHABLE,
      );
    }

    const { faults: script, leftOut } = buildScript(options.durationMs, broker.restartable);
    const skipped = [
      ...(broker.restartable
        ? []
        : ['broker restart: skipped (a broker given by --url is not ours to restart)']),
      ...leftOut,
    ];
    const faults: FaultRecord[] = [];
    const samples: Sample[] = [];
    let phase = 'publishing';
    let linkLabel = 'up';
    let nextIndex = 0;
    let lastSample = -1;
    const outages = () => traffic.events.filter((e) => !e.up).length;
    const snapshot = (final = false) => {
      const t = now();
      const next = script[nextIndex];
      const q = (level: 1 | 2) => ({
        sent: traffic.tallies[level].sent,
        delivered: traffic.tallies[level].delivered,
        duplicated: traffic.tallies[level].duplicates,
      });
      const qos = { 1: q(1), 2: q(2) };
      progress.update({
        t,
        durationMs: options.durationMs,
        phase,
        link: linkLabel,
        publisherUp: traffic.isUp('publisher'),
        subscriberUp: traffic.isUp('subscriber'),
        qos,
        outages: outages(),
        next: next
          ? `next: ${FAULT_KINDS[next.kind].label} at ${(next.at / 1000).toFixed(0)} s`
          : 'no more faults',
      });
      const second = Math.floor(t / 1000);
      if (second > lastSample || final) {
        lastSample = second;
        samples.push({
          t,
          sent: [qos[1].sent, qos[2].sent],
          delivered: [qos[1].delivered, qos[2].delivered],
          publisherUp: traffic.isUp('publisher'),
          subscriberUp: traffic.isUp('subscriber'),
        });
      }
    };
    let seenEvents = 0;
    const flushEvents = () => {
      for (; seenEvents < traffic.events.length; seenEvents++) {
        const e = traffic.events[seenEvents];
        progress.log(e.t, `${e.who} ${e.up ? 'up' : 'down'}: ${e.detail}`);
      }
    };
    const ticker = setInterval(() => {
      flushEvents();
      snapshot();
    }, 250);
    cleanups.unshift(async () => clearInterval(ticker));

    traffic.startPublishing();
    for (const fault of script) {
      await sleep(fault.at - now(), options.signal);
      if (options.signal.aborted) break;
      nextIndex++;
      const record = await applyFault(
        fault,
        link,
        broker,
        options.signal,
        (label) => {
          linkLabel = label;
          progress.log(
            now(),
            label === 'up'
              ? `${FAULT_KINDS[fault.kind].label} over`
              : `fault for ${seconds(fault.lengthMs)}: ${FAULT_KINDS[fault.kind].explanation}`,
          );
        },
        now,
      );
      faults.push(record);
    }
    await sleep(options.durationMs - now(), options.signal);
    traffic.stopPublishing();
    phase = 'draining: waiting for the last messages';
    progress.log(now(), 'publishing stopped; waiting for every message to arrive');
    await traffic.drain(options.signal.aborted ? 0 : 30_000);
    clearInterval(ticker);
    flushEvents();
    snapshot(true);
    progress.finish();
    const result = summarize(traffic, faults, {
      broker: broker.description,
      version,
      durationMs: options.durationMs,
      rate: options.rate,
      skipped,
      brokerResent: resends.resent,
    });
    return { result, samples, faults, events: traffic.events, notes };
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch {
        // Tear down the rest regardless.
      }
    }
  }
}

/** Starts a fault, waits its length, ends it; returns when it really started and ended. */
async function applyFault(
  fault: ScheduledFault,
  link: FaultyLink,
  broker: DemoBroker,
  signal: AbortSignal,
  announce: (label: string) => void,
  now: () => number,
): Promise<FaultRecord> {
  const start = now();
  switch (fault.kind) {
    case 'link-drop':
      link.setState('down');
      announce('DOWN (link drop)');
      break;
    case 'half-open':
      link.setState('half-open');
      announce('HALF-OPEN (bytes stop, sockets stay open)');
      break;
    case 'loss':
      link.setState('lossy');
      announce('LOSSY (radio-style loss and retransmission)');
      break;
    case 'broker-restart':
      announce('broker DOWN (restarting)');
      await broker.stopForRestart();
      break;
    default: {
      const never: never = fault.kind;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
  await sleep(start + fault.lengthMs - now(), signal);
  if (fault.kind === 'broker-restart') await broker.startAgain();
  else link.setState('up');
  const end = now();
  announce('up');
  return { kind: fault.kind, start, end };
}
