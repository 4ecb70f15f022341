/**
 * Every example in examples/ runs as written against a real Mosquitto, so
 * that none can rot.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { startMosquitto } from './helpers/mosquitto.ts';

const EXPECTED_OUTPUT: Record<string, RegExp> = {
  'publish-subscribe.ts': /example\/greetings\/qos2: hello at QoS 2 \(QoS 2\)/,
  'request-response.ts': /1 \+ 2 \+ 3 \+ 4 = 10/,
  'manual-ack.ts': /processing job 1: resize image/,
  'radio-node.ts': /example\/radio\/node-7\/temperature: 20\.5[\s\S]*node radio: \d+ frames sent/,
};

/**
 * Examples that live in a folder of their own and do not run under Node: the
 * test that runs each one, and every file it is made of (a new file must be
 * added here, and run by that test).
 */
const RUN_ELSEWHERE: Record<string, { test: string; files: string[] }> = {
  browser: { test: 'test/browser/page.test.ts', files: ['app.ts', 'index.html', 'serve.ts'] },
};

function run(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('every example folder is run by a test of its own', () => {
  const folders = readdirSync('examples', { withFileTypes: true }).filter((entry) => entry.isDirectory());
  assert.deepEqual(
    folders.map((entry) => entry.name).sort(),
    Object.keys(RUN_ELSEWHERE).sort(),
    'every example folder is listed in RUN_ELSEWHERE',
  );
  for (const [folder, { test: testFile, files }] of Object.entries(RUN_ELSEWHERE)) {
    assert.ok(existsSync(testFile), `${testFile} runs examples/${folder}`);
    assert.deepEqual(
      readdirSync(`examples/${folder}`).sort(),
      files,
      `examples/${folder} holds only what ${testFile} runs`,
    );
  }
});

test('examples', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const files = readdirSync('examples').filter((f) => f.endsWith('.ts'));
  assert.deepEqual(files.sort(), Object.keys(EXPECTED_OUTPUT).sort(), 'every example has an expected output');
  for (const file of files) {
    await t.test(file, async () => {
      const { code, output } = await run(`examples/${file}`, { MQTT_URL: broker.url });
      assert.equal(code, 0, output);
      assert.match(output, EXPECTED_OUTPUT[file]);
    });
  }
});
