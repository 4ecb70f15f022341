/**
 * Time on the medium: duty-cycle waits, time scaling, half-duplex, collisions
 * and capture, and clean shutdown (no timer left behind).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lora, type MediumEvent, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { listen, numbered, until } from './medium-helpers.ts';

type Transmit = Extract<MediumEvent, { type: 'transmit' }>;

function transmits(medium: SimulatedMedium): Transmit[] {
  const out: Transmit[] = [];
  medium.observe((e) => {
    if (e.type === 'transmit') out.push(e);
  });
  return out;
}

test('1% duty cycle: each frame waits T / dc after the previous one started (Toff = 99 T)', async () => {
  const medium = new SimulatedMedium({ timeScale: 100, profile: lora({ sf: 7, dutyCycle: 0.01 }) });
  const node = medium.attach({ name: 'node' });
  const log = transmits(medium);
  const wallStart = performance.now();
  await Promise.all([node.send(numbered(0, 10)), node.send(numbered(1, 10)), node.send(numbered(2, 10))]);
  const wallMs = performance.now() - wallStart;
  await medium.close();
  const airtime = 41.216; // SF7, 10 bytes
  assert.equal(log.length, 3);
  for (const t of log) assert.ok(Math.abs(t.endMs - t.atMs - airtime) < 1e-9);
  // The rule: next start >= start + T / 0.01 = start + 4121.6 ms.
  for (let i = 1; i < 3; i++) {
    assert.ok(
      Math.abs(log[i].notBeforeMs - (log[i - 1].atMs + airtime / 0.01)) < 1e-6,
      `notBefore of frame ${i}`,
    );
    assert.ok(log[i].atMs >= log[i].notBeforeMs, `frame ${i} started before the duty cycle allowed it`);
  }
  assert.ok(Math.abs(node.nextTransmitAtMs - (log[2].atMs + airtime / 0.01)) < 1e-6);
  // Each wait counts from when the frame was ready (after the previous one left), so at most Toff each.
  const waited = node.stats.dutyCycleWaitMs;
  assert.ok(waited > 0 && waited <= 2 * airtime * 99 + 1e-6, `waited ${waited}`);
  assert.ok(Math.abs(node.stats.airtimeMs - 3 * airtime) < 1e-9, 'stats report modelled airtime');
  // 8.3 s of modelled time ran in about 83 ms; the bound is the unscaled time, so only a broken timeScale fails it.
  assert.ok(wallMs < 2 * airtime * 100, `took ${wallMs} ms of wall clock`);
});

test('timeScale makes an SF12 duty-cycled exchange of minutes finish in well under a second', async () => {
  const medium = new SimulatedMedium({ timeScale: 2000, profile: lora({ sf: 12 }) });
  const node = medium.attach({ name: 'node' });
  const gateway = medium.attach({ name: 'gateway', position: { x: 2000, y: 0 } });
  const heard = await listen(gateway);
  const log = transmits(medium);
  for (let i = 0; i < 3; i++) await node.send(numbered(i, 51));
  await medium.close();
  assert.equal(heard.length, 3);
  // 2465.792 ms on air, then 99 times that silent: frame 3 starts at least 2 * 246.6 s after frame 1.
  assert.ok(log[2].atMs - log[0].atMs >= 2 * 246_579.2 - 1e-6);
  assert.ok(Math.abs(node.airtimeMs(51) - 2465.792 / 2000) < 1e-9, 'airtimeMs() is wall clock');
});

test('two frames overlapping at a receiver with similar strength are both lost; the senders miss each other (half-duplex)', async () => {
  const profile = lora({ sf: 7, dutyCycle: 1 });
  const medium = new SimulatedMedium({ profile });
  const a = medium.attach({ name: 'a', position: { x: -100, y: 0 } });
  const b = medium.attach({ name: 'b', position: { x: 100, y: 0 } });
  const c = medium.attach({ name: 'c' });
  const [heardA, heardB, heardC] = await Promise.all([listen(a), listen(b), listen(c)]);
  await Promise.all([a.send(numbered(1, 20)), b.send(numbered(2, 20))]);
  assert.equal(heardC.length, 0);
  assert.equal(c.stats.framesCollided, 2);
  assert.equal(heardA.length + heardB.length, 0);
  assert.equal(a.stats.framesMissedWhileSending, 1);
  assert.equal(b.stats.framesMissedWhileSending, 1);
  // One after the other, the same frames get through.
  await a.send(numbered(3, 20));
  await b.send(numbered(4, 20));
  await medium.close();
  assert.deepEqual(
    heardC.map((h) => h.frame[1]),
    [3, 4],
  );
  assert.equal(medium.stats.collided, 2);
});

test('capture: a frame 6 dB or more stronger survives the overlap, the weaker one is lost', async () => {
  const medium = new SimulatedMedium({ profile: lora({ sf: 7, dutyCycle: 1 }) });
  const near = medium.attach({ name: 'near', position: { x: 10, y: 0 } });
  const far = medium.attach({ name: 'far', position: { x: -2000, y: 0 } });
  const gateway = medium.attach({ name: 'gateway' });
  const heard = await listen(gateway);
  // 27 log10(2000 / 10) = 62 dB apart.
  await Promise.all([near.send(numbered(1, 20)), far.send(numbered(2, 20))]);
  await medium.close();
  assert.deepEqual(
    heard.map((h) => h.frame[1]),
    [1],
  );
  assert.equal(gateway.stats.framesCollided, 1);
});

test('half-duplex: a radio that starts transmitting while a frame arrives loses that frame', async () => {
  const medium = new SimulatedMedium({ profile: lora({ sf: 9, dutyCycle: 1 }) });
  const a = medium.attach({ name: 'a' });
  const b = medium.attach({ name: 'b' });
  const heardB = await listen(b);
  const long = a.send(numbered(1, 200)); // about 1 s on air at SF9
  await new Promise((resolve) => setTimeout(resolve, 20));
  await b.send(numbered(2, 5)); // b transmits while a's frame is still arriving
  await long;
  await medium.close();
  assert.equal(heardB.length, 0);
  assert.equal(b.stats.framesMissedWhileSending, 1);
});

test('send rejects LINK_ERROR past the MTU and after close; closing the medium fails pending sends and tells the radios', async () => {
  const medium = new SimulatedMedium({ timeScale: 10, profile: lora({ sf: 7, dutyCycle: 0.01 }) });
  const node = medium.attach({ name: 'node' });
  const closedWith: (Error | undefined)[] = [];
  await node.open({ receive: () => {}, close: (error) => closedWith.push(error) });
  await assert.rejects(node.send(new Uint8Array(256)), { code: 'LINK_ERROR' });
  await node.send(numbered(0, 10));
  const waiting = node.send(numbered(1, 10)); // waits 4 s (modelled) for the duty cycle
  assert.throws(() => medium.attach({ name: 'node' }), { code: 'INVALID_ARGUMENT' });
  await medium.close();
  await assert.rejects(waiting, { code: 'LINK_ERROR' });
  assert.equal(closedWith.length, 1);
  assert.match(String(closedWith[0]?.message), /closed/);
  await assert.rejects(node.send(numbered(2, 10)), { code: 'LINK_ERROR' });
  assert.throws(() => medium.attach(), { code: 'LINK_ERROR' });
  await medium.close(); // twice is fine
});

test('closing leaves no timer running, even with frames on the air and sends waiting', async () => {
  const timers = () =>
    process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
  const before = timers();
  const medium = new SimulatedMedium({ profile: lora({ sf: 12, dutyCycle: 0.01 }) });
  const a = medium.attach({ name: 'a' });
  const b = medium.attach({ name: 'b' });
  await listen(b);
  const onAir = a.send(numbered(0, 100)); // 2.8 s on air at SF12, then 99 times that
  const queued = a.send(numbered(1, 100));
  const bWaits = b.send(numbered(2, 10));
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(timers() > before);
  await a.close(); // a radio closing mid-frame stops its carrier
  await assert.rejects(onAir, { code: 'LINK_ERROR' });
  await assert.rejects(queued, { code: 'LINK_ERROR' });
  await medium.close();
  await assert.rejects(bWaits, { code: 'LINK_ERROR' });
  assert.equal(timers(), before);
});

test('a radio answering from its receive handler is heard: the frame it answers has left the air', async () => {
  const medium = new SimulatedMedium({ timeScale: 10, profile: lora({ sf: 7, dutyCycle: 1 }) });
  const a = medium.attach({ name: 'a' });
  const b = medium.attach({ name: 'b', position: { x: 300, y: 0 } });
  const acks = await listen(a);
  await b.open({ receive: (frame) => void b.send(frame.slice(0, 2)) });
  for (let i = 0; i < 30; i++) {
    await a.send(numbered(i, 20));
    await until(() => acks.length === i + 1); // stop-and-wait, as an ARQ does
  }
  await medium.close();
  assert.equal(medium.stats.collided + medium.stats.missedWhileSending, 0);
  assert.deepEqual(
    acks.map((h) => h.frame[1]),
    Array.from({ length: 30 }, (_, i) => i),
  );
});
