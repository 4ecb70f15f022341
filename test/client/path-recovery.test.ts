/**
 * Recovery after a path heals, on a fake clock, with a link that models what
 * TCP does when packets vanish: a connect whose SYN is lost is retried 1, 3,
 * 7, 15 s after it started; bytes written into a dead path are retransmitted
 * 0.2, 0.6, 1.4, 3, 6.2, 12.6 s after they were written. The fresh open
 * attempts (openRetryInterval) and the stall probe (stallProbeAfter) must get
 * the session through within a second of the path coming back, where the
 * kernel alone takes seconds; a path that is merely slow must not be taken
 * for a dead one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionDriver } from '../../src/client/session-driver.ts';
import { Supervisor, type SupervisorOptions } from '../../src/client/supervisor.ts';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import { MqttError } from '../../src/errors.ts';
import type { Connection, Link, LinkHandlers } from '../../src/links/types.ts';
import { Session } from '../../src/session/session.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

/** When Linux resends a SYN, after the connect started (initial RTO 1 s, doubling). */
const SYN_RETRIES = [1000, 3000, 7000, 15_000, 31_000];
/** When a data segment is retransmitted after it was first sent (RTO 200 ms, doubling). */
const DATA_RETRIES = [200, 600, 1400, 3000, 6200, 12_600, 25_400, 50_600];

/** A path to a broker that can go dark (every packet lost) and slow (a one-way delay). */
class Path implements Link {
  readonly name = 'path';
  readonly concurrentOpens: boolean;
  /** Packets pass. */
  up = true;
  /** One-way delay, ms. */
  delay = 0;
  /** A proxy in front of the broker completes TCP handshakes itself, dark path or not (only data stalls). */
  terminatesTcp = false;
  readonly opens: number[] = [];
  /** Connections that were opened, in order, with the PUBLISH packet ids each carried. */
  readonly connections: Array<{ publishes: number[]; closed: boolean }> = [];

  constructor(
    private readonly clock: FakeClock,
    concurrentOpens = true,
  ) {
    this.concurrentOpens = concurrentOpens;
  }

  /** Delivers after `delay` if the path is up at one of the retry times, else never. */
  private transmit(retries: number[], deliver: () => void, isLive: () => boolean): void {
    const start = this.clock.now();
    const attempt = (i: number) => {
      if (!isLive()) return;
      if (this.up) {
        this.clock.setTimeout(() => isLive() && deliver(), this.delay);
        return;
      }
      if (i < retries.length)
        this.clock.setTimeout(() => attempt(i + 1), start + retries[i] - this.clock.now());
    };
    attempt(0);
  }

  open(handlers: LinkHandlers, signal?: AbortSignal): Promise<Connection> {
    this.opens.push(this.clock.now());
    return new Promise((resolve, reject) => {
      let abandoned = false;
      signal?.addEventListener('abort', () => {
        abandoned = true;
        reject(new Error('aborted'));
      });
      if (this.terminatesTcp) {
        queueMicrotask(() => !abandoned && resolve(this.connect(handlers)));
        return;
      }
      // The SYN goes out (and is retried); the SYN-ACK comes back after the delay.
      this.transmit(
        SYN_RETRIES,
        () => this.clock.setTimeout(() => !abandoned && resolve(this.connect(handlers)), this.delay),
        () => !abandoned,
      );
    });
  }

  private connect(handlers: LinkHandlers): Connection {
    const record = { publishes: [] as number[], closed: false };
    this.connections.push(record);
    const decoder = new PacketDecoder({ protocolVersion: 5, maximumPacketSize: 1 << 20 });
    const live = () => !record.closed;
    const answer = (bytes: Uint8Array) => this.transmit(DATA_RETRIES, () => handlers.data(bytes), live);
    return {
      write: (bytes) => {
        const copy = bytes.slice();
        this.transmit(
          DATA_RETRIES,
          () => {
            decoder.push(copy);
            for (let p = decoder.next(); p !== undefined; p = decoder.next()) {
              if (p.type === 'connect')
                answer(encode({ type: 'connack', sessionPresent: true, reasonCode: 0 }, 5));
              if (p.type === 'publish' && p.packetId !== undefined) {
                record.publishes.push(p.packetId);
                answer(encode({ type: 'puback', packetId: p.packetId, reasonCode: 0 }, 5));
              }
            }
          },
          live,
        );
        return true;
      },
      bufferedAmount: 0,
      close: () => {
        if (record.closed) return;
        record.closed = true;
        handlers.close();
      },
    };
  }
}

function start(link: Link, clock: FakeClock, options: Partial<SupervisorOptions> = {}) {
  const downs: Array<{ cause: MqttError; at: number }> = [];
  const published = new Map<unknown, number>();
  let ups = 0;
  let supervisor!: Supervisor;
  const session = new Session({ protocolVersion: 5, clientId: 'c', keepalive: 60 });
  const driver = new SessionDriver(session, {
    write: (bytes) => supervisor.write(bytes),
    event: (event) => {
      if (event.type === 'up') {
        ups++;
        supervisor.markUp();
      }
      if (event.type === 'published') published.set(event.token, clock.now());
      if (event.type === 'close') supervisor.closeLink(event.error);
    },
    deadline: (at) => supervisor.armTimer(at),
  });
  supervisor = new Supervisor(
    driver,
    {
      links: [link],
      clean: () => false,
      reconnectPeriod: 1000,
      reconnectPeriodMax: 30_000,
      connectTimeout: 30_000,
      quietPeriod: 1000,
      writeTimeout: 30_000,
      openRetryInterval: 1000,
      stallProbeAfter: 1000,
      clock,
      ...options,
    },
    { down: (cause) => downs.push({ cause, at: clock.now() }), fatal: () => {}, status: () => {} },
  );
  supervisor.start();
  const publish = (token: string) => {
    driver.publish({ topic: 't', payload: new Uint8Array([1]), qos: 1, retain: false }, token, clock.now());
  };
  return { supervisor, session, downs, published, publish, ups: () => ups };
}

describe('reconnecting through a path that comes back', () => {
  it('a fresh attempt every second: up within a second of the path healing', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    const { supervisor, session, ups } = start(path, clock);
    await clock.until(100);
    assert.equal(session.state, 'up');
    path.up = false;
    supervisor.closeLink(new MqttError('TIMEOUT', 'dead'));
    await clock.until(10_000);
    assert.equal(session.state, 'down');
    path.up = true;
    // Attempts at 1,600 (quiet 1,000 + jitter 500 after the close at 100), 2,600, 3,600...: the next fresh one.
    await clock.until(11_000);
    assert.equal(session.state, 'up', `opens at ${path.opens}`);
    assert.equal(ups(), 2);
    assert.ok(path.opens.length >= 8, `a fresh attempt each second: ${path.opens}`);
    await supervisor.stop();
  });

  it('without fresh attempts (openRetryInterval 0) the kernel retries the SYN at 1, 3, 7, 15 s: up seconds later', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    const { supervisor, session } = start(path, clock, { openRetryInterval: 0 });
    await clock.until(100);
    path.up = false;
    supervisor.closeLink(new MqttError('TIMEOUT', 'dead'));
    await clock.until(10_000);
    path.up = true;
    await clock.until(11_000);
    assert.equal(session.state, 'down');
    await clock.until(20_000);
    assert.equal(session.state, 'up'); // at 1,600 + 15,000
    assert.deepEqual(path.opens, [0, 1600]);
    await supervisor.stop();
  });

  it('a link that cannot open twice at once (a serial port) gets one attempt at a time', async () => {
    const clock = new FakeClock();
    const path = new Path(clock, false);
    const { supervisor } = start(path, clock);
    await clock.until(100);
    path.up = false;
    supervisor.closeLink(new MqttError('TIMEOUT', 'dead'));
    await clock.until(10_000);
    assert.deepEqual(path.opens, [0, 1600]);
    await supervisor.stop();
  });
});

describe('the stall probe', () => {
  it('a connection stuck in retransmission backoff after a dark stretch: moved to a fresh one within a second of the heal', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    const { supervisor, downs, published, publish } = start(path, clock);
    await clock.until(100);
    path.up = false;
    publish('a'); // written at 100 into the dark path; the kernel would resend it at 300, 700... 12,700
    await clock.until(8000);
    assert.equal(downs.length, 0, 'the keepalive deadline (90 s) is far off');
    assert.ok(supervisor.stallProbes >= 5, `probes ${supervisor.stallProbes}`);
    path.up = true;
    await clock.until(9100);
    assert.ok(published.has('a'), 'the PUBLISH went through the fresh connection');
    assert.ok(published.get('a')! <= 9000, `acked at ${published.get('a')}`);
    assert.equal(downs.length, 1);
    assert.match(downs[0].cause.message, /stalled/);
    assert.equal(path.connections.length, 2);
    assert.equal(path.connections[0].closed, true);
    assert.deepEqual(path.connections[1].publishes, [1], 'the PUBLISH re-sent on the new connection');
    await supervisor.stop();
  });

  it('without the probe (stallProbeAfter 0) the PUBLISH waits for the kernel: 12.6 s after it was written', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    const { supervisor, published, publish, downs } = start(path, clock, { stallProbeAfter: 0 });
    await clock.until(100);
    path.up = false;
    publish('a');
    await clock.until(8000);
    path.up = true;
    await clock.until(12_000);
    assert.equal(published.has('a'), false);
    await clock.until(13_000);
    assert.equal(published.get('a'), 12_700);
    assert.equal(downs.length, 0);
    assert.equal(supervisor.stallProbes, 0);
    await supervisor.stop();
  });

  it('a path that turns slow is not taken for a dead one: the old connection answers before the probe opens', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    const { supervisor, published, publish, downs } = start(path, clock);
    await clock.until(100);
    path.delay = 800; // 1.6 s for an answer, more than stallProbeAfter
    for (let i = 0; i < 20; i++) {
      publish(`m${i}`);
      await clock.until(clock.now() + 2000);
    }
    assert.equal(published.size, 20);
    assert.equal(downs.length, 0, downs.map((d) => d.cause.message).join('; '));
    assert.equal(path.connections.length, 1);
    // The probe learned the broker's answer time: only the first three slow answers prompted one.
    assert.ok(supervisor.stallProbes <= 3, `probes ${supervisor.stallProbes}`);
    await supervisor.stop();
  });

  it('behind a proxy that terminates TCP, a stall of the data is not a dark path: no move, the old connection resumes', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    const { supervisor, published, publish, downs } = start(path, clock);
    await clock.until(100);
    path.terminatesTcp = true;
    path.up = false; // the proxy (or the broker behind it) stalls every byte; handshakes still complete
    publish('a');
    await clock.until(6000);
    assert.equal(supervisor.stallProbes, 1, 'one probe, through at once: probing ends for this stall');
    assert.equal(path.connections.length, 2);
    assert.ok(
      path.connections[1].closed && path.connections[1].publishes.length === 0,
      'the probe was closed unused',
    );
    path.up = true;
    await clock.until(20_000);
    assert.equal(downs.length, 0);
    assert.ok(published.has('a'), 'the old connection delivered it once the stall ended');
    await supervisor.stop();
  });

  it('a broker slow from the start (CONNACK after 1.5 s) prompts no probe at all', async () => {
    const clock = new FakeClock();
    const path = new Path(clock);
    path.delay = 750;
    const { supervisor, published, publish, downs } = start(path, clock);
    await clock.until(5000);
    for (let i = 0; i < 10; i++) {
      publish(`m${i}`);
      await clock.until(clock.now() + 2000);
    }
    assert.equal(published.size, 10);
    assert.equal(downs.length, 0);
    assert.equal(supervisor.stallProbes, 0);
    await supervisor.stop();
  });
});
