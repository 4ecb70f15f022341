// MQTT 5 features end to end through a real Mosquitto: shared subscriptions,
// topic aliases, request/response, message expiry, publication properties
// and subscription identifiers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublishPacket } from '../../src/codec/types.ts';
import type { Message } from '../../src/node.ts';
import { request, respond } from '../../src/request.ts';
import { client, mosquitto, mqttError, started, TEST, take, testLink, uniqueTopic, until } from './e2e.ts';

const v5 = { protocolVersion: 5 } as const;

describe('shared subscriptions', () => {
  for (const version of [4, 5] as const) {
    test(
      `MQTT ${version}: two members of $share/g split the messages, none lost or doubled`,
      TEST,
      async (t) => {
        const broker = await mosquitto(t);
        const topic = uniqueTopic('shared');
        const a = await client(t, broker.url, { protocolVersion: version });
        const b = await client(t, broker.url, { protocolVersion: version });
        const pub = await client(t, broker.url, { protocolVersion: version });
        const got: Record<string, string[]> = { a: [], b: [] };
        await a.subscribe(`$share/g/${topic}`, { qos: 1, onMessage: (m) => got.a.push(m.text) });
        await b.subscribe(`$share/g/${topic}`, { qos: 1, onMessage: (m) => got.b.push(m.text) });
        const count = 100;
        for (let i = 0; i < count; i++) await pub.publish(topic, `m${i}`, { qos: 1 });
        await pub.publish(topic, 'end', { qos: 1 });
        await until(() => got.a.includes('end') || got.b.includes('end'), 'every shared message');
        assert.equal(got.a.length + got.b.length, count + 1);
        assert.ok(got.a.length > 0 && got.b.length > 0, `split ${got.a.length}/${got.b.length}`);
        assert.equal(new Set([...got.a, ...got.b]).size, count + 1);
      },
    );
  }
});

describe('topic aliases', () => {
  test(
    'outbound: the client uses the broker topicAliasMaximum, and messages keep their topics',
    TEST,
    async (t) => {
      const broker = await mosquitto(t, { listenerConfig: ['max_topic_alias 4'] });
      const base = uniqueTopic('alias');
      const sub = await client(t, broker.url, v5);
      const subscription = await sub.subscribe(`${base}/#`, { qos: 1 });
      const link = testLink(broker.port);
      const pub = await client(t, link, v5);
      assert.equal(pub.server?.topicAliasMaximum, 4);
      // 10 topics (more than 4 aliases), 3 rounds: aliases are reassigned as they run out.
      const expected: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 10; i++) {
          const topic = `${base}/${i % 2 === 0 ? i : 0}`; // topic 0 often: it keeps its alias
          expected.push(`${topic} ${round}.${i}`);
          await pub.publish(topic, `${round}.${i}`, { qos: 1 });
        }
      }
      const messages = await take(subscription, expected.length);
      assert.deepEqual(
        messages.map((m) => `${m.topic} ${m.text}`),
        expected,
      );
      const publishes = link.sent.filter((p): p is PublishPacket => p.type === 'publish');
      const aliases = publishes.map((p) => p.properties?.topicAlias);
      assert.ok(
        aliases.every((a) => a !== undefined && a >= 1 && a <= 4),
        'every PUBLISH has an alias within the maximum',
      );
      assert.ok(
        publishes.some((p) => p.topic === ''),
        'some PUBLISH packets carry only the alias (an empty topic)',
      );
    },
  );

  test('outbound: topicAliases: false sends full topics', TEST, async (t) => {
    const broker = await mosquitto(t);
    const topic = uniqueTopic('alias');
    const link = testLink(broker.port);
    const pub = await client(t, link, { ...v5, topicAliases: false });
    for (let i = 0; i < 3; i++) await pub.publish(topic, 'x', { qos: 1 });
    const publishes = link.sent.filter((p): p is PublishPacket => p.type === 'publish');
    assert.equal(publishes.length, 3);
    for (const p of publishes) assert.deepEqual([p.topic, p.properties?.topicAlias], [topic, undefined]);
  });

  test('inbound: with our topicAliasMaximum set, messages arrive with their topics', TEST, async (t) => {
    // Mosquitto 2.0.11 accepts topic aliases from clients but never sends any to them,
    // whatever Topic Alias Maximum the client announces: the inbound direction (alias
    // resolution, reassignment, unknown and out-of-range aliases) is covered by the
    // session unit tests instead (test/session/aliases-subscriptions.test.ts). Here we
    // check that announcing a maximum does no harm.
    const broker = await mosquitto(t);
    const base = uniqueTopic('alias');
    const link = testLink(broker.port);
    const sub = await client(t, link, { ...v5, properties: { topicAliasMaximum: 10 } });
    const subscription = await sub.subscribe(`${base}/#`, { qos: 1 });
    const pub = await client(t, broker.url, v5);
    for (let i = 0; i < 20; i++) await pub.publish(`${base}/${i % 3}`, `${i}`, { qos: 1 });
    const messages = await take(subscription, 20);
    assert.deepEqual(
      messages.map((m) => m.topic),
      Array.from({ length: 20 }, (_, i) => `${base}/${i % 3}`),
    );
    const inbound = link.received.filter((p): p is PublishPacket => p.type === 'publish');
    const aliased = inbound.filter((p) => p.properties?.topicAlias !== undefined).length;
    t.diagnostic(`Mosquitto sent ${aliased} of ${inbound.length} PUBLISH packets with a topic alias`);
  });
});

describe('request / response', () => {
  test(
    'request() reaches a respond() handler and returns its answer, correlation data intact',
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const service = uniqueTopic('svc');
      const server = await client(t, broker.url, v5);
      const seen: Message[] = [];
      await respond(server, service, (asked) => {
        seen.push(asked);
        return `echo ${asked.text}`;
      });
      const caller = await client(t, broker.url, v5);
      const answers = await Promise.all([
        request(caller, service, 'one', { timeout: 10_000 }),
        // The method form, which the Node entry installs, is the same function.
        caller.request(service, 'two', { timeout: 10_000 }),
      ]);
      assert.deepEqual(
        answers.map((m) => m.text),
        ['echo one', 'echo two'],
      );
      assert.equal(seen.length, 2);
      for (const [i, answer] of answers.entries()) {
        const asked = seen.find((r) => `echo ${r.text}` === answer.text)!;
        assert.ok(asked.properties.responseTopic, 'the request carries a response topic');
        assert.equal(answer.topic, asked.properties.responseTopic);
        assert.equal(asked.properties.correlationData?.length, 16, `request ${i} correlation data`);
        assert.deepEqual(answer.properties.correlationData, asked.properties.correlationData);
      }
      assert.notDeepEqual(seen[0].properties.correlationData, seen[1].properties.correlationData);
    },
  );

  test('a request nobody answers rejects with TIMEOUT', TEST, async (t) => {
    const broker = await mosquitto(t);
    const caller = await client(t, broker.url, v5);
    await assert.rejects(
      request(caller, uniqueTopic('nobody'), 'hello?', { timeout: 500 }),
      mqttError('TIMEOUT'),
    );
    assert.ok(caller.connected);
  });
});

describe('message expiry', () => {
  test(
    'an expired message is not delivered to a returning subscriber; a live one is, with less time left',
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const topic = uniqueTopic('expiry');
      const clientId = `expiry-${Date.now()}`;
      const first = await client(t, broker.url, { ...v5, clientId });
      await first.subscribe(topic, { qos: 1 });
      await first.end(); // the session stays (session expiry 0xFFFFFFFF by default)
      const pub = await client(t, broker.url, v5);
      await pub.publish(topic, 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
      await pub.publish(topic, 'long', { qos: 1, properties: { messageExpiryInterval: 60 } });
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const got: Message[] = [];
      const again = started(t, { ...v5, url: broker.url, clientId });
      again.on('message', (m) => got.push(m)); // queued messages come right after CONNACK
      await again.ready();
      await pub.publish(topic, 'marker', { qos: 1 });
      await until(() => got.some((m) => m.text === 'marker'), 'the marker');
      assert.deepEqual(
        got.map((m) => m.text),
        ['long', 'marker'],
      );
      const left = got[0].properties.messageExpiryInterval;
      assert.ok(left !== undefined && left < 60 && left >= 50, `messageExpiryInterval ${left}`);
    },
  );
});

describe('properties and subscription identifiers', () => {
  test('publication properties reach the subscriber unchanged', TEST, async (t) => {
    const broker = await mosquitto(t);
    const topic = uniqueTopic('props');
    const sub = await client(t, broker.url, v5);
    const subscription = await sub.subscribe(topic, { qos: 2 });
    const pub = await client(t, broker.url, v5);
    const correlationData = new Uint8Array([0, 1, 2, 254, 255]);
    await pub.publish(topic, '{"a":1}', {
      qos: 2,
      properties: {
        userProperties: { region: 'eu', tag: ['x', 'y'] },
        contentType: 'application/json',
        payloadFormatIndicator: true,
        responseTopic: `${topic}/reply`,
        correlationData,
      },
    });
    const [m] = await take(subscription, 1);
    assert.deepEqual(m.json(), { a: 1 });
    assert.deepEqual(m.properties.userProperties, { region: 'eu', tag: ['x', 'y'] });
    assert.equal(m.properties.contentType, 'application/json');
    assert.equal(m.properties.payloadFormatIndicator, true);
    assert.equal(m.properties.responseTopic, `${topic}/reply`);
    assert.deepEqual([...(m.properties.correlationData ?? [])], [...correlationData]);
  });

  test(
    'overlapping subscriptions: each message goes to the Subscription objects it matched',
    TEST,
    async (t) => {
      const broker = await mosquitto(t);
      const base = uniqueTopic('subid');
      const sub = await client(t, broker.url, v5);
      const wide = await sub.subscribe(`${base}/+`, { qos: 1 });
      const narrow = await sub.subscribe(`${base}/b`, { qos: 1 });
      const other = await sub.subscribe(`${base}/c/#`, { qos: 1 });
      const all: Message[] = [];
      sub.on('message', (m) => all.push(m));
      const pub = await client(t, broker.url, v5);
      await pub.publish(`${base}/a`, 'a', { qos: 1 });
      await pub.publish(`${base}/b`, 'b', { qos: 1 });
      await pub.publish(`${base}/c/d`, 'cd', { qos: 1 });
      await until(() => all.some((m) => m.text === 'cd'), 'the last message');
      assert.deepEqual(
        (await take(wide, 2)).map((m) => m.text),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await take(narrow, 1)).map((m) => m.text),
        ['b'],
      );
      assert.deepEqual(
        (await take(other, 1)).map((m) => m.text),
        ['cd'],
      );
      assert.equal(wide.pending + narrow.pending + other.pending, 0);
      for (const m of all) assert.ok(m.subscriptionIdentifiers.length > 0, 'Mosquitto sent identifiers');
      t.diagnostic(
        `messages on the client: ${all.map((m) => `${m.text}${JSON.stringify(m.subscriptionIdentifiers)}`).join(' ')}`,
      );
    },
  );
});

describe('two Subscriptions on one filter', () => {
  for (const version of [4, 5] as const) {
    test(
      `MQTT ${version}: both get its messages, and the other keeps them after one unsubscribes`,
      TEST,
      async (t) => {
        // On MQTT 5 the second SUBSCRIBE replaces the broker's subscription and its
        // identifier: routing by identifier must follow the latest one for the filter.
        const broker = await mosquitto(t);
        const topic = uniqueTopic('same');
        const c = await client(t, broker.url, { protocolVersion: version });
        const first = await c.subscribe(topic, { qos: 1 });
        const second = await c.subscribe(topic, { qos: 1 });
        await c.publish(topic, 'one', { qos: 1 });
        assert.equal((await take(first, 1))[0].text, 'one');
        assert.equal((await take(second, 1))[0].text, 'one');
        await second.unsubscribe();
        await c.publish(topic, 'two', { qos: 1 });
        assert.equal((await take(first, 1))[0].text, 'two');
      },
    );
  }
});
