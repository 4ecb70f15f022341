// Duty cycle on LoRa, end to end: SF7/125 kHz under EU868's 1% rule (the
// medium at timeScale 1000), two gateways and a roaming node with default
// link timing, a real Mosquitto. The node finds a gateway (searches, answers
// and advertisements all under the rule), publishes QoS 1 readings and gets
// QoS 1 commands. Every transmission of every radio is checked against the
// rule (a frame of airtime T starting at s allows the next no earlier than
// s + T / 0.01): no radio ever transmits early, the radios do wait for it,
// and the link timers, derived from the duty cycle, never mistake the waits
// for an outage (no stream lost, nothing lost).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { startGateway } from '../../src/gateway/index.ts';
import { connect, type Message } from '../../src/node.ts';
import { roamingLink } from '../../src/radio/link/index.ts';
import { lora, type MediumEvent, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { client, mosquitto, until } from '../client/e2e.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

const DUTY = 0.01;

test('LoRa at 1% duty cycle: every radio waits for the rule, the links never take the wait for an outage', {
  timeout: 120_000,
}, async (t) => {
  const broker = await mosquitto(t);
  const medium = new SimulatedMedium({ seed: 4, profile: lora({ sf: 7, dutyCycle: DUTY }), timeScale: 1000 });
  t.after(() => medium.close());
  const transmissions: Extract<MediumEvent, { type: 'transmit' }>[] = [];
  medium.observe((e) => {
    if (e.type === 'transmit') transmissions.push(e);
  });
  const gateways = [];
  for (const [i, x] of [0, 300].entries()) {
    const gateway = await startGateway({
      radio: medium.attach({ name: `gw-${i + 1}`, position: { x, y: 0 } }),
      address: i + 1,
      keys: testKeys([7]),
      broker: broker.url,
      random: prng(40 + i),
    });
    t.after(() => gateway.close());
    gateways.push(gateway);
  }
  const radio = medium.attach({ name: 'node-7', position: { x: 100, y: 0 } });
  const link = roamingLink({ radio, address: 7, key: testKey(7), random: prng(47) });
  t.after(() => link.close());
  const run = randomUUID().slice(0, 8);
  const lan = await client(t, broker.url, { protocolVersion: 5, clientId: `lan-${run}` });
  const up: string[] = [];
  await lan.subscribe(`up/${run}`, { qos: 1, onMessage: (m: Message) => up.push(m.text) });
  const node = await connect({
    link,
    clientId: `node-7-${run}`,
    protocolVersion: 5,
    keepalive: 600,
    connectTimeout: 60_000,
    properties: { sessionExpiryInterval: 3600 },
  });
  t.after(() => node.end().catch(() => {}));
  let downs = 0;
  node.on('down', () => downs++);
  const down: string[] = [];
  await node.subscribe(`down/${run}`, { qos: 1, onMessage: (m: Message) => down.push(m.text) });
  for (let i = 0; i < 8; i++) {
    await Promise.all([
      node.publish(`up/${run}`, `r${i}`, { qos: 1 }),
      lan.publish(`down/${run}`, `c${i}`, { qos: 1 }),
    ]);
  }
  await until(() => up.length === 8 && down.length === 8, 'readings and commands', 60_000);
  assert.equal(link.gateway, 1, 'the nearer gateway');
  assert.equal(downs, 0, 'no outage: the timers allow for the duty cycle');

  const byRadio = new Map<string, typeof transmissions>();
  for (const e of transmissions) byRadio.set(e.from, [...(byRadio.get(e.from) ?? []), e]);
  let checked = 0;
  for (const [name, list] of byRadio) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as (typeof list)[number];
      const next = list[i] as (typeof list)[number];
      const allowed = prev.atMs + (prev.endMs - prev.atMs) / DUTY;
      // 1 µs of float slack.
      assert.ok(
        next.atMs >= allowed - 1e-3,
        `${name} frame ${i} at ${next.atMs} ms, allowed from ${allowed} ms`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 25, `transmissions checked against the rule: ${checked}`);
  const waited = (r: { stats: { dutyCycleWaitMs: number } }) => r.stats.dutyCycleWaitMs;
  assert.ok(waited(radio) > 0, 'the node waited for its duty cycle');
  const gatewayWaits = medium
    .radios()
    .filter((r) => r.id.startsWith('gw-'))
    .map(waited);
  assert.ok(
    gatewayWaits.some((w) => w > 0),
    'a gateway waited for its duty cycle',
  );
  t.diagnostic(
    `checked ${checked} transmissions; duty-cycle wait (modelled s): node ${(waited(radio) / 1000).toFixed(0)}, gateways ${gatewayWaits.map((w) => (w / 1000).toFixed(0)).join(', ')}; modelled ${(medium.now() / 60_000).toFixed(0)} min`,
  );
});
