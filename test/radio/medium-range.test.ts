/**
 * Range and RSSI: log-distance path loss against the receiver's sensitivity,
 * radios that move (by hand and along a path), shadowing, channels.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lora, type MediumEvent, nrf24, pathLossDb, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { listen, numbered } from './medium-helpers.ts';

const FREQ = 868_100_000;
// SF7 at 125 kHz: sensitivity -124.53 dBm; 14 dBm EIRP; exponent 2.7 -> range about 9.4 km.
const sf7 = lora({ dutyCycle: 1 });

test('RSSI follows the path loss; a receiver moved out of range stops hearing and hears again when back', async () => {
  const medium = new SimulatedMedium({ timeScale: 100, profile: sf7 });
  const node = medium.attach({ name: 'node' });
  const gateway = medium.attach({ name: 'gateway', position: { x: 1000, y: 0 } });
  const heard = await listen(gateway);
  const at = async (x: number) => {
    gateway.moveTo({ x, y: 0 });
    await node.send(numbered(x / 1000, 12));
  };
  await at(1000); // 14 - (31.22 + 27 * 3) = -98.22 dBm
  await at(9000); // 14 - (31.22 + 27 * 3.954) = -123.98 dBm, just above -124.53
  await at(10000); // 14 - (31.22 + 108) = -125.22 dBm: below the sensitivity
  await at(20000);
  await at(2000);
  await medium.close();
  assert.deepEqual(
    heard.map((h) => h.frame[1]),
    [1, 9, 2],
  );
  assert.ok(Math.abs((heard[0].rssi ?? 0) - (14 - pathLossDb(1000, FREQ))) < 1e-9);
  assert.ok(Math.abs((heard[0].rssi ?? 0) + 98.219) < 1e-3);
  assert.ok(Math.abs((heard[1].rssi ?? 0) + 123.98) < 0.01);
  assert.equal(gateway.stats.framesOutOfRange, 2);
  assert.equal(gateway.stats.framesReceived, 3);
});

test('a node following a path goes out of range and comes back; every RSSI matches its position', async () => {
  const medium = new SimulatedMedium({ timeScale: 100, profile: sf7 });
  const gateway = medium.attach({ name: 'gateway' });
  // Near for 10 s, out to 50 km over 10 s, stay 20 s, back over 10 s, near again for 10 s (modelled;
  // 600 ms of wall clock). The near stretches are long enough in wall time that a loaded machine,
  // whose first send may come tens of ms late, still sends in range before leaving.
  const path = [
    { atMs: 0, x: 100, y: 0 },
    { atMs: 10_000, x: 100, y: 0 },
    { atMs: 20_000, x: 50_000, y: 0 },
    { atMs: 40_000, x: 50_000, y: 0 },
    { atMs: 50_000, x: 100, y: 0 },
  ];
  const node = medium.attach({ name: 'node', path });
  const heard = await listen(gateway);
  const starts: number[] = [];
  medium.observe((e: MediumEvent) => {
    if (e.type === 'transmit') starts.push(e.atMs);
  });
  let count = 0;
  while (medium.now() < 60_000) {
    await node.send(numbered(count++, 12));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await medium.close();
  const expectedRssi = (i: number) => {
    const p = node.positionAt(starts[i]);
    return 14 - pathLossDb(Math.hypot(p.x, p.y), FREQ);
  };
  const heardIds = heard.map((h) => (h.frame[0] << 8) | h.frame[1]);
  for (const [k, i] of heardIds.entries()) {
    assert.ok(Math.abs((heard[k].rssi ?? 0) - expectedRssi(i)) < 1e-9, `frame ${i}`);
  }
  const inRange = Array.from({ length: count }, (_, i) => expectedRssi(i) >= sf7.sensitivityDbm);
  assert.deepEqual(
    heardIds,
    inRange.flatMap((ok, i) => (ok ? [i] : [])),
  );
  // It was heard, then lost, then heard again.
  const firstGap = inRange.indexOf(false);
  assert.ok(firstGap > 0, 'heard before leaving');
  assert.ok(inRange.slice(firstGap).includes(true), 'heard after coming back');
  assert.equal(gateway.stats.framesOutOfRange, inRange.filter((ok) => !ok).length);
});

test('shadowing spreads the RSSI around the path loss with the configured deviation', async () => {
  const profile = nrf24({ bitrate: 2_000_000 });
  const medium = new SimulatedMedium({ seed: 9, profile, pathLoss: { shadowingSigmaDb: 8 } });
  const sender = medium.attach({ name: 'sender' });
  const receiver = medium.attach({ name: 'receiver', position: { x: 10, y: 0 } });
  const heard = await listen(receiver);
  const count = 600;
  for (let i = 0; i < count; i++) await sender.send(numbered(i, 8));
  await medium.close();
  const mean = 0 - pathLossDb(10, profile.frequencyHz); // -67.3 dBm, 14.7 dB above the -82 dBm sensitivity
  const rssi = heard.map((h) => h.rssi ?? 0);
  const avg = rssi.reduce((a, b) => a + b, 0) / rssi.length;
  const sd = Math.sqrt(rssi.reduce((a, b) => a + (b - avg) ** 2, 0) / rssi.length);
  assert.ok(Math.abs(avg - mean) < 1.5, `mean ${avg} vs ${mean}`);
  assert.ok(sd > 6.5 && sd < 9, `sd ${sd}`);
  // The tail below -82 dBm (1.84 sigma, ~3%) is out of range.
  assert.ok(receiver.stats.framesOutOfRange > 0 && receiver.stats.framesOutOfRange < count * 0.1);
  assert.equal(receiver.stats.framesOutOfRange + heard.length, count);
});

test('radios hear only radios on the same channel', async () => {
  const medium = new SimulatedMedium({ profile: sf7 });
  const a = medium.attach({ name: 'a' });
  const sameChannel = medium.attach({ name: 'same' });
  const otherSf = medium.attach({ name: 'sf9', profile: lora({ sf: 9, dutyCycle: 1 }) });
  const otherRadio = medium.attach({ name: 'nrf', profile: nrf24() });
  const heard = await Promise.all([listen(sameChannel), listen(otherSf), listen(otherRadio)]);
  await a.send(numbered(1, 10));
  await medium.close();
  assert.deepEqual(
    heard.map((h) => h.length),
    [1, 0, 0],
  );
  assert.equal(otherSf.stats.framesOutOfRange, 0);
});
