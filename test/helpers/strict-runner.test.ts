/**
 * The suite's runner fails a file on a stray rejection or an uncaught
 * exception, even one that happens after the test that caused it has passed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const runner = join(import.meta.dirname, '../../scripts/run-tests.mjs');

/** Copies a fixture to a temporary `.test.ts` (the runner only picks those) and runs it through the runner. */
function runFixture(name: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'strict-runner-'));
  try {
    copyFileSync(join(import.meta.dirname, 'fixtures', `${name}.ts`), join(dir, `${name}.test.ts`));
    // NODE_TEST_CONTEXT tells node:test it runs inside another run; the inner run must be a run of its own.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const result = spawnSync(process.execPath, [runner, dir], {
      cwd: join(import.meta.dirname, '../..'),
      encoding: 'utf8',
      env: { ...env, TEST_CONCURRENCY: '1' },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a rejection nobody handles fails the run, with the error in the output', () => {
  const { status, output } = runFixture('stray-rejection');
  assert.notEqual(status, 0, output);
  assert.match(output, /stray rejection from the fixture/);
  assert.match(output, /unhandledRejection/);
});

test('an exception nobody catches fails the run, with the error in the output', () => {
  const { status, output } = runFixture('stray-exception');
  assert.notEqual(status, 0, output);
  assert.match(output, /stray exception from the fixture/);
});
