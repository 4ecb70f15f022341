// UartModem over real pseudo-terminals (socat) with a byte-level impairment
// between them: frames cross intact and in order, damage is caught by the
// framing and counted, the stream resyncs after it, and writes are paced.
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MqttError } from '../../src/errors.ts';
import { UartModem, type UartModemOptions } from '../../src/radio/uart-modem.ts';
import { prng } from '../helpers/prng.ts';
import { type PtyPair, type PtyPairOptions, startPtyPair } from '../helpers/socat.ts';

const TEST = { timeout: 120_000 };
const WAIT = 20_000;

/** A fast modem for tests that are not about pacing: the UART at 115200 sets the pace. */
const FAST: Partial<UartModemOptions> = { baudRate: 115200, airRate: 1_000_000 };

async function ptys(t: TestContext, options?: PtyPairOptions): Promise<PtyPair> {
  const pair = await startPtyPair(options);
  t.after(() => pair.close());
  return pair;
}

interface Heard {
  frame: Uint8Array;
  rssi?: number;
}

/** Opens a modem on `path`, recording what it hears; closed when the test ends. */
async function modem(t: TestContext, path: string, options: Partial<UartModemOptions> = {}) {
  const radio = new UartModem({ path, ...options });
  const heard: Heard[] = [];
  const closes: (Error | undefined)[] = [];
  await radio.open({
    receive: (frame, rssi) => heard.push(rssi === undefined ? { frame } : { frame, rssi }),
    close: (error) => closes.push(error),
  });
  t.after(() => radio.close());
  return { radio, heard, closes };
}

async function until(what: string, check: () => boolean, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A frame that carries its own number (2 bytes) and bytes derived from it, zeros and 0xFF runs included. */
function numbered(n: number, length: number): Uint8Array {
  const random = prng(n + 1);
  const frame = Uint8Array.from({ length }, () => {
    const r = random();
    return r < 0.2 ? 0 : r < 0.3 ? 0xff : Math.floor(r * 256);
  });
  frame[0] = n >> 8;
  if (length > 1) frame[1] = n & 0xff;
  return frame;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('UartModem over socat pseudo-terminals', () => {
  test('frames of every size from 1 to mtu cross intact and in order, both ways at once', TEST, async (t) => {
    const pair = await ptys(t);
    const a = await modem(t, pair.a, FAST);
    const b = await modem(t, pair.b, FAST);
    assert.equal(a.radio.mtu, 54, 'a 58-byte packet less 4 bytes of framing');
    const sizes = Array.from({ length: a.radio.mtu }, (_, i) => i + 1);
    const toB = sizes.map((size, i) => numbered(i, size));
    const toA = sizes.map((size, i) => numbered(1000 + i, size)).reverse();
    await Promise.all([
      Promise.all(toB.map((frame) => a.radio.send(frame))),
      Promise.all(toA.map((frame) => b.radio.send(frame))),
    ]);
    await until('every frame', () => b.heard.length >= toB.length && a.heard.length >= toA.length);
    assert.deepEqual(
      b.heard.map((h) => hex(h.frame)),
      toB.map(hex),
    );
    assert.deepEqual(
      a.heard.map((h) => hex(h.frame)),
      toA.map(hex),
    );
    assert.equal(b.radio.stats.framesRejected, 0);
    assert.equal(a.radio.stats.framesSent, toB.length);
    assert.equal(b.radio.stats.framesReceived, toB.length);
    assert.ok(
      b.heard.every((h) => h.rssi === undefined),
      'no RSSI unless the modem sends it',
    );
  });

  test(
    'byte drops and bit flips: no damaged frame is handed up, damage is counted, and the stream resyncs',
    TEST,
    async (t) => {
      const pair = await ptys(t, {
        seed: 7,
        impairment: { dropRate: 0.003, corruptRate: 0.003, maxChunk: 9, jitterMs: 2 },
      });
      const a = await modem(t, pair.a, FAST);
      const b = await modem(t, pair.b, FAST);
      const sent = new Map<string, number>();
      const count = 400;
      for (let n = 0; n < count; n++) {
        const frame = numbered(n, 2 + (n % (a.radio.mtu - 1)));
        sent.set(hex(frame), n);
        await a.radio.send(frame);
      }
      await until(
        'the damaged run to drain',
        () => pair.stats['a->b'].bytesOut >= pair.stats['a->b'].bytesIn - pair.stats['a->b'].dropped,
      );
      await sleep(300);
      const damaged = b.heard.length;

      // Every frame handed up is one that was sent, unchanged, and in sending order.
      let last = -1;
      for (const { frame } of b.heard) {
        const n = sent.get(hex(frame));
        assert.notEqual(n, undefined, `a damaged frame was handed up: ${hex(frame)}`);
        assert.ok((n as number) > last, 'out of order or duplicated');
        last = n as number;
      }
      const { dropped, corrupted } = pair.stats['a->b'];
      t.diagnostic(
        `impaired: ${damaged}/${count} frames arrived; relay dropped ${dropped} and flipped ${corrupted} bytes; ` +
          `rejected ${JSON.stringify(b.radio.stats.rejected)}`,
      );
      assert.ok(dropped + corrupted > 0, 'the impairment did something');
      assert.ok(damaged < count, 'some frames were lost to the damage');
      assert.ok(b.radio.stats.framesRejected > 0, 'the framing counted the damage');
      assert.ok(damaged > count / 2, 'most frames still crossed');

      // Clean line again: every frame after the damage arrives.
      pair.impair('both', {});
      const after = Array.from({ length: 30 }, (_, i) => numbered(5000 + i, 20 + i));
      for (const frame of after) await a.radio.send(frame);
      await until('the frames after the damage', () => b.heard.length >= damaged + after.length);
      assert.deepEqual(
        b.heard.slice(damaged).map((h) => hex(h.frame)),
        after.map(hex),
      );
    },
  );

  test('a modem that re-chunks and delays the stream changes nothing', TEST, async (t) => {
    const pair = await ptys(t, { seed: 3, impairment: { maxChunk: 5, delayMs: 5, jitterMs: 10 } });
    const a = await modem(t, pair.a, FAST);
    const b = await modem(t, pair.b, FAST);
    const frames = Array.from({ length: 60 }, (_, i) => numbered(i, 1 + ((i * 7) % a.radio.mtu)));
    await Promise.all(frames.map((frame) => a.radio.send(frame)));
    await until('every frame', () => b.heard.length >= frames.length);
    assert.deepEqual(
      b.heard.map((h) => hex(h.frame)),
      frames.map(hex),
    );
    assert.equal(b.radio.stats.framesRejected, 0);
  });

  test('writes are paced to the air rate (lower bound only)', TEST, async (t) => {
    const pair = await ptys(t);
    // E32 factory settings: 9600 baud, 2400 bit/s on air, 58-byte packets.
    const a = await modem(t, pair.a, { airRate: 2400 });
    const b = await modem(t, pair.b, { airRate: 2400 });
    const airtime = a.radio.airtimeMs(a.radio.mtu);
    assert.ok(Math.abs(airtime - (58 * 8 * 1000) / 2400) < 1e-9, `58 bytes at 2400 bit/s, got ${airtime}`);
    const frames = Array.from({ length: 6 }, (_, i) => numbered(i, a.radio.mtu));
    const started = performance.now();
    await Promise.all(frames.map((frame) => a.radio.send(frame)));
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 0.95 * frames.length * airtime, `6 frames of ${airtime} ms took only ${elapsed} ms`);
    await until('every frame', () => b.heard.length >= frames.length);
    assert.ok(Math.abs(a.radio.stats.airtimeMs - frames.length * airtime) < 1e-6);
    assert.equal(a.radio.stats.bytesSent, frames.length * 58);
  });

  test('the duty cycle spaces transmissions (lower bound only)', TEST, async (t) => {
    const pair = await ptys(t);
    const a = await modem(t, pair.a, { ...FAST, airRate: 19200, dutyCycle: 0.1 });
    await modem(t, pair.b, FAST);
    const airtime = a.radio.airtimeMs(10);
    const started = performance.now();
    for (let i = 0; i < 3; i++) await a.radio.send(numbered(i, 10));
    const elapsed = performance.now() - started;
    // Frame 1 at 0, frame 2 after airtime/0.1, frame 3 after 2·airtime/0.1, which ends airtime later.
    assert.ok(
      elapsed >= 0.95 * (2 * airtime * 10 + airtime),
      `took only ${elapsed} ms, airtime ${airtime} ms`,
    );
  });

  test('the RSSI byte a modem appends after each packet becomes the frame RSSI', TEST, async (t) => {
    const pair = await ptys(t);
    pair.impair('a->b', { rssiAfterDelimiter: 0xb0 });
    const a = await modem(t, pair.a, { ...FAST, rssiByte: true });
    const b = await modem(t, pair.b, { ...FAST, rssiByte: true });
    const frames = Array.from({ length: 20 }, (_, i) => numbered(i, 1 + i * 2));
    for (const frame of frames) await a.radio.send(frame);
    await until('every frame', () => b.heard.length >= frames.length);
    assert.deepEqual(
      b.heard.map((h) => hex(h.frame)),
      frames.map(hex),
    );
    assert.ok(
      b.heard.every((h) => h.rssi === 0xb0 - 256),
      'RSSI -80 dBm on every frame',
    );
    assert.equal(b.radio.stats.framesRejected, 0);
  });
});

describe('UartModem errors', () => {
  test('options: no path, bad numbers, a packet too small for any frame', () => {
    const invalid = (fn: () => unknown) =>
      assert.throws(fn, (err: unknown) => err instanceof MqttError && err.code === 'INVALID_ARGUMENT');
    invalid(() => new UartModem({} as UartModemOptions));
    invalid(() => new UartModem({ path: '' }));
    invalid(() => new UartModem({ path: '/dev/null', baudRate: 0 }));
    invalid(() => new UartModem({ path: '/dev/null', airRate: Number.NaN }));
    invalid(() => new UartModem({ path: '/dev/null', dutyCycle: 0 }));
    invalid(() => new UartModem({ path: '/dev/null', dutyCycle: 1.5 }));
    invalid(() => new UartModem({ path: '/dev/null', packetSize: 4 }));
    assert.equal(new UartModem({ path: '/dev/null', packetSize: 5 }).mtu, 1);
    assert.equal(new UartModem({ path: '/dev/null', packetSize: 240 }).mtu, 236);
  });

  test('a port that does not exist: LINK_ERROR, and the modem can still be used later', TEST, async (t) => {
    const radio = new UartModem({ path: '/dev/steadfast-no-such-tty' });
    await assert.rejects(
      radio.open({ receive() {} }),
      (err: unknown) =>
        err instanceof MqttError &&
        err.code === 'LINK_ERROR' &&
        err.message.includes('/dev/steadfast-no-such-tty'),
    );
    assert.equal(radio.isOpen, false);
    await assert.rejects(
      radio.send(Uint8Array.of(1)),
      (err: unknown) => err instanceof MqttError && err.code === 'LINK_ERROR',
    );
    await radio.close(); // harmless
    const pair = await ptys(t);
    const other = new UartModem({ path: pair.a });
    await other.open({ receive() {} });
    await assert.rejects(other.open({ receive() {} }), /already open/);
    await other.close();
    await other.close();
  });

  test('a frame over the mtu is refused, nothing is written', TEST, async (t) => {
    const pair = await ptys(t);
    const a = await modem(t, pair.a, FAST);
    await assert.rejects(
      a.radio.send(new Uint8Array(a.radio.mtu + 1)),
      (err: unknown) => err instanceof MqttError && err.code === 'LINK_ERROR' && /mtu/.test(err.message),
    );
    assert.equal(a.radio.stats.bytesSent, 0);
    assert.equal(pair.stats['a->b'].bytesIn, 0);
  });

  test(
    'the port vanishes (socat killed): close(error) once, pending sends reject, no crash',
    TEST,
    async (t) => {
      const pair = await ptys(t);
      // Slow on air, so sends are still queued when the port goes.
      const a = await modem(t, pair.a, { airRate: 1200 });
      const pending = Array.from({ length: 5 }, (_, i) => a.radio.send(numbered(i, 50)));
      const outcomes = Promise.allSettled(pending);
      await pair.kill('a');
      await until('the close notification', () => a.closes.length > 0);
      const error = a.closes[0];
      assert.ok(error instanceof MqttError && error.code === 'LINK_ERROR', String(error));
      assert.match(error.message, /vanished|closed/);
      const settled = await outcomes;
      assert.ok(
        settled.some((s) => s.status === 'rejected'),
        'queued sends fail',
      );
      for (const s of settled) {
        if (s.status === 'rejected')
          assert.ok(s.reason instanceof MqttError && s.reason.code === 'LINK_ERROR');
      }
      assert.equal(a.radio.isOpen, false);
      await assert.rejects(a.radio.send(Uint8Array.of(1)), (err: unknown) => err instanceof MqttError);
      // The device is gone: reopening says so instead of crashing.
      await assert.rejects(
        a.radio.open({ receive() {} }),
        (err: unknown) => err instanceof MqttError && err.code === 'LINK_ERROR',
      );
      await a.radio.close();
      await sleep(100);
      assert.equal(a.closes.length, 1, 'close reported once');
    },
  );

  test('without the serialport package: a clear LINK_ERROR that says what to install', async () => {
    const { loadSerialPort } = await import('../../src/radio/uart/port.ts');
    await assert.rejects(
      loadSerialPort('steadfast-serialport-not-installed'),
      (err: unknown) =>
        err instanceof MqttError && err.code === 'LINK_ERROR' && /npm install serialport/.test(err.message),
    );
  });
});
