// The delivery checker on synthetic worker events: pure and fast, no root needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CheckerEvent, DeliveryChecker, formatReport } from './checker.ts';

const pub = (topic: string, seq: number, qos: number, t = 0): CheckerEvent => ({
  ev: 'pub',
  topic,
  seq,
  qos,
  t,
});
const acked = (topic: string, seq: number, t: number): CheckerEvent => ({ ev: 'acked', topic, seq, t });
const recv = (topic: string, seq: number | null, qos: number, t = 0): CheckerEvent => ({
  ev: 'recv',
  topic,
  seq,
  qos,
  dup: false,
  t,
});

test('complete in-order delivery: nothing lost, duplicated or extra', () => {
  const c = new DeliveryChecker();
  for (let i = 0; i < 5; i++) c.record(pub('a', i, 1));
  assert.equal(c.missing(), 5);
  for (let i = 0; i < 5; i++) c.record(recv('a', i, 1));
  assert.equal(c.missing(), 0);
  const r = c.report();
  assert.deepEqual(r.byQos[1], {
    sent: 5,
    received: 5,
    lost: 0,
    brokerLost: 0,
    dup: 0,
    brokerDup: 0,
    outOfOrder: 0,
    extra: 0,
  });
  assert.equal(r.byQos[2].sent, 0);
});

test('lost, duplicated, out of order and extra are counted per stream and per QoS', () => {
  const c = new DeliveryChecker();
  c.recordAll([pub('q2', 0, 2), pub('q2', 1, 2), pub('q2', 2, 2), pub('q2', 3, 2)]);
  c.recordAll([recv('q2', 0, 2), recv('q2', 2, 2), recv('q2', 1, 2), recv('q2', 2, 2), recv('q2', 9, 2)]);
  c.recordAll([pub('q1', 0, 1), recv('q1', 0, 1), { ev: 'up' }, recv('q1', null, 1)]);
  const r = c.report();
  const q2 = r.streams.find((s) => s.topic === 'q2')!;
  assert.equal(q2.sent, 4);
  assert.equal(q2.received, 3);
  assert.equal(q2.lost, 1);
  assert.deepEqual(q2.lostSeqs, [3]);
  assert.equal(q2.dup, 1);
  assert.deepEqual(q2.dupSeqs, [2]);
  assert.equal(q2.outOfOrder, 1, 'seq 1 after seq 2');
  assert.equal(q2.extra, 1, 'seq 9 was never announced');
  assert.equal(r.byQos[2].lost, 1);
  assert.equal(r.byQos[1].sent, 1);
  assert.equal(r.byQos[1].received, 1);
  assert.match(formatReport(r), /q2 qos2: sent 4 received 3 lost 1 .* lost=\[3\] dup=\[2\]/);
});

test('a loss acknowledged shortly before a broker kill -9 is the broker’s', () => {
  const c = new DeliveryChecker({ brokerWindowMs: 2000 });
  c.recordAll([pub('a', 0, 1, 0), pub('a', 1, 1, 0), pub('a', 2, 1, 0), pub('a', 3, 1, 0)]);
  c.recordAll([acked('a', 0, 1000), acked('a', 1, 9500), acked('a', 2, 9900)]);
  c.brokerKilled(10_000);
  // seq 0: acked 9 s before the kill; 1 and 2: within 2 s; 3: never acked (the client still owns it).
  const r = c.report();
  assert.deepEqual(r.streams[0].lostSeqs, [0, 3]);
  assert.deepEqual(r.streams[0].brokerLostSeqs, [1, 2]);
  assert.equal(r.byQos[1].lost, 2);
  assert.equal(r.byQos[1].brokerLost, 2);
});

test('a message the subscriber acknowledged and never delivered is its loss, even just before a kill', () => {
  const c = new DeliveryChecker({ brokerWindowMs: 2000 });
  const delivered = (seq: number, t: number): CheckerEvent => ({ ev: 'delivered', topic: 'a', seq, t });
  c.recordAll([pub('a', 0, 1, 0), acked('a', 0, 9500), pub('a', 1, 1, 0), acked('a', 1, 9500)]);
  c.record(delivered(0, 9600)); // the subscriber's PUBACK for seq 0 went to the broker
  c.brokerKilled(10_000);
  const s = c.report().streams[0];
  assert.deepEqual(s.lostSeqs, [0]);
  assert.deepEqual(s.brokerLostSeqs, [1]);
});

test('an ack after the kill (from the restarted broker) is not the killed broker’s loss', () => {
  const c = new DeliveryChecker();
  c.recordAll([pub('a', 0, 2, 0), acked('a', 0, 10_500)]);
  c.brokerKilled(10_000);
  assert.equal(c.report().byQos[2].lost, 1);
});

test('a copy after a kill is the broker’s duplicate only if the first delivery was completed before it', () => {
  const c = new DeliveryChecker();
  const delivered = (seq: number, t: number): CheckerEvent => ({ ev: 'delivered', topic: 'a', seq, t });
  c.recordAll([pub('a', 0, 2), pub('a', 1, 2), pub('a', 2, 2), pub('a', 3, 2)]);
  // seq 3: the PUBREL read by the proxy 3 ms after the recorded kill time: the killed broker sent it.
  c.recordAll([recv('a', 3, 2, 9990), delivered(3, 10_003), recv('a', 3, 2, 11_000)]);
  // seq 0: PUBREL sent before the kill, copy after it: the broker forgot.
  c.recordAll([recv('a', 0, 2, 9000), delivered(0, 9100), recv('a', 0, 2, 12_000)]);
  // seq 1: received before the kill, no PUBREL yet: the client holds the id, the copy is its to drop.
  c.recordAll([recv('a', 1, 2, 9500), recv('a', 1, 2, 12_100)]);
  // seq 2: a copy with no kill in between.
  c.recordAll([recv('a', 2, 2, 12_200), delivered(2, 12_250), recv('a', 2, 2, 12_300)]);
  c.brokerKilled(10_000);
  const s = c.report().streams[0];
  assert.equal(s.brokerDup, 2);
  assert.equal(s.dup, 2);
  assert.deepEqual(s.dupSeqs, [1, 2]);
});

test('unacked() counts announced messages whose flow has not completed', () => {
  const c = new DeliveryChecker();
  c.recordAll([pub('a', 0, 1), pub('a', 1, 1), acked('a', 0, 5)]);
  assert.equal(c.unacked(), 1);
});

test('QoS 2: a PUBREC (handoff) just before the kill makes a loss the broker’s even if PUBCOMP came after', () => {
  const c = new DeliveryChecker();
  c.recordAll([pub('q2', 0, 2, 0), { ev: 'handoff', topic: 'q2', seq: 0, t: 9800 }, acked('q2', 0, 11_000)]);
  c.recordAll([pub('q2', 1, 2, 0), acked('q2', 1, 11_000)]);
  assert.equal(c.missing(), 2);
  c.brokerKilled(10_000);
  assert.equal(c.missing(), 1, 'only seq 1 is still awaited');
  const s = c.report().streams[0];
  assert.deepEqual(s.brokerLostSeqs, [0]);
  assert.deepEqual(s.lostSeqs, [1], 'no handoff before the kill: the client had to resend it');
});
