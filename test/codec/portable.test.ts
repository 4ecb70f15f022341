/**
 * The codec (and later the session engine) must run in any JavaScript engine:
 * bundling it for the browser platform must pull in nothing from Node.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';
import { bundleForBrowser } from '../helpers/portable.ts';

const PORTABLE_ENTRIES = ['src/codec/index.ts', 'src/session/index.ts'];

for (const entry of PORTABLE_ENTRIES) {
  test(`${entry} bundles for the browser with no Node built-in`, async () => {
    const { inputs, code } = await bundleForBrowser(entry);
    const foreign = inputs.filter((path) => !/^src\/(codec|session)\/|^src\/errors\.ts$/.test(path));
    assert.deepEqual(foreign, [], 'the portable core imports only itself');
    for (const nodeism of ['node:', 'require(', 'Buffer', 'process.', 'setTimeout', 'setInterval']) {
      assert.ok(!code.includes(nodeism), `bundle mentions ${nodeism}`);
    }
  });
}

test('a Node built-in in the portable core would be caught', async () => {
  // Proves the check above can fail: the same build over a file importing node:fs must be rejected.
  await assert.rejects(
    build({
      stdin: {
        contents: "import { readFileSync } from 'node:fs'; export const x = readFileSync;",
        resolveDir: '.',
      },
      bundle: true,
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    }),
  );
});
