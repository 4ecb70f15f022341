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
