/**
 * The mosquitto_pub/sub flags people use, against Mosquitto: -F, -N, -T, -E,
 * -U, -x, -I, --repeat, --repeat-delay, -d.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Client, connect, createClient } from '../../src/node.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { stderrShows, steadfast } from './run-cli.ts';

async function publishUntilDone(client: Client, messages: [string, string][], run: Promise<unknown>) {
  let done = false;
  void run.then(() => (done = true));
  for (let i = 0; i < 100 && !done; i++) {
    for (const [topic, payload] of messages) await client.publish(topic, payload, { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('sub -F formats, -N drops the newline, -T filters out', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const publisher = await connect(broker.url);
  t.after(() => publisher.end());
  const run = steadfast([
    'sub',
    '-L',
    broker.url,
    '-t',
    'f/#',
    '-T',
    'f/skip/#',
    '-q',
    '1',
    '-C',
    '1',
    '-N',
    '-F',
    '%t|%p|%q|%r|%l|%x|%%\\t',
  ]);
  await publishUntilDone(
    publisher,
    [
      ['f/skip/a', 'no'],
      ['f/a', 'hi'],
    ],
    run,
  );
  const sub = await run;
  assert.equal(sub.code, 0, (sub as { stderr: string }).stderr);
  assert.equal(sub.stdout, 'f/a|hi|1|0|2|6869|%\t');
});

/**
 * What the broker kept for `id`: the messages it hands a client that resumes the session. Read with the
 * library's `message` event, registered before the client starts, so a queued message that arrives right
 * after CONNACK is seen.
 */
async function keptMessages(url: string, id: string): Promise<string[]> {
  const got: string[] = [];
  const client = createClient({ url, clientId: id, clean: false });
  client.on('message', (m) => got.push(m.text));
  client.start();
  await client.ready(5000);
  await new Promise((r) => setTimeout(r, 700));
  await client.end();
  return got;
}

test('sub -c -E sets up a kept session, -U removes its subscription; -x keeps a session on MQTT 5', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const publisher = await connect(broker.url);
  t.after(() => publisher.end());
  const setup = await steadfast([
    'sub',
    '-L',
    broker.url,
    '-i',
    'kept-1',
    '-c',
    '-q',
    '1',
    '-t',
    'k/#',
    '-E',
  ]);
  assert.equal(setup.code, 0, setup.stderr);
  await publisher.publish('k/1', 'while away', { qos: 1 });
  assert.deepEqual(await keptMessages(broker.url, 'kept-1'), ['while away']);
  const removed = await steadfast(['sub', '-L', broker.url, '-i', 'kept-1', '-c', '-U', 'k/#', '-E']);
  assert.equal(removed.code, 0, removed.stderr);
  await publisher.publish('k/2', 'after unsubscribe', { qos: 1 });
  assert.deepEqual(await keptMessages(broker.url, 'kept-1'), []);

  const x = await steadfast([
    'sub',
    '-L',
    broker.url,
    '-i',
    'kept-x',
    '-x',
    '60',
    '-q',
    '1',
    '-t',
    'x/#',
    '-E',
  ]);
  assert.equal(x.code, 0, x.stderr);
  await publisher.publish('x/1', 'kept by -x', { qos: 1 });
  assert.deepEqual(await keptMessages(broker.url, 'kept-x'), ['kept by -x']);
  const v311 = await steadfast(['sub', '-L', broker.url, '-V', '311', '-x', '60', '-t', 'a']);
  assert.equal(v311.code, 2);
  assert.match(v311.stderr, /-x \(session expiry\) needs MQTT 5/);
});

test('pub --repeat N --repeat-delay, -I prefix, -d says what it does', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const listener = await connect(broker.url);
  t.after(() => listener.end());
  const got: string[] = [];
  await listener.subscribe('rep', { qos: 1, onMessage: (m) => got.push(m.text) });
  const started = Date.now();
  const pub = await steadfast([
    'pub',
    '-L',
    broker.url,
    '-t',
    'rep',
    '-m',
    'r',
    '-q',
    '1',
    '--repeat',
    '3',
    '--repeat-delay',
    '0.3',
    '-I',
    'probe-',
    '-d',
  ]);
  assert.equal(pub.code, 0, pub.stderr);
  assert.ok(Date.now() - started >= 600, 'two delays of 0.3 s');
  for (let i = 0; i < 50 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, ['r', 'r', 'r']);
  assert.match(pub.stderr, /debug: connecting to mqtt:\/\/127\.0\.0\.1:\d+ as probe-\d+, MQTT 5\.0/);
  assert.match(pub.stderr, /debug: connected: receive maximum \d+/);
  assert.equal(pub.stderr.match(/debug: published to rep at QoS 1, acknowledged/g)?.length, 3);
});

test('sub says what it waits for while the broker is away, then "up"', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  let child: import('node:child_process').ChildProcess | undefined;
  const run = steadfast(['sub', '-L', broker.url, '-t', 'w', '-k', '2', '-W', '30'], {
    onSpawn: (c) => (child = c),
  });
  await new Promise((r) => setTimeout(r, 1500));
  const waiting = stderrShows(
    child!,
    /down: [^\n]+\n(.*\n)*waiting for the broker at [^:]+:\/\/[^ ]+: Connection refused \(retrying; Ctrl-C to stop\)/,
  );
  await broker.kill();
  await waiting;
  const up = stderrShows(child!, /(^|\n)up after [\d.]+ s/);
  await broker.restart();
  await up;
  child!.kill('SIGINT');
  assert.equal((await run).code, 130);
});
