/**
 * `steadfast demo` end to end, as a user runs it (output not a terminal):
 * against the embedded Aedes (MQTT 3.1.1) and against a Mosquitto the demo
 * starts itself (MQTT 5). A 30 s run goes through every scripted fault; the
 * package test (test/package/) runs a short one from the installed tarball.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Run, steadfast } from './run-cli.ts';

/** The QoS rows of the final table: [sent, delivered, lost, duplicated]. */
function row(run: Run, qos: 1 | 2): number[] {
  const match = new RegExp(`^QoS ${qos}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(run.stdout);
  assert.ok(match, `no QoS ${qos} row in:\n${run.stdout}`);
  return match.slice(1).map(Number);
}

function checkRun(run: Run, faults: string[]): void {
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  for (const qos of [1, 2] as const) {
    const [sent, delivered, lost, duplicated] = row(run, qos);
    assert.ok(sent > 300, `QoS ${qos}: ${sent} sent`);
    assert.equal(delivered, sent, `QoS ${qos}: every message delivered`);
    assert.equal(lost, 0, `QoS ${qos}: nothing lost`);
    if (qos === 2) assert.equal(duplicated, 0, 'QoS 2: no duplicate');
  }
  assert.match(run.stdout, /outages survived\s+\d+ \(publisher \d+, subscriber \d+\) in \d+ scripted faults/);
  assert.match(run.stdout, /recovery time\s+p50 [\d.]+ m?s, max [\d.]+ m?s/);
  // Each fault says how long delivery paused, in ms below a second (never "0.00 s").
  assert.match(run.stdout, /no delivery for [\d.]+ m?s, the first [\d.]+ m?s after it ended/);
  assert.doesNotMatch(run.stdout, /0\.00 s after it ended/);
  // Both clients keep their sessions, and the broker says so after each outage.
  assert.match(run.stdout, /publisher up: session resumed/);
  assert.match(run.stdout, /subscriber up: session resumed/);
  assert.doesNotMatch(run.stdout, /\] (publisher|subscriber) up: new session[\s\S]*\] \1 up: new session/);
  // No internal jargon at the start.
  assert.doesNotMatch(run.stdout, /PUBREL/);
  for (const fault of faults) assert.match(run.stdout, new RegExp(`^  ${fault}\\s+at `, 'm'));
  assert.match(run.stdout, /^PASS: no QoS 1 message lost/m);
  // Plain progress lines, not a live display, when the output is not a terminal.
  assert.doesNotMatch(run.stdout, /\x1b\[/);
  assert.match(run.stdout, /\] QoS 1 sent \d+ delivered \d+ in flight \d+/);
  // The half-open period is found by keepalive, not by a closed socket.
  assert.match(run.stdout, /down: no packet from the broker for \d+ ms: the link is dead/);
}

function checkReport(path: string): void {
  assert.ok(existsSync(path), `report at ${path}`);
  const html = readFileSync(path, 'utf8');
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<svg [^>]*aria-label="timeline of faults and connections"/);
  // QoS 1 and QoS 2 each get their own panel, so their lines cannot lie on top of each other.
  assert.match(html, /<svg [^>]*aria-label="messages per second, QoS 1/);
  assert.match(html, /<svg [^>]*aria-label="messages per second, QoS 2/);
  for (const label of ['link drop', 'half-open link', 'broker restart', 'radio-style loss'])
    assert.ok(html.includes(label), label);
  assert.match(html, /<polyline /);
  // Self-contained: nothing fetched from elsewhere.
  assert.doesNotMatch(html, /<script|<link |src="http|href="http/);
}

const FAULTS = ['link drop', 'half-open link', 'broker restart', 'radio-style loss'];

test('demo against the embedded Aedes: nothing lost, table and report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-demo-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = await steadfast(['demo', '--duration', '30', '--seed', '7'], { cwd: dir, timeoutMs: 180_000 });
  checkRun(run, FAULTS);
  assert.match(run.stdout, /Aedes \(embedded in this process, MQTT 3.1.1 only\)/);
  // With the demo's correction of Aedes' PUBREL records (test/brokers/aedes-qos2.test.ts) the
  // broker re-sends nothing after PUBREL either; the report says the correction is there.
  assert.doesNotMatch(run.stdout, /re-sent by the broker/);
  const report = join(dir, 'steadfast-demo-report.html');
  checkReport(report);
  assert.match(
    readFileSync(report, 'utf8'),
    /carries a small fix so that it never delivers a QoS 2 message twice/,
  );
});

test('demo against a Mosquitto it starts, MQTT 5, report where asked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-demo-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = join(dir, 'out.html');
  const run = await steadfast(
    ['demo', '--broker', 'mosquitto', '-V', '5', '--duration', '30', '--report', report],
    {
      cwd: dir,
      timeoutMs: 180_000,
    },
  );
  checkRun(run, FAULTS);
  assert.match(run.stdout, /Mosquitto [\d.]+ \(started by the demo/);
  assert.match(run.stdout, /MQTT 5\.0/);
  // Mosquitto keeps QoS 2 exactly once itself: nothing for the demo to attribute to the broker.
  assert.doesNotMatch(run.stdout, /re-sent by the broker/);
  checkReport(report);
  assert.ok(!existsSync(join(dir, 'steadfast-demo-report.html')));
});

test('demo usage errors', async () => {
  const cases: [string[], RegExp][] = [
    [['demo', '--duration', '5'], /--duration must be a number 10 to 86400, got "5"/],
    [['demo', '--broker', 'emqx'], /--broker must be aedes or mosquitto/],
    [['demo', '-V', '5'], /Aedes .* cannot speak MQTT 5/],
    [['demo', '--broker', 'mosquitto', '--url', 'mqtt://x'], /give --broker or --url, not both/],
  ];
  for (const [args, message] of cases) {
    const run = await steadfast([...args, '--no-report']);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});
