#!/usr/bin/env node
// Runs test files with node's built-in test runner through tsx.
// Node 20's `--test` does not expand globs itself, so the files are found here.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/)
//
// Every test process runs with --unhandled-rejections=strict (node:test passes
// its own execArgv to the per-file processes): a promise nobody handles, or an
// exception nobody catches, fails its file, even one raised after the test that
// caused it has ended. The project promises that no input reaches either, so
// the suite must not tolerate one either.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--unhandled-rejections=strict',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
if (result.status !== 0) {
  console.error(
    'tests failed: see the failures above (an "unhandledRejection" or "uncaughtException" there is a promise or ' +
      'an error nobody handled; the file fails for it)',
  );
}
process.exit(result.status ?? 1);
