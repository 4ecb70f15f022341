// The conformance suite every Link must pass, against a real Mosquitto,
// speaking raw MQTT 3.1.1 bytes (a link knows nothing of MQTT, so neither
// does this suite's code under test). Each link's test file calls
// runLinkConformance() with a factory, as hono's router/common.case.test.ts does.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MqttError, type MqttErrorCode } from '../../src/errors.ts';
import type { Connection, Link } from '../../src/links/types.ts';
import { type MosquittoBroker, type MosquittoOptions, startMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { concat, connectPacket, publishPacket, Recorder, socketsTo, subscribePacket } from './mqtt-bytes.ts';

/** What {@link runLinkConformance} needs to know about a link. */
export interface LinkConformanceOptions {
  /** Suite name, e.g. `tcp`. */
  name: string;
  /** Options for the Mosquitto broker the suite starts (tls, websockets, ...). Default TCP only. */
  brokerOptions?: MosquittoOptions;
  /** The broker port the link talks to. Default the plain TCP port. */
  port?: (broker: MosquittoBroker) => number;
  /** Makes the link under test to 127.0.0.1:`port`. */
  makeLink: (port: number, options: { connectTimeout?: number }) => Link;
  /**
   * `open()` needs the broker to answer beyond the TCP handshake (TLS, HTTP
   * upgrade), so a paused broker stalls it: the suite then also checks a
   * timeout and an abort during that handshake. Default `false`.
   */
  handshake?: boolean;
  /**
   * Payload of the large PUBLISH round trip, in bytes. Lower it only for a
   * broker listener that cannot keep up, and say why. Default 1 MiB + 333.
   */
  largePayload?: number;
}

const TEST = { timeout: 30_000 };
const CONNACK = [0x20, 0x02, 0x00, 0x00];
const PINGREQ = [0xc0, 0x00];
const PINGRESP = [0xd0, 0x00];
const suback = (id: number) => [0x90, 0x03, 0x00, id, 0x00];

function isCode(code: MqttErrorCode) {
  return (err: unknown) => {
    assert.ok(err instanceof MqttError, `expected an MqttError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

/** Waits until this process holds no socket to `port` (closing one is asynchronous). */
async function noSocketTo(port: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (socketsTo(port) > 0) {
    if (Date.now() > deadline) assert.fail(`${socketsTo(port)} socket(s) to port ${port} left open`);
    await sleep(10);
  }
}

/** Registers the shared tests for one link implementation. */
export function runLinkConformance(options: LinkConformanceOptions): void {
  const portOf = options.port ?? ((broker: MosquittoBroker) => broker.port);

  describe(`link conformance: ${options.name}`, () => {
    let broker: MosquittoBroker;
    before(async () => {
      broker = await startMosquitto(options.brokerOptions);
    });
    after(() => broker?.stop());

    const link = (connectTimeout?: number) => options.makeLink(portOf(broker), { connectTimeout });

    /** Opens a connection that is closed when the test ends. */
    async function open(t: TestContext): Promise<[Connection, Recorder]> {
      const rec = new Recorder();
      const connection = await link().open(rec);
      t.after(() => connection.close());
      return [connection, rec];
    }

    /** Opens, sends CONNECT and checks the CONNACK. */
    async function mqttSession(t: TestContext): Promise<[Connection, Recorder]> {
      const [connection, rec] = await open(t);
      connection.write(connectPacket(`conf-${randomUUID()}`));
      assert.deepEqual([...(await rec.take(4))], CONNACK);
      return [connection, rec];
    }

    it('has a name', () => {
      const name = link().name;
      assert.equal(typeof name, 'string');
      assert.ok(name.length > 0);
    });

    it('opens, and CONNECT gets a CONNACK, PINGREQ a PINGRESP', TEST, async (t) => {
      const [connection, rec] = await mqttSession(t);
      assert.equal(connection.write(new Uint8Array(PINGREQ)), true);
      assert.deepEqual([...(await rec.take(2))], PINGRESP);
      assert.equal(typeof connection.bufferedAmount, 'number');
      assert.ok(rec.chunks.every((chunk) => chunk instanceof Uint8Array));
      assert.equal(rec.closes.length, 0);
    });

    it('carries many packets in one write', TEST, async (t) => {
      const [connection, rec] = await open(t);
      const pings = Array.from({ length: 5 }, () => PINGREQ).flat();
      const topic = `conf/${randomUUID()}`;
      connection.write(concat([connectPacket(`conf-${randomUUID()}`), subscribePacket(7, topic), pings]));
      const expected = [...CONNACK, ...suback(7), ...Array.from({ length: 5 }, () => PINGRESP).flat()];
      assert.deepEqual([...(await rec.take(expected.length))], expected);
    });

    it('writev (when the link has it) sends its chunks in order, as one write would', TEST, async (t) => {
      const [connection, rec] = await open(t);
      if (connection.writev === undefined) return; // optional: the client joins the chunks instead
      const pings = Array.from({ length: 3 }, () => new Uint8Array(PINGREQ));
      assert.equal(typeof connection.writev([connectPacket(`conf-${randomUUID()}`), ...pings]), 'boolean');
      const expected = [...CONNACK, ...PINGRESP, ...PINGRESP, ...PINGRESP];
      assert.deepEqual([...(await rec.take(expected.length))], expected);
      connection.close();
      await rec.until('close handler', () => rec.closes.length > 0);
      assert.equal(connection.writev([new Uint8Array(PINGREQ)]), false, 'writev after close drops the bytes');
    });

    const large = options.largePayload ?? 1024 * 1024 + 333;
    it(`round-trips a ${large}-byte PUBLISH, in one write and split across writes`, TEST, async (t) => {
      const [connection, rec] = await mqttSession(t);
      const topic = `conf/big/${randomUUID()}`;
      connection.write(subscribePacket(1, topic));
      assert.deepEqual([...(await rec.take(5))], suback(1));

      const payload = new Uint8Array(large);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >>> 11)) & 0xff;
      const publish = publishPacket(topic, payload);

      const whole = connection.write(publish);
      assert.deepEqual(await rec.take(publish.length), publish);
      if (!whole) await rec.until('drain after write() returned false', () => rec.drains > 0);

      // Odd-sized pieces, so packet boundaries fall anywhere.
      const before = rec.chunks.length;
      const piece = Math.ceil(publish.length / 7) + 3;
      for (let at = 0; at < publish.length; at += piece) connection.write(publish.subarray(at, at + piece));
      assert.deepEqual(await rec.take(publish.length), publish);
      assert.ok(rec.chunks.length > before);
      assert.equal(rec.closes.length, 0);
    });

    it('close() ends the connection: close handler called once, with no error', TEST, async (t) => {
      const [connection, rec] = await mqttSession(t);
      connection.close();
      connection.close();
      await rec.until('close handler', () => rec.closes.length > 0);
      assert.equal(connection.write(new Uint8Array(PINGREQ)), false, 'write after close drops the bytes');
      connection.close();
      await sleep(100);
      assert.deepEqual(rec.closes, [undefined]);
    });

    it('an abort after open has no effect on the connection', TEST, async (t) => {
      const controller = new AbortController();
      const rec = new Recorder();
      const connection = await link().open(rec, controller.signal);
      t.after(() => connection.close());
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'abort listener removed');
      controller.abort();
      connection.write(concat([connectPacket(`conf-${randomUUID()}`), PINGREQ]));
      assert.deepEqual([...(await rec.take(6))], [...CONNACK, ...PINGRESP]);
      assert.equal(rec.closes.length, 0);
    });

    it('open() rejects with LINK_ERROR when nothing listens', TEST, async () => {
      const rec = new Recorder();
      const controller = new AbortController();
      const dead = options.makeLink(await freePort(), {});
      await assert.rejects(dead.open(rec, controller.signal), isCode('LINK_ERROR'));
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'abort listener removed');
      assert.equal(rec.closes.length, 0, 'no close handler for a connection that never opened');
    });

    it('open() with an already-aborted signal rejects with ABORTED and opens nothing', TEST, async () => {
      await noSocketTo(portOf(broker)); // earlier tests' connections may still be closing
      const rec = new Recorder();
      await assert.rejects(link().open(rec, AbortSignal.abort()), isCode('ABORTED'));
      assert.equal(socketsTo(portOf(broker)), 0);
      await sleep(100);
      assert.equal(socketsTo(portOf(broker)), 0);
      assert.deepEqual([rec.closes.length, rec.chunks.length], [0, 0]);
    });

    it('open() aborted while connecting rejects with ABORTED and leaves no socket', TEST, async () => {
      await noSocketTo(portOf(broker));
      const rec = new Recorder();
      const controller = new AbortController();
      const opening = link().open(rec, controller.signal);
      controller.abort(new Error('changed my mind'));
      await assert.rejects(opening, isCode('ABORTED'));
      await noSocketTo(portOf(broker));
      await sleep(100); // a socket left connecting would show up by now
      assert.equal(socketsTo(portOf(broker)), 0);
      assert.equal(rec.closes.length, 0);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    });

    if (options.handshake) {
      /** Runs `body` with the broker stopped (SIGSTOP): TCP still connects, nothing answers. */
      async function whilePaused(body: () => Promise<void>): Promise<void> {
        broker.pause();
        try {
          await body();
        } finally {
          broker.resume();
        }
      }

      it('open() aborted during the handshake rejects with ABORTED and leaves no socket', TEST, async () => {
        await noSocketTo(portOf(broker));
        await whilePaused(async () => {
          const opening = link().open(new Recorder(), AbortSignal.timeout(300));
          await sleep(100);
          assert.equal(socketsTo(portOf(broker)), 1, 'connected at the TCP level, waiting for the handshake');
          await assert.rejects(opening, isCode('ABORTED'));
          await noSocketTo(portOf(broker));
        });
      });

      it('open() rejects with TIMEOUT after connectTimeout and leaves no socket', TEST, async () => {
        await noSocketTo(portOf(broker));
        await whilePaused(async () => {
          const started = Date.now();
          await assert.rejects(link(300).open(new Recorder()), isCode('TIMEOUT'));
          assert.ok(Date.now() - started >= 290);
          await noSocketTo(portOf(broker));
        });
      });
    }

    // Last: it kills the broker (then restarts it on the same ports).
    it('the broker killed: close handler called exactly once', TEST, async (t) => {
      const [, rec] = await mqttSession(t);
      try {
        await broker.kill();
        await rec.until('close handler after kill', () => rec.closes.length > 0);
        await sleep(200);
        assert.equal(rec.closes.length, 1);
        const [error] = rec.closes;
        if (error !== undefined)
          assert.ok(error instanceof MqttError && error.code === 'LINK_ERROR', String(error));
      } finally {
        await broker.restart();
      }
    });
  });
}
