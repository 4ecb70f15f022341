/**
 * `client.status` and the `status` event, as an application follows them
 * against a real broker (Aedes, in process): each change arrives as an event
 * (`connected` just before `up`; after a `down`, the state it leads to), `client.status` always reads
 * as the last event said, and an outage shows as quiet, then backoff, then
 * opening and connected again.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { type ClientStatus, createClient } from '../../src/node.ts';
import { startAedes } from '../helpers/aedes.ts';

test('an application follows the status through connect, an outage and end()', async (t) => {
  const broker = await startAedes();
  t.after(() => broker.stop());
  const sockets: Socket[] = [];
  broker.aedes.on('client', (c) => sockets.push((c as unknown as { conn: Socket }).conn));

  const client = createClient(broker.url, {
    protocolVersion: 4,
    clientId: 'status-follower',
    quietPeriod: 50,
    reconnectPeriod: 40,
  });
  assert.equal(client.status.state, 'idle');
  const seen: string[] = [];
  let mismatch: string | undefined;
  client.on('status', (status) => {
    seen.push(status.state);
    if (client.status !== status)
      mismatch = `client.status is ${client.status.state} in its ${status.state} event`;
  });
  client.on('up', () => seen.push('up'));
  client.on('down', () => seen.push('down'));
  const upAgain = () => new Promise<void>((resolve) => client.once('up', () => resolve()));

  client.start();
  await upAgain();
  for (const socket of sockets) socket.destroy(); // the broker's end drops the connection
  await upAgain();
  const status = client.status as ClientStatus; // (not narrowed by the idle check above)
  assert.equal(status.state === 'connected' && status.server, `tcp 127.0.0.1:${broker.port}`);
  await client.end();
  assert.equal((client.status as ClientStatus).state, 'stopped');
  assert.deepEqual(seen, [
    'opening',
    'connected',
    'up',
    'down',
    'quiet',
    'backoff',
    'opening',
    'connected',
    'up',
    'stopped',
  ]);
  assert.equal(mismatch, undefined);
});

test('a refusal no retry can fix: opening, then stopped with the refusal as its cause', async (t) => {
  const broker = await startAedes();
  t.after(() => broker.stop());
  broker.aedes.authenticate = (_client, _username, _password, done) =>
    done(Object.assign(new Error('no'), { returnCode: 4 }), false);
  const client = createClient(broker.url, { protocolVersion: 4, clientId: 'refused', username: 'u' });
  const states: string[] = [];
  const stopped = new Promise<void>((resolve) =>
    client.on('status', (s) => {
      states.push(s.state);
      if (s.state === 'stopped') resolve();
    }),
  );
  client.start();
  await stopped;
  const status = client.status as ClientStatus;
  assert.equal(status.state === 'stopped' && status.cause.code, 'CONNECTION_REFUSED');
  assert.deepEqual(states, ['opening', 'stopped']);
  await client.end();
});
