/**
 * The portable core in a small engine: src/codec and src/session, bundled
 * with esbuild as they are (no down-levelling, no polyfills), evaluated in
 * QuickJS (npm quickjs-emscripten), which has no TextEncoder, no timers, no
 * Buffer and no Node. There a Session runs a scripted exchange against
 * broker bytes recorded from a real Mosquitto (recorded-exchange.ts, made by
 * record-exchange.ts): CONNECT/CONNACK, SUBSCRIBE/SUBACK, PUBLISH at QoS 1
 * and 2 both ways, keepalive, DISCONNECT, on MQTT 3.1.1 and 5.0. It must
 * write the very bytes it wrote to the real broker, and deliver the messages.
 *
 * Why recorded bytes rather than a live broker: the engine is sans-IO, so a
 * fixed input gives a fixed output and every byte can be asserted; a live
 * exchange interleaves packets by timing. record-exchange.ts re-records them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { getQuickJS, type QuickJSWASMModule } from 'quickjs-emscripten';
import { PacketDecoder } from '../../src/codec/index.ts';
import { withQuickJS } from '../helpers/quickjs.ts';
import { brief } from '../session/harness.ts';
import { type Action, fromHex, replay, type StepOutput } from './exchange.ts';
import { RECORDED, RECORDED_WITH } from './recorded-exchange.ts';

const ENTRY = 'test/core/exchange.ts';
const GLOBAL = 'SteadfastCore';
/** QuickJS heap limit: the whole exchange must fit in it. */
const MEMORY_LIMIT = 2 * 1024 * 1024;

interface Bundle {
  code: string;
  inputs: string[];
}

/**
 * Bundles an entry as a script for an engine with no module loader and no
 * Node: platform `browser`, so a Node built-in anywhere in the import graph
 * fails the build; target `esnext`, so the source runs as written.
 */
async function bundleCore(entry: { file: string } | { contents: string }): Promise<Bundle> {
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: '.' } }),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: GLOBAL,
    target: 'esnext',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
}

/** Replays actions in QuickJS with the bundled core. */
function replayInQuickJS(quickjs: QuickJSWASMModule, bundle: Bundle, version: 4 | 5, actions: Action[]) {
  return withQuickJS(
    quickjs,
    ({ evaluate }) => {
      evaluate(bundle.code);
      const json = evaluate(`${GLOBAL}.replayJson(${version}, ${JSON.stringify(JSON.stringify(actions))})`);
      return JSON.parse(json as string) as StepOutput[];
    },
    MEMORY_LIMIT,
  );
}

/** The exchange as a readable trace: `>` what the engine wrote, `<` what the broker sent. */
function trace(version: 4 | 5, actions: Action[], outputs: StepOutput[]): string[] {
  const out: string[] = [];
  const decoder = new PacketDecoder({ protocolVersion: version });
  const read = (arrow: string, hex: string) => {
    decoder.push(fromHex(hex));
    for (let p = decoder.next(); p !== undefined; p = decoder.next()) out.push(`${arrow} ${brief(p)}`);
  };
  actions.forEach((action, i) => {
    if (action.do === 'receive') read('<', action.hex);
    read('>', outputs[i].sent);
  });
  return out;
}

function expectedTrace(version: 4 | 5): string[] {
  const v5 = version === 5;
  return [
    '> CONNECT',
    '< CONNACK',
    '> SUBSCRIBE #1 quickjs/in/#',
    '< SUBACK #1',
    '> PUBLISH quickjs/out #2',
    // Mosquitto 2.0 on MQTT 5: 0x10 No matching subscribers.
    v5 ? '< PUBACK #2 0x10' : '< PUBACK #2',
    // MQTT 5: the second publication to the same topic goes by topic alias, with an empty topic.
    v5 ? '> PUBLISH ~ #3' : '> PUBLISH quickjs/out #3',
    '< PUBREC #3',
    '> PUBREL #3',
    '< PUBCOMP #3',
    '< PUBLISH quickjs/in/one #1',
    '> PUBACK #1',
    '< PUBLISH quickjs/in/two #2',
    '> PUBREC #2',
    '< PUBREL #2',
    '> PUBCOMP #2',
    '> PINGREQ',
    '< PINGRESP',
    '> DISCONNECT 0x00',
  ];
}

function expectedEvents(version: 4 | 5): string[] {
  return [
    'up present=false',
    'subscribed sub quickjs/in/# [2]',
    `published pub qos 1 from the engine reason=${version === 5 ? 16 : 0}`,
    'published pub qos 2 from the engine reason=0',
    'message quickjs/in/one qos1 "qos 1 from the broker"',
    'message quickjs/in/two qos2 "qos 2 from the broker"',
  ];
}

let quickjs: QuickJSWASMModule;
let core: Bundle;

before(async () => {
  quickjs = await getQuickJS();
  core = await bundleCore({ file: ENTRY });
});

test('the bundle holds only the codec, the session and the exchange driver', () => {
  const foreign = core.inputs.filter(
    (path) => !/^src\/(codec|session)\/[\w-]+\.ts$|^src\/errors\.ts$/.test(path) && path !== ENTRY,
  );
  assert.deepEqual(foreign, [], 'nothing else in the import graph');
  assert.ok(core.inputs.includes('src/session/session.ts'));
});

test('a Node built-in anywhere in the core fails the bundle', async () => {
  // The same build as the core's, over an entry that also imports node:fs: it must be refused.
  await assert.rejects(
    bundleCore({
      contents: `import './${ENTRY}'; import { readFileSync } from 'node:fs'; export { readFileSync };`,
    }),
    /node:fs/,
  );
});

test('QuickJS has none of the platform the core must not need', () => {
  const missing = withQuickJS(
    quickjs,
    ({ evaluate }) =>
      evaluate(
        '["TextEncoder", "TextDecoder", "setTimeout", "Buffer", "process", "require"].filter((name) => typeof globalThis[name] !== "undefined")',
      ),
    MEMORY_LIMIT,
  );
  assert.deepEqual(missing, []);
});

for (const version of [4, 5] as const) {
  describe(`MQTT ${version === 4 ? '3.1.1' : '5.0'} in QuickJS, against ${RECORDED_WITH}'s recorded bytes`, () => {
    const recorded = RECORDED[version];
    const actions = recorded.map((step) => step.action);

    test('the engine writes exactly the bytes it wrote to the real broker', () => {
      const outputs = replayInQuickJS(quickjs, core, version, actions);
      assert.equal(outputs.length, recorded.length);
      recorded.forEach((step, i) => {
        assert.equal(outputs[i].sent, step.sent, `step ${i} ${JSON.stringify(step.action)}`);
      });
      assert.deepEqual(trace(version, actions, outputs), expectedTrace(version));
    });

    test('the engine delivers the messages and completes every flow', () => {
      const outputs = replayInQuickJS(quickjs, core, version, actions);
      assert.deepEqual(
        outputs.flatMap((o) => o.events),
        expectedEvents(version),
      );
    });

    test('QuickJS and Node run the core identically', () => {
      assert.deepEqual(replayInQuickJS(quickjs, core, version, actions), replay(version, actions));
    });

    test('bad broker bytes close the session with a typed error, in QuickJS as in Node', () => {
      // 3.1.1: a CONNACK with a reserved flag bit set; 5.0: CONNACK 0x87 Not authorized.
      const bad: Action[] = [
        { do: 'link-up', clean: true },
        { do: 'receive', hex: version === 4 ? '20020200' : '2003008700' },
      ];
      const outputs = replayInQuickJS(quickjs, core, version, bad);
      assert.deepEqual(outputs[1].events, [
        version === 4 ? 'close MALFORMED_PACKET' : 'close CONNECTION_REFUSED',
      ]);
      assert.deepEqual(outputs, replay(version, bad));
    });
  });
}

test('the core fits a small heap: bundle size and QuickJS memory for one exchange', (t) => {
  const [empty, loaded, after] = withQuickJS(
    quickjs,
    ({ evaluate, memoryUsed }) => {
      const before = memoryUsed();
      evaluate(core.code);
      const withCore = memoryUsed();
      evaluate(
        `${GLOBAL}.replayJson(5, ${JSON.stringify(JSON.stringify(RECORDED[5].map((s) => s.action)))})`,
      );
      return [before, withCore, memoryUsed()];
    },
    MEMORY_LIMIT,
  );
  assert.ok(loaded > empty && after <= MEMORY_LIMIT, `${empty} -> ${loaded} -> ${after} bytes`);
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  t.diagnostic(
    `bundle ${kib(core.code.length)} unminified; QuickJS heap: empty ${kib(empty)}, core loaded ${kib(loaded)}, ` +
      `after the MQTT 5 exchange ${kib(after)} (limit ${kib(MEMORY_LIMIT)})`,
  );
});
