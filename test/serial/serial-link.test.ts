// serialLink() over real pseudo-terminals (socat) with an impaired line in
// between. The far end is the radio link layer's own endpoint on a second
// UartModem (what a gateway runs), echoing every byte: the byte stream must
// come back intact and in order through drops and bit flips, an outage of
// the line must become a link outage, and a vanished port a clear error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MqttError } from '../../src/errors.ts';
import type { Connection } from '../../src/links/types.ts';
import { linkTiming, RadioEndpoint, type StreamHandle } from '../../src/radio/link/index.ts';
import { UartModem } from '../../src/radio/uart-modem.ts';
import { type SerialLinkOptions, serialLink, serialModemOptions } from '../../src/serial.ts';
import { type PtyPair, type PtyPairOptions, startPtyPair } from '../helpers/socat.ts';

const TEST = { timeout: 120_000 };
const WAIT = 30_000;

async function ptys(t: TestContext, options?: PtyPairOptions): Promise<PtyPair> {
  const pair = await startPtyPair(options);
  t.after(() => pair.close());
  return pair;
}

async function until(what: string, check: () => boolean, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The far end: a UartModem on `path` with a link endpoint (address 0) that echoes every stream. */
async function echoGateway(t: TestContext, path: string, options: Partial<SerialLinkOptions> = {}) {
  const modem = new UartModem(serialModemOptions({ path, ...options }));
  const streams: StreamHandle[] = [];
  const endpoint = new RadioEndpoint({
    radio: modem,
    address: 0,
    timing: linkTiming(modem, options),
    onOpen(request) {
      const handle: StreamHandle = request.accept({
        data: (bytes) => handle.write(bytes),
        closed: () => {},
      });
      streams.push(handle);
    },
  });
  await endpoint.start();
  t.after(() => endpoint.close());
  return { modem, endpoint, streams };
}

/** Opens the node's connection and records what comes back. */
async function openNode(link: ReturnType<typeof serialLink>) {
  const received: Uint8Array[] = [];
  const closes: (Error | undefined)[] = [];
  const connection: Connection = await link.open({
    data: (chunk) => received.push(chunk),
    close: (error) => closes.push(error),
  });
  return { connection, received, closes, bytes: () => Buffer.concat(received) };
}

describe('serialLink over socat pseudo-terminals', () => {
  for (const checksum of [true, false]) {
    const caughtBy = checksum ? 'the UART CRC-16' : "the link layer's CRC-32C";
    test(
      `a 24 KiB byte stream echoes back intact and in order through drops and bit flips (damage caught by ${caughtBy})`,
      TEST,
      async (t) => {
        const pair = await ptys(t, {
          seed: 11,
          impairment: { dropRate: 0.0005, corruptRate: 0.0005, maxChunk: 16, jitterMs: 1 },
        });
        const gateway = await echoGateway(t, pair.b, { checksum });
        const link = serialLink({ path: pair.a, checksum, insecure: true });
        t.after(() => link.close());
        // 4 bytes of UART framing (2 without the CRC), and one more COBS byte past 253 bytes.
        assert.equal(link.modem.mtu, checksum ? 251 : 253);
        const node = await openNode(link);
        const payload = randomBytes(24 * 1024);
        for (let at = 0; at < payload.length; at += 700)
          node.connection.write(payload.subarray(at, at + 700));
        await until('the echo', () => node.bytes().length >= payload.length, 90_000);
        assert.ok(node.bytes().equals(payload), 'the echo differs from what was sent');
        assert.deepEqual(node.closes, []);
        const damage = pair.stats['a->b'].dropped + pair.stats['a->b'].corrupted;
        const byFraming = gateway.modem.stats.framesRejected + link.modem.stats.framesRejected;
        const byLinkCrc = gateway.endpoint.stats.corrupted + link.stats.corrupted;
        t.diagnostic(
          `line damage ${damage} bytes a->b, ${pair.stats['b->a'].dropped + pair.stats['b->a'].corrupted} b->a; ` +
            `frames rejected by the UART framing ${byFraming}, by the link CRC ${byLinkCrc}; ` +
            `retransmissions ${link.streamStats?.retransmissions}`,
        );
        assert.ok(damage > 0, 'the impairment did something');
        if (checksum) assert.ok(byFraming > 0, 'the UART CRC caught damaged frames');
        else assert.ok(byLinkCrc > 0, 'damaged frames reached the link layer and its CRC caught them');
        assert.ok((link.streamStats?.retransmissions ?? 0) > 0, 'lost frames were retransmitted');
      },
    );
  }

  test(
    'the line goes dark past the link timeout: an outage (TIMEOUT), then a new stream works',
    TEST,
    async (t) => {
      const pair = await ptys(t);
      const timing = { heartbeatMs: 300, linkTimeoutMs: 1500 };
      await echoGateway(t, pair.b, timing);
      const link = serialLink({ path: pair.a, ...timing, insecure: true });
      t.after(() => link.close());
      const first = await openNode(link);
      first.connection.write(Uint8Array.of(1, 2, 3));
      await until('the first echo', () => first.bytes().length === 3);

      pair.impair('both', { blackout: true });
      await until('the outage', () => first.closes.length > 0);
      const error = first.closes[0];
      assert.ok(error instanceof MqttError && error.code === 'TIMEOUT', String(error));

      pair.impair('both', {});
      const second = await openNode(link);
      second.connection.write(Uint8Array.of(4, 5, 6, 7));
      await until('the echo on the new stream', () => second.bytes().length === 4);
      assert.deepEqual([...second.bytes()], [4, 5, 6, 7]);
    },
  );

  test('a short fade is masked: frames are retried and the stream stays up', TEST, async (t) => {
    const pair = await ptys(t);
    const timing = { heartbeatMs: 500, linkTimeoutMs: 6000 };
    await echoGateway(t, pair.b, timing);
    const link = serialLink({ path: pair.a, ...timing, insecure: true });
    t.after(() => link.close());
    const node = await openNode(link);
    pair.impair('both', { blackout: true });
    node.connection.write(Uint8Array.of(9, 8, 7));
    await sleep(800);
    pair.impair('both', {});
    await until('the echo after the fade', () => node.bytes().length === 3);
    assert.deepEqual([...node.bytes()], [9, 8, 7]);
    assert.deepEqual(node.closes, []);
    assert.ok((link.streamStats?.retransmissions ?? 0) > 0);
  });

  test('a missing port: open rejects with LINK_ERROR, every time, without a crash', TEST, async () => {
    const link = serialLink({ path: '/dev/steadfast-no-such-tty', insecure: true });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        link.open({ data() {}, close() {} }),
        (err: unknown) =>
          err instanceof MqttError && err.code === 'LINK_ERROR' && /no-such-tty/.test(err.message),
      );
    }
    await link.close();
    assert.throws(
      () => serialLink({ path: '', insecure: true }),
      (err: unknown) => err instanceof MqttError && err.code === 'INVALID_ARGUMENT',
    );
  });

  test(
    'the port vanishes (socat killed): LINK_ERROR, reopening says why, and works once the port is back',
    TEST,
    async (t) => {
      const pair = await ptys(t);
      await echoGateway(t, pair.b);
      const link = serialLink({ path: pair.a, insecure: true });
      t.after(() => link.close());
      const node = await openNode(link);
      node.connection.write(Uint8Array.of(1));
      await until('the echo', () => node.bytes().length === 1);
      await pair.kill('a');
      await until('the outage', () => node.closes.length > 0);
      const error = node.closes[0];
      assert.ok(error instanceof MqttError && error.code === 'LINK_ERROR', String(error));
      assert.match(error.message, /vanished|stopped|closed/);
      await assert.rejects(
        link.open({ data() {}, close() {} }),
        (err: unknown) => err instanceof MqttError && err.code === 'LINK_ERROR',
      );

      // The adapter is plugged back in: the next open finds the line again.
      const spent = link.modem;
      await pair.restart('a');
      const again = await openNode(link);
      assert.notEqual(link.modem, spent, 'a fresh driver');
      again.connection.write(Uint8Array.of(2, 3));
      await until('the echo after the port came back', () => again.bytes().length === 2);
      assert.deepEqual([...again.bytes()], [2, 3]);
    },
  );
});
