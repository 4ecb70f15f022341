/**
 * What the demo found: per-QoS counts, outages per fault, recovery times,
 * and the verdict; and the text table printed at the end of a run.
 */
import { FAULT_KINDS, type FaultKind } from './script.ts';
import type { ConnectionEvent, Traffic } from './traffic.ts';

/** A fault as it happened (ms since the run started). */
export interface FaultRecord {
  kind: FaultKind;
  start: number;
  /** When the link or broker was back. */
  end: number;
}

export interface QosResult {
  sent: number;
  delivered: number;
  lost: number;
  /** Duplicates the client let through (QoS 2: must be 0). */
  duplicated: number;
  /** QoS 2: extra deliveries of messages the broker re-sent after their PUBREL (the broker's fault). */
  brokerDuplicated: number;
}

export interface FaultResult extends FaultRecord {
  /** Connections (publisher + subscriber) that went down during or because of this fault. */
  outages: number;
  /** From the end of the fault to the next message delivered; undefined if none came. */
  recoveryMs: number | undefined;
  /** The longest time without a delivery from the fault's start to the first delivery after it. */
  pausedMs: number | undefined;
}

export interface DemoResult {
  broker: string;
  version: 4 | 5;
  durationMs: number;
  rate: number;
  qos: Record<1 | 2, QosResult>;
  outages: { publisher: number; subscriber: number };
  faults: FaultResult[];
  skipped: string[];
  recovery: { p50: number; max: number } | undefined;
  /** Every message was accounted for before the drain timeout. */
  drained: boolean;
  /** No QoS 1 loss, no QoS 2 loss or duplicate. */
  pass: boolean;
}

export function summarize(
  traffic: Traffic,
  faults: FaultRecord[],
  meta: Pick<DemoResult, 'broker' | 'version' | 'durationMs' | 'rate' | 'skipped'> & {
    brokerResent: Set<number>;
  },
): DemoResult {
  const { brokerResent, ...about } = meta;
  const qos = {} as Record<1 | 2, QosResult>;
  for (const level of [1, 2] as const) {
    const tally = traffic.tallies[level];
    let brokerDuplicated = 0;
    if (level === 2) {
      for (const [seq, times] of tally.arrivals)
        if (times > 1 && brokerResent.has(seq)) brokerDuplicated += times - 1;
    }
    qos[level] = {
      sent: tally.sent,
      delivered: tally.delivered,
      lost: tally.missing,
      duplicated: tally.duplicates - brokerDuplicated,
      brokerDuplicated,
    };
  }
  const downs = traffic.events.filter((e) => !e.up);
  const results: FaultResult[] = faults.map((fault, i) => {
    const until = faults[i + 1]?.start ?? Number.POSITIVE_INFINITY;
    const next = traffic.firstDeliveryAfter(fault.end);
    return {
      ...fault,
      outages: downs.filter((e) => e.t >= fault.start && e.t < until).length,
      recoveryMs: next === undefined ? undefined : next - fault.end,
      pausedMs: next === undefined ? undefined : traffic.longestPause(fault.start, next),
    };
  });
  const recoveries = results.map((r) => r.recoveryMs).filter((r): r is number => r !== undefined);
  recoveries.sort((a, b) => a - b);
  return {
    ...about,
    qos,
    outages: count(downs),
    faults: results,
    recovery:
      recoveries.length === 0
        ? undefined
        : {
            p50: recoveries[Math.floor((recoveries.length - 1) / 2)],
            max: recoveries[recoveries.length - 1],
          },
    drained: traffic.settled,
    pass: qos[1].lost === 0 && qos[2].lost === 0 && qos[2].duplicated === 0,
  };
}

function count(downs: ConnectionEvent[]): DemoResult['outages'] {
  return {
    publisher: downs.filter((e) => e.who === 'publisher').length,
    subscriber: downs.filter((e) => e.who === 'subscriber').length,
  };
}

/** A time for people: "4 ms" below a second, else seconds. */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms);
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The verdict in one sentence. */
export function verdict(result: DemoResult): string {
  if (!result.pass) {
    const what: string[] = [];
    if (result.qos[1].lost) what.push(`${result.qos[1].lost} QoS 1 lost`);
    if (result.qos[2].lost) what.push(`${result.qos[2].lost} QoS 2 lost`);
    if (result.qos[2].duplicated) what.push(`${result.qos[2].duplicated} QoS 2 duplicated`);
    return `FAIL: ${what.join(', ')}${result.drained ? '' : ' (still missing when the demo stopped waiting)'}`;
  }
  const dup = result.qos[1].duplicated;
  const broker = result.qos[2].brokerDuplicated;
  return `PASS: no QoS 1 message lost, no QoS 2 message lost or duplicated${
    dup
      ? `; the ${dup} QoS 1 duplicate${dup === 1 ? ' is a re-send' : 's are re-sends'} QoS 1 allows (at least once)`
      : ''
  }.${broker ? `\n${brokerNote(broker)}` : ''}`;
}

/** Why QoS 2 duplicates the broker caused are counted apart. */
export function brokerNote(count: number): string {
  return `Not counted above: the broker delivered ${count} QoS 2 message${count === 1 ? '' : 's'} a second time as new messages, after it had sent their PUBREL (seen on the wire). A broker must never do that, and no client can tell such a message from a new one; the broker's fault, not the client's.`;
}

/** The final table, for the terminal. */
export function formatTable(result: DemoResult): string {
  const total = result.outages.publisher + result.outages.subscriber;
  const rows = [
    ['', 'sent', 'delivered', 'lost', 'duplicated'],
    ...([1, 2] as const).map((q) => {
      const r = result.qos[q];
      return [`QoS ${q}`, String(r.sent), String(r.delivered), String(r.lost), String(r.duplicated)];
    }),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows.map((row, i) => {
    const line = row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('   ');
    if (i === 1 && result.qos[1].duplicated > 0) return `${line}   (allowed: QoS 1 is at least once)`;
    if (i === 2 && result.qos[2].brokerDuplicated > 0) {
      return `${line}   (exactly once; + ${result.qos[2].brokerDuplicated} re-sent by the broker after PUBREL, see below)`;
    }
    if (i === 2) return `${line}   (QoS 2 is exactly once: must be 0 and 0)`;
    return line;
  });
  const faultRows = result.faults.map((f) => [
    FAULT_KINDS[f.kind].label,
    `at ${seconds(f.start)}`,
    `for ${seconds(f.end - f.start)}`,
    `${f.outages} outage${f.outages === 1 ? '' : 's'}`,
    f.recoveryMs === undefined || f.pausedMs === undefined
      ? 'no delivery after it'
      : `no delivery for ${duration(f.pausedMs)}, the first ${duration(f.recoveryMs)} after it ended`,
  ]);
  const fw = faultRows.length
    ? faultRows[0].map((_, c) => Math.max(...faultRows.map((r) => r[c].length)))
    : [];
  const recovery = result.recovery
    ? `p50 ${duration(result.recovery.p50)}, max ${duration(result.recovery.max)} (end of a fault to the next delivered message)`
    : 'n/a';
  return [
    ...table,
    '',
    `outages survived   ${total} (publisher ${result.outages.publisher}, subscriber ${result.outages.subscriber}) in ${result.faults.length} scripted faults`,
    `recovery time      ${recovery}`,
    '',
    ...faultRows.map((r) => `  ${r.map((cell, c) => cell.padEnd(fw[c])).join('  ')}`.trimEnd()),
    ...result.skipped.map((s) => `  ${s}`),
    '',
    verdict(result),
  ].join('\n');
}
