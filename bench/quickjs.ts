/**
 * The footprint on a small engine (`npm run bench -- quickjs`): the QuickJS
 * heap each engine adds over an empty context, codec included, after a
 * connect / subscribe / publish exchange at QoS 1 and 2 both ways: the full
 * Session engine (src/session with src/codec) on MQTT 3.1.1 and 5.0, and the
 * lite client's engine (src/lite/core.ts with the 3.1.1 codec) on 3.1.1.
 *
 * The exchange is the one test/core/quickjs.test.ts and
 * test/engine/lite-quickjs.test.ts replay: the engine's inputs are bytes
 * recorded from a real Mosquitto (test/core/recorded-exchange.ts), driven by
 * test/core/exchange.ts or test/core/lite-exchange.ts (bundled with the
 * engine; small, and counted in "code loaded"). The lite codec needs the
 * platform's TextEncoder/TextDecoder, which QuickJS lacks: two small classes
 * over the codec's own UTF-8 stand in, counted in its "code loaded" too. The
 * session is kept alive (connected, subscribed, every flow finished, before
 * DISCONNECT) while the heap is read, so "session state" is what a
 * connected client holds. QuickJS frees by reference counting, so the
 * figures are live memory.
 *
 * Reference: none on QuickJS (MQTT.js needs Node or a browser), so `ref` is
 * the empty context itself and `ratio` is heap used / empty context.
 */
import { build } from 'esbuild';
import { getQuickJS, type QuickJSWASMModule } from 'quickjs-emscripten';
import { PLATFORM_SHIM } from '../test/core/lite-exchange.ts';
import { RECORDED } from '../test/core/recorded-exchange.ts';
import { withQuickJS } from '../test/helpers/quickjs.ts';
import { type BenchCase, emitJson, parseNetArgs, printTable } from './lib/report.ts';

const ROOT = new URL('../', import.meta.url).pathname;

/** One engine to measure: its bundle entry, global name, and how to set up and drive it. */
interface Engine {
  name: string;
  entry: string;
  global: string;
  version: 4 | 5;
  /** Evaluated after the bundle, before the heap is read as "code loaded". */
  setup?: string;
  /** An expression that makes the driver, as `globalThis.driver`. */
  driver: string;
}

const ENGINES: Engine[] = [
  ...([4, 5] as const).map(
    (version): Engine => ({
      name: `full session MQTT ${version === 4 ? '3.1.1' : '5.0'}`,
      entry: 'test/core/exchange.ts',
      global: 'SteadfastCore',
      version,
      driver: `new SteadfastCore.ExchangeDriver(${version})`,
    }),
  ),
  {
    name: 'lite engine MQTT 3.1.1',
    entry: 'test/core/lite-exchange.ts',
    global: 'SteadfastLite',
    version: 4,
    setup: PLATFORM_SHIM,
    driver: 'new SteadfastLite.LiteExchangeDriver()',
  },
];

async function bundle(engine: Engine): Promise<string> {
  const result = await build({
    entryPoints: [engine.entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: engine.global,
    target: 'esnext',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** Heap used: empty context, with the code loaded, after the exchange. */
function measure(quickjs: QuickJSWASMModule, engine: Engine, code: string): [number, number, number] {
  const actions = RECORDED[engine.version].map((s) => s.action);
  // Everything up to DISCONNECT: the session stays up with its subscription.
  const upTo = actions.findIndex((a) => a.do === 'disconnect');
  return withQuickJS(quickjs, ({ evaluate, memoryUsed }) => {
    const empty = memoryUsed();
    evaluate(code);
    if (engine.setup !== undefined) evaluate(engine.setup);
    const loaded = memoryUsed();
    const steps = JSON.stringify(JSON.stringify(actions.slice(0, upTo)));
    evaluate(
      `globalThis.driver = ${engine.driver}; for (const a of JSON.parse(${steps})) driver.step(a); undefined`,
    );
    return [empty, loaded, memoryUsed()];
  });
}

export async function run(args: string[]): Promise<void> {
  const { quick } = parseNetArgs(args);
  const quickjs = await getQuickJS();
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [
    ['engine', 'bundle B', 'empty context B', 'code loaded +B', 'session state +B', 'total over empty B'],
  ];
  console.log('quickjs: heap (memory_used_size) over an empty QuickJS context; bundles minified');
  for (const engine of ENGINES) {
    const code = await bundle(engine);
    const [empty, loaded, after] = measure(quickjs, engine, code);
    cases.push({
      case: engine.name,
      ours: after - empty,
      ref: empty,
      ref_name: 'empty context',
      ratio: Math.round(((after - empty) / empty) * 1000) / 1000,
      unit: 'bytes',
      code_bytes: loaded - empty,
      state_bytes: after - loaded,
      bundle_bytes: code.length,
    });
    rows.push([engine.name, code.length, empty, loaded - empty, after - loaded, after - empty]);
  }
  printTable(rows);
  emitJson('quickjs', cases, quick);
}
