/**
 * The lite engine in a small engine: src/lite/core.ts with its 3.1.1 codec,
 * bundled as it is and evaluated in QuickJS (no timers, no Node; a two-line
 * TextEncoder/TextDecoder over the codec's own UTF-8 stands in for the
 * platform's), replays the exchange recorded from Mosquitto
 * (test/core/recorded-exchange.ts). It must write, byte for byte, what the
 * full engine wrote to the real broker, and report the same.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { build } from 'esbuild';
import { getQuickJS, type QuickJSWASMModule } from 'quickjs-emscripten';
import { replay, type StepOutput } from '../core/exchange.ts';
import { LiteExchangeDriver, PLATFORM_SHIM } from '../core/lite-exchange.ts';
import { RECORDED, RECORDED_WITH } from '../core/recorded-exchange.ts';
import { withQuickJS } from '../helpers/quickjs.ts';

const ENTRY = 'test/core/lite-exchange.ts';
const actions = RECORDED[4].map((step) => step.action);

let quickjs: QuickJSWASMModule;
let code: string;
let inputs: string[];

before(async () => {
  quickjs = await getQuickJS();
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'SteadfastLite',
    target: 'esnext',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  code = result.outputFiles[0].text;
  // What reached the bundle (exchange.ts's Session is imported but shaken out).
  const output = Object.values(result.metafile.outputs)[0];
  inputs = Object.entries(output.inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([path]) => path);
});

function replayInQuickJS(): StepOutput[] {
  return withQuickJS(quickjs, ({ evaluate }) => {
    evaluate(code);
    evaluate(PLATFORM_SHIM);
    const json = evaluate(`SteadfastLite.replayLiteJson(${JSON.stringify(JSON.stringify(actions))})`);
    return JSON.parse(json as string) as StepOutput[];
  });
}

test('the lite bundle holds the lite engine and the 3.1.1 codec, not the full session', () => {
  assert.ok(inputs.includes('src/lite/core.ts'));
  assert.deepEqual(
    inputs.filter((path) => path.startsWith('src/session/')),
    [],
  );
});

test(`in QuickJS the lite engine writes exactly the bytes the full engine wrote to ${RECORDED_WITH}`, () => {
  const outputs = replayInQuickJS();
  RECORDED[4].forEach((step, i) => {
    assert.equal(outputs[i].sent, step.sent, `step ${i} ${JSON.stringify(step.action)}`);
  });
});

test('the lite engine reports what the full one reports, and runs the same in QuickJS as in Node', () => {
  const driver = new LiteExchangeDriver();
  const inNode = actions.map((action) => driver.step(action));
  assert.deepEqual(replayInQuickJS(), inNode);
  assert.deepEqual(
    inNode.flatMap((o) => o.events),
    replay(4, actions).flatMap((o) => o.events),
  );
});
