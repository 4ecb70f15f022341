/**
 * The API reference (typedoc, `npm run docs`, part of `npm run build`):
 * it documents exactly the package's entry points, typedoc's validation
 * (undocumented exports, types referenced but not exported, broken links)
 * finds nothing, and every option of every public `*Options` type has a doc
 * comment that, for an optional one, states its default ("Default ...").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { checkOptions } from './options.ts';

const typedocConfig = JSON.parse(readFileSync('typedoc.json', 'utf8')) as {
  entryPoints: string[];
  out: string;
};
const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  exports: Record<string, { default: string }>;
  scripts: Record<string, string>;
};

/** `./dist/codec/index.js` -> `src/codec/index.ts`: the source of each package export. */
const exportSources = Object.values(packageJson.exports).map((target) =>
  target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'),
);

test('the reference documents exactly the package exports', () => {
  assert.deepEqual([...typedocConfig.entryPoints].sort(), [...exportSources].sort());
  assert.equal(typedocConfig.out, 'docs/api');
  assert.match(packageJson.scripts.docs, /typedoc/);
  assert.match(packageJson.scripts.build, /npm run docs/, '`npm run build` makes the reference');
  assert.match(
    readFileSync('.gitignore', 'utf8'),
    /^\/?docs\/api\/?$/m,
    'the generated reference is not committed',
  );
});

test('typedoc validation finds nothing: every export documented, every referenced type exported', () => {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    ['node_modules/typedoc/bin/typedoc', '--emit', 'none', '--logLevel', 'Warn', '--treatWarningsAsErrors'],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 300_000 },
  );
  const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const warnings = output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
  assert.deepEqual(warnings, [], `typedoc reported:\n${warnings.join('\n')}`);
  assert.equal(run.status, 0, output);
  console.log(`# typedoc validation took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('every public option has a doc comment, and every optional one states its default', () => {
  const report = checkOptions(typedocConfig.entryPoints);
  // The options the issue names must be among those checked.
  for (const name of [
    'ClientOptions',
    'NodeClientOptions',
    'WebSocketLinkOptions',
    'TcpLinkOptions',
    'FileStoreOptions',
  ]) {
    assert.ok(
      report.types.some((type) => type.endsWith(`: ${name}`)),
      `${name} checked (checked: ${report.types.join(', ')})`,
    );
  }
  assert.ok(report.checked > 100, `${report.checked} options checked`);
  const problems = report.problems.map((p) => `${p.option} (${p.file}): ${p.problem}`);
  assert.deepEqual(
    problems,
    [],
    `options to document ("Default ..." for optional ones):\n${problems.join('\n')}`,
  );
});

test('the options check catches an option with no default stated', () => {
  // Proves the check above can fail: an undocumented default in a scratch entry point.
  const report = checkOptions(['test/docs/fixtures/bad-options.ts'], 'tsconfig.json');
  assert.deepEqual(
    report.problems.map((p) => `${p.option}: ${p.problem}`),
    ['BadOptions.noComment: no doc comment', 'BadOptions.noDefault: no default stated'],
  );
});
