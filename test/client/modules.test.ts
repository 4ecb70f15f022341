/**
 * Optional features as modules over a client (issue 15 item 4): without its
 * module installed, a feature's method says which import installs it; once
 * installed, the method and the module's function are the same thing. This
 * file imports the client directly, not through the Node entry (which
 * installs everything), so it sees what a browser bundle sees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../src/client/client.ts';
import { extensions } from '../../src/client/extensions.ts';
import { reasonCodeName as numberOnly } from '../../src/codec/reason-codes.ts';
import { reasonCodeName, useReasonCodeNames } from '../../src/codec/reason-names.ts';
import type { Link } from '../../src/links/types.ts';
import { request, useRequest } from '../../src/request.ts';

/** A link that never opens: these checks need no broker. */
const nowhere: Link = { name: 'nowhere', open: () => new Promise(() => {}) };

test('client.request() and respond() name the module they need until it is installed', async () => {
  assert.equal(extensions.request, undefined, 'nothing installed it in this process');
  const client = new Client({ link: nowhere });
  for (const call of [() => client.request('svc/a', 'x'), () => client.respond('svc/a', () => 'y')]) {
    await assert.rejects(call(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.match(error.message, /useRequest\(\) from 'steadfast-mqtt\/request'/);
      return true;
    });
  }
  await client.end();
});

test('useRequest() installs them: the method and request(client) both reach the client', async () => {
  useRequest();
  const client = new Client({ link: nowhere });
  await client.end();
  // A closed client refuses the response subscription, so both forms reject with CLIENT_CLOSED.
  await assert.rejects(client.request('svc/a', 'x'), { code: 'CLIENT_CLOSED' });
  await assert.rejects(request(client, 'svc/a', 'x'), { code: 'CLIENT_CLOSED' });
  await assert.rejects(
    new Client({ link: nowhere, protocolVersion: 4 }).request('svc/a', 'x'),
    /needs MQTT 5/,
  );
});

test('reason-code names are a module: numbers until installed, names after', () => {
  // The engine's own messages (session, outbound) use the reason-codes module's function.
  assert.equal(numberOnly(0x87), 'reason code 0x87');
  assert.equal(numberOnly(0x00, 'disconnect'), 'Normal disconnection', 'the low codes need no table');
  assert.equal(numberOnly(0x01, 'suback'), 'Granted QoS 1');
  assert.equal(
    numberOnly(0x05, 'connack', 4),
    'Connection Refused, not authorized',
    'the 3.1.1 table is always there',
  );
  useReasonCodeNames();
  assert.equal(numberOnly(0x87), 'Not authorized');
  assert.equal(numberOnly(0xfe), 'Unknown reason code 0xfe');
  // The public function installs the table itself, so it always names.
  assert.equal(reasonCodeName(0x9c, 'disconnect'), 'Use another server');
});
