/**
 * The lite engine's own lifecycle, on a fake clock with no sockets: what the
 * full client does in its supervisor (quiet period, backoff, connect
 * timeouts) and the 3.1.1 in-flight window. The protocol scenarios it shares
 * with the full engine are in test/engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePublish4 } from '../../src/codec/client-v4.ts';
import { encode, PacketDecoder } from '../../src/codec/index.ts';
import type { Packet } from '../../src/codec/types.ts';
import { MqttError } from '../../src/errors.ts';
import { LITE_SEND_QUOTA, LiteCore, type LiteCoreEvent, type LiteCoreOptions } from '../../src/lite/core.ts';
import { brief } from '../session/harness.ts';

const START = 1_000_000;
const bytes = new TextEncoder();

/** A core with its outbox read back as packets and brief events. */
function harness(options: Partial<LiteCoreOptions> = {}) {
  const core = new LiteCore<string>({
    connect: { clientId: 'lite', clean: false, keepalive: 60 },
    random: () => 0.5,
    ...options,
  });
  const server = new PacketDecoder({ protocolVersion: 4 });
  const drain = () => {
    const [out, events] = core.drain();
    const sent: string[] = [];
    for (const b of out) {
      server.push(b);
      for (let p = server.next(); p !== undefined; p = server.next()) sent.push(brief(p));
    }
    return { sent, events: events.map(briefEvent) };
  };
  const deliver = (p: Packet, now: number) => core.received(encode(p, 4), now);
  return { core, drain, deliver };
}

function briefEvent(e: LiteCoreEvent<string>): string {
  switch (e.type) {
    case 'close':
      return `close ${e.error.code}`;
    case 'down':
      return `down ${e.cause.code}`;
    case 'up':
      return `up${e.sessionPresent ? ' present' : ''}`;
    case 'message':
      return `message ${e.message.topic}`;
    case 'done':
      return `done ${e.token}`;
    case 'failed':
      return `failed ${e.token} ${e.error.code}`;
    default:
      return e.type;
  }
}

describe('lite engine lifecycle', () => {
  it('asks for the link, sends CONNECT once it is open, and is up at CONNACK', () => {
    const h = harness();
    h.core.start(START);
    assert.deepEqual(h.drain(), { sent: [], events: ['open'] });
    h.core.opened(START + 5);
    assert.deepEqual(h.drain(), { sent: ['CONNECT'], events: [] });
    h.deliver({ type: 'connack', sessionPresent: false, reasonCode: 0 }, START + 6);
    assert.deepEqual(h.drain(), { sent: [], events: ['up'] });
    assert.equal(h.core.phase, 'up');
  });

  it('stays down for the quiet period and the backoff after a connection that had opened', () => {
    const h = harness({ quietPeriod: 700, reconnectPeriod: 400 });
    h.core.start(START);
    h.core.opened(START);
    h.deliver({ type: 'connack', sessionPresent: false, reasonCode: 0 }, START);
    h.drain();
    h.core.closed(new MqttError('CONNECTION_LOST', 'cut'), START + 100);
    assert.deepEqual(h.drain().events, ['down CONNECTION_LOST']);
    // Quiet period 700, then backoff after an up connection: random 0.5 × 400 × 2^0.
    assert.equal(h.core.nextDeadline(), START + 100 + 700 + 200);
    h.core.tick(START + 999);
    assert.deepEqual(h.drain().events, []);
    h.core.tick(START + 1000);
    assert.deepEqual(h.drain().events, ['open']);
  });

  it('has no quiet period after an attempt whose link never opened, and backs off exponentially', () => {
    const h = harness({ quietPeriod: 700, reconnectPeriod: 400, reconnectPeriodMax: 1000 });
    h.core.start(START);
    h.drain();
    let now = START;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.core.closed(new MqttError('LINK_ERROR', 'refused'), now);
      waits.push(h.core.nextDeadline() - now);
      now = h.core.nextDeadline();
      h.core.tick(now);
      assert.deepEqual(h.drain().events, ['open']);
    }
    // 0.5 × min(1000, 400 × 2^failures), failures 1, 2, 3, 4.
    assert.deepEqual(waits, [400, 500, 500, 500]);
  });

  it('times out the link open and then the CONNACK, each within connectTimeout', () => {
    const h = harness({ connectTimeout: 1000, quietPeriod: 0, reconnectPeriod: 100 });
    h.core.start(START);
    h.drain();
    assert.equal(h.core.nextDeadline(), START + 1000);
    h.core.opened(START + 900);
    assert.equal(h.core.nextDeadline(), START + 1900, 'the CONNACK gets its own connectTimeout');
    h.drain();
    h.core.tick(START + 1900);
    assert.deepEqual(h.drain().events, ['close TIMEOUT']);
  });

  it(`keeps at most ${LITE_SEND_QUOTA} QoS 1/2 messages in flight, and QoS 0 behind them in order`, () => {
    const h = harness();
    h.core.start(START);
    h.core.opened(START);
    h.deliver({ type: 'connack', sessionPresent: false, reasonCode: 0 }, START);
    h.drain();
    const publish = (topic: string, qos: 0 | 1) =>
      h.core.publish(encodePublish4(topic, bytes.encode('x'), qos, false, false, 1), qos, topic, START);
    for (let i = 1; i <= LITE_SEND_QUOTA + 1; i++) publish(`q${i}`, 1);
    publish('zero', 0);
    const first = h.drain();
    assert.equal(first.sent.length, LITE_SEND_QUOTA);
    assert.equal(first.sent.at(-1), `PUBLISH q${LITE_SEND_QUOTA} #${LITE_SEND_QUOTA}`);
    h.deliver({ type: 'puback', packetId: 1, reasonCode: 0 }, START);
    assert.deepEqual(h.drain(), {
      sent: [`PUBLISH q${LITE_SEND_QUOTA + 1} #${LITE_SEND_QUOTA + 1}`, 'PUBLISH zero'],
      events: ['done q1', 'done zero'],
    });
  });

  it('ends: DISCONNECT when up, every command fails with CLIENT_CLOSED, nothing more is asked', () => {
    const h = harness();
    h.core.start(START);
    h.core.opened(START);
    h.deliver({ type: 'connack', sessionPresent: false, reasonCode: 0 }, START);
    h.core.subscribe(['a'], 1, 'sub', START);
    h.drain();
    h.core.end(START);
    assert.deepEqual(h.drain(), {
      sent: ['DISCONNECT 0x00'],
      events: ['close CLIENT_CLOSED', 'down CLIENT_CLOSED', 'failed sub CLIENT_CLOSED'],
    });
    assert.equal(h.core.nextDeadline(), Number.POSITIVE_INFINITY);
    h.core.publish(encodePublish4('a', bytes.encode('x'), 0, false, false), 0, 'late', START);
    assert.deepEqual(h.drain().events, ['failed late CLIENT_CLOSED']);
  });
});

describe('lite client host', () => {
  it('a first attempt the broker refuses rejects start() with the refusal, also over a link that reports its close from within close()', async () => {
    const { LiteClient } = await import('../../src/lite/client.ts');
    let closes = 0;
    const link = {
      name: 'in-memory',
      open: async (handlers: { data(b: Uint8Array): void; close(e?: Error): void }) => ({
        write(b: Uint8Array) {
          // CONNECT: refused with 3.1.1 return code 5, not authorized.
          if (b[0] >> 4 === 1) queueMicrotask(() => handlers.data(Uint8Array.of(0x20, 0x02, 0x00, 0x05)));
          return true;
        },
        bufferedAmount: 0,
        close() {
          closes++;
          handlers.close(new MqttError('LINK_ERROR', 'closed under us'));
        },
      }),
    };
    const client = new LiteClient({ link, clientId: 'host' });
    await assert.rejects(client.start(), (error: MqttError) => {
      assert.equal(error.code, 'CONNECTION_REFUSED');
      assert.equal(error.reasonCode, 5);
      return true;
    });
    assert.equal(closes, 1);
    assert.equal(client.connected, false);
  });
});
