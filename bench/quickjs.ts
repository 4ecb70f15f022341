/**
 * The footprint on a small engine (`npm run bench -- quickjs`): the QuickJS
 * heap the full Session engine (src/session with src/codec, as bundled for
 * any engine) adds over an empty context, after a connect / subscribe /
 * publish exchange at QoS 1 and 2 both ways, on MQTT 3.1.1 and 5.0.
 *
 * The exchange is the one test/core/quickjs.test.ts replays: the engine's
 * inputs are bytes recorded from a real Mosquitto (test/core/recorded-
 * exchange.ts), driven by test/core/exchange.ts (bundled with the engine;
 * it is small, and counted in "code loaded"). The session is kept alive
 * (connected, subscribed, every flow finished, before DISCONNECT) while the
 * heap is read, so "session state" is what a connected client holds.
 * QuickJS frees by reference counting, so the figures are live memory.
 *
 * Reference: none on QuickJS (MQTT.js needs Node or a browser), so `ref` is
 * the empty context itself and `ratio` is heap used / empty context.
 */
import { build } from 'esbuild';
import { getQuickJS } from 'quickjs-emscripten';
import { RECORDED } from '../test/core/recorded-exchange.ts';
import { type BenchCase, emitJson, parseNetArgs, printTable } from './lib/report.ts';

const ENTRY = 'test/core/exchange.ts';
const GLOBAL = 'SteadfastCore';
const ROOT = new URL('../', import.meta.url).pathname;

export async function run(args: string[]): Promise<void> {
  const { quick } = parseNetArgs(args);
  const bundle = await build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: GLOBAL,
    target: 'esnext',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const code = bundle.outputFiles[0].text;
  const quickjs = await getQuickJS();
  const cases: BenchCase[] = [];
  const rows: (string | number)[][] = [
    ['engine', 'empty context B', 'code loaded +B', 'session state +B', 'total over empty B'],
  ];
  console.log(
    `quickjs: heap (memory_used_size) over an empty QuickJS context; bundle ${code.length} B minified`,
  );
  for (const version of [4, 5] as const) {
    const actions = RECORDED[version].map((s) => s.action);
    // Everything up to DISCONNECT: the session stays up with its subscription.
    const upTo = actions.findIndex((a) => a.do === 'disconnect');
    const runtime = quickjs.newRuntime();
    const vm = runtime.newContext();
    const used = () => {
      const usage = runtime.computeMemoryUsage();
      const bytes = (vm.dump(usage) as { memory_used_size: number }).memory_used_size;
      usage.dispose();
      return bytes;
    };
    const evaluate = (source: string) => {
      const result = vm.evalCode(source);
      if (result.error) {
        const error = vm.dump(result.error);
        result.error.dispose();
        throw new Error(`QuickJS: ${JSON.stringify(error)}`);
      }
      result.value.dispose();
    };
    try {
      const empty = used();
      evaluate(code);
      const loaded = used();
      const steps = JSON.stringify(JSON.stringify(actions.slice(0, upTo)));
      evaluate(
        `globalThis.driver = new ${GLOBAL}.ExchangeDriver(${version}); for (const a of JSON.parse(${steps})) driver.step(a); undefined`,
      );
      const after = used();
      const name = `full session MQTT ${version === 4 ? '3.1.1' : '5.0'}`;
      cases.push({
        case: name,
        ours: after - empty,
        ref: empty,
        ref_name: 'empty context',
        ratio: Math.round(((after - empty) / empty) * 1000) / 1000,
        unit: 'bytes',
        code_bytes: loaded - empty,
        state_bytes: after - loaded,
        bundle_bytes: code.length,
      });
      rows.push([name, empty, loaded - empty, after - loaded, after - empty]);
    } finally {
      vm.dispose();
      runtime.dispose();
    }
  }
  printTable(rows);
  emitJson('quickjs', cases, quick);
}
