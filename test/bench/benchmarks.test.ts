// Keeps the network benchmarks from rotting: each runs in its quickest mode,
// as `npm run bench` would run it, against a real Mosquitto, and its final
// JSON line must have the documented shape. No timing is asserted: the
// numbers of a quick run on a shared machine mean nothing, only that every
// case ran and produced a finite, positive measurement.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderChart } from '../../bench/chart.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `npm run bench -- <name> --quick [args]` (without npm) and returns stdout. */
function runBench(name: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', name, '--quick', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`bench ${name} exited ${code}\n${out}\n${err}`));
    });
  });
}

interface Line {
  bench: string;
  cases: Record<string, unknown>[];
}

function lastJsonLine(out: string): Line {
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Line;
}

function checkShape(line: Line, bench: string, expectedCases: string[], units: RegExp): void {
  assert.equal(line.bench, bench);
  assert.deepEqual(
    line.cases.map((c) => c.case),
    expectedCases,
  );
  for (const c of line.cases) {
    for (const key of ['ours', 'ref', 'ratio'] as const) {
      assert.equal(typeof c[key], 'number', `${bench} ${c.case}: ${key}`);
      assert.ok(
        Number.isFinite(c[key] as number) && (c[key] as number) >= 0,
        `${bench} ${c.case}: ${key} = ${c[key]}`,
      );
    }
    assert.equal(c.ref_name, 'mqtt.js');
    assert.match(String(c.unit), units);
  }
}

const cases = (prefixes: string[], suffixes: string[]) =>
  prefixes.flatMap((p) => suffixes.map((s) => `${p} ${s}`));

/** Every JSON line of a run's stdout, by its bench name. */
function jsonLines(out: string): Map<string, Line> {
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{"bench"'))
    .map((l) => JSON.parse(l) as Line);
  return new Map(lines.map((l) => [l.bench, l]));
}

test('throughput --quick runs both modes (Mosquitto end to end, then the sink), every QoS and size, with the raw writer', {
  timeout: 180_000,
}, async () => {
  const out = await runBench('throughput');
  assert.match(out, /throughput \(end to end\)/);
  assert.match(out, /throughput \(client-bound\)/);
  const lines = jsonLines(out);
  assert.equal(lastJsonLine(out).bench, 'throughput-sink');
  for (const bench of ['throughput', 'throughput-sink']) {
    const line = lines.get(bench);
    assert.ok(line, `${bench}: a JSON line`);
    const publishing = cases(['qos0', 'qos1', 'qos2'], ['16B']).concat(
      cases(['qos0', 'qos1', 'qos2'], ['1KiB']),
    );
    // The sink also blasts messages at a subscriber: the receiving cases.
    const expected =
      bench === 'throughput' ? publishing : publishing.concat(publishing.map((c) => `receive ${c}`));
    checkShape(line, bench, expected, /^msg\/s$/);
    for (const c of line.cases) {
      assert.ok(
        (c.ours as number) > 0 && (c.ref as number) > 0 && (c.raw as number) > 0,
        `${bench} ${c.case}: all three measured`,
      );
      assert.equal(typeof c.ratio_raw, 'number');
      assert.ok((c.ours_cpu_us as number) > 0, `${bench} ${c.case}: CPU per message`);
    }
    // steadfast honours the broker's Receive Maximum: it never loses a message.
    if (bench === 'throughput') for (const c of line.cases) assert.equal(c.ours_lost, 0, `${c.case}`);
  }
});

test('throughput --inflight sweeps the in-flight cap against the sink and Mosquitto', {
  timeout: 120_000,
}, async () => {
  const line = lastJsonLine(await runBench('throughput', ['--inflight']));
  assert.equal(line.bench, 'throughput-inflight');
  const expected = ['sink', 'mosquitto'].flatMap((b) =>
    [1, 2].flatMap((q) => ['16', '100', 'unbounded'].map((cap) => `${b} qos${q} 16B cap ${cap}`)),
  );
  assert.deepEqual(
    line.cases.map((c) => c.case),
    expected,
  );
  for (const c of line.cases) assert.ok((c.ours as number) > 0, `${c.case}: measured`);
});

test('roam --quick walks past three gateways, stands between two, sleeps', { timeout: 180_000 }, async () => {
  const line = lastJsonLine(await runBench('roam')) as unknown as Record<string, unknown>;
  assert.equal(line.bench, 'roam');
  for (const key of [
    'handovers',
    'handover_ms_p50',
    'handover_ms_max',
    'qos1_lost',
    'qos2_lost',
    'qos2_dup',
    'wills_while_in_range',
    'switches_per_hour_between_two',
    'sleep_radio_on_ratio',
  ]) {
    assert.equal(typeof line[key], 'number', key);
    assert.ok(Number.isFinite(line[key] as number) && (line[key] as number) >= 0, `${key} = ${line[key]}`);
  }
  assert.ok((line.handovers as number) > 0 && (line.sleep_radio_on_ratio as number) > 1);
});

test('latency --quick prints p50/p99/max per QoS', { timeout: 120_000 }, async () => {
  const line = lastJsonLine(await runBench('latency'));
  checkShape(line, 'latency', cases(['qos0', 'qos1', 'qos2'], ['p50', 'p99', 'max']), /^ms$/);
});

test('memory --quick measures idle clients and queued messages, each side in its own process', {
  timeout: 180_000,
}, async () => {
  const line = lastJsonLine(await runBench('memory'));
  checkShape(
    line,
    'memory',
    ['idle client heap', 'idle client rss', 'queued message heap', 'queued message rss'],
    /^B\/(client|msg)$/,
  );
  const heap = line.cases.find((c) => c.case === 'idle client heap')!;
  assert.ok((heap.ours as number) > 0 && (heap.ref as number) > 0, 'a connected client costs something');
});

test('fanin --quick measures both QoS', { timeout: 180_000 }, async () => {
  const line = lastJsonLine(await runBench('fanin'));
  checkShape(line, 'fanin', ['qos0 100 clients', 'qos1 100 clients'], /^msg\/s$/);
});

test('recovery --quick times every outage for both libraries', { timeout: 180_000 }, async () => {
  const line = lastJsonLine(await runBench('recovery'));
  checkShape(
    line,
    'recovery',
    ['recovery p50', 'recovery p90', 'recovery max', 'within bound'],
    /^(ms|of 3)$/,
  );
});

test('storm --quick restarts the broker under both fleets and runs accept-then-drop', {
  timeout: 180_000,
}, async () => {
  const line = lastJsonLine(await runBench('storm'));
  checkShape(
    line,
    'storm',
    [
      'restart peak connects',
      'restart peak connects/s',
      'restart all up',
      'restart attempts',
      'drop attempts first bin',
      'drop attempts last bin',
    ],
    /^(per 100 ms|per s|ms|per client|per client per min)$/,
  );
  const restart = (line as unknown as { restart: Record<string, { up_before_door: number }> }).restart;
  for (const lib of ['ours', 'mqttjs'])
    assert.equal(restart[lib].up_before_door, 200, `${lib}: whole fleet up`);
});

test('the chart draws one bar per contender per case, escaping text', () => {
  const svg = renderChart([
    {
      bench: 'throughput',
      cases: [
        { case: 'qos1 <16B>', ours: 200, ref: 100, ref_name: 'mqtt.js', ratio: 2, unit: 'msg/s', raw: 300 },
      ],
    },
    {
      bench: 'memory',
      cases: [
        { case: 'idle client heap', ours: 5, ref: 10, ref_name: 'mqtt.js', ratio: 0.5, unit: 'B/client' },
      ],
    },
    { bench: 'unknown', cases: [] },
  ]);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('qos1 &lt;16B&gt;'));
  assert.ok(!svg.includes('<16B>'));
  // 3 bars for throughput (ours, mqtt.js, raw) + 2 for memory + background + 3 legend swatches.
  assert.equal(svg.match(/<rect /g)?.length, 3 + 2 + 1 + 3);
  // The largest bar of a row spans the full width; ours at 200 of 300 is two thirds of it.
  assert.ok(svg.includes('width="470.0"'));
  assert.ok(svg.includes('width="313.3"'));
});

test('quickjs --quick reports the heap the full session (both versions) and the lite engine add in QuickJS', {
  timeout: 60_000,
}, async () => {
  const line = lastJsonLine(await runBench('quickjs'));
  assert.equal(line.bench, 'quickjs');
  assert.deepEqual(
    line.cases.map((c) => c.case),
    ['full session MQTT 3.1.1', 'full session MQTT 5.0', 'lite engine MQTT 3.1.1'],
  );
  for (const c of line.cases) {
    assert.ok((c.code_bytes as number) > 0 && (c.state_bytes as number) > 0, `${c.case}: code and state`);
    assert.equal(c.ours, (c.code_bytes as number) + (c.state_bytes as number));
  }
});
