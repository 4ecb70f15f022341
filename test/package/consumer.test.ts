/**
 * The package as a consumer gets it: `npm pack`, installed from the tarball
 * into an empty folder (its dependencies from the registry, nothing linked to
 * this source tree), then
 * - small consumer programs type-checked with moduleResolution node16,
 *   nodenext and bundler, ESM and CommonJS: Node programs see the Node options
 *   (TLS, FileStore) through the bare `steadfast-mqtt`, browser programs the
 *   browser ones;
 * - `import` and `require` of every entry point in Node;
 * - a browser bundle (esbuild) of the installed package with no Node built-in;
 * - the README's first example, run against Mosquitto;
 * - `npx steadfast demo` from there, with the embedded broker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { startMosquitto } from '../helpers/mosquitto.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const ENTRY_POINTS = ['', '/lite', '/codec', '/node', '/serial', '/radio', '/gateway', '/sn'];

let work: string;
let app: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'steadfast-package-'));
  app = join(work, 'app');
  mkdirSync(app);
  // prepack builds dist/ (tsc and the API reference).
  await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, maxBuffer: 1 << 24 });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await run('npm', ['install', join(work, tarball), '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: app,
    maxBuffer: 1 << 24,
  });
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball: LICENSE, CHANGELOG, no source maps, no install script', () => {
  const installed = join(app, 'node_modules/steadfast-mqtt');
  const files = readdirSync(installed, { recursive: true }).map(String);
  for (const name of ['LICENSE', 'CHANGELOG.md', 'README.md', 'dist/index.js', 'dist/node.d.ts'])
    assert.ok(files.includes(name), name);
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map')),
    [],
  );
  assert.ok(!files.some((f) => f.startsWith('src/')), 'no sources');
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  for (const script of ['preinstall', 'install', 'postinstall', 'prepare'])
    assert.equal(pkg.scripts?.[script], undefined, script);
  // The demo's fix for Aedes (src/cli/demo/aedes-pubrel.ts) is written for these exact versions: they are
  // pinned, and what a consumer gets is what the fix was tested on.
  for (const name of ['aedes', 'aedes-persistence']) {
    const version = JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')).version;
    assert.equal(pkg.optionalDependencies[name], version, name);
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} pinned to one version`);
  }
});

/** Type-checks `files` in the consumer folder with these compiler options; returns tsc's output. */
async function typecheck(name: string, options: Record<string, unknown>, files: Record<string, string>) {
  const dir = join(app, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        skipLibCheck: false,
        typeRoots: [join(ROOT, 'node_modules/@types')],
        ...options,
      },
      include: Object.keys(files),
    }),
  );
  try {
    await run(process.execPath, [TSC, '-p', dir], { cwd: dir });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

const NODE_PROGRAM = `import { readFileSync } from 'node:fs';
import { connect, FileStore, type NodeClientOptions } from 'steadfast-mqtt';
import { encode } from 'steadfast-mqtt/codec';
import { connect as liteConnect } from 'steadfast-mqtt/lite';
import { radioLink } from 'steadfast-mqtt/radio';
import { startGateway } from 'steadfast-mqtt/gateway';
import { decodeSn, SnClient, udpTransport } from 'steadfast-mqtt/sn';
import { UartModem } from 'steadfast-mqtt/serial';
import { createClient } from 'steadfast-mqtt/node';

// The README's TLS example: Node options through the bare specifier.
export async function tls() {
  const client = await connect('mqtts://broker.example:8883', {
    clientId: 'sensor-17',
    ca: readFileSync('ca.pem'),
    store: new FileStore('/tmp/session'),
  });
  await client.publish('a', 'b', { qos: 1 });
}
export const options: NodeClientOptions = { url: 'mqtt://x', rejectUnauthorized: false };
export const used = [encode, liteConnect, radioLink, startGateway, UartModem, createClient, decodeSn, SnClient, udpTransport];
`;

const BROWSER_PROGRAM = `import { connect } from 'steadfast-mqtt';
export async function page() {
  const client = await connect('wss://broker.example/mqtt', { protocolVersion: 5 });
  // @ts-expect-error the browser entry has no TLS file options
  await connect('wss://broker.example/mqtt', { ca: 'x' });
  await client.subscribe('a/#', { qos: 1, onMessage: (m) => console.log(m.text) });
}
`;

const CJS_PROGRAM = `import steadfast = require('steadfast-mqtt');
import codec = require('steadfast-mqtt/codec');
export async function main() {
  const client = await steadfast.connect('mqtts://b:8883', { ca: 'pem' });
  await client.end();
  return codec.encode;
}
`;

for (const resolution of ['node16', 'nodenext'] as const) {
  test(`types: a Node ESM program with moduleResolution ${resolution} gets the Node options`, async () => {
    const out = await typecheck(
      `esm-${resolution}`,
      { module: resolution, moduleResolution: resolution, types: ['node'] },
      {
        'main.mts': NODE_PROGRAM,
      },
    );
    assert.equal(out, '');
  });
}

test('types: a CommonJS program (require of the ESM package, Node 20.19+) with nodenext', async () => {
  const out = await typecheck(
    'cjs-nodenext',
    { module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] },
    {
      'main.cts': CJS_PROGRAM,
    },
  );
  assert.equal(out, '');
});

test('types: bundler resolution gives browsers the browser options, and Node with customConditions', async () => {
  const browser = await typecheck(
    'bundler-browser',
    { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] },
    {
      'page.ts': BROWSER_PROGRAM,
    },
  );
  assert.equal(browser, '');
  const node = await typecheck(
    'bundler-node',
    { module: 'esnext', moduleResolution: 'bundler', customConditions: ['node'], types: ['node'] },
    { 'main.ts': NODE_PROGRAM },
  );
  assert.equal(node, '');
});

test('Node: import and require of every entry point', async () => {
  const names = ENTRY_POINTS.map((e) => `steadfast-mqtt${e}`);
  const esm = `for (const n of ${JSON.stringify(names)}) { const m = await import(n); if (Object.keys(m).length === 0) throw new Error(n); }
const { connect, FileStore } = await import('steadfast-mqtt'); if (typeof connect !== 'function' || typeof FileStore !== 'function') throw new Error('node entry');`;
  await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: app });
  const cjs = `for (const n of ${JSON.stringify(names)}) { const m = require(n); if (Object.keys(m).length === 0) throw new Error(n); }
if (typeof require('steadfast-mqtt').FileStore !== 'function') throw new Error('node entry');`;
  const { stderr } = await run(process.execPath, ['--input-type=commonjs', '-e', cjs], { cwd: app });
  assert.doesNotMatch(stderr, /Error/);
});

test('a browser bundle of the installed package has no Node built-in', async () => {
  const builtins = new Set(builtinModules);
  const found: string[] = [];
  const noNode: Plugin = {
    name: 'no-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.replace(/^node:/, '').split('/')[0];
        if (args.path.startsWith('node:') || builtins.has(bare))
          found.push(`${args.path} from ${args.importer}`);
        return undefined;
      });
    },
  };
  writeFileSync(
    join(app, 'browser-entry.js'),
    `import { connect } from 'steadfast-mqtt';\nimport { connect as lite } from 'steadfast-mqtt/lite';\nimport { SimulatedMedium } from 'steadfast-mqtt/radio';\nexport { connect, lite, SimulatedMedium };\n`,
  );
  const result = await build({
    entryPoints: [join(app, 'browser-entry.js')],
    absWorkingDir: app,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    minify: true,
    plugins: [noNode],
    logLevel: 'silent',
  });
  assert.deepEqual(found, []);
  assert.ok(result.outputFiles[0].contents.length > 1000);
});

/** The README's first code block, as it stands. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has a ts code block');
  return match[1];
}

test("the README's first example runs from the installed package", async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const example = readmeExample();
  assert.match(example, /mqtt:\/\/127\.0\.0\.1:1883/, 'the example connects to a local broker');
  // The same program, pointed at the test's broker on its free port.
  writeFileSync(join(app, 'readme-example.mjs'), example.replaceAll('mqtt://127.0.0.1:1883', broker.url));
  const { stdout } = await run(process.execPath, ['readme-example.mjs'], { cwd: app, timeout: 30_000 });
  assert.ok(stdout.trim().length > 0, 'the example printed what it received');
});

test('npx steadfast demo runs from the installed package, with its embedded broker', async () => {
  const { stdout } = await run(
    'npx',
    ['steadfast', 'demo', '--duration', '10', '--seed', '1', '--no-report'],
    {
      cwd: app,
      timeout: 90_000,
      maxBuffer: 1 << 24,
    },
  );
  assert.match(stdout, /Aedes \(embedded in this process/);
  assert.match(stdout, /^PASS: no QoS 1 message lost, no QoS 2 message lost or duplicated/m);
});
