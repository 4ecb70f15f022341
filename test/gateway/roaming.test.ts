// Roaming without losing the session: three gateways 60 m apart along a line
// (nRF24 range about 45 m), a node walking from the first to the third and
// back, publishing a QoS 1 and a QoS 2 reading every 150 ms; it moves gateway
// four times (1 -> 2 -> 3 -> 2 -> 1), early where a clearly better gateway is
// heard; every QoS 1 reading arrives, every QoS 2 reading exactly once, and its
// will (MQTT 5, delayed) is never published. A node midway between two
// gateways of equal quality (shadowing 4 dB per frame) does not flap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mosquitto } from '../client/e2e.ts';
import { between, walk } from './roam-site.ts';

const LONG = { timeout: 180_000 };

test(
  'a node walking past three gateways roams there and back: nothing lost, nothing twice, no will',
  LONG,
  async (t) => {
    const broker = await mosquitto(t);
    const result = await walk(broker, {
      xs: [0, 60, 120],
      route: [
        { atMs: 0, x: 0, y: 0 },
        { atMs: 2000, x: 0, y: 0 },
        { atMs: 14_000, x: 120, y: 0 },
        { atMs: 16_000, x: 120, y: 0 },
        { atMs: 28_000, x: 0, y: 0 },
      ],
      periodMs: 150,
      seed: 21,
    });
    t.diagnostic(JSON.stringify(result));
    assert.deepEqual(result.path, [1, 2, 3, 2, 1], 'through every gateway and back');
    assert.equal(result.handovers, 4);
    assert.ok(result.sent > 100, `readings sent (${result.sent})`);
    assert.equal(result.qos1Lost, 0, 'no QoS 1 reading lost');
    assert.equal(result.qos2Lost, 0, 'no QoS 2 reading lost');
    assert.equal(result.qos2Dup, 0, 'no QoS 2 reading twice');
    assert.equal(result.wills, 0, 'no will while in range of some gateway');
  },
);

test('a node between two similar gateways does not flap', LONG, async (t) => {
  const broker = await mosquitto(t);
  const result = await between(broker, {
    spacing: 40,
    durationMs: 20_000,
    seed: 5,
    searchIntervalMs: 300,
    minDwellMs: 2000,
  });
  t.diagnostic(JSON.stringify(result));
  assert.ok(result.searches >= 30, `it kept measuring (${result.searches} searches)`);
  // The dwell time alone allows 10 moves in 20 s; the hysteresis keeps it where it is.
  assert.ok(result.moves <= 1, `moves between two similar gateways: ${result.moves}`);
  // The control: with no hysteresis, dwell time or averaging, the same node does flap, so the measurement can see flapping.
  const control = await between(broker, {
    spacing: 40,
    durationMs: 8000,
    seed: 5,
    searchIntervalMs: 300,
    minDwellMs: 0,
    hysteresisDb: 0,
    samples: 1,
  });
  t.diagnostic(`control, no hysteresis: ${JSON.stringify(control)}`);
  assert.ok(control.moves >= 3, `the control flaps (${control.moves} moves in 8 s)`);
});
