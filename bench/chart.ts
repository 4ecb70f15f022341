/**
 * The chart: turns the JSON lines of the last full runs (bench/results/*.json,
 * written by throughput, memory and fanin) into one hand-written SVG,
 * docs/perf.svg, ours vs MQTT.js. Each row is one case; its bars are scaled
 * to the largest value in that row, and labelled with the value, so rows
 * with very different units and magnitudes read side by side.
 *
 *   npm run bench -- chart [--in <dir>] [--out <file>]
 *
 * With --quick (as in `all --quick`), it writes to the system temp dir
 * instead of docs/, so smoke runs never replace the published chart.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchCase, RESULTS_DIR } from './lib/report.ts';

interface BenchLine {
  bench: string;
  cases: BenchCase[];
  cpu?: string;
  nproc?: number;
  node?: string;
}

const DOCS_SVG = fileURLToPath(new URL('../docs/perf.svg', import.meta.url));
/** Which benchmarks go in the chart, in order, with a title and whether higher is better. */
const PANELS: { bench: string; title: string; higherIsBetter: boolean }[] = [
  {
    bench: 'throughput',
    title: 'Throughput, publisher -> Mosquitto -> subscriber (msg/s, higher is better)',
    higherIsBetter: true,
  },
  {
    bench: 'fanin',
    title: 'Fan-in, clients publishing from one process (msg/s, higher is better)',
    higherIsBetter: true,
  },
  { bench: 'memory', title: 'Memory (bytes, lower is better)', higherIsBetter: false },
];
const COLORS = { ours: '#1f77b4', ref: '#ff7f0e', raw: '#9e9e9e' };
const WIDTH = 760;
const LABEL_W = 170;
const BAR_W = 470;
const BAR_H = 11;

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Renders the SVG from benchmark JSON lines (any order; unknown benches are ignored). */
export function renderChart(lines: BenchLine[]): string {
  const byBench = new Map(lines.map((l) => [l.bench, l]));
  const parts: string[] = [];
  let y = 30;
  const machine = lines.find((l) => l.cpu !== undefined);
  parts.push(
    `<text x="10" y="20" font-size="14" font-weight="bold">steadfast-mqtt vs MQTT.js${machine ? escapeXml(` (${machine.nproc} cores, ${machine.cpu}, Node ${machine.node})`) : ''}</text>`,
  );
  for (const panel of PANELS) {
    const line = byBench.get(panel.bench);
    if (line === undefined) continue;
    y += 18;
    parts.push(`<text x="10" y="${y}" font-size="12" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += 8;
    for (const c of line.cases) {
      const bars: [keyof typeof COLORS, number][] = [
        ['ours', c.ours],
        ['ref', c.ref],
      ];
      if (typeof c.raw === 'number') bars.push(['raw', c.raw]);
      const max = Math.max(...bars.map(([, v]) => v), 1);
      const rowTop = y;
      parts.push(
        `<text x="10" y="${rowTop + (bars.length * (BAR_H + 2)) / 2 + 4}" font-size="11">${escapeXml(c.case)}</text>`,
      );
      for (const [who, value] of bars) {
        const w = Math.max(1, (value / max) * BAR_W);
        parts.push(
          `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[who]}"/>`,
          `<text x="${LABEL_W + w + 4}" y="${y + BAR_H - 2}" font-size="10">${fmt.format(value)}${who === 'ours' ? ` (${c.ratio.toFixed(2)}x)` : ''}</text>`,
        );
        y += BAR_H + 2;
      }
      y += 6;
    }
  }
  y += 8;
  const legend: [string, string][] = [
    ['steadfast-mqtt (ratio to MQTT.js)', COLORS.ours],
    ['MQTT.js 5', COLORS.ref],
    ['raw writer (the ceiling)', COLORS.raw],
  ];
  legend.forEach(([label, color], i) => {
    const x = 10 + i * 240;
    parts.push(
      `<rect x="${x}" y="${y}" width="12" height="12" fill="${color}"/>`,
      `<text x="${x + 16}" y="${y + 10}" font-size="11">${escapeXml(label)}</text>`,
    );
  });
  y += 22;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif" role="img">`,
    '<title>steadfast-mqtt against MQTT.js: throughput, fan-in and memory</title>',
    `<rect width="${WIDTH}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Reads the saved JSON lines in `dir`. */
export function readResults(dir: string): BenchLine[] {
  const out: BenchLine[] = [];
  for (const { bench } of PANELS) {
    const file = join(dir, `${bench}.json`);
    if (existsSync(file)) out.push(JSON.parse(readFileSync(file, 'utf8')) as BenchLine);
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const lines = readResults(values.in ?? RESULTS_DIR);
  const out = values.out ?? (values.quick ? join(tmpdir(), 'steadfast-perf.svg') : DOCS_SVG);
  if (lines.length === 0) {
    console.log(
      `chart: no results in ${values.in ?? RESULTS_DIR} yet (run the benchmarks without --quick first)`,
    );
    return;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderChart(lines));
  console.log(`chart: ${lines.map((l) => l.bench).join(', ')} -> ${out}`);
}
