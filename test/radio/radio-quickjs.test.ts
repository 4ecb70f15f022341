// steadfast-mqtt/radio in a small engine: the entry bundled as it is (no
// polyfills) and evaluated in QuickJS, which has no timers, no TextEncoder,
// no Buffer and no Node. There two link-layer Streams, sans-IO on a counted
// clock, carry bytes both ways through the real frame encoder and decoder
// with every third frame lost; the bytes must arrive intact, the same as in
// Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';
import { getQuickJS } from 'quickjs-emscripten';
import { withQuickJS } from '../helpers/quickjs.ts';

const GLOBAL = 'SteadfastRadio';
/** QuickJS heap limit: the link layer and both streams must fit in it. */
const MEMORY_LIMIT = 8 * 1024 * 1024;

/** Runs in the engine: returns what each end received, and the retransmissions it took. */
const DRIVER = `
import { decodeFrame, encodeFrame, linkTiming, NodeKey, Stream, StreamCipher } from './src/radio.ts';

export function exchange(upLength, downLength, secure) {
  // Secure: the frames are sealed and opened with EAX under a stream key derived as at OPEN/ACCEPT.
  const key = new NodeKey(Uint8Array.from({ length: 16 }, (_, i) => i * 17));
  const streamKey = key.streamKey(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), Uint8Array.of(9, 10, 11, 12, 13, 14, 15, 16));
  const radio = { mtu: 32, dutyCycle: 1, airtimeMs: (bytes) => bytes * 0.01 };
  const timing = linkTiming(radio, { heartbeatMs: 1000, linkTimeoutMs: 5000 });
  const config = { epoch: 3, nonce: 77, payloadSize: 24, timing, random: () => 0.5, now: 0 };
  const node = new Stream({ ...config, local: 1, peer: 0, role: 'initiator' });
  const gateway = new Stream({ ...config, local: 0, peer: 1, role: 'responder' });
  gateway.accept();
  const ciphers = new Map([[node, new StreamCipher(streamKey, 'initiator')], [gateway, new StreamCipher(streamKey, 'responder')]]);
  let sealed = 0;
  const got = new Map([[node, []], [gateway, []]]);
  const up = Array.from({ length: upLength }, (_, i) => i & 0xff);
  const down = Array.from({ length: downLength }, (_, i) => (i * 7) & 0xff);
  node.write(new Uint8Array(up));
  gateway.write(new Uint8Array(down));
  let now = 0;
  let sent = 0;
  for (let guard = 0; guard < 100000 && now < 60000; guard++) {
    let moved = false;
    for (const [from, to] of [[node, gateway], [gateway, node]]) {
      from.tick(now);
      const frame = from.poll(now);
      if (frame === undefined) continue;
      moved = true;
      from.sent(frame, now);
      let decoded;
      if (secure && frame.kind !== 2 && frame.kind !== 3) {
        decoded = ciphers.get(to).open(ciphers.get(from).seal(frame));
        if (decoded.ok) sealed++;
        // A replay of the same bytes is refused.
      } else decoded = decodeFrame(encodeFrame(frame));
      if (!decoded.ok) throw new Error('a good frame failed to decode');
      if (sent++ % 3 !== 2) to.receive(decoded.frame, now + 1);
    }
    for (const s of [node, gateway])
      for (const e of s.takeEvents()) if (e.type === 'data') got.get(s).push(...e.bytes);
    if (got.get(gateway).length === upLength && got.get(node).length === downLength) break;
    if (!moved) now = Math.max(now + 1, Math.min(node.nextDeadline(), gateway.nextDeadline()));
  }
  return JSON.stringify({
    up: got.get(gateway).join(',') === up.join(','),
    down: got.get(node).join(',') === down.join(','),
    retransmissions: node.stats.retransmissions + gateway.stats.retransmissions,
    state: node.state,
    sealed,
  });
}
`;

for (const secure of [false, true])
  test(`the radio link layer runs in QuickJS${secure ? ' with security on (EAX frames)' : ''}: bytes both ways through loss, intact`, async () => {
    const bundle = await build({
      stdin: { contents: DRIVER, resolveDir: '.', loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: GLOBAL,
      target: 'esnext',
      write: false,
      logLevel: 'silent',
    });
    const quickjs = await getQuickJS();
    withQuickJS(
      quickjs,
      ({ evaluate }) => {
        assert.deepEqual(
          evaluate(
            '["setTimeout", "TextEncoder", "Buffer", "process"].filter((n) => typeof globalThis[n] !== "undefined")',
          ),
          [],
          'QuickJS lacks what the portable code must not need',
        );
        evaluate(bundle.outputFiles[0].text);
        const outcome = JSON.parse(evaluate(`${GLOBAL}.exchange(600, 400, ${secure})`) as string);
        if (secure) assert.ok(outcome.sealed > 50, `${outcome.sealed} frames sealed and opened in QuickJS`);
        assert.equal(outcome.up, true, 'node -> gateway bytes differ');
        assert.equal(outcome.down, true, 'gateway -> node bytes differ');
        assert.equal(outcome.state, 'open');
        assert.ok(outcome.retransmissions > 0, 'the loss was repaired by retransmissions');
      },
      MEMORY_LIMIT,
    );
  });
