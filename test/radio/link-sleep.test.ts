// Sleeping nodes at the link layer, sans-IO: a node Stream and a gateway
// Stream on a fake clock, every frame through the real encoder and decoder.
// A sleep is granted only when nothing is waiting either way; while the node
// sleeps no frame goes out (no heartbeat), the gateway holds what it is given
// and does not time the node out; on waking the node polls and gets it all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFrame, encodeFrame, type Frame, FrameKind } from '../../src/radio/link/frame.ts';
import { Stream, type StreamEvent } from '../../src/radio/link/stream.ts';
import { readSleep } from '../../src/radio/link/stream-sleep.ts';
import { linkTiming } from '../../src/radio/link/timing.ts';

const radio = { mtu: 32, dutyCycle: 1, airtimeMs: (bytes: number) => bytes * 0.01 };
const timing = linkTiming(radio, { heartbeatMs: 1000, linkTimeoutMs: 5000 });

function pair(maxSleepMs: number) {
  let now = 0;
  const config = { epoch: 3, nonce: 77, payloadSize: 24, timing, random: () => 0.5, now };
  const node = new Stream({ ...config, local: 1, peer: 0, role: 'initiator' });
  const gateway = new Stream({ ...config, local: 0, peer: 1, role: 'responder', maxSleepMs });
  const events = new Map<Stream, StreamEvent[]>([
    [node, []],
    [gateway, []],
  ]);
  const sentBy = new Map<Stream, Frame[]>([
    [node, []],
    [gateway, []],
  ]);
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
        sentBy.get(from)?.push(frame);
        const decoded = decodeFrame(encodeFrame(frame));
        assert.ok(decoded.ok);
        to.receive(decoded.frame, now + 1);
      }
      for (const s of [node, gateway]) events.get(s)?.push(...s.takeEvents());
      if (!moved) {
        const next = Math.min(node.nextDeadline(), gateway.nextDeadline(), until + 1);
        now = Math.max(now + 1, next);
      }
    }
  }
  const data = (s: Stream) =>
    (events.get(s) ?? []).flatMap((e) => (e.type === 'data' ? [...e.bytes] : [])).join(',');
  const types = (s: Stream) => (events.get(s) ?? []).map((e) => e.type);
  const framesAfter = (s: Stream, count: number) => (sentBy.get(s)?.length ?? 0) - count;
  return { node, gateway, run, data, types, framesAfter, sentBy, at: () => now };
}

describe('sleeping node (sans-IO)', () => {
  it('sleeps past its link timeout in silence, the gateway holds, delivers at the wake', () => {
    const p = pair(60_000);
    p.gateway.accept();
    p.run(100);
    p.node.sleep(30_000);
    p.run(p.at() + 50);
    assert.ok(p.node.asleep && p.gateway.asleep, 'granted, both ends know');
    assert.deepEqual(p.types(p.node).slice(-1), ['asleep']);
    const sent = [p.sentBy.get(p.node)?.length ?? 0, p.sentBy.get(p.gateway)?.length ?? 0];
    p.gateway.write(new Uint8Array([9, 8, 7]));
    p.run(p.at() + 29_000);
    assert.equal(p.framesAfter(p.node, sent[0] as number), 0, 'no heartbeat while asleep');
    assert.equal(p.framesAfter(p.gateway, sent[1] as number), 0, 'the gateway holds what it has');
    assert.equal(p.gateway.state, 'open', 'six link timeouts of silence and the gateway still waits');
    p.run(p.at() + 2000);
    assert.ok(!p.node.asleep && !p.gateway.asleep, 'awake');
    assert.equal(p.data(p.node), '9,8,7', 'what was held arrived at the wake');
    assert.ok(p.node.stats.asleepMs >= 29_000 && p.node.stats.sleeps === 1);
    assert.equal(p.node.state, 'open');
  });

  it('no sleep while the gateway has something for the node; the node asks again and gets it after', () => {
    const p = pair(60_000);
    p.gateway.accept();
    p.run(100);
    p.gateway.write(new Uint8Array(200));
    p.node.sleep(10_000);
    p.run(p.at() + 500);
    assert.equal(p.data(p.node).split(',').length, 200, 'everything came first');
    assert.ok(p.node.asleep, 'then the sleep');
  });

  it('a gateway that grants no sleep (maxSleepMs 0) keeps the node awake, heartbeats go on', () => {
    const p = pair(0);
    p.gateway.accept();
    p.run(100);
    p.node.sleep(10_000);
    p.run(p.at() + 5000);
    assert.ok(!p.node.asleep);
    const requests = (p.sentBy.get(p.node) ?? []).filter(
      (f) => f.kind === FrameKind.ACK && readSleep(f.payload) !== undefined,
    );
    assert.ok(requests.length >= 1, 'it asked');
    // Backing off up to a heartbeat (1 s): a handful of requests in 5 s, not one per round trip.
    assert.ok(requests.length <= 12, `requests in 5 s: ${requests.length}`);
    assert.equal(p.node.state, 'open');
  });

  it('the granted time is capped by the gateway', () => {
    const p = pair(2000);
    p.gateway.accept();
    p.run(100);
    p.node.sleep(60_000);
    p.run(p.at() + 3000);
    assert.ok(!p.node.asleep, 'woke at the cap');
    assert.equal(p.node.stats.sleeps >= 1, true);
  });
});
