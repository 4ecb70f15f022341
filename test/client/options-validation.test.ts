/**
 * Options no CONNECT can carry are refused where the user passes them, with a
 * typed error: `createClient()` throws, `connect()` rejects, nothing is sent
 * (the URL below has nothing listening and is never dialled), and nothing
 * reaches an unhandled rejection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, createClient } from '../../src/node.ts';
import { mqttError } from './e2e.ts';

const NOWHERE = 'mqtt://127.0.0.1:1';

describe('options a CONNECT cannot carry', () => {
  it('MQTT 3.1.1, empty client id without clean session: createClient throws INVALID_ARGUMENT', () => {
    assert.throws(
      () => createClient(NOWHERE, { clientId: '', protocolVersion: 4 }),
      mqttError('INVALID_ARGUMENT'),
    );
  });

  it('connect() rejects with it at once, no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const started = Date.now();
      await assert.rejects(
        connect(NOWHERE, { clientId: '', protocolVersion: 4 }),
        mqttError('INVALID_ARGUMENT'),
      );
      assert.ok(Date.now() - started < 1000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('the same id with clean session is fine (the broker assigns one)', () => {
    const client = createClient(NOWHERE, { clientId: '', protocolVersion: 4, clean: true });
    void client.end();
  });
});

describe('options of the wrong type or out of range', () => {
  const bad: Array<[string, unknown]> = [
    ['protocolVersion', 3],
    ['keepalive', -1],
    ['keepalive', 70_000],
    ['keepalive', 1.5],
    ['connectTimeout', 0],
    ['connectTimeout', Number.NaN],
    ['responseTimeout', '5000'],
    ['writeTimeout', Number.POSITIVE_INFINITY],
    ['quietPeriod', -5],
    ['reconnectPeriod', Number.NaN],
    ['reconnectPeriodMax', 2 ** 40],
    ['resetBackoffAfter', null],
    ['openRetryInterval', -1],
    ['stallProbeAfter', '1s'],
    ['unclaimedTimeout', Number.NaN],
    ['maxQueuedMessages', 1.5],
    ['maxBufferedBytes', -1],
    ['qos2RollbackGuard', Number.POSITIVE_INFINITY],
    ['maxInflight', 0],
    ['queueFullPolicy', 'drop'],
    ['timers', 'fast'],
    ['clean', 'yes'],
    ['manualAck', 1],
    ['clientId', 42],
    ['password', 42],
    ['will', 'gone'],
    ['url', 42],
    ['readyTimeout', -1],
  ];
  for (const [name, value] of bad) {
    it(`${name}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)} → INVALID_ARGUMENT naming it`, async () => {
      const options = { [name]: value } as Record<string, unknown>;
      assert.throws(
        () => createClient(name === 'url' ? (options as never) : NOWHERE, options as never),
        (e: unknown) =>
          e instanceof Error &&
          (e as { code?: string }).code === 'INVALID_ARGUMENT' &&
          e.message.includes(name),
      );
      await assert.rejects(
        connect(name === 'url' ? (options as never) : NOWHERE, options as never),
        mqttError('INVALID_ARGUMENT'),
      );
    });
  }
});
