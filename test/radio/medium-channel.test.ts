/**
 * Loss, bit errors, Gilbert-Elliott bursts, triggered interference and
 * seeding. Frames go one after the other (no collisions), so every outcome
 * here is drawn from the seeded streams.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MediumEvent, nrf24, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { Interference } from '../../src/radio/medium/interference.ts';
import { crc32 } from '../../src/store/crc32.ts';
import { bitDifference, listen, numbered, sendMany } from './medium-helpers.ts';

// nRF24 at 2 Mbps: no duty cycle and an airtime far below a timer tick, so thousands of frames take seconds.
const fast = nrf24({ bitrate: 2_000_000 });

async function lossRun(seed: number, loss: number, count: number) {
  const medium = new SimulatedMedium({ seed, loss, profile: fast });
  const sender = medium.attach({ name: 'sender' });
  const receiver = medium.attach({ name: 'receiver', position: { x: 5, y: 0 } });
  const heard = await listen(receiver);
  await sendMany(sender, count);
  await medium.close();
  return { heard, stats: receiver.stats, medium: medium.stats };
}

test('loss: the delivered share matches the loss probability within a binomial bound', async () => {
  const count = 2000;
  const { heard, stats, medium } = await lossRun(42, 0.2, count);
  // Expected 400 lost, standard deviation sqrt(2000 * 0.2 * 0.8) = 17.9: allow 5 sigma.
  assert.ok(Math.abs(stats.framesLost - 400) < 5 * 17.9, `lost ${stats.framesLost}`);
  assert.equal(heard.length + stats.framesLost, count);
  assert.equal(stats.framesReceived, heard.length);
  assert.equal(medium.lost, stats.framesLost);
  assert.equal(medium.transmissions, count);
  // Nothing else happened to them.
  assert.equal(stats.framesCollided + stats.framesOutOfRange + stats.framesMissedWhileSending, 0);
});

test('the same seed gives the same outcome, another seed a different one', async () => {
  const first = await lossRun(7, 0.3, 300);
  const again = await lossRun(7, 0.3, 300);
  const other = await lossRun(8, 0.3, 300);
  const ids = (run: typeof first) => run.heard.map((h) => (h.frame[0] << 8) | h.frame[1]);
  assert.deepEqual(ids(again), ids(first));
  assert.notDeepEqual(ids(other), ids(first));
});

test('bit errors corrupt delivered frames at the configured rate, and a CRC catches every one', async () => {
  const medium = new SimulatedMedium({ seed: 3, bitErrorRate: 1e-3, profile: fast });
  const sender = medium.attach({ name: 'sender' });
  const receiver = medium.attach({ name: 'receiver' });
  const heard = await listen(receiver);
  const count = 500;
  // Each frame carries a CRC-32 over its first 28 bytes, as a link layer would.
  const sent = Array.from({ length: count }, (_, i) => {
    const frame = numbered(i, 32);
    new DataView(frame.buffer).setUint32(28, crc32(frame, 0, 28));
    return frame;
  });
  for (const frame of sent) await sender.send(frame);
  await medium.close();
  assert.equal(heard.length, count);
  let corrupted = 0;
  let flipped = 0;
  for (let i = 0; i < count; i++) {
    const bits = bitDifference(sent[i], heard[i].frame);
    flipped += bits;
    if (bits > 0) {
      corrupted++;
      // CRC-32 detects every error pattern of up to 3 bits in a frame this short, and all but 2^-32 of the rest.
      assert.notEqual(
        crc32(heard[i].frame, 0, 28),
        new DataView(heard[i].frame.buffer).getUint32(28),
        `frame ${i}`,
      );
    }
  }
  assert.equal(receiver.stats.framesCorrupted, corrupted);
  assert.equal(receiver.stats.bitsFlipped, flipped);
  // 500 * 256 bits at 1e-3: 128 flips expected, sigma ~11.3; P(frame corrupt) = 1 - 0.999^256 = 0.226 -> 113 frames.
  assert.ok(Math.abs(flipped - 128) < 5 * 11.3, `flipped ${flipped}`);
  assert.ok(corrupted > 60 && corrupted < 170, `corrupted ${corrupted}`);
});

/** P(frame i lost | frame i-1 lost) and P(lost) from a list of lost flags. */
function clustering(lost: boolean[]) {
  let pairs = 0;
  let both = 0;
  for (let i = 1; i < lost.length; i++) {
    if (lost[i - 1]) {
      pairs++;
      if (lost[i]) both++;
    }
  }
  const losses = lost.filter(Boolean).length;
  return { losses, rate: losses / lost.length, afterLoss: pairs === 0 ? 0 : both / pairs };
}

/** Sends frames until `durationMs` of modelled time has passed; returns, in order, whether each was lost. */
async function lostFlags(options: ConstructorParameters<typeof SimulatedMedium>[0], durationMs: number) {
  const medium = new SimulatedMedium({ ...options, profile: fast });
  const sender = medium.attach({ name: 'sender' });
  const receiver = medium.attach({ name: 'receiver' });
  const heard = await listen(receiver);
  let count = 0;
  // A floor on the count too: on a loaded machine a stall can eat most of the modelled time, and a
  // handful of frames says nothing about the burst schedule.
  while (medium.now() < durationMs || count < 400) await sender.send(numbered(count++, 16));
  await medium.close();
  const got = new Set(heard.map((h) => (h.frame[0] << 8) | h.frame[1]));
  return Array.from({ length: count }, (_, i) => !got.has(i));
}

test('Gilbert-Elliott bursts cluster losses; independent loss at a similar rate does not', async () => {
  // Bad 20% of the time in the long run (mean burst 100 ms, mean gap 400 ms of modelled time). The burst
  // schedule is fixed by the seed; frames go out every few modelled ms, so each burst takes many consecutive frames.
  const bursty = clustering(
    await lostFlags({ seed: 11, timeScale: 10, burst: { meanGoodMs: 400, meanBadMs: 100 } }, 6000),
  );
  const independent = clustering(await lostFlags({ seed: 11, loss: 0.2 }, 1000));
  // Bursts lose frames. Not a bound on the rate: modelled time follows the wall clock, so on a loaded
  // machine a stall can skip across bursts and leave fewer frames in them (a CI run once saw 2.8%).
  assert.ok(bursty.losses >= 20, `bursts lost ${bursty.losses} frames (rate ${bursty.rate})`);
  // After a loss in a burst the next frame is very likely lost too; with independent loss it is as likely as any.
  assert.ok(bursty.afterLoss > 0.7, `P(loss | loss) = ${bursty.afterLoss}`);
  assert.ok(independent.afterLoss < 0.35, `independent P(loss | loss) = ${independent.afterLoss}`);
});

test('the Gilbert-Elliott chain is Bad for meanBad / (meanGood + meanBad) of the time, on a schedule fixed by the seed', () => {
  const sample = (seed: number) => {
    const interference = new Interference({ meanGoodMs: 300, meanBadMs: 100 }, () => seed);
    const bad: boolean[] = [];
    for (let t = 0; t < 2_000_000; t += 10) {
      bad.push(interference.effect('rx', t, t + 1) !== undefined);
      interference.prune(t);
    }
    return bad;
  };
  const bad = sample(99);
  const fraction = bad.filter(Boolean).length / bad.length;
  // ~5000 Bad periods: the long-run fraction 0.25 is met to within a few percent.
  assert.ok(Math.abs(fraction - 0.25) < 0.03, `bad fraction ${fraction}`);
  assert.deepEqual(sample(99), bad);
  assert.notDeepEqual(sample(100), bad);
});

test('interfere() loses frames now, for the given receivers only, then the channel recovers', async () => {
  const medium = new SimulatedMedium({ seed: 5, profile: fast });
  const sender = medium.attach({ name: 'sender' });
  const near = medium.attach({ name: 'near' });
  const far = medium.attach({ name: 'far' });
  const nearHeard = await listen(near);
  const farHeard = await listen(far);
  const events: MediumEvent[] = [];
  medium.observe((e) => events.push(e));
  await sendMany(sender, 5);
  medium.interfere({ durationMs: 1e9, radios: ['near'] });
  await sendMany(sender, 5);
  assert.equal(nearHeard.length, 5);
  assert.equal(farHeard.length, 10);
  assert.equal(near.stats.framesLost, 5);
  assert.equal(events.filter((e) => e.type === 'drop' && e.reason === 'interference').length, 5);
  await medium.close();

  // A short burst with a bit error rate instead of loss corrupts, then ends.
  const second = new SimulatedMedium({ seed: 5, profile: fast });
  const a = second.attach({ name: 'a' });
  const b = second.attach({ name: 'b' });
  const heard = await listen(b);
  second.interfere({ durationMs: 50, loss: 0, bitErrorRate: 0.05 });
  await a.send(numbered(0, 32));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await a.send(numbered(1, 32));
  await second.close();
  assert.equal(heard.length, 2);
  assert.ok(bitDifference(heard[0].frame, numbered(0, 32)) > 0, 'the frame in the burst is corrupted');
  assert.equal(bitDifference(heard[1].frame, numbered(1, 32)), 0, 'the frame after it is clean');
});

test('update() changes the loss from now on (a link outage and its end)', async () => {
  const medium = new SimulatedMedium({ profile: fast });
  const sender = medium.attach({ name: 'sender' });
  const receiver = medium.attach({ name: 'receiver' });
  const heard = await listen(receiver);
  await sendMany(sender, 3);
  medium.update({ loss: 1 });
  await sendMany(sender, 3);
  medium.update({ loss: 0 });
  await sendMany(sender, 3);
  await medium.close();
  assert.deepEqual(
    heard.map((h) => h.frame[1]),
    [0, 1, 2, 0, 1, 2],
  );
  assert.throws(() => medium.update({ loss: 2 }), { code: 'INVALID_ARGUMENT' });
});
