/**
 * Bundle size budgets: the minified + gzipped (level 9) browser bundle of a
 * publish/subscribe client, built exactly as `npm run bench -- size` builds
 * it (bench/size.ts). A change that makes either bundle grow past its budget
 * fails here; raise a budget only on purpose, with the reason in the commit.
 *
 * Budgets, from the sizes measured when they were set (esbuild 0.28, Node 20):
 *   3.1.1-only (steadfast-mqtt/lite): 6,109 bytes under issue 7 (budget 6 KiB);
 *     6,406 once it acknowledged only what the application has taken and held
 *     unclaimed messages for a subscription to come (issue 17): budget +3%.
 *     7,769 on a sans-IO engine of its own that behaves as the full engine does
 *     (issue 15: quiet period, 20 in flight on 3.1.1, the full keepalive rule,
 *     NOT_MQTT, no PUBREL after a lost session, the shared emitter and refusal
 *     table): budget +3%. The 6 KB goal is not met; docs/performance.md says
 *     what the engine's parts cost. 7,588 once the 3.1.1 codec built packets
 *     from their fields and the lite error messages were shortened (issue 15,
 *     no behaviour changed): budget 7,820 (+3%); docs/performance.md "What
 *     the lite bundle is made of" lists what each file adds.
 *   full (steadfast-mqtt): 21,583 bytes under issue 7; 23,347 with the
 *     receiving side (delivery.ts: ack when taken, bounded buffer, unclaimed
 *     messages, pending()) and NOT_MQTT detection (issue 17); 23,944 with the
 *     worker timers for hidden tabs (issue 18); budget 24,650 (+3%).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleSize, OURS_FULL, OURS_LITE, type SizeEntry } from '../../bench/size.ts';

const BUDGET = {
  /** The 3.1.1-only client; the goal (issues 7 and 15) was at most 6 KB, see above. */
  lite: 7820,
  /**
   * Everything: MQTT 5, resilience supervisor, stores, flow control, delivery to the application.
   * 27,527 B measured with the stall probe and fresh open attempts, option checks, per-packet reason
   * codes (issue 12) and the default in-flight cap (24,746 B before them); issue 15's restructuring is
   * what must bring it down to 15 KB. Issue 15 item 4: 27,502 B measured at its start; request/response
   * (steadfast-mqtt/request, -451) and the reason-code names (-441) out of the pub/sub bundle, then
   * the client and supervisor split into smaller classes (+394): 27,004 B. Budget kept (27,004 +3% is
   * above it).
   */
  full: 27_600,
};

const TIMEOUT = { timeout: 60_000 };

describe('bundle size', () => {
  for (const [entry, budget] of [
    [OURS_LITE, BUDGET.lite],
    [OURS_FULL, BUDGET.full],
  ] as [SizeEntry, number][]) {
    it(`${entry.label} stays within ${budget} bytes gzipped, with no Node built-in`, TIMEOUT, async () => {
      const size = await bundleSize(entry);
      assert.deepEqual(size.nodeBuiltins, [], 'a browser bundle must not import Node built-ins');
      const top = size.inputs
        .slice(0, 5)
        .map(([path, bytes]) => `${path} ${bytes}`)
        .join(', ');
      assert.ok(
        size.gzip <= budget,
        `${entry.label} is ${size.gzip} bytes gzipped, over its budget of ${budget} (largest inputs, minified: ${top})`,
      );
      // Sanity: a bundle this small would mean the entry no longer pulled the client in.
      assert.ok(
        size.gzip > budget / 2,
        `${entry.label} is only ${size.gzip} bytes: is the client still in it?`,
      );
    });
  }

  it('the 3.1.1 bundle leaves MQTT 5 out', TIMEOUT, async () => {
    const size = await bundleSize(OURS_LITE);
    const paths = size.inputs.map(([path]) => path);
    for (const v5 of [
      'src/codec/properties.ts',
      'src/codec/reason-codes.ts',
      'src/session/topic-aliases.ts',
    ]) {
      assert.ok(!paths.includes(v5), `${v5} is in the 3.1.1-only bundle`);
    }
  });

  it(
    'the pub/sub bundle leaves the optional modules out, and they still bundle on their own',
    TIMEOUT,
    async () => {
      const full = (await bundleSize(OURS_FULL)).inputs.map(([path]) => path);
      for (const optional of ['src/client/request.ts', 'src/codec/reason-names.ts']) {
        assert.ok(!full.includes(optional), `${optional} is in the pub/sub bundle`);
      }
      const withRequest = await bundleSize({
        name: 'request-probe',
        label: 'steadfast-mqtt + steadfast-mqtt/request',
        source: `
        import { connect } from './src/index.ts';
        import { request } from './src/request.ts';
        const client = await connect('ws://127.0.0.1:8080/mqtt');
        console.log((await request(client, 'svc/time', 'now?')).text);
      `,
      });
      assert.ok(withRequest.inputs.some(([path]) => path === 'src/client/request.ts'));
      assert.deepEqual(withRequest.nodeBuiltins, []);
    },
  );

  it('the Node built-in check can fail', TIMEOUT, async () => {
    const size = await bundleSize({
      name: 'node-builtin-probe',
      label: 'probe',
      source:
        "import { createHash } from 'node:crypto'; import { EventEmitter } from 'events'; console.log(createHash, EventEmitter);",
    });
    assert.deepEqual(size.nodeBuiltins.sort(), ['events', 'node:crypto']);
  });
});
