// FaultNet itself: setup, teardown, and the sweep of namespaces left behind
// by dead runs. Needs root.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { FaultNet, sweepStaleNamespaces } from './netns.ts';
import { FAULT_SKIP } from './scenario.ts';

/** Whether `ip netns list` shows `name` (lines are `name` or `name (id: N)`). */
const listed = (name: string) =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .some((line) => line.split(' ')[0] === name);

test('create, run inside, destroy (twice)', { skip: FAULT_SKIP, timeout: 20_000 }, async () => {
  const net = await FaultNet.create();
  try {
    assert.ok(listed(net.ns.broker));
    assert.ok(net.iface.client.length <= 15 && net.iface.broker.length <= 15);
    const addr = await net.exec('client', ['ip', '-4', '-o', 'addr', 'show', 'dev', net.iface.client]);
    assert.match(addr, new RegExp(`inet ${net.ip.client.replaceAll('.', '\\.')}/24`));
    await net.blackhole();
    await net.loss(0.5);
    const rules = await net.exec('client', ['iptables', '-w', '-S']);
    assert.match(rules, /statistic --mode random --probability 0\.5/);
    await net.clearAll();
    assert.doesNotMatch(await net.exec('client', ['iptables', '-w', '-S']), /DROP/);
  } finally {
    await net.destroy();
    await net.destroy();
  }
  assert.ok(!listed(net.ns.broker));
});

test('the sweep removes namespaces of dead owners only', { skip: FAULT_SKIP, timeout: 20_000 }, () => {
  // The PID of a process that has just exited: nobody owns this name any more.
  const dead = spawnSync('true').pid!;
  const stale = `sfm-${dead}-0-b`;
  const mine = `sfm-${process.pid}-999-b`;
  execFileSync('ip', ['netns', 'add', stale]);
  execFileSync('ip', ['netns', 'add', mine]);
  try {
    const removed = sweepStaleNamespaces();
    assert.ok(removed.includes(stale));
    assert.ok(!removed.includes(mine));
    assert.ok(!listed(stale));
    assert.ok(listed(mine));
  } finally {
    for (const ns of [stale, mine]) spawnSync('ip', ['netns', 'del', ns]);
  }
});

test('refuse and blackhole act on the cable, and clear', { skip: FAULT_SKIP, timeout: 20_000 }, async (t) => {
  const net = await FaultNet.create();
  t.after(() => net.destroy());
  net.spawn('broker', ['socat', 'TCP-LISTEN:5000,fork,reuseaddr', 'EXEC:cat'], { stdio: 'ignore' });
  const connects = async (): Promise<string> => {
    const script = `exec 3<>/dev/tcp/${net.ip.broker}/5000`;
    try {
      await net.exec('client', ['timeout', '1', 'bash', '-c', script]);
      return 'connected';
    } catch (error) {
      return /refused/.test(String(error)) ? 'refused' : 'timed out';
    }
  };
  // The listener may take a moment to start: wait for the first connect.
  for (let i = 0; i < 200 && (await connects()) !== 'connected'; i++);
  assert.equal(await connects(), 'connected');
  await net.refuse();
  assert.equal(await connects(), 'refused');
  assert.ok((await net.stats()).iptablesDropped > 0);
  await net.clearRefuse();
  await net.blackhole();
  assert.equal(await connects(), 'timed out');
  await net.clearAll();
  assert.equal(await connects(), 'connected');
});
