// The attacks of issue 13, each on the simulated nRF24 medium against a
// secure gateway and a real Mosquitto: an extra radio forges OPEN, RESET,
// ACCEPT and DATA as node 7 and as the gateway, replays every frame it
// recorded and a whole recorded stream while the victim is away, floods
// OPENs from unknown addresses, lies about its link timeout, sends no
// CONNECT, or a CONNECT with another node's client id, and flips bits.
// None gets a byte to the broker, none drops node 7's stream, no will fires.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayLogEntry, startGateway } from '../../src/gateway/index.ts';
import type { Client } from '../../src/node.ts';
import { openBody } from '../../src/radio/link/frame.ts';
import { encodeFrame, type Frame, FrameKind, radioLink } from '../../src/radio/link/index.ts';
import { nrf24, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { client, mosquitto, started, until } from '../client/e2e.ts';
import { prng } from '../helpers/prng.ts';
import { testKey, testKeys } from './keys.ts';

const LONG = { timeout: 180_000 };
const TIMING = { heartbeatMs: 500, linkTimeoutMs: 3000, latencyMs: 5 };

function frame(fields: Partial<Frame>): Frame {
  return {
    kind: FrameKind.DATA,
    dst: 0,
    src: 7,
    epoch: 0,
    poll: true,
    seq: 0,
    ack: 0,
    payload: new Uint8Array(0),
    ...fields,
  };
}

async function setup(t: TestContext) {
  const broker = await mosquitto(t);
  const medium = new SimulatedMedium({ seed: 13, profile: nrf24() });
  t.after(() => medium.close());
  const logs: GatewayLogEntry[] = [];
  const run = randomUUID().slice(0, 8);
  const keys = testKeys([7, 8, 9], (a) => `node-${a}-${run}`);
  const gateway = await startGateway({
    radio: medium.attach({ name: 'gw' }),
    broker: broker.url,
    keys,
    logger: (entry) => logs.push(entry),
    connectDeadlineMs: 2000,
    ...TIMING,
  });
  t.after(() => gateway.close());
  // Everything published, wills included, seen by a TCP subscriber.
  const seen: string[] = [];
  const watcher = await client(t, broker.url, { clientId: `watch-${run}` });
  watcher.on('message', (m) => seen.push(`${m.topic} ${m.text}`));
  await watcher.subscribe('#', { qos: 1 });
  const node = (address: number, name = `node${address}`, options = {}): Client => {
    const link = radioLink({
      radio: medium.attach({ name, position: { x: 10, y: 0 } }),
      address,
      key: testKey(address),
      random: prng(address),
      ...TIMING,
    });
    t.after(() => link.close());
    return started(t, {
      protocolVersion: 5,
      clientId: `node-${address}-${run}`,
      link,
      keepalive: 30,
      reconnectPeriod: 200,
      quietPeriod: 100,
      connectTimeout: 10_000,
      will: { topic: `will/${address}`, payload: 'gone' },
      ...options,
    });
  };
  // The attacker: a radio of its own, and a recorder of everything said on the air.
  const attacker = medium.attach({ name: 'attacker', position: { x: 5, y: 0 } });
  const recorded: Uint8Array[] = [];
  await attacker.open({ receive: (bytes) => recorded.push(Uint8Array.from(bytes)) });
  const send = async (bytes: Uint8Array) => attacker.send(bytes);
  return { broker, medium, gateway, logs, seen, node, attacker, recorded, send, run };
}

function downs(c: Client): { count: number } {
  const counter = { count: 0 };
  c.on('down', () => counter.count++);
  return counter;
}

describe('secure gateway under attack', () => {
  it(
    'forged OPEN, RESET, ACCEPT and DATA, replays and bit flips: node 7 keeps its stream, no will, nothing at the broker',
    LONG,
    async (t) => {
      const s = await setup(t);
      const victim = s.node(7);
      const victimDowns = downs(victim);
      await until(() => victim.connected, 'node 7 connected', 20_000);
      await victim.publish('data/7', 'hello', { qos: 1 });
      await until(() => s.seen.includes('data/7 hello'), 'the first publish');
      const random = prng(77);
      const forged: Uint8Array[] = [];
      // The frames of today's attacks, in the unsecured format (a valid CRC): OPEN as node 7,
      // RESET for every epoch, ACCEPT and RESET as the gateway, DATA carrying a CONNECT.
      forged.push(
        encodeFrame(
          frame({ kind: FrameKind.OPEN, payload: openBody({ nonce: 1, linkTimeoutMs: 4e9, mtu: 32 }) }),
        ),
      );
      for (let epoch = 0; epoch < 16; epoch++)
        forged.push(encodeFrame(frame({ kind: FrameKind.RESET, epoch, payload: Uint8Array.of(1) })));
      for (let epoch = 0; epoch < 16; epoch++) {
        forged.push(
          encodeFrame(frame({ kind: FrameKind.RESET, dst: 7, src: 0, epoch, payload: Uint8Array.of(7) })),
        );
        forged.push(
          encodeFrame(
            frame({ kind: FrameKind.ACCEPT, dst: 7, src: 0, epoch, payload: Uint8Array.of(0, 0, 0, 1) }),
          ),
        );
        forged.push(
          encodeFrame(
            frame({
              kind: FrameKind.DATA,
              epoch,
              payload: Uint8Array.of(0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 30, 0, 0),
            }),
          ),
        );
      }
      // Secure-looking frames with random counters and tags, every kind, both ways.
      for (let i = 0; i < 300; i++) {
        const bytes = new Uint8Array(10 + Math.floor(random() * 22)).map(() => Math.floor(random() * 256));
        const toGateway = i % 2 === 0;
        bytes[0] = toGateway ? 0 : 7;
        bytes[1] = toGateway ? 7 : 0;
        forged.push(bytes);
      }
      for (const bytes of forged) await s.send(bytes);
      // Everything recorded so far, replayed as is, then again with one bit flipped.
      const recording = s.recorded.splice(0);
      assert.ok(recording.length > 5, `recorded ${recording.length} frames`);
      for (const bytes of recording) await s.send(bytes);
      for (const bytes of recording) {
        const copy = Uint8Array.from(bytes);
        copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
        await s.send(copy);
      }
      await sleep(500);
      await victim.publish('data/7', 'still here', { qos: 1 });
      await until(() => s.seen.includes('data/7 still here'), 'a publish after the attack');
      const status = s.gateway.status();
      const dropped = status.authFailed + status.malformed + status.unknownStream;
      assert.ok(
        status.authFailed > 40 && dropped > 150,
        `dropped ${dropped}, ${status.authFailed} failing the tag`,
      );
      assert.ok(status.replayed > 0, `replays ${status.replayed}`);
      assert.equal(victimDowns.count, 0, 'node 7 never lost its connection');
      assert.equal(status.nodes.find((n) => n.node === 7)?.streams, 1, 'node 7 kept its one stream');
      assert.deepEqual(
        s.seen,
        ['data/7 hello', 'data/7 still here'],
        'nothing else reached the broker, no will',
      );
    },
  );

  it(
    'a whole recorded stream replayed while its node is away, and OPEN floods from unknown addresses: nothing at the broker',
    LONG,
    async (t) => {
      const s = await setup(t);
      const away = s.node(8, 'node8', { clean: true });
      await until(() => away.connected, 'node 8 connected', 20_000);
      await away.publish('data/8', 'once', { qos: 1 });
      await until(() => s.seen.includes('data/8 once'), 'node 8 publish');
      await away.end();
      await sleep(300);
      const recording = s.recorded.splice(0);
      for (const bytes of recording) await s.send(bytes);
      // 253 unknown addresses each ask for a stream, with a link timeout of 49 days.
      for (let address = 10; address < 255; address++) {
        const open = frame({
          kind: FrameKind.OPEN,
          src: address,
          payload: openBody({ nonce: address, linkTimeoutMs: 49 * 86_400_000, mtu: 32 }),
        });
        const bytes = new Uint8Array(22);
        bytes.set(encodeFrame(open).subarray(0, 4));
        await s.send(bytes);
      }
      await sleep(2500);
      const status = s.gateway.status();
      assert.ok(status.unknownNode >= 245, `unknown nodes dropped: ${status.unknownNode}`);
      assert.equal(status.nodes.filter((n) => n.state !== 'down').length, 0, 'no stream held');
      assert.deepEqual(
        s.seen.filter((m) => m !== 'data/8 once'),
        [],
        'the replayed stream published nothing',
      );
      assert.equal(
        s.logs.filter((e) => /CONNECT as .*: connecting to/.test(e.message)).length,
        1,
        'one CONNECT ever reached the broker',
      );
    },
  );

  it(
    'a keyed node that lies: its link timeout is capped, no CONNECT means no broker connection, another client id is refused',
    LONG,
    async (t) => {
      const s = await setup(t);
      // Node 9 with a real key but another node's client id.
      const impostor = s.node(9, 'node9', { clientId: `node-7-${s.run}` });
      t.after(() => impostor.end());
      await until(
        () => s.logs.some((e) => e.node === 9 && /refused: not a client id/.test(e.message)),
        'the CONNECT refused',
        20_000,
      );
      assert.equal(impostor.connected, false);
      await impostor.end();
      // Node 8 opens a stream, announces 49 days and never sends CONNECT.
      const link = radioLink({
        radio: s.medium.attach({ name: 'liar' }),
        address: 8,
        key: testKey(8),
        ...TIMING,
        linkTimeoutMs: 49 * 86_400_000,
        heartbeatMs: 500,
      });
      t.after(() => link.close());
      const closes: (Error | undefined)[] = [];
      await link.open({ data: () => {}, close: (e) => closes.push(e) });
      await until(
        () => s.logs.some((e) => e.node === 8 && /link timeout \d+ ms/.test(e.message)),
        'the OPEN seen',
      );
      const announced =
        s.logs.find((e) => e.node === 8 && /link timeout \d+ ms/.test(e.message))?.message ?? '';
      const capped = Number(/link timeout (\d+) ms/.exec(announced)?.[1]);
      assert.ok(capped <= 4 * TIMING.linkTimeoutMs, `announced timeout capped: ${announced}`);
      await until(() => closes.length === 1, 'the stream without CONNECT dropped', 10_000);
      assert.match(String(closes[0]?.message), /no CONNECT in time/);
      assert.equal(
        s.logs.filter((e) => /CONNECT as .*: connecting to/.test(e.message)).length,
        0,
        'no CONNECT reached the broker',
      );
      assert.deepEqual(s.seen, []);
    },
  );
});
