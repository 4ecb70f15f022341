/**
 * The demo's HTML report: one self-contained file (inline SVG and CSS, no
 * scripts, no external assets) with a timeline of the faults, each client's
 * connection, messages sent and delivered per second and messages in
 * flight, then the result table, the faults explained, and the event log.
 */
import { FAULT_KINDS } from './script.ts';
import { brokerNote, type DemoResult, duration, type FaultRecord, seconds, verdict } from './summary.ts';
import type { ConnectionEvent, Who } from './traffic.ts';

/** Cumulative counts once a second. */
export interface Sample {
  t: number;
  sent: [number, number];
  delivered: [number, number];
  publisherUp: boolean;
  subscriberUp: boolean;
}

export interface ReportInput {
  result: DemoResult;
  samples: Sample[];
  faults: FaultRecord[];
  events: ConnectionEvent[];
  notes: string[];
  /** When the run started, for the title. */
  date: Date;
}

const WIDTH = 1000;
const LEFT = 120;
const RIGHT = 20;
const PLOT = WIDTH - LEFT - RIGHT;
const COLOURS = { q1: '#1f77b4', q2: '#2ca02c', up: '#8fd18f', down: '#e45756' };

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderReport(input: ReportInput): string {
  const { result } = input;
  const end = Math.max(result.durationMs, input.samples.at(-1)?.t ?? 0, input.events.at(-1)?.t ?? 0);
  const x = (t: number) => LEFT + (Math.max(0, Math.min(t, end)) / end) * PLOT;
  const svg = [
    lanes(input, x, end),
    rateChart(input.samples, input.faults, x, end),
    inFlightChart(input.samples, input.faults, x, end),
  ].join('\n');
  const q = result.qos;
  const version = result.version === 5 ? 'MQTT 5.0' : 'MQTT 3.1.1';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>steadfast demo: ${esc(result.pass ? 'nothing lost' : 'messages lost')}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1040px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600}
.pass{background:#e6f4e6;border:1px solid #8fd18f}.fail{background:#fde8e8;border:1px solid #e45756}
table{border-collapse:collapse;margin:8px 0}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left} td{white-space:nowrap} td:last-child{white-space:normal} .muted{color:#666;font-size:13px}
svg{display:block;margin:6px 0} svg text{font:12px system-ui,sans-serif;fill:#333}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle;margin-right:4px}
</style></head><body>
<h1>steadfast demo: QoS 1 and QoS 2 through a failing link</h1>
<p class="muted">${esc(input.date.toISOString())} · ${esc(result.broker)} · ${version} · ${result.rate} messages/s at each QoS · ${seconds(result.durationMs)}</p>
<p class="verdict ${result.pass ? 'pass' : 'fail'}">${esc(verdict(result).split('\n')[0])}</p>
<p>A publisher sent numbered messages to a subscriber through a broker, at QoS 1 (at least once) and QoS 2
(exactly once), over a network that failed ${result.faults.length} times on a script. Both clients keep their
sessions on the broker, notice a dead connection by checking in every 2 s (keepalive) or by the socket
closing, reconnect, and send again what the other side had not confirmed. The subscriber counts every
number: any number that never arrived is <b>lost</b>, any that arrived twice is <b>duplicated</b>.</p>

<h2>Timeline</h2>
<p class="muted">Top: the faults, and when each client was connected (green) or not (red). Then, for QoS 1
and for QoS 2 apart: messages sent (grey, dashed) and delivered (solid) per second (delivery stops during an
outage and the backlog arrives in a burst after it), and messages sent but not yet delivered. Shaded bands
mark the faults.</p>
<p class="muted">${legend()}</p>
${svg}

<h2>Result</h2>
<table>
<tr><th></th><th>sent</th><th>delivered</th><th>lost</th><th>duplicated</th><th></th></tr>
<tr><td>QoS 1</td><td>${q[1].sent}</td><td>${q[1].delivered}</td><td>${q[1].lost}</td><td>${q[1].duplicated}</td><td class="muted">at least once: duplicates allowed, loss not</td></tr>
<tr><td>QoS 2</td><td>${q[2].sent}</td><td>${q[2].delivered}</td><td>${q[2].lost}</td><td>${q[2].duplicated}${q[2].brokerDuplicated ? ` (+${q[2].brokerDuplicated} by the broker)` : ''}</td><td class="muted">exactly once: neither allowed</td></tr>
</table>
${q[2].brokerDuplicated ? `<p>${esc(brokerNote(q[2].brokerDuplicated))}</p>` : ''}
<p>Outages survived: <b>${result.outages.publisher + result.outages.subscriber}</b> (publisher ${result.outages.publisher}, subscriber ${result.outages.subscriber}).
Recovery time (end of a fault to the next delivered message): ${
    result.recovery
      ? `p50 <b>${duration(result.recovery.p50)}</b>, max <b>${duration(result.recovery.max)}</b>`
      : 'n/a'
  }.</p>

<h2>The faults</h2>
<table>
<tr><th>fault</th><th>at</th><th>length</th><th>outages</th><th>no delivery for</th><th>first delivery after it</th><th style="text-align:left">what happened</th></tr>
${result.faults
  .map(
    (f) =>
      `<tr><td><span class="swatch" style="background:${FAULT_KINDS[f.kind].colour}"></span>${esc(FAULT_KINDS[f.kind].label)}</td><td>${seconds(f.start)}</td><td>${seconds(f.end - f.start)}</td><td>${f.outages}</td><td>${f.pausedMs === undefined ? '–' : duration(f.pausedMs)}</td><td>${f.recoveryMs === undefined ? '–' : duration(f.recoveryMs)}</td><td style="text-align:left">${esc(FAULT_KINDS[f.kind].explanation)}</td></tr>`,
  )
  .join('\n')}
</table>
${result.skipped.map((s) => `<p class="muted">${esc(s)}</p>`).join('\n')}

<h2>Connection events</h2>
<details><summary>${input.events.length} events</summary>
<table>
${input.events.map((e) => `<tr><td>${seconds(e.t)}</td><td>${e.who}</td><td>${e.up ? 'up' : 'down'}</td><td style="text-align:left">${esc(e.detail)}</td></tr>`).join('\n')}
</table></details>
<p class="muted">${input.notes.map(esc).join(' · ')} · made by <code>steadfast demo</code></p>
</body></html>
`;
}

function legend(): string {
  const item = (colour: string, text: string) =>
    `<span class="swatch" style="background:${colour}"></span>${esc(text)}`;
  return [
    ...Object.values(FAULT_KINDS).map((k) => item(k.colour, k.label)),
    item(COLOURS.q1, 'QoS 1'),
    item(COLOURS.q2, 'QoS 2'),
    item(COLOURS.up, 'connected'),
    item(COLOURS.down, 'down'),
  ].join(' &nbsp; ');
}

function timeAxis(x: (t: number) => number, end: number, y: number): string {
  const step = end > 120_000 ? 30_000 : end > 40_000 ? 10_000 : 5000;
  const ticks: string[] = [];
  for (let t = 0; t <= end; t += step) {
    ticks.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${y}" y2="${y + 4}" stroke="#666"/><text x="${x(t)}" y="${y + 16}" text-anchor="middle">${t / 1000} s</text>`,
    );
  }
  return `<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${y}" y2="${y}" stroke="#666"/>${ticks.join('')}`;
}

function faultBands(faults: FaultRecord[], x: (t: number) => number, top: number, height: number): string {
  return faults
    .map(
      (f) =>
        `<rect x="${x(f.start)}" y="${top}" width="${Math.max(1, x(f.end) - x(f.start))}" height="${height}" fill="${FAULT_KINDS[f.kind].colour}" opacity="0.15"/>`,
    )
    .join('');
}

/** The fault lane and one lane per client. */
function lanes(input: ReportInput, x: (t: number) => number, end: number): string {
  const rows: string[] = [];
  const laneY = (i: number) => 10 + i * 30;
  rows.push(`<text x="${LEFT - 8}" y="${laneY(0) + 15}" text-anchor="end">link / broker</text>`);
  rows.push(
    `<rect x="${LEFT}" y="${laneY(0)}" width="${PLOT}" height="20" fill="${COLOURS.up}" opacity="0.5"/>`,
  );
  for (const f of input.faults) {
    const w = Math.max(2, x(f.end) - x(f.start));
    const kind = FAULT_KINDS[f.kind];
    rows.push(
      `<rect x="${x(f.start)}" y="${laneY(0)}" width="${w}" height="20" fill="${kind.colour}"><title>${esc(`${kind.label}: ${kind.explanation}`)}</title></rect>`,
    );
    if (w > 60)
      rows.push(
        `<text x="${x(f.start) + 4}" y="${laneY(0) + 14}" style="fill:#fff">${esc(kind.label)}</text>`,
      );
  }
  (['publisher', 'subscriber'] as Who[]).forEach((who, i) => {
    const y = laneY(i + 1);
    rows.push(`<text x="${LEFT - 8}" y="${y + 15}" text-anchor="end">${who}</text>`);
    for (const span of connectionSpans(input.events, who, end)) {
      rows.push(
        `<rect x="${x(span.from)}" y="${y}" width="${Math.max(1, x(span.to) - x(span.from))}" height="20" fill="${span.up ? COLOURS.up : COLOURS.down}"><title>${esc(`${who} ${span.up ? 'connected' : 'down'} ${seconds(span.from)}–${seconds(span.to)}${span.why ? `: ${span.why}` : ''}`)}</title></rect>`,
      );
    }
  });
  const height = laneY(3) + 24;
  return `<svg width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="timeline of faults and connections">${rows.join('')}${timeAxis(x, end, laneY(3))}</svg>`;
}

function connectionSpans(events: ConnectionEvent[], who: Who, end: number) {
  const spans: { from: number; to: number; up: boolean; why?: string }[] = [];
  let from = 0;
  let up = false;
  let why: string | undefined = 'connecting';
  for (const e of events.filter((e) => e.who === who)) {
    if (e.up === up) continue;
    spans.push({ from, to: e.t, up, ...(why === undefined ? {} : { why }) });
    from = e.t;
    up = e.up;
    why = e.up ? undefined : e.detail;
  }
  spans.push({ from, to: end, up, ...(why === undefined ? {} : { why }) });
  return spans;
}

/** Per-second rates from cumulative samples. */
function rates(samples: Sample[]): { t: number; sent: number[]; delivered: number[] }[] {
  const out: { t: number; sent: number[]; delivered: number[] }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    const dt = Math.max(0.001, (b.t - a.t) / 1000);
    out.push({
      t: b.t,
      sent: [0, 1].map((k) => (b.sent[k] - a.sent[k]) / dt),
      delivered: [0, 1].map((k) => (b.delivered[k] - a.delivered[k]) / dt),
    });
  }
  return out;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * magnitude >= value) return m * magnitude;
  return 10 * magnitude;
}

function chart(
  title: string,
  series: { points: [number, number][]; colour: string; dashed?: boolean; label: string; width?: number }[],
  faults: FaultRecord[],
  x: (t: number) => number,
  end: number,
  height: number,
): string {
  const top = 20;
  const bottom = top + height;
  const max = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const y = (v: number) => bottom - (v / max) * height;
  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eee"/><text x="${LEFT - 6}" y="${y(max * f) + 4}" text-anchor="end">${Math.round(max * f)}</text>`,
    )
    .join('');
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.colour}" stroke-width="${s.width ?? 1.6}"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"><title>${esc(s.label)}</title></polyline>`,
    )
    .join('');
  const total = bottom + 26;
  return `<svg width="${WIDTH}" height="${total}" viewBox="0 0 ${WIDTH} ${total}" role="img" aria-label="${esc(title)}"><text x="${LEFT}" y="12">${esc(title)}</text>${faultBands(faults, x, top, height)}${grid}${lines}${timeAxis(x, end, bottom)}</svg>`;
}

/**
 * One panel per QoS: the two levels carry the same rate, so on one chart their lines lie on top of each
 * other. Apart, they can be told by position alone (also in grey scale or printed).
 */
function rateChart(samples: Sample[], faults: FaultRecord[], x: (t: number) => number, end: number): string {
  const r = rates(samples);
  return ([0, 1] as const)
    .map((k) => {
      const colour = k === 0 ? COLOURS.q1 : COLOURS.q2;
      const series = [
        {
          points: r.map((p) => [p.t, p.sent[k]] as [number, number]),
          colour: '#888',
          dashed: true,
          label: `QoS ${k + 1} sent per second`,
        },
        {
          points: r.map((p) => [p.t, p.delivered[k]] as [number, number]),
          colour,
          width: 2,
          label: `QoS ${k + 1} delivered per second`,
        },
      ];
      return chart(
        `messages per second, QoS ${k + 1}: sent (grey, dashed) and delivered (solid)`,
        series,
        faults,
        x,
        end,
        120,
      );
    })
    .join('\n');
}

function inFlightChart(
  samples: Sample[],
  faults: FaultRecord[],
  x: (t: number) => number,
  end: number,
): string {
  return ([0, 1] as const)
    .map((k) =>
      chart(
        `in flight, QoS ${k + 1}: sent but not yet delivered`,
        [
          {
            points: samples.map((s) => [s.t, s.sent[k] - s.delivered[k]] as [number, number]),
            colour: k === 0 ? COLOURS.q1 : COLOURS.q2,
            width: 2,
            label: `QoS ${k + 1} in flight (sent, not yet delivered)`,
          },
        ],
        faults,
        x,
        end,
        70,
      ),
    )
    .join('\n');
}
