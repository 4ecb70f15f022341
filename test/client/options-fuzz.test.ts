/**
 * Fuzzing the option space: random option objects, mixing valid values with
 * wrong types, out-of-range numbers, NaN, Infinity, negative and fractional
 * durations, unknown enum values. For every one, `createClient()` either
 * throws an INVALID_ARGUMENT naming an option or returns a client that starts
 * and ends cleanly, and `connect()` either rejects with a typed MqttError or
 * resolves; no unhandled rejection and no uncaught exception (the runner makes
 * both fatal). The URL points at a loopback port with nothing listening.
 * FUZZ_RUNS=n runs it n times (default small, for CI).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { MqttError } from '../../src/errors.ts';
import { connect, createClient } from '../../src/node.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** Values of the wrong kind for anything. */
const junk = fc.oneof(
  fc.constant(null),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.constant(-1),
  fc.constant(0.5),
  fc.constant(2 ** 40),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
);

const ms = fc.oneof(fc.integer({ min: 1, max: 5000 }), junk);
const option = <T>(valid: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: junk }), { nil: undefined });

const optionsArb = fc.record(
  {
    protocolVersion: option(fc.constantFrom(4, 5)),
    clientId: option(fc.constantFrom('', 'fuzz-a', 'fuzz-ü', 'x'.repeat(30))),
    clean: option(fc.boolean()),
    cleanInit: option(fc.boolean()),
    keepalive: option(fc.integer({ min: 0, max: 0xffff })),
    username: option(fc.string({ maxLength: 8 })),
    password: option(fc.oneof(fc.string({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }))),
    connectTimeout: ms,
    responseTimeout: ms,
    writeTimeout: ms,
    quietPeriod: ms,
    reconnectPeriod: ms,
    reconnectPeriodMax: ms,
    resetBackoffAfter: ms,
    openRetryInterval: ms,
    stallProbeAfter: ms,
    unclaimedTimeout: ms,
    maxQueuedMessages: option(fc.integer({ min: 0, max: 1000 })),
    maxQueuedBytes: option(fc.integer({ min: 0, max: 1 << 20 })),
    maxBufferedMessages: option(fc.integer({ min: 0, max: 1000 })),
    maxBufferedBytes: option(fc.integer({ min: 0, max: 1 << 20 })),
    qos2RollbackGuard: option(fc.integer({ min: 0, max: 1000 })),
    queueFullPolicy: option(fc.constantFrom('wait', 'reject')),
    topicAliases: option(fc.boolean()),
    manualAck: option(fc.boolean()),
    subscriptionIdentifiers: option(fc.boolean()),
    timers: option(fc.constantFrom('auto', 'main', 'worker')),
    readyTimeout: option(fc.integer({ min: 1, max: 200 })),
    will: option(
      fc.record({
        topic: fc.oneof(fc.constantFrom('w/t', '', 'w/#'), junk),
        payload: fc.oneof(fc.uint8Array({ maxLength: 4 }), fc.string({ maxLength: 4 }), junk),
        qos: fc.oneof(fc.constantFrom(0, 1, 2), junk),
        retain: fc.oneof(fc.boolean(), junk),
      }),
    ),
    properties: option(
      fc.record(
        {
          sessionExpiryInterval: fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), junk),
          receiveMaximum: fc.oneof(fc.integer({ min: 0, max: 0xffff }), junk),
          topicAliasMaximum: fc.oneof(fc.integer({ min: 0, max: 0xffff }), junk),
          userProperties: fc.oneof(fc.constant({ a: 'b' }), junk),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

describe('the option space, fuzzed', () => {
  let url = '';
  let close: () => Promise<void> = async () => {};
  before(async () => {
    // A port that was free a moment ago and has nothing listening now: every attempt is refused at once.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    url = `mqtt://127.0.0.1:${port}`;
    close = async () => {};
  });
  after(() => close());

  it('createClient() throws INVALID_ARGUMENT naming an option, or the client starts and ends', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, async (options) => {
        let client: ReturnType<typeof createClient>;
        try {
          client = createClient(url, options as never);
        } catch (error) {
          assert.ok(error instanceof MqttError, `not an MqttError: ${String(error)}`);
          assert.equal(error.code, 'INVALID_ARGUMENT', error.message);
          return;
        }
        client.start();
        await new Promise((resolve) => setTimeout(resolve, 5));
        await client.end();
      }),
      { numRuns: RUNS },
    );
  });

  it('connect() rejects with a typed MqttError (never a plain Error, never unhandled)', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, async (options) => {
        const settled = await connect(url, { readyTimeout: 50, ...(options as object) }).then(
          async (client) => {
            await client.end();
            return undefined;
          },
          (error: unknown) => error,
        );
        if (settled === undefined) return;
        assert.ok(settled instanceof MqttError, `not an MqttError: ${String(settled)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
