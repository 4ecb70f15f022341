/**
 * The medium across processes: radios attached over the real Unix socket
 * (in this process, and from a child process) exchange frames with radios
 * attached in-process, under the serving medium's rules.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lora, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { connectMedium, serveMedium } from '../../src/radio/medium-socket.ts';
import { listen, numbered, until } from './medium-helpers.ts';

function socketPath(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'medium-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'medium.sock');
}

const profile = lora({ sf: 7, dutyCycle: 1 });

test('a radio over the socket exchanges frames with an in-process radio, with RSSI and stats', async (t) => {
  const path = socketPath(t);
  const medium = new SimulatedMedium({ timeScale: 10, profile });
  const server = await serveMedium(medium, { path });
  t.after(() => medium.close());
  const local = medium.attach({ name: 'gateway' });
  const remote = await connectMedium(path, { name: 'remote', position: { x: 1000, y: 0 } });
  assert.equal(remote.mtu, 255);
  assert.equal(remote.id, 'remote');
  assert.match(remote.name, /sim remote lora SF7/);
  assert.ok(Math.abs(remote.airtimeMs(10) - 4.1216) < 1e-9, 'wall-clock airtime uses the server time scale');
  assert.equal(server.connections, 1);
  const heardLocal = await listen(local);
  const heardRemote = await listen(remote);
  await remote.send(numbered(1, 30));
  await until(() => heardLocal.length === 1);
  await local.send(numbered(2, 30));
  await until(() => heardRemote.length === 1);
  assert.deepEqual(heardLocal[0].frame, numbered(1, 30));
  assert.deepEqual(heardRemote[0].frame, numbered(2, 30));
  // 1 km: 14 - (31.22 + 81) dBm, the medium's path loss applies to the remote radio too.
  assert.ok(Math.abs((heardRemote[0].rssi ?? 0) + 98.219) < 1e-3);
  assert.deepEqual(
    { sent: remote.stats.framesSent, bytes: remote.stats.bytesSent, received: remote.stats.framesReceived },
    { sent: 1, bytes: 30, received: 1 },
  );
  // Moving the remote radio out of range is done by the serving medium.
  remote.moveTo({ x: 50_000, y: 0 });
  await until(() => medium.radios().some((r) => r.id === 'remote' && r.positionAt().x === 50_000));
  await local.send(numbered(3, 30));
  const full = await remote.fetchStats();
  assert.equal(full.framesOutOfRange, 1);
  assert.equal(full.framesReceived, 1);
  await assert.rejects(remote.send(new Uint8Array(300)), { code: 'LINK_ERROR' });
  await remote.close();
  await until(() => server.connections === 0);
  assert.equal(medium.radios().length, 1, 'the remote radio is detached when it closes');
  await assert.rejects(remote.send(numbered(4, 10)), { code: 'LINK_ERROR' });
  await server.close();
});

test('a radio in a child process echoes frames sent by an in-process radio', async (t) => {
  const path = socketPath(t);
  const medium = new SimulatedMedium({ timeScale: 10, profile, seed: 4 });
  const server = await serveMedium(medium, { path });
  t.after(async () => {
    await server.close();
    await medium.close();
  });
  const local = medium.attach({ name: 'gateway' });
  const heard = await listen(local);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/radio/medium-child.ts', path, 'child-node'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until(() => stdout.includes('ready'), 60_000);
  const encode = (s: string) => new TextEncoder().encode(s);
  for (const word of ['alpha', 'beta', 'gamma']) {
    await local.send(encode(word));
    await until(
      () => heard.length > 0 && new TextDecoder().decode(heard[heard.length - 1].frame) === `echo:${word}`,
    );
  }
  assert.deepEqual(
    heard.map((h) => new TextDecoder().decode(h.frame)),
    ['echo:alpha', 'echo:beta', 'echo:gamma'],
  );
  // 50 m away: RSSI 14 - (31.22 + 27 log10 50) = -63.09 dBm.
  assert.ok(Math.abs((heard[0].rssi ?? 0) + 63.09) < 0.01, `rssi ${heard[0].rssi}`);
  await local.send(encode('bye'));
  assert.equal(await exited, 0, stderr);
  const report = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{')) ?? '{}');
  assert.equal(report.stats.framesReceived, 4);
  assert.equal(report.local.framesSent, 3);
  assert.equal(medium.stats.transmissions, 7);
  await until(() => server.connections === 0);
});

test('closing the medium or the server tells remote radios; pending sends fail', async (t) => {
  const path = socketPath(t);
  const medium = new SimulatedMedium({ timeScale: 10, profile: lora({ sf: 7, dutyCycle: 0.01 }) });
  const server = await serveMedium(medium, { path });
  const remote = await connectMedium(path, { name: 'r1' });
  const idle = await connectMedium(path, { name: 'r2' }); // never opened
  const closes: string[] = [];
  await remote.open({ receive: () => {}, close: (error) => closes.push(String(error?.message)) });
  await remote.send(numbered(0, 10));
  const waiting = remote.send(numbered(1, 10)); // duty cycle: 4 s modelled
  await new Promise((resolve) => setTimeout(resolve, 20));
  await medium.close();
  await assert.rejects(waiting, { code: 'LINK_ERROR' });
  await until(() => closes.length === 1);
  assert.match(closes[0], /closed/);
  await assert.rejects(idle.send(numbered(2, 10)), { code: 'LINK_ERROR' });
  await server.close(); // already closing with the medium: fine
  await assert.rejects(connectMedium(path), { code: 'LINK_ERROR' });
});

test('serveMedium reports clear errors and replaces a stale socket file', async (t) => {
  const path = socketPath(t);
  const medium = new SimulatedMedium();
  t.after(() => medium.close());
  await assert.rejects(serveMedium(medium, { path: `/tmp/${'x'.repeat(120)}` }), {
    code: 'INVALID_ARGUMENT',
  });
  await assert.rejects(
    serveMedium(medium, { path: '/nonexistent-dir/medium.sock' }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'LINK_ERROR');
      assert.match(error.message, /cannot serve the medium at \/nonexistent-dir/);
      return true;
    },
  );
  const first = await serveMedium(medium, { path });
  await assert.rejects(serveMedium(medium, { path }), /already served/);
  await first.close();
  // A socket file nobody listens on (a server that died): the next server takes its place.
  writeFileSync(path, '');
  const second = await serveMedium(medium, { path });
  const radio = await connectMedium(path, { name: 'after-stale' });
  await assert.rejects(connectMedium(path, { name: 'after-stale' }), { code: 'INVALID_ARGUMENT' });
  await radio.close();
  await second.close();
  await assert.rejects(connectMedium(join(path, '..', 'nothing.sock')), { code: 'LINK_ERROR' });
});

test('connectMedium times out against a socket that never answers, and rejects garbage', async (t) => {
  const path = socketPath(t);
  const silent = createServer((socket) => socket.resume()); // reads, so it sees the client leave, but never answers
  await new Promise<void>((resolve) => silent.listen(path, resolve));
  t.after(() => new Promise<void>((resolve) => silent.close(() => resolve())));
  await assert.rejects(connectMedium(path, { timeoutMs: 200 }), { code: 'TIMEOUT' });

  const medium = new SimulatedMedium();
  t.after(() => medium.close());
  const path2 = socketPath(t);
  const server = await serveMedium(medium, { path: path2 });
  t.after(() => server.close());
  const { connect } = await import('node:net');
  const exchange = (bytes: number[]) =>
    new Promise<Buffer>((resolve) => {
      const raw = connect({ path: path2 });
      raw.once('connect', () => raw.write(Buffer.from(bytes)));
      raw.once('data', (reply) => {
        raw.destroy();
        resolve(reply);
      });
    });
  const early = await exchange([0, 0, 0, 6, 3, 0, 0, 0, 1, 0x42]); // a well-formed SEND before ATTACH
  assert.equal(early[4], 130, 'the server answers ERROR');
  assert.match(early.subarray(5).toString(), /PROTOCOL_ERROR.*before attach/);
  const garbage = await exchange([0, 0, 0, 0]); // a zero-length message
  assert.match(garbage.subarray(5).toString(), /MALFORMED_PACKET.*length 0 out of range/);
  assert.equal(medium.radios().length, 0);
});
