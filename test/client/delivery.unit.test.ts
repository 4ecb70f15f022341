/**
 * Delivery to the application on a fake clock, no sockets: when each message
 * is acknowledged (only once the application has taken it), the buffer's
 * bound, unclaimed messages and their timeout, manual ack, closing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Delivery, type DeliveryClock, type DeliveryLimits } from '../../src/client/delivery.ts';
import { Message } from '../../src/client/message.ts';
import { Subscription } from '../../src/client/subscription.ts';
import type { QoS } from '../../src/codec/types.ts';

class FakeClock implements DeliveryClock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => void this.timers.delete(id as number);
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = target;
  }
}

const LIMITS: DeliveryLimits = { maxBufferedMessages: 3, maxBufferedBytes: 1000, unclaimedTimeout: 30_000 };

function setup(options: { autoAck?: boolean; limits?: Partial<DeliveryLimits> } = {}) {
  const clock = new FakeClock();
  const delivery = new Delivery({ ...LIMITS, ...options.limits }, clock, options.autoAck ?? true);
  const acked: string[] = [];
  const failures: unknown[] = [];
  const host = {
    unsubscribe: async () => {},
    handlerFailed: (error: unknown) => void failures.push(error),
  };
  const subscription = (filter: string, onMessage?: (m: Message) => unknown) => {
    const s = new Subscription([filter], undefined, onMessage, host);
    return {
      subscription: s,
      claimant: { claims: (m: Message) => s.matches(m, [], new Map(), false), deliver: s.deliver.bind(s) },
    };
  };
  /** A message arrives for `claimants` (subscriptions); returns whether it was kept. */
  const arrive = (topic: string, qos: QoS, claimants: ReturnType<typeof subscription>[], payload = 'x') => {
    const message = new Message({
      type: 'publish',
      topic,
      qos,
      dup: false,
      retain: false,
      payload: new TextEncoder().encode(payload),
    });
    const ack = qos > 0 ? () => void acked.push(topic) : undefined;
    return delivery.arrive(
      message,
      ack,
      claimants.map((c) => c.claimant),
      false,
    );
  };
  return { clock, delivery, acked, failures, subscription, arrive };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('acknowledged when the application has taken the message, never on arrival', () => {
  it('for await: a message is acked when the loop body comes back for the next one', async () => {
    const { acked, subscription, arrive, delivery } = setup();
    const s = subscription('t/#');
    arrive('t/1', 1, [s]);
    arrive('t/2', 2, [s]);
    assert.deepEqual(acked, []);
    const it = s.subscription[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.topic, 't/1');
    assert.deepEqual(acked, [], 'the body is still working on t/1');
    assert.equal((await it.next()).value?.topic, 't/2');
    assert.deepEqual(acked, ['t/1']);
    assert.equal(delivery.stats.buffered, 1, 't/2 is held until the body is done with it');
    await it.return?.();
    assert.deepEqual(acked, ['t/1', 't/2'], 'leaving the loop takes the message it had');
    assert.equal(delivery.stats.buffered, 0);
  });

  it('a waiting loop gets the message at once, acked at its next turn', async () => {
    const { acked, subscription, arrive } = setup();
    const s = subscription('t');
    const it = s.subscription[Symbol.asyncIterator]();
    const first = it.next();
    arrive('t', 1, [s]);
    assert.equal((await first).value?.topic, 't');
    assert.deepEqual(acked, []);
    const second = it.next();
    assert.deepEqual(acked, ['t']);
    arrive('t', 1, [s]);
    await second;
  });

  it('callback: acked once it returned; a promise it returned, once settled; one message at a time', async () => {
    const { acked, subscription, arrive } = setup();
    const calls: string[] = [];
    const releases: (() => void)[] = [];
    const s = subscription('t/#', (m) => {
      calls.push(m.topic);
      if (m.topic === 't/sync') return undefined;
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    arrive('t/sync', 1, [s]);
    assert.deepEqual(acked, ['t/sync']);
    arrive('t/a', 1, [s]);
    arrive('t/b', 1, [s]);
    assert.deepEqual(calls, ['t/sync', 't/a'], 't/b waits for t/a');
    assert.deepEqual(acked, ['t/sync']);
    releases[0]();
    await tick();
    assert.deepEqual(acked, ['t/sync', 't/a']);
    assert.deepEqual(calls, ['t/sync', 't/a', 't/b']);
    releases[1]();
    await tick();
    assert.deepEqual(acked, ['t/sync', 't/a', 't/b']);
  });

  it('a callback that throws or rejects: the message still counts as done, the error is reported', async () => {
    const { acked, failures, subscription, arrive } = setup();
    const s = subscription('t/#', (m) => {
      if (m.topic === 't/throw') throw new Error('boom');
      return Promise.reject(new Error('later'));
    });
    arrive('t/throw', 1, [s]);
    arrive('t/reject', 2, [s]);
    await tick();
    assert.deepEqual(acked, ['t/throw', 't/reject']);
    assert.deepEqual(
      failures.map((e) => (e as Error).message),
      ['boom', 'later'],
    );
  });

  it('two subscriptions on one message: acked when both have taken it', async () => {
    const { acked, subscription, arrive } = setup();
    const a = subscription('t');
    const b = subscription('#');
    arrive('t', 1, [a, b]);
    const ia = a.subscription[Symbol.asyncIterator]();
    const ib = b.subscription[Symbol.asyncIterator]();
    await ia.next();
    await ib.next();
    void ia.next();
    assert.deepEqual(acked, []);
    void ib.next();
    assert.deepEqual(acked, ['t']);
  });
});

describe('the buffer is bounded', () => {
  it('QoS 0 beyond maxBufferedMessages is dropped and counted; QoS 1/2 never are (the broker window bounds them)', () => {
    const { delivery, subscription, arrive } = setup();
    const s = subscription('t');
    for (let i = 0; i < 5; i++) arrive('t', 0, [s]);
    assert.equal(delivery.stats.buffered, 3);
    assert.equal(delivery.stats.droppedInbound, 2);
    assert.equal(arrive('t', 1, [s]), true);
    assert.equal(delivery.stats.buffered, 4);
    assert.equal(s.subscription.pending, 4);
  });

  it('QoS 0 beyond maxBufferedBytes is dropped', () => {
    const { delivery, subscription, arrive } = setup({ limits: { maxBufferedMessages: 100 } });
    const s = subscription('t');
    assert.equal(arrive('t', 0, [s], 'x'.repeat(600)), true);
    assert.equal(arrive('t', 0, [s], 'x'.repeat(600)), false);
    assert.equal(delivery.stats.bufferedBytes, 601);
    assert.equal(delivery.stats.droppedInbound, 1);
  });
});

describe('unclaimed messages wait for a subscription, then are acked and dropped', () => {
  it('a subscription made later takes them, oldest first; acked once taken', async () => {
    const { acked, delivery, subscription, arrive } = setup();
    arrive('a/1', 1, []);
    arrive('b/1', 1, []);
    arrive('a/2', 2, []);
    assert.equal(delivery.stats.unclaimed, 3);
    assert.deepEqual(acked, []);
    const s = subscription('a/#');
    delivery.offerUnclaimed(s.claimant);
    assert.equal(delivery.stats.unclaimed, 1);
    const it = s.subscription[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.topic, 'a/1');
    assert.equal((await it.next()).value?.topic, 'a/2');
    assert.deepEqual(acked, ['a/1']);
  });

  it('after unclaimedTimeout they are acked and dropped, so they never hold the window', () => {
    const { acked, delivery, clock, arrive } = setup();
    arrive('a', 1, []);
    clock.advance(10_000);
    arrive('b', 1, []);
    clock.advance(20_000);
    assert.deepEqual(acked, ['a']);
    clock.advance(10_000);
    assert.deepEqual(acked, ['a', 'b']);
    assert.equal(delivery.stats.unclaimed, 0);
    assert.equal(delivery.stats.unclaimedDropped, 2);
    assert.equal(delivery.stats.buffered, 0);
  });

  it('only the first unclaimedTimeout after the first connection holds them: later ones are dropped at once', () => {
    const { acked, delivery, clock, arrive } = setup();
    delivery.connected();
    clock.advance(29_000);
    arrive('early', 1, []);
    assert.deepEqual(acked, []);
    clock.advance(2_000);
    delivery.connected(); // a reconnect does not open the window again
    arrive('stale', 1, []);
    assert.deepEqual(
      acked,
      ['stale'],
      'a subscription the application no longer makes must not throttle the others',
    );
    assert.equal(delivery.stats.unclaimed, 1);
  });

  it('a message listener added later takes them', () => {
    const { acked, delivery, arrive } = setup();
    arrive('a', 1, []);
    const seen: string[] = [];
    delivery.drainUnclaimed((m) => seen.push(m.topic));
    assert.deepEqual(seen, ['a']);
    assert.deepEqual(acked, ['a']);
  });
});

describe('manual ack and closing', () => {
  it('manual ack: a taken message is the application’s to ack; an unclaimed one that expires is acked for it', async () => {
    const { acked, clock, subscription, arrive } = setup({ autoAck: false });
    const s = subscription('t');
    arrive('t', 1, [s]);
    const it = s.subscription[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
    assert.deepEqual(acked, [], 'the application acks by hand');
    arrive('u', 1, []);
    clock.advance(30_000);
    assert.deepEqual(acked, ['u'], 'manualAck never freezes the session on a message nobody claims');
  });

  it('unsubscribing discards (acks) what was not handed out; closing abandons it (no ack: the broker keeps it)', () => {
    const { acked, delivery, subscription, arrive } = setup({ limits: { maxBufferedMessages: 10 } });
    const a = subscription('a');
    const b = subscription('b');
    arrive('a', 1, [a]);
    arrive('b', 1, [b]);
    arrive('u', 1, []);
    a.subscription.end();
    assert.deepEqual(acked, ['a']);
    b.subscription.end(undefined, true);
    delivery.close();
    assert.deepEqual(acked, ['a']);
    assert.equal(delivery.stats.buffered, 0);
  });
});
