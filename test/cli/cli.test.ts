/** `steadfast pub`, `sub`, `req` against real brokers (Mosquitto; Aedes for a refused CONNECT). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Client, connect, type Message } from '../../src/node.ts';
import { startAedes } from '../helpers/aedes.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { type Run, stderrShows, steadfast } from './run-cli.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes with the library until the CLI subscriber (`run`) has exited. */
async function feed(
  client: Client,
  topic: string,
  payload: string | Uint8Array,
  run: Promise<Run>,
  qos: 0 | 1 = 1,
) {
  let done = false;
  void run.then(() => (done = true));
  for (let i = 0; i < 300 && !done; i++) {
    await client.publish(topic, payload, {
      qos,
      properties: { userProperties: { k: 'v' }, contentType: 'text/x' },
    });
    await sleep(100);
  }
  return run;
}

test('pub delivers a message, on MQTT 3.1.1 and 5, with -L URL/topic and -h/-p', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const listener = await connect(broker.url);
  t.after(() => listener.end());
  const got: Message[] = [];
  await listener.subscribe('cli/pub/#', { qos: 1, onMessage: (m) => got.push(m) });
  const v311 = await steadfast([
    'pub',
    '-L',
    `${broker.url}/cli/pub/a`,
    '-m',
    'hello 311',
    '-q',
    '1',
    '-V',
    '311',
  ]);
  assert.equal(v311.code, 0, v311.stderr);
  const v5 = await steadfast([
    'pub',
    '-h',
    '127.0.0.1',
    '-p',
    String(broker.port),
    '-t',
    'cli/pub/b',
    '-m',
    'hello 5',
    '-q',
    '2',
    '-D',
    'who=cli',
  ]);
  assert.equal(v5.code, 0, v5.stderr);
  const retained = await steadfast(['pub', '-p', String(broker.port), '-t', 'cli/pub/c', '-n', '-r']);
  assert.equal(retained.code, 0, retained.stderr);
  for (let i = 0; i < 100 && got.length < 3; i++) await sleep(50);
  assert.deepEqual(
    got.map((m) => [m.topic, m.text]),
    [
      ['cli/pub/a', 'hello 311'],
      ['cli/pub/b', 'hello 5'],
      ['cli/pub/c', ''],
    ],
  );
  assert.deepEqual(got[1].properties.userProperties, { who: 'cli' });
});

test('sub prints "topic payload" with -v and exits after -C messages, on 3.1.1 and 5', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  for (const version of ['311', '5'] as const) {
    const publisher = await connect(broker.url, { protocolVersion: version === '5' ? 5 : 4 });
    const run = steadfast([
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
    const sub = await feed(publisher, `cli/${version}/x`, `hi ${version}`, run);
    await publisher.end();
    assert.equal(sub.code, 0, sub.stderr);
    assert.deepEqual(sub.stdout.trim().split('\n'), [
      `cli/${version}/x hi ${version}`,
      `cli/${version}/x hi ${version}`,
    ]);
  }
});

test('sub --json: text payloads as text, binary as base64, every property', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const publisher = await connect(broker.url);
  t.after(() => publisher.end());
  const text = await feed(
    publisher,
    'j/text',
    'données',
    steadfast(['sub', '-L', broker.url, '-t', 'j/text', '-C', '1', '--json']),
  );
  const record = JSON.parse(text.stdout.trim());
  assert.equal(record.topic, 'j/text');
  assert.equal(record.payload, 'données');
  assert.equal(record.encoding, 'utf8');
  assert.equal(record.qos, 0);
  assert.equal(record.retain, false);
  assert.deepEqual(record.properties.userProperties, { k: 'v' });
  assert.equal(record.properties.contentType, 'text/x');
  assert.equal(typeof record.properties.subscriptionIdentifier, 'number');

  const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);
  const binary = await feed(
    publisher,
    'j/bin',
    bytes,
    steadfast(['sub', '-L', broker.url, '-t', 'j/bin', '-C', '1', '--json']),
  );
  const b = JSON.parse(binary.stdout.trim());
  assert.equal(b.encoding, 'base64');
  assert.deepEqual(new Uint8Array(Buffer.from(b.payload, 'base64')), bytes);
});

test('sub keeps running through a broker restart, says down/up on stderr, and gets what was sent meanwhile', async (t) => {
  const broker = await startMosquitto({ config: ['persistence true'] });
  t.after(() => broker.stop());
  let child: import('node:child_process').ChildProcess | undefined;
  const run = steadfast(['sub', '-L', broker.url, '-t', 'r/#', '-q', '1', '-C', '2', '-k', '2'], {
    onSpawn: (c) => (child = c),
  });
  const publisher = await connect(broker.url, { clientId: 'cli-restart-pub' });
  // First message: proves the subscription is in place.
  let first = false;
  child!.stdout!.on('data', () => (first = true));
  for (let i = 0; i < 300 && !first; i++) {
    await publisher.publish('r/1', 'before', { qos: 1 });
    await sleep(100);
  }
  const down = stderrShows(child!, /down: [^\n]+\n[\s\S]*up after/);
  await broker.restart();
  // Published while the subscriber is still reconnecting: the broker queues it in the kept session.
  await publisher.publish('r/2', 'after restart', { qos: 1 });
  await down;
  const sub = await run;
  await publisher.end();
  assert.equal(sub.code, 0, sub.stderr);
  const lines = sub.stdout.trim().split('\n');
  assert.equal(lines[0], 'before');
  assert.equal(lines[1], 'after restart');
  assert.match(sub.stderr, /session resumed/);
});

test('req publishes with a response topic and correlation data and prints the reply (MQTT 5)', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const server = await connect(broker.url);
  t.after(() => server.end());
  await server.respond('svc/echo', (request) => `echo ${request.text}`);
  const reply = await steadfast(['req', '-L', broker.url, '-t', 'svc/echo', '-m', 'ping', '-q', '1']);
  assert.equal(reply.code, 0, reply.stderr);
  assert.equal(reply.stdout.trim(), 'echo ping');

  const own = await steadfast([
    'req',
    '-L',
    broker.url,
    '-t',
    'svc/echo',
    '-e',
    'my/replies',
    '-m',
    'x',
    '--json',
  ]);
  assert.equal(own.code, 0, own.stderr);
  const record = JSON.parse(own.stdout.trim());
  assert.equal(record.topic, 'my/replies');
  assert.equal(record.payload, 'echo x');
  assert.equal(typeof record.properties.correlationData.base64, 'string');

  const silent = await steadfast(['req', '-L', broker.url, '-t', 'svc/nobody', '-m', 'x', '-W', '1']);
  assert.equal(silent.code, 27);
  assert.match(silent.stderr, /Timed out: no response .* within 1000 ms/);
  const old = await steadfast(['req', '-L', broker.url, '-t', 'svc/echo', '-m', 'x', '-V', '311']);
  assert.equal(old.code, 2);
  assert.match(old.stderr, /req needs MQTT 5/);
});

test('errors: one clear line, no stack trace, and the documented exit code', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const dead = await startMosquitto();
  const deadPort = dead.port;
  await dead.stop();
  const cases: [string, string[], number, RegExp][] = [
    ['bad URL', ['pub', '-L', 'bogus://x', '-t', 'a', '-m', 'b'], 2, /unknown scheme "bogus"/],
    ['bad port', ['pub', '-L', 'mqtt://127.0.0.1:99999', '-t', 'a', '-m', 'b'], 2, /bad port/],
    ['bad topic filter', ['sub', '-L', broker.url, '-t', 'a/#/b'], 2, /'#' must be the last level/],
    [
      'wildcard in a topic name',
      ['pub', '-L', broker.url, '-t', 'a/+', '-m', 'b'],
      2,
      /must not contain wildcards/,
    ],
    ['missing payload', ['pub', '-L', broker.url, '-t', 'a'], 2, /needs a payload/],
    ['bad QoS', ['pub', '-q', '3', '-t', 'a', '-m', 'b'], 2, /-q \(QoS\) must be an integer 0 to 2/],
    ['unknown option', ['pub', '--frob', '-t', 'a', '-m', 'b'], 2, /unknown option --frob/],
    ['unknown command', ['frobnicate'], 2, /unknown command "frobnicate"/],
    [
      'missing certificate',
      ['pub', '-L', broker.url, '--cafile', '/nonexistent/ca.pem', '-t', 'a', '-m', 'b'],
      2,
      /cannot read --cafile file \/nonexistent\/ca.pem: no such file/,
    ],
    ['-c without -i', ['sub', '-L', broker.url, '-t', 'a', '-c'], 2, /needs a fixed client id/],
    [
      'unreachable broker',
      ['pub', '-p', String(deadPort), '-t', 'a', '-m', 'b', '--retry', '--connect-timeout', '1'],
      3,
      /cannot reach the broker: not connected within 1000 ms: .*ECONNREFUSED/,
    ],
  ];
  for (const [what, args, code, message] of cases) {
    const run = await steadfast(args);
    assert.equal(run.code, code, `${what}: ${run.stderr}`);
    assert.match(run.stderr, message, what);
    assert.doesNotMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`);
  }
});

test('a refused CONNECT is exit code 4 with its reason in words', async (t) => {
  const aedes = await startAedes({
    authenticate: (_client, username, _password, done) => {
      if (username === 'good') return done(null, true);
      const error = Object.assign(new Error('bad credentials'), { returnCode: 4 });
      done(error as never, false);
    },
  });
  t.after(() => aedes.stop());
  const refused = await steadfast([
    'pub',
    '-L',
    aedes.url,
    '-V',
    '311',
    '-u',
    'bad',
    '-P',
    'x',
    '-t',
    'a',
    '-m',
    'b',
  ]);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(
    refused.stderr,
    /refused the connection: .*(user name or password|Bad).*\(reason code 0x04\)/i,
  );
  assert.doesNotMatch(refused.stderr, /\n\s+at /);
  const accepted = await steadfast(['pub', '-L', aedes.url, '-V', '311', '-u', 'good', '-t', 'a', '-m', 'b']);
  assert.equal(accepted.code, 0, accepted.stderr);
  // Aedes speaks 3.1.1 only: an MQTT 5 CONNECT is refused with "Unsupported protocol version".
  const v5 = await steadfast(['pub', '-L', aedes.url, '-u', 'good', '-t', 'a', '-m', 'b']);
  assert.equal(v5.code, 4, v5.stderr);
  assert.match(v5.stderr, /does not speak MQTT 5 \(reason code 0x84\)/);
});

test('help, version and bench', async () => {
  const v = await steadfast(['version']);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const help = await steadfast(['help']);
  for (const name of ['pub', 'sub', 'req', 'bench', 'demo'])
    assert.match(help.stdout, new RegExp(`\\n  ${name} `));
  assert.match(help.stdout, /Exit codes: 0 success/);
  const pubHelp = await steadfast(['pub', '--help']);
  assert.match(pubHelp.stdout, /-L, --url URL/);
  const config = await steadfast(['help', 'config']);
  assert.match(config.stdout, /STEADFAST_URL/);
  const bench = await steadfast(['bench']);
  assert.equal(bench.code, 0, bench.stderr);
  assert.match(bench.stdout, /benchmarks: .*codec/);
  const unknown = await steadfast(['bench', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown benchmark: nope/);
});
