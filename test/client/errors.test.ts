// Errors end to end: a broker that refuses our CONNECT, a broker that is not
// there, bad URLs, invalid topics and filters, and a closed client.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { connect, createClient, MqttError } from '../../src/node.ts';
import { freePort } from '../helpers/ports.ts';
import { client, mosquitto, mqttError, started, TEST, testLink, uniqueTopic, VERSIONS } from './e2e.ts';

const run = promisify(execFile);

/** A Mosquitto that only lets `user` / `secret` in (password file made with mosquitto_passwd -b). */
async function guardedBroker(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-passwd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'passwd');
  await run('mosquitto_passwd', ['-c', '-b', file, 'user', 'secret']);
  return mosquitto(t, { config: ['allow_anonymous false', `password_file ${file}`] });
}

describe('refused CONNECT', () => {
  // Mosquitto 2.0.11 answers a wrong password with Not authorized (0x87; 3.1.1 return
  // code 5) just as it does an anonymous client, never Bad user name or password
  // (0x86; 4), so both refusals expect 0x87 / 5.
  const refusals = [
    { what: 'a wrong password', credentials: { username: 'user', password: 'wrong' }, v5: 0x87, v4: 5 },
    { what: 'an unknown user', credentials: { username: 'nobody', password: 'secret' }, v5: 0x87, v4: 5 },
    { what: 'no credentials', credentials: {}, v5: 0x87, v4: 5 },
  ];
  for (const version of VERSIONS) {
    for (const { what, credentials, v5, v4 } of refusals) {
      const code = version === 5 ? v5 : v4;
      test(`MQTT ${version}: ${what} → CONNECTION_REFUSED ${code}, and no retrying`, TEST, async (t) => {
        const broker = await guardedBroker(t);
        await assert.rejects(
          connect(broker.url, { protocolVersion: version, readyTimeout: 10_000, ...credentials }),
          mqttError('CONNECTION_REFUSED', code),
        );
        // The same through a link that counts connections: one attempt, then the client is closed.
        const link = testLink(broker.port, version);
        const c = started(t, { protocolVersion: version, link, ...credentials });
        await assert.rejects(c.ready(), mqttError('CONNECTION_REFUSED', code));
        await new Promise((resolve) => setTimeout(resolve, 600)); // 3 × the longest first backoff (200 ms)
        assert.equal(link.opened, 1, 'the client did not try again');
        await assert.rejects(c.publish('t', 'x'), mqttError('CONNECTION_REFUSED', code));
      });
    }

    test(`MQTT ${version}: the right credentials get in (from options or the URL)`, TEST, async (t) => {
      const broker = await guardedBroker(t);
      await client(t, broker.url, { protocolVersion: version, username: 'user', password: 'secret' });
      await client(t, broker.url.replace('mqtt://', 'mqtt://user:secret@'), { protocolVersion: version });
    });
  }
});

describe('unreachable broker and bad URLs', () => {
  test(
    'nothing listening: connect() rejects with TIMEOUT after readyTimeout, naming the link error',
    TEST,
    async () => {
      const port = await freePort();
      await assert.rejects(
        connect(`mqtt://127.0.0.1:${port}`, { readyTimeout: 1500, reconnectPeriod: 100 }),
        (error) => {
          assert.ok(mqttError('TIMEOUT')(error));
          const e = error as MqttError;
          assert.match(e.message, /ECONNREFUSED|refused/i);
          assert.ok(e.cause instanceof MqttError && e.cause.code === 'LINK_ERROR', String(e.cause));
          return true;
        },
      );
    },
  );

  for (const url of ['http://127.0.0.1:1883', 'mqtt://127.0.0.1:99999', 'mqtt://', '127.0.0.1:1883']) {
    test(`a bad URL (${url}) → INVALID_URL at once`, () => {
      assert.throws(() => createClient({ url }), mqttError('INVALID_URL'));
      // connect() reports it as a rejection, before any connection attempt.
      return assert.rejects(connect(url), mqttError('INVALID_URL'));
    });
  }
});

describe('invalid requests', () => {
  for (const version of VERSIONS) {
    test(
      `MQTT ${version}: an invalid topic → TOPIC_NAME_INVALID, nothing sent, still connected`,
      TEST,
      async (t) => {
        const broker = await mosquitto(t);
        const link = testLink(broker.port, version);
        const c = await client(t, link, { protocolVersion: version });
        for (const topic of ['', 'a/+/b', 'a/#', '+', 'a\u0000b']) {
          for (const qos of [0, 1, 2] as const) {
            await assert.rejects(c.publish(topic, 'x', { qos }), mqttError('TOPIC_NAME_INVALID'));
          }
        }
        assert.deepEqual(
          link.sent.filter((p) => p.type === 'publish'),
          [],
        );
        assert.ok(c.connected);
        await c.publish(uniqueTopic('valid'), 'x', { qos: 1 });
        assert.equal(link.opened, 1, 'never disconnected');
      },
    );

    test(`MQTT ${version}: an invalid filter → TOPIC_FILTER_INVALID, nothing sent`, TEST, async (t) => {
      const broker = await mosquitto(t);
      const link = testLink(broker.port, version);
      const c = await client(t, link, { protocolVersion: version });
      for (const filter of ['', 'a/#/b', 'a+', 'a/b#', '$share/g', '$share//a']) {
        await assert.rejects(c.subscribe(filter), mqttError('TOPIC_FILTER_INVALID'), filter);
      }
      // One bad filter in a list fails the whole request.
      await assert.rejects(c.subscribe(['ok/1', 'bad/#/x']), mqttError('TOPIC_FILTER_INVALID'));
      assert.deepEqual(
        link.sent.filter((p) => p.type === 'subscribe'),
        [],
      );
      const s = await c.subscribe(uniqueTopic('valid'));
      assert.deepEqual(s.granted, [0]);
    });
  }

  test('offline: an invalid topic is refused at once, not queued', TEST, async (t) => {
    const port = await freePort();
    const c = started(t, { url: `mqtt://127.0.0.1:${port}` });
    await assert.rejects(c.publish('a/+', 'x', { qos: 1 }), mqttError('TOPIC_NAME_INVALID'));
  });
});

describe('closed client', () => {
  for (const version of VERSIONS) {
    test(`MQTT ${version}: publish, subscribe and ready after end() → CLIENT_CLOSED`, TEST, async (t) => {
      const broker = await mosquitto(t);
      const c = await client(t, broker.url, { protocolVersion: version });
      const subscription = await c.subscribe(uniqueTopic('closed'), { qos: 1 });
      await c.end();
      assert.equal(c.connected, false);
      await assert.rejects(c.publish('t', 'x', { qos: 1 }), mqttError('CLIENT_CLOSED'));
      await assert.rejects(c.subscribe('t'), mqttError('CLIENT_CLOSED'));
      await assert.rejects(c.unsubscribe('t'), mqttError('CLIENT_CLOSED'));
      await assert.rejects(c.ready(), mqttError('CLIENT_CLOSED'));
      // The subscription's iteration simply ends.
      const next = await subscription[Symbol.asyncIterator]().next();
      assert.equal(next.done, true);
      await c.end(); // idempotent
    });
  }

  test('publications still waiting when end() is called reject with CLIENT_CLOSED', TEST, async (t) => {
    const port = await freePort();
    const c = started(t, { url: `mqtt://127.0.0.1:${port}` });
    const pending = [c.publish('t', 'a', { qos: 1 }), c.publish('t', 'b', { qos: 2 }), c.publish('t', 'c')];
    const subscribing = c.subscribe('t');
    await c.end();
    for (const p of [...pending, subscribing]) await assert.rejects(p, mqttError('CLIENT_CLOSED'));
  });
});
