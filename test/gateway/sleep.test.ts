// Sleeping nodes: a node publishing one QoS 1 reading every 5 modelled minutes
// for 2 modelled hours (the nRF24 medium at timeScale 150, so a period is 2 s of wall clock) and sleeping
// between, receiver off and no heartbeat, beside an always-awake node doing
// the same. Commands sent to the sleeping node at random times are held by
// the gateway and delivered at its next wake, none lost; its broker
// connection stays up throughout (a will without delay would show a drop);
// its radio is on at least 20 times less than the awake node's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mosquitto } from '../client/e2e.ts';
import { sleepingSite } from './sleep-site.ts';

test('a sleeping node: readings every 5 modelled minutes, commands held for its wake, 20x less radio-on time', {
  timeout: 120_000,
}, async (t) => {
  const broker = await mosquitto(t);
  const result = await sleepingSite(broker, { timeScale: 150, periodMin: 5, readings: 24, seed: 11 });
  t.diagnostic(JSON.stringify(result));
  assert.ok(result.modelledHours >= 1.9, `modelled hours: ${result.modelledHours}`);
  assert.equal(result.readingsLost, 0, 'every reading arrived');
  assert.ok(result.commandsSent >= 20, `commands sent: ${result.commandsSent}`);
  assert.equal(result.commandsLost, 0, 'every command reached the node');
  // Held for the next wake: at most one period (2 s wall) and the wake's round trips.
  assert.ok(result.commandDelayMaxWallMs < 3000, `worst command delay ${result.commandDelayMaxWallMs} ms`);
  assert.ok(result.sleeps >= 20, `sleeps granted: ${result.sleeps}`);
  assert.equal(result.wills, 0, 'no will: the gateway kept the broker connections');
  assert.equal(result.downs, 0, 'no outage');
  assert.ok(result.radioOnRatio >= 20, `radio-on time, awake / sleeping: ${result.radioOnRatio.toFixed(1)}`);
});
