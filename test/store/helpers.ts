/** Temporary directories and store files for the file store's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { MqttError } from '../../src/errors.ts';

/** A fresh directory, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An assert.throws matcher for STORE_ERROR with a message matching `pattern`. */
export function storeError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof MqttError && error.code === 'STORE_ERROR' && pattern.test(error.message);
}
