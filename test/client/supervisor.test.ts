/**
 * The Supervisor on a fake clock, with scripted links: the quiet period and
 * the link's reset(), backoff with full jitter and its cap, server rotation,
 * MQTT 5 server references, and the write-progress watch. Every time below is
 * exact because nothing here reads a real clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionDriver } from '../../src/client/session-driver.ts';
import type { ClientStatus } from '../../src/client/status.ts';
import { Supervisor, type SupervisorOptions } from '../../src/client/supervisor.ts';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import { MqttError } from '../../src/errors.ts';
import type { Connection, Link, LinkHandlers } from '../../src/links/types.ts';
import { Session } from '../../src/session/session.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

/** A link whose broker accepts (CONNACK at once) or refuses to open; records when it was opened and reset. */
class ScriptedLink implements Link {
  readonly opens: number[] = [];
  readonly resets: number[] = [];
  accept = true;
  /** How long reset() takes. */
  resetMs = 0;
  /** What the connection's write returns and reports as buffered. */
  buffered = 0;
  private handlers: LinkHandlers | undefined;
  constructor(
    readonly name: string,
    private readonly clock: FakeClock,
    withReset = false,
  ) {
    if (!withReset) this.reset = undefined;
  }

  open(handlers: LinkHandlers): Promise<Connection> {
    this.opens.push(this.clock.now());
    if (!this.accept) return Promise.reject(new MqttError('LINK_ERROR', `${this.name} refused`));
    this.handlers = handlers;
    const decoder = new PacketDecoder({ protocolVersion: 5, maximumPacketSize: 1 << 20 });
    let closed = false;
    const link = this;
    return Promise.resolve({
      write(bytes: Uint8Array): boolean {
        decoder.push(bytes);
        for (let p = decoder.next(); p !== undefined; p = decoder.next()) {
          if (p.type === 'connect') {
            queueMicrotask(() =>
              handlers.data(encode({ type: 'connack', sessionPresent: true, reasonCode: 0 }, 5)),
            );
          }
        }
        return link.buffered === 0;
      },
      get bufferedAmount() {
        return link.buffered;
      },
      close() {
        if (closed) return;
        closed = true;
        handlers.close();
      },
    });
  }

  reset?: (signal?: AbortSignal) => Promise<void> = () => {
    this.resets.push(this.clock.now());
    return new Promise((resolve) => this.clock.setTimeout(resolve, this.resetMs));
  };

  /** The peer goes away. */
  drop(): void {
    this.handlers?.close(new Error('connection reset'));
  }
}

function start(links: Link[], clock: FakeClock, options: Partial<SupervisorOptions> = {}) {
  const downs: Array<{ cause: MqttError; wasUp: boolean; at: number }> = [];
  const statuses: Array<ClientStatus & { at: number }> = [];
  /** Status changes and downs, in the order the hooks were called. */
  const order: string[] = [];
  let supervisor!: Supervisor;
  const session = new Session({ protocolVersion: 5, clientId: 'c', keepalive: 0 });
  const driver = new SessionDriver(session, {
    write: (bytes) => supervisor.write(bytes),
    event: (event) => {
      if (event.type === 'up') supervisor.markUp();
      if (event.type === 'close') supervisor.closeLink(event.error);
    },
    deadline: (at) => supervisor.armTimer(at),
  });
  supervisor = new Supervisor(
    driver,
    {
      links,
      clean: () => false,
      reconnectPeriod: 1000,
      reconnectPeriodMax: 8000,
      connectTimeout: 30_000,
      quietPeriod: 5000,
      writeTimeout: 3000,
      clock,
      ...options,
    },
    {
      down: (cause, wasUp) => {
        downs.push({ cause, wasUp, at: clock.now() });
        order.push('down');
      },
      fatal: () => {},
      status: (status) => {
        statuses.push({ ...status, at: clock.now() });
        order.push(status.state);
      },
    },
  );
  supervisor.start();
  return { supervisor, session, driver, downs, statuses, order };
}

describe('the supervisor after an outage', () => {
  it('stays down for the quiet period, resets the link meanwhile, then backs off with jitter', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock, true);
    const { supervisor, session } = start([link], clock);
    await clock.until(100);
    assert.equal(session.state, 'up');
    link.drop();
    await clock.until(100_000);
    // quiet 5,000 + jitter 0.5 × reconnectPeriod 1,000 after the drop at 100.
    assert.deepEqual(link.opens, [0, 5600]);
    assert.deepEqual(link.resets, [100]);
    await supervisor.stop();
  });

  it('a reset longer than the quiet period is waited for (bounded by connectTimeout)', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock, true);
    link.resetMs = 8000;
    const { supervisor } = start([link], clock);
    await clock.until(100);
    link.drop();
    await clock.until(100_000);
    assert.deepEqual(link.opens, [0, 8600]);
    link.resetMs = 1e9; // a reset that never ends: connectTimeout (30 s) bounds it
    link.drop();
    await clock.until(200_000);
    assert.deepEqual(link.opens, [0, 8600, 100_000 + 30_000 + 500]);
    await supervisor.stop();
  });

  it('backoff doubles per failed attempt up to the cap, with no quiet period when the link never opened', async () => {
    const clock = new FakeClock();
    clock.jitter = 0.5;
    const link = new ScriptedLink('a', clock);
    link.accept = false;
    const { supervisor, downs } = start([link], clock);
    await clock.until(60_000);
    const gaps = link.opens.slice(1).map((t, i) => t - link.opens[i]);
    // 0.5 × min(8,000, 1,000 × 2^n) for n = 1, 2, 3, 4...
    assert.deepEqual(gaps.slice(0, 6), [1000, 2000, 4000, 4000, 4000, 4000]);
    assert.ok(downs.every((d) => !d.wasUp && d.cause.code === 'LINK_ERROR'));
    await supervisor.stop();
  });

  it('a broker that accepts and then drops: the backoff keeps growing until a connection lasts resetBackoffAfter', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock);
    const { supervisor, session } = start([link], clock, { quietPeriod: 0, resetBackoffAfter: 10_000 });
    const drops: number[] = [];
    for (let i = 0; i < 5; i++) {
      const opened = link.opens.length;
      while (link.opens.length === opened && i > 0) await clock.until(clock.now() + 10);
      await clock.until(clock.now() + 50); // up for 50 ms, then dropped
      assert.equal(session.state, 'up');
      drops.push(clock.now());
      link.drop();
    }
    const waits = link.opens.slice(1).map((t, i) => t - drops[i]);
    // 0.5 × min(8,000, 1,000 × 2^n): growing, as after failed attempts.
    assert.deepEqual(waits, [1000, 2000, 4000, 4000]);
    // A connection that lasts 10 s starts it over.
    await clock.until(clock.now() + 20_000);
    const lasted = clock.now();
    link.drop();
    await clock.until(lasted + 20_000);
    assert.equal(link.opens.at(-1)! - lasted, 500);
    // An outage found by the client itself (here a keepalive timeout) soon after: no escalation.
    await clock.until(clock.now() + 50);
    const timedOut = clock.now();
    supervisor.closeLink(new MqttError('TIMEOUT', 'no PINGRESP'));
    await clock.until(timedOut + 20_000);
    assert.equal(link.opens.at(-1)! - timedOut, 500);
    await supervisor.stop();
  });

  it('a connection the broker served on proves it healthy, however short: no escalation; CONNACK and a refusing ack alone do not', async () => {
    // Up 50 ms each time, then dropped by the broker; on each, the broker sends `serve` first.
    const waitsWhen = async (serve: Uint8Array | undefined) => {
      const clock = new FakeClock();
      const link = new ScriptedLink('a', clock);
      const { supervisor, session } = start([link], clock, { quietPeriod: 0, resetBackoffAfter: 10_000 });
      const drops: number[] = [];
      for (let i = 0; i < 4; i++) {
        const opened = link.opens.length;
        while (link.opens.length === opened && i > 0) await clock.until(clock.now() + 10);
        await clock.until(clock.now() + 50);
        assert.equal(session.state, 'up');
        if (serve) session.received(serve, clock.now());
        drops.push(clock.now());
        link.drop();
      }
      await supervisor.stop();
      return link.opens.slice(1).map((t, i) => t - drops[i]);
    };
    // A message delivered to us (QoS 0 PUBLISH on "t"): the broker works, each outage is one of its
    // own (a restart, a cut), and the client comes back after the first step each time.
    const publish = new Uint8Array([0x30, 0x05, 0x00, 0x01, 0x74, 0x00, 0x78]);
    assert.deepEqual(await waitsWhen(publish), [500, 500, 500]);
    // A PUBACK refusing with 0x87 (Not authorized) is no service: the wait grows as for CONNACK alone.
    const refused = new Uint8Array([0x40, 0x03, 0x00, 0x01, 0x87]);
    assert.deepEqual(await waitsWhen(refused), [1000, 2000, 4000]);
    assert.deepEqual(await waitsWhen(undefined), [1000, 2000, 4000]);
  });

  it('a broker that breaks the protocol soon after every CONNACK gets a growing backoff too', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock);
    const { supervisor, session, driver } = start([link], clock, {
      quietPeriod: 0,
      resetBackoffAfter: 10_000,
    });
    const faults: number[] = [];
    for (let i = 0; i < 4; i++) {
      const opened = link.opens.length;
      while (link.opens.length === opened && i > 0) await clock.until(clock.now() + 10);
      await clock.until(clock.now() + 50);
      assert.equal(session.state, 'up');
      faults.push(clock.now());
      // A PUBACK with a reason code no PUBACK may carry (0x04): we close with Protocol Error.
      driver.received(new Uint8Array([0x40, 0x03, 0x00, 0x01, 0x04]), clock.now());
      assert.equal(session.state, 'closing');
    }
    const waits = link.opens.slice(1).map((t, i) => t - faults[i]);
    assert.deepEqual(waits, [1000, 2000, 4000]);
    await supervisor.stop();
  });

  it('full jitter: the wait is anywhere from (almost) zero to the cap, never zero', () => {
    const clock = new FakeClock();
    const { supervisor } = start([new ScriptedLink('a', clock)], clock);
    clock.jitter = 0;
    assert.equal(supervisor.backoff(3), 10);
    clock.jitter = 0.999;
    assert.equal(supervisor.backoff(3), 7992);
    assert.equal(supervisor.backoff(30), 7992);
    void supervisor.stop();
  });

  it('rotates through the servers when an attempt fails', async () => {
    const clock = new FakeClock();
    const a = new ScriptedLink('a', clock);
    const b = new ScriptedLink('b', clock);
    a.accept = false;
    const { supervisor, session } = start([a, b], clock);
    await clock.until(10_000);
    assert.deepEqual([a.opens, b.opens], [[0], [1000]]);
    assert.equal(session.state, 'up');
    await supervisor.stop();
  });
});

describe('server references (MQTT 5 0x9C / 0x9D)', () => {
  it('a temporary redirect is tried once, right after the quiet period; a failure falls back to the rotation', async () => {
    const clock = new FakeClock();
    const a = new ScriptedLink('a', clock);
    const c = new ScriptedLink('c', clock);
    c.accept = false;
    const { supervisor } = start([a], clock);
    await clock.until(100);
    supervisor.redirect(c, false);
    a.drop();
    await clock.until(30_000);
    assert.deepEqual(c.opens, [5100]); // no backoff after the quiet period
    assert.deepEqual(a.opens, [0, 5100 + 1000]); // then the rotation, with backoff
    await supervisor.stop();
  });

  it('a permanent move replaces the server in the rotation', async () => {
    const clock = new FakeClock();
    const a = new ScriptedLink('a', clock);
    const c = new ScriptedLink('c', clock);
    const { supervisor } = start([a], clock);
    await clock.until(100);
    supervisor.redirect(c, true);
    a.drop();
    await clock.until(10_000);
    c.drop();
    await clock.until(30_000);
    assert.deepEqual(a.opens, [0]);
    assert.deepEqual(c.opens, [5100, 10_000 + 5000 + 500]);
    await supervisor.stop();
  });
});

describe('the write-progress watch', () => {
  it('a link whose buffer does not shrink for writeTimeout is declared dead', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock);
    const { supervisor, driver, downs } = start([link], clock);
    await clock.until(100);
    link.buffered = 5000;
    driver.publish({ topic: 't', payload: new Uint8Array(10), qos: 1, retain: false }, 't', clock.now());
    await clock.until(3099);
    assert.equal(downs.length, 0);
    await clock.until(3100);
    assert.equal(downs.length, 1);
    assert.equal(downs[0].cause.code, 'TIMEOUT');
    assert.match(downs[0].cause.message, /no progress/);
    await supervisor.stop();
  });

  it('a slow link that keeps draining is never cut', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock);
    const { supervisor, driver, downs } = start([link], clock);
    await clock.until(100);
    link.buffered = 50_000;
    driver.publish({ topic: 't', payload: new Uint8Array(10), qos: 1, retain: false }, 't', clock.now());
    for (let t = 1000; t <= 40_000; t += 1000) {
      link.buffered -= 1000;
      await clock.until(t);
    }
    assert.equal(downs.length, 0);
    await supervisor.stop();
  });
});

describe('the status union, on the fake clock', () => {
  /** The statuses, briefly: `opening a@0`, `quiet 5000@100`, `backoff 500@5100`. */
  const brief = (statuses: Array<ClientStatus & { at: number }>) =>
    statuses.map((s) => {
      switch (s.state) {
        case 'opening':
        case 'connected':
          return `${s.state} ${s.server}@${s.at}`;
        case 'quiet':
          return `quiet ${s.ms}@${s.at}`;
        case 'backoff':
          return `backoff ${s.ms} after ${s.failures}@${s.at}`;
        case 'idle':
        case 'stopped':
          return `${s.state}@${s.at}`;
        default: {
          const never: never = s;
          return String(never);
        }
      }
    });

  it('connect, outage, quiet period, backoff, reconnect, end()', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock, true);
    const { supervisor, statuses } = start([link], clock);
    const state = () => supervisor.status.state; // read anew each time (an assert would narrow a getter)
    await clock.until(100);
    assert.equal(state(), 'connected');
    link.drop();
    await clock.until(10_000);
    const stopped = supervisor.stop();
    assert.equal(state(), 'stopped', 'stopped at once, before the link is down');
    await stopped;
    assert.deepEqual(brief(statuses), [
      'opening a@0',
      'connected a@0',
      'quiet 5000@100',
      'backoff 500 after 0@5100',
      'opening a@5600',
      'connected a@5600',
      'stopped@10000',
    ]);
    const last = statuses.at(-1);
    assert.equal(last?.state === 'stopped' && last.cause.code, 'CLIENT_CLOSED');
    const quiet = statuses[2];
    assert.equal(quiet.state === 'quiet' && quiet.cause.code, 'CONNECTION_LOST', 'quiet carries the cause');
  });

  it('an attempt that never opened goes straight to backoff, growing; down comes first, then the state it leads to', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock);
    link.accept = false;
    const { supervisor, statuses, order } = start([link], clock);
    await clock.until(3000);
    // 0.5 x min(8,000, 1,000 x 2^failures).
    assert.deepEqual(brief(statuses), [
      'opening a@0',
      'backoff 1000 after 1@0',
      'opening a@1000',
      'backoff 2000 after 2@1000',
      'opening a@3000',
      'backoff 4000 after 3@3000',
    ]);
    assert.deepEqual(order, [
      'opening',
      'down',
      'backoff',
      'opening',
      'down',
      'backoff',
      'opening',
      'down',
      'backoff',
    ]);
    await supervisor.stop();
    assert.equal(supervisor.status.state, 'stopped');
  });

  it('nothing leaves stopped: a stop during the quiet period ends there', async () => {
    const clock = new FakeClock();
    const link = new ScriptedLink('a', clock, true);
    const { supervisor, statuses } = start([link], clock);
    await clock.until(100);
    link.drop();
    await clock.until(200);
    await supervisor.stop(new MqttError('CONNECTION_REFUSED', 'given up'));
    await clock.until(100_000);
    assert.deepEqual(brief(statuses).slice(-2), ['quiet 5000@100', 'stopped@200']);
    const last: ClientStatus = supervisor.status;
    assert.equal(last.state === 'stopped' && last.cause.code, 'CONNECTION_REFUSED');
    assert.deepEqual(link.opens, [0]);
  });

  it('before start(): idle', () => {
    const clock = new FakeClock();
    const supervisor = new Supervisor(
      { session: { version: 5 } } as never,
      {
        links: [new ScriptedLink('a', clock)],
        clean: () => false,
        reconnectPeriod: 1,
        reconnectPeriodMax: 1,
        connectTimeout: 1,
        quietPeriod: 1,
        writeTimeout: 1,
        clock,
      },
      { down: () => {}, fatal: () => {}, status: () => {} },
    );
    assert.deepEqual(supervisor.status, { state: 'idle' });
  });
});
