// The stream state machine alone, sans-IO: two Streams joined by a frame
// pipe that the test controls, on a fake clock. No radio, no timers: every
// drop is chosen by the test, so each case is exact and instant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFrame, encodeFrame, type Frame, FrameKind } from '../../src/radio/link/frame.ts';
import { Stream, type StreamEvent } from '../../src/radio/link/stream.ts';
import { linkTiming } from '../../src/radio/link/timing.ts';

const radio = { mtu: 32, dutyCycle: 1, airtimeMs: (bytes: number) => bytes * 0.01 };
const timing = linkTiming(radio, { heartbeatMs: 1000, linkTimeoutMs: 5000 });

function pair(drop: (frame: Frame, n: number) => boolean) {
  let now = 0;
  const config = { epoch: 3, nonce: 77, payloadSize: 24, timing, random: () => 0.5, now };
  const node = new Stream({ ...config, local: 1, peer: 0, role: 'initiator' });
  const gateway = new Stream({ ...config, local: 0, peer: 1, role: 'responder' });
  const events = new Map<Stream, StreamEvent[]>([
    [node, []],
    [gateway, []],
  ]);
  let sent = 0;
  /** Runs both ends until nothing is due, advancing the clock to each deadline, up to `until`. */
  function run(until: number): void {
    for (let guard = 0; guard < 100_000 && now <= until; guard++) {
      let moved = false;
      for (const [from, to] of [
        [node, gateway],
        [gateway, node],
      ] as const) {
        from.tick(now);
        const frame = from.poll(now);
        if (frame === undefined) continue;
        moved = true;
        from.sent(frame, now);
        // Through the real encoder and decoder, as on air.
        const decoded = decodeFrame(encodeFrame(frame));
        assert.ok(decoded.ok);
        if (!drop(frame, sent++)) to.receive(decoded.frame, now + 1);
      }
      for (const s of [node, gateway]) events.get(s)!.push(...s.takeEvents());
      if (!moved) {
        const next = Math.min(node.nextDeadline(), gateway.nextDeadline());
        if (next === Number.POSITIVE_INFINITY) break;
        now = Math.max(now + 1, next);
      }
    }
  }
  const data = (s: Stream) =>
    events
      .get(s)!
      .flatMap((e) => (e.type === 'data' ? [...e.bytes] : []))
      .join(',');
  return { node, gateway, events, run, data, at: () => now };
}

describe('radio stream (sans-IO)', () => {
  it('opens, carries bytes both ways in order, every third frame lost', () => {
    const p = pair((_frame, n) => n % 3 === 2);
    p.gateway.accept();
    p.run(100);
    assert.equal(p.node.state, 'open');
    const up = Array.from({ length: 500 }, (_, i) => i & 0xff);
    const down = Array.from({ length: 300 }, (_, i) => (i * 3) & 0xff);
    p.node.write(new Uint8Array(up));
    p.gateway.write(new Uint8Array(down));
    p.run(p.at() + 10_000);
    assert.equal(p.data(p.gateway), up.join(','));
    assert.equal(p.data(p.node), down.join(','));
    assert.ok(p.node.stats.retransmissions > 0);
    assert.equal(p.node.bufferedAmount, 0);
    assert.equal(p.gateway.bufferedAmount, 0);
  });

  it('an idle node sends heartbeats; the link stays up', () => {
    const p = pair(() => false);
    p.gateway.accept();
    p.run(20_000);
    assert.equal(p.node.state, 'open');
    assert.ok(p.node.stats.heartbeats >= 15, `${p.node.stats.heartbeats} heartbeats in 20 s`);
  });

  it('silence past the link timeout closes both ends, each with a RESET owed', () => {
    let cut = false;
    const p = pair(() => cut);
    p.gateway.accept();
    p.run(100);
    cut = true;
    p.run(p.at() + 10_000);
    const end = (s: Stream) => p.events.get(s)!.find((e) => e.type === 'closed');
    assert.deepEqual(end(p.node)?.type, 'closed');
    assert.equal((end(p.node) as { end: { by: string } }).end.by, 'timeout');
    assert.equal((end(p.gateway) as { end: { by: string } }).end.by, 'timeout');
    assert.ok(p.node.finished && p.gateway.finished);
  });

  it('close() delivers what was written, then resets the peer', () => {
    const p = pair((frame, n) => frame.kind === FrameKind.DATA && n % 2 === 0);
    p.gateway.accept();
    p.run(100);
    p.node.write(new Uint8Array([1, 2, 3, 4]));
    p.node.close(p.at());
    p.run(p.at() + 3000);
    assert.equal(p.data(p.gateway), '1,2,3,4');
    const end = p.events.get(p.gateway)!.find((e) => e.type === 'closed') as {
      end: { by: string; reason: number };
    };
    assert.deepEqual(end.end, { by: 'peer', reason: 1 });
  });
});
