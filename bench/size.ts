/**
 * Size benchmark: the minified + gzipped (level 9) size of a browser
 * publish/subscribe client, ours against MQTT.js's browser bundle, u8-mqtt's
 * MQTT 3.1.1 client and paho-mqtt, all bundled the same way in one run:
 * esbuild, `bundle`, `minify`, ESM, platform browser. Brotli (quality 11)
 * is shown too, because that is what most CDNs serve.
 *
 * Every entry does the same thing with its library: connect over WebSocket,
 * subscribe, publish, print what arrives. So each bundle holds what an
 * application doing pub/sub would ship, and tree-shaking removes the rest.
 * The exact command line equivalent for one entry:
 *   esbuild entry.ts --bundle --minify --format=esm --platform=browser | gzip -9 | wc -c
 *
 * The builder is exported for test/bundle/size.test.ts, which holds the
 * budgets.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Plugin, transform } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One thing to bundle: an entry module's source, resolved from the project root. */
export interface SizeEntry {
  name: string;
  /** What the entry is, for the table. */
  label: string;
  source: string;
}

/** Ours, MQTT 3.1.1 only: the lite client (QoS 0/1/2, keepalive, reconnect with backoff, session resume). */
export const OURS_LITE: SizeEntry = {
  name: 'steadfast 3.1.1',
  label: 'steadfast-mqtt/lite',
  source: `
    import { connect } from './src/lite.ts';
    const client = await connect('ws://127.0.0.1:8080/mqtt');
    await client.subscribe('demo/#', { qos: 2 }, (m) => console.log(m.topic, m.text));
    await client.publish('demo/a', 'hello', { qos: 2 });
  `,
};

/** Ours, everything: MQTT 5 and 3.1.1, the resilience supervisor, stores, flow control, topic aliases. */
export const OURS_FULL: SizeEntry = {
  name: 'steadfast full',
  label: 'steadfast-mqtt',
  source: `
    import { connect } from './src/index.ts';
    const client = await connect('ws://127.0.0.1:8080/mqtt');
    const sub = await client.subscribe('demo/#', { qos: 2, onMessage: (m) => console.log(m.topic, m.text) });
    await client.publish('demo/a', 'hello', { qos: 2 });
    console.log(sub.granted);
  `,
};

/** MQTT.js 5.x: its prebuilt browser bundle, as the package ships it. */
export const MQTTJS: SizeEntry = {
  name: 'mqtt.js',
  label: 'mqtt/dist/mqtt.esm.js',
  source: `
    import mqtt from 'mqtt/dist/mqtt.esm';
    const client = mqtt.connect('ws://127.0.0.1:8080/mqtt');
    client.on('message', (topic, payload) => console.log(topic, payload.toString()));
    client.subscribe('demo/#', { qos: 2 });
    client.publish('demo/a', 'hello', { qos: 2 });
  `,
};

/** u8-mqtt's MQTT 3.1.1 (v4) web build; it does QoS 0 and 1 only. */
export const U8_MQTT: SizeEntry = {
  name: 'u8-mqtt',
  label: 'u8-mqtt/esm/web/v4.js',
  source: `
    import mqtt_v4 from 'u8-mqtt/esm/web/v4.js';
    const client = mqtt_v4().with_websock('ws://127.0.0.1:8080/mqtt').with_autoreconnect();
    await client.connect();
    client.subscribe_topic('demo/:id', (pkt) => console.log(pkt.topic, pkt.utf8()));
    await client.send('demo/a', 'hello');
  `,
};

/** paho-mqtt 1.1 (MQTT 3.1.1, QoS 0/1/2), the whole UMD file. */
export const PAHO: SizeEntry = {
  name: 'paho-mqtt',
  label: 'paho-mqtt',
  source: `
    import Paho from 'paho-mqtt';
    const client = new Paho.Client('127.0.0.1', 8080, '/mqtt', 'demo');
    client.onMessageArrived = (m) => console.log(m.destinationName, m.payloadString);
    client.connect({ reconnect: true, onSuccess() {
      client.subscribe('demo/#', { qos: 2 });
      const m = new Paho.Message('hello');
      m.destinationName = 'demo/a';
      m.qos = 2;
      client.send(m);
    } });
  `,
};

export interface BundleSize {
  entry: SizeEntry;
  minified: number;
  gzip: number;
  brotli: number;
  /** Node built-in modules the bundle imports (must be none for a browser build). */
  nodeBuiltins: string[];
  /** Bytes in the minified output per input file, largest first (from esbuild's metafile). */
  inputs: [path: string, bytes: number][];
}

const BUILTINS = new Set(builtinModules);

/** Records any import of a Node built-in (`node:x` or bare `x`) and leaves it out, so the build can report it. */
function builtinRecorder(found: Set<string>): Plugin {
  return {
    name: 'node-builtins',
    setup(b) {
      b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
        const bare = args.path.replace(/^node:/, '');
        if (!args.path.startsWith('node:') && !BUILTINS.has(bare)) return undefined;
        found.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

/** Bundles `entry` for browsers (minified ESM) and measures it. */
export async function bundleSize(entry: SizeEntry): Promise<BundleSize> {
  const found = new Set<string>();
  const result = await build({
    stdin: { contents: entry.source, resolveDir: ROOT, sourcefile: `${entry.name}.ts`, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [builtinRecorder(found)],
  });
  const code = result.outputFiles[0].contents;
  const output = Object.values(result.metafile.outputs)[0];
  const inputs = Object.entries(output.inputs)
    .map(([path, v]): [string, number] => [path, v.bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
  return {
    entry,
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    nodeBuiltins: [...found],
    inputs,
  };
}

/**
 * What each input module adds to the gzipped bundle: the bundle built the
 * same way but with whitespace kept, so that esbuild marks where each
 * module's code starts (`// path` lines); then, per module, the gzip size
 * of the whole minus the gzip size without that module's code. A module's
 * share is less than its minified bytes suggest when its words repeat
 * others' (gzip finds them once); the shares add up to less than the
 * bundle, the rest being what the modules share.
 */
export async function gzipPerModule(entry: SizeEntry): Promise<[path: string, bytes: number][]> {
  const result = await build({
    stdin: { contents: entry.source, resolveDir: ROOT, sourcefile: `${entry.name}.ts`, loader: 'ts' },
    bundle: true,
    minifyIdentifiers: true,
    minifySyntax: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [builtinRecorder(new Set())],
  });
  const parts = result.outputFiles[0].text.split(/^(?=\/\/ )/m);
  const gz = async (code: string) =>
    gzipSync((await transform(code, { minifyWhitespace: true, format: 'esm', target: 'es2022' })).code, {
      level: 9,
    }).length;
  const whole = await gz(parts.join(''));
  const shares: [string, number][] = [];
  for (const [i, part] of parts.entries()) {
    if (!part.startsWith('// ')) continue;
    const without = await gz(parts.filter((_, j) => j !== i).join(''));
    shares.push([part.slice(3, part.indexOf('\n')), whole - without]);
  }
  return shares.sort((a, b) => b[1] - a[1]);
}

const fmt = new Intl.NumberFormat('en-US');
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

export async function run(args: string[]): Promise<void> {
  const verbose = args.includes('--verbose');
  const entries = [OURS_LITE, OURS_FULL, MQTTJS, U8_MQTT, PAHO];
  const sizes: BundleSize[] = [];
  for (const e of entries) sizes.push(await bundleSize(e));
  const [lite, full, mqttjs, u8, paho] = sizes;

  console.log('size: minified ESM for browsers (esbuild), gzip -9 and brotli -q 11, bytes');
  const w = Math.max(...entries.map((e) => e.label.length));
  const head = `${'bundle'.padEnd(w)}  ${'minified'.padStart(9)}  ${'gzip'.padStart(7)}  ${'brotli'.padStart(7)}`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const s of sizes) {
    console.log(
      [
        s.entry.label.padEnd(w),
        fmt.format(s.minified).padStart(9),
        fmt.format(s.gzip).padStart(7),
        fmt.format(s.brotli).padStart(7),
      ].join('  '),
    );
  }
  if (verbose) {
    for (const s of [lite, full]) {
      console.log(`\n${s.entry.label}: minified bytes per source file`);
      for (const [path, bytes] of s.inputs) console.log(`${fmt.format(bytes).padStart(7)}  ${path}`);
    }
    console.log(
      `\n${lite.entry.label}: gzip bytes each source file adds (the bundle without it is that much smaller)`,
    );
    for (const [path, bytes] of await gzipPerModule(lite.entry))
      console.log(`${fmt.format(bytes).padStart(7)}  ${path}`);
  }
  for (const s of [lite, full]) {
    if (s.nodeBuiltins.length > 0) {
      throw new Error(`${s.entry.label} imports Node built-ins: ${s.nodeBuiltins.join(', ')}`);
    }
  }

  const row = (name: string, ours: BundleSize, ref: BundleSize, refName: string) => ({
    case: name,
    ours: ours.gzip,
    ref: ref.gzip,
    ref_name: refName,
    ratio: ratio(ours.gzip, ref.gzip),
    unit: 'B gz',
    ours_br: ours.brotli,
    ref_br: ref.brotli,
    ours_min: ours.minified,
    ref_min: ref.minified,
    u8_mqtt: u8.gzip,
    paho: paho.gzip,
  });
  const cases = [
    row('3.1.1', lite, mqttjs, 'mqtt.js'),
    row('full', full, mqttjs, 'mqtt.js'),
    row('3.1.1 vs u8-mqtt', lite, u8, 'u8-mqtt'),
    row('3.1.1 vs paho', lite, paho, 'paho-mqtt'),
  ];
  console.log(
    `\nours/mqtt.js: 3.1.1 ${cases[0].ratio}x, full ${cases[1].ratio}x; 3.1.1 ours/u8-mqtt ${cases[2].ratio}x, ours/paho ${cases[3].ratio}x`,
  );
  console.log(JSON.stringify({ bench: 'size', node: process.version, cases }));
}
