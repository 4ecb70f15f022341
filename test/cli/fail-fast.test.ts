/**
 * The CLI fails fast and explains (as mosquitto_pub/sub do): a first connect
 * that waiting will not heal ends at once with exit 3 and the reason in words,
 * unless --retry asks to wait; sub -W times out non-zero ("Timed out", 27);
 * Ctrl-C is 130. Real brokers, a real HTTP server, real TLS.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { makeCerts } from '../helpers/certs.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { stderrShows, steadfast } from './run-cli.ts';

/** The CLI's own start-up (node + tsx) takes about half a second here; a failure must add little to it. */
const FAST_MS = 3000;

async function timed(args: string[]) {
  const started = Date.now();
  const run = await steadfast(args);
  return { ...run, ms: Date.now() - started };
}

test('nothing listening: exit 3 at once with "Connection refused", for pub, req and sub', async () => {
  const dead = await startMosquitto();
  const port = String(dead.port);
  await dead.stop();
  for (const args of [
    ['pub', '-p', port, '-t', 'a', '-m', 'b'],
    ['req', '-p', port, '-t', 'a', '-m', 'b'],
    ['sub', '-p', port, '-t', 'a'],
  ]) {
    const run = await timed(args);
    assert.equal(run.code, 3, `${args[0]}: ${run.stderr}`);
    assert.match(run.stderr, /cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: Connection refused/);
    assert.ok(run.ms < FAST_MS, `${args[0]} failed after ${run.ms} ms`);
  }
  // --quiet hides the runtime error, not the exit code.
  const quiet = await steadfast(['pub', '-p', port, '-t', 'a', '-m', 'b', '--quiet']);
  assert.equal(quiet.code, 3);
  assert.equal(quiet.stderr, '');
});

test('unknown host: exit 3 at once', async () => {
  const run = await timed(['pub', '-h', 'no-such-host.invalid', '-t', 'a', '-m', 'b']);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /no-such-host\.invalid:1883: unknown host/);
  assert.ok(run.ms < FAST_MS, `failed after ${run.ms} ms`);
});

test('a certificate that does not verify: exit 3 at once, with what to do', async (t) => {
  const certs = await makeCerts();
  const broker = await startMosquitto({ tls: true });
  t.after(() => broker.stop());
  const run = await timed(['pub', '-L', broker.tlsUrl!, '--cafile', certs.otherCaFile, '-t', 'a', '-m', 'b']);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /the broker's certificate does not verify: .*\(--cafile FILE trusts its CA/);
  assert.ok(run.ms < FAST_MS, `failed after ${run.ms} ms`);
});

// Passes once the client raises NOT_MQTT when a peer's first bytes are not a CONNACK (issue 17's lead
// change); until then the client retries and the CLI waits for --connect-timeout.
test('a server that is not an MQTT broker (HTTP): exit 3 at once, "not an MQTT broker"', async (t) => {
  const http = createServer((_, response) => response.end('hello'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  http.on('connection', (socket) => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const port = (http.address() as { port: number }).port;
  const run = await timed(['pub', '-p', String(port), '-t', 'a', '-m', 'b']);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /not an MQTT broker/);
  assert.ok(run.ms < FAST_MS, `failed after ${run.ms} ms`);
});

test('--retry waits for a broker that is not there yet, saying what it waits for', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  await broker.kill();
  let child: import('node:child_process').ChildProcess | undefined;
  const run = steadfast(['pub', '-L', broker.url, '-t', 'late', '-m', 'x', '-q', '1', '--retry'], {
    onSpawn: (c) => (child = c),
  });
  await stderrShows(child!, /waiting for the broker at mqtt:\/\/127\.0\.0\.1:\d+: Connection refused/);
  await broker.restart();
  const done = await run;
  assert.equal(done.code, 0, done.stderr);
  // Said once, not once per attempt.
  assert.equal(done.stderr.match(/waiting for the broker/g)?.length, 1, done.stderr);
});

test('sub -W with no message: "Timed out", exit 27; with -C short of its count too', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const idle = await steadfast(['sub', '-L', broker.url, '-t', 'nobody/#', '-W', '1']);
  assert.equal(idle.code, 27, idle.stderr);
  assert.match(idle.stderr, /Timed out/);
  const short = await steadfast(['sub', '-L', broker.url, '-t', 'nobody/#', '-W', '1', '-C', '2']);
  assert.equal(short.code, 27, short.stderr);
  assert.match(short.stderr, /Timed out with 0 of 2 messages/);
  // req's -W too, as mosquitto_rr.
  const req = await steadfast(['req', '-L', broker.url, '-t', 'svc/nobody', '-m', 'x', '-W', '1']);
  assert.equal(req.code, 27, req.stderr);
  assert.match(req.stderr, /Timed out: no response .* within 1000 ms/);
});

test('Ctrl-C ends a connected sub with exit 130, SIGTERM with 143', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    let child: import('node:child_process').ChildProcess | undefined;
    const run = steadfast(['sub', '-L', broker.url, '-t', 'x', '-d'], { onSpawn: (c) => (child = c) });
    await stderrShows(child!, /debug: subscribed to x: granted QoS 0/);
    child!.kill(signal);
    const done = await run;
    assert.equal(done.code, code, `${signal}: ${done.stderr}`);
  }
});
