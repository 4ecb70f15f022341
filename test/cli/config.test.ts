/**
 * Settings precedence: flags > environment > config file, checked on a real
 * Mosquitto (its log names each client id that connects).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { steadfast } from './run-cli.ts';

test('client id and URL: flag over environment over config file', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const dead = await startMosquitto();
  const deadUrl = dead.url;
  await dead.stop();
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-cli-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ url: broker.url, clientId: 'id-from-file', protocolVersion: '311' }));
  const pub = ['pub', '-t', 'cfg', '-m', 'x', '--connect-timeout', '2'];

  const fromFile = await steadfast([...pub, '--config', file]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.match(
    broker.log(),
    /as id-from-file \(p2,/,
    'config file: client id, and protocolVersion 311 (p2 in the log)',
  );

  const fromEnv = await steadfast([...pub, '--config', file], {
    env: { STEADFAST_CLIENT_ID: 'id-from-env' },
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.match(broker.log(), /as id-from-env /);

  const fromFlag = await steadfast([...pub, '--config', file, '-i', 'id-from-flag'], {
    env: { STEADFAST_CLIENT_ID: 'id-from-env' },
  });
  assert.equal(fromFlag.code, 0, fromFlag.stderr);
  assert.match(broker.log(), /as id-from-flag /);

  // URL: the environment's beats the file's; a flag beats the environment's.
  writeFileSync(file, JSON.stringify({ url: deadUrl }));
  const envUrl = await steadfast([...pub, '--config', file, '-i', 'env-url'], {
    env: { STEADFAST_URL: broker.url },
  });
  assert.equal(envUrl.code, 0, envUrl.stderr);
  const flagUrl = await steadfast([...pub, '--config', file, '-L', deadUrl], {
    env: { STEADFAST_URL: broker.url },
  });
  assert.equal(flagUrl.code, 3, flagUrl.stderr);
  // -p changes the port of the URL from the environment.
  const port = await steadfast([...pub, '-p', String(broker.port), '-i', 'port-flag'], {
    env: { STEADFAST_URL: deadUrl },
  });
  assert.equal(port.code, 0, port.stderr);
  assert.match(broker.log(), /as port-flag /);
});

test('the default config file, STEADFAST_CONFIG, and bad config files', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-cli-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'steadfast'));
  writeFileSync(
    join(dir, 'steadfast', 'config.json'),
    JSON.stringify({ url: broker.url, clientId: 'id-default-file' }),
  );
  const pub = ['pub', '-t', 'cfg', '-m', 'x', '--connect-timeout', '2'];
  const byDefault = await steadfast(pub, { env: { XDG_CONFIG_HOME: dir } });
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.match(broker.log(), /as id-default-file /);

  const named = join(dir, 'named.json');
  writeFileSync(named, JSON.stringify({ url: broker.url, clientId: 'id-named-file', username: 'u' }));
  const byEnv = await steadfast(pub, { env: { STEADFAST_CONFIG: named } });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  assert.match(broker.log(), /as id-named-file \(p5, c1, k60, u'u'\)/);

  const typo = join(dir, 'typo.json');
  writeFileSync(typo, JSON.stringify({ urll: broker.url }));
  const bad = await steadfast([...pub, '--config', typo]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown setting "urll"/);
  writeFileSync(typo, '{ not json');
  const notJson = await steadfast([...pub, '--config', typo]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /is not valid JSON/);
  const missing = await steadfast([...pub, '--config', join(dir, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read config file .*nope.json: ENOENT/);
  const badEnv = await steadfast(pub, { env: { STEADFAST_URL: 'nope://x' } });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /STEADFAST_URL: invalid broker URL/);
});
