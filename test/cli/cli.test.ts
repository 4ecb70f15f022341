/** The `steadfast` command against a real Mosquitto: pub/sub, and clear one-line errors. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function steadfast(args: string[], onSpawn?: (child: ChildProcess) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    onSpawn?.(child);
  });
}

test('steadfast pub and sub', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  for (const version of ['311', '5']) {
    const received = steadfast([
      'sub',
      '-L',
      broker.url,
      '-t',
      `cli/${version}/#`,
      '-q',
      '1',
      '-C',
      '2',
      '-v',
      '-V',
      version,
    ]);
    // Publish until the subscriber has subscribed and taken two messages.
    let result: Run | undefined;
    received.then((r) => (result = r));
    for (let i = 0; i < 50 && result === undefined; i++) {
      const pub = await steadfast([
        'pub',
        '-L',
        `${broker.url}/cli/${version}/x`,
        '-m',
        `hi ${i}`,
        '-q',
        '1',
        '-V',
        version,
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      await new Promise((r) => setTimeout(r, 100));
    }
    const sub = await received;
    assert.equal(sub.code, 0, sub.stderr);
    const lines = sub.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], new RegExp(`^cli/${version}/x hi \\d+$`));
  }
});

test('steadfast sub --json prints one object per message with properties', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const received = steadfast(['sub', '-L', broker.url, '-t', 'j/#', '-C', '1', '--json']);
  let done = false;
  received.then(() => (done = true));
  for (let i = 0; i < 50 && !done; i++) {
    await steadfast(['pub', '-L', broker.url, '-t', 'j/1', '-m', 'data', '-D', 'k=v']);
    await new Promise((r) => setTimeout(r, 100));
  }
  const sub = await received;
  const record = JSON.parse(sub.stdout.trim().split('\n')[0]);
  assert.equal(record.topic, 'j/1');
  assert.equal(Buffer.from(record.payload_base64, 'base64').toString(), 'data');
  assert.deepEqual(record.properties.userProperties, { k: 'v' });
});

test('bad input gets one clear line and a documented exit code, no stack trace', async () => {
  const port = await freePort();
  const cases: [string[], number, RegExp][] = [
    [['pub', '-L', 'bogus://x', '-t', 'a', '-m', 'b'], 2, /INVALID|unknown scheme|bogus/i],
    [['pub', '-t', 'a'], 2, /-m MESSAGE/],
    [['pub', '-q', '3', '-t', 'a', '-m', 'b'], 2, /-q must be 0, 1 or 2/],
    [['frobnicate'], 2, /unknown command/],
    [
      ['pub', '-p', String(port), '-t', 'a', '-m', 'b', '-W', '1'],
      1,
      /not connected within 1000 ms.*(ECONNREFUSED|refused)/i,
    ],
    [['pub', '-L', 'mqtt://127.0.0.1:1', '-t', 'a/+', '-m', 'b', '-W', '1'], 1, /./],
  ];
  for (const [args, code, message] of cases) {
    const run = await steadfast(args);
    assert.equal(run.code, code, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('steadfast version and help', async () => {
  const v = await steadfast(['version']);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const h = await steadfast(['help']);
  assert.match(h.stdout, /steadfast pub -t TOPIC/);
});
