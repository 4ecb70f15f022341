/**
 * Fuzzing the whole Client (src/client) against a scripted broker (test/helpers/scripted-peer.ts), on MQTT
 * 3.1.1 and 5.0. The broker answers CONNECT with a random CONNACK (refusals and odd properties among them) and
 * then plays random broker packets (PUBLISH at every QoS with dup/retain, acks for unknown ids, SUBACK failures,
 * DISCONNECT with reason codes, AUTH, server references...), optionally mutated (bit flips, truncation, random
 * bytes), delivered whole, in random chunks or one byte at a time, while the test makes random API calls
 * (publish, subscribe with callbacks or iterators, unsubscribe, ready) and finally end(). Properties:
 *   - no unhandled rejection and no uncaught exception (process hooks installed for the run);
 *   - every API promise settles within a bound after end(), resolved or rejected with an MqttError whose code
 *     is one of the documented ones;
 *   - no timer the client started is left running after end();
 *   - everything the client writes decodes, as a broker decodes it.
 * FUZZ_RUNS=n runs each property n times (default small, for CI).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Packet, PacketType, ProtocolVersion, QoS } from '../../src/codec/index.ts';
import { MqttError } from '../../src/errors.ts';
import { type Client, createClient } from '../../src/node.ts';
import { concatBytes, packet, topicFilter, topicName } from '../codec/arbitraries.ts';
import { type PeerRecord, type PeerScript, scriptedPeer, tryEncode } from '../helpers/scripted-peer.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
/** How long every API promise may take to settle once end() has resolved. */
const SETTLE_MS = 2000;

/** Codes an API promise may reject with; anything else (or a non-MqttError) is a bug. */
const CODES = new Set([
  'MALFORMED_PACKET',
  'PROTOCOL_ERROR',
  'PACKET_TOO_LARGE',
  'TOPIC_NAME_INVALID',
  'TOPIC_FILTER_INVALID',
  'UNSUPPORTED_PROTOCOL_VERSION',
  'INVALID_ARGUMENT',
  'NOT_MQTT',
  'LINK_ERROR',
  'CONNECTION_LOST',
  'TIMEOUT',
  'ABORTED',
  'CONNECTION_REFUSED',
  'REFUSED',
  'CLIENT_CLOSED',
  'QUEUE_FULL',
]);

// --- process hooks: anything unhandled during a run is recorded and fails it -----------------------

const stray: unknown[] = [];
/** Problems found with the API promises of the current run. */
const problems: string[] = [];
const onRejection = (reason: unknown) => stray.push(reason);
const onException = (error: unknown) => stray.push(error);
before(() => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
});
after(() => {
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const timerCount = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

// --- what the broker sends -----------------------------------------------------------------------

const BROKER_TYPES: PacketType[] = [
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'suback',
  'unsuback',
  'pingresp',
  'disconnect',
  'auth',
];
/** Packets a broker never sends: the client must treat them as a protocol error, not crash. */
const CLIENT_TYPES: PacketType[] = ['connect', 'subscribe', 'unsubscribe', 'pingreq'];

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  if (bytes.length === 0 || m.kind === 'none') return bytes;
  const at = m.at % bytes.length;
  if (m.kind === 'flip') {
    const out = bytes.slice();
    out[at] ^= 1 << m.bit;
    return out;
  }
  if (m.kind === 'truncate') return bytes.slice(0, at);
  return concatBytes([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' } as Mutation) },
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);

const chunking: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([]),
  fc.constant<number[]>([1]),
  fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 6 }),
);

function scriptFor(version: ProtocolVersion): fc.Arbitrary<PeerScript> {
  const types = BROKER_TYPES.filter((t) => version === 5 || t !== 'auth');
  const accepted = fc
    .record({ sessionPresent: fc.boolean(), reasonCode: fc.constant(0) })
    .map((p) => ({ type: 'connack', ...p }) as Packet);
  const connack = fc.oneof(
    { weight: 4, arbitrary: accepted },
    packet('connack', version, { maxPayload: 64 }),
  );
  const followUp = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...types).chain((t) => packet(t, version, { maxPayload: 64 })) },
    fc.constantFrom(...CLIENT_TYPES).chain((t) => packet(t, version, { maxPayload: 64 })),
  );
  return fc
    .record({
      connack,
      packets: fc.array(fc.tuple(followUp, mutation), { maxLength: 8 }),
      chunks: chunking,
      responsive: fc.boolean(),
      closeAfter: fc.boolean(),
      garbage: fc.option(fc.uint8Array({ minLength: 1, maxLength: 16 }), { nil: undefined, freq: 8 }),
    })
    .map(({ connack, packets, chunks, responsive, closeAfter, garbage }) => {
      const parts = [tryEncode(connack, version) ?? new Uint8Array(0)];
      for (const [p, m] of packets) {
        const bytes = tryEncode(p, version);
        if (bytes) parts.push(mutate(bytes, m));
      }
      if (garbage) parts.push(garbage);
      return { bytes: concatBytes(parts), chunks, responsive, closeAfter };
    });
}

// --- what the application does --------------------------------------------------------------------

type Op =
  | { op: 'publish'; topic: string; qos: QoS; retain: boolean; size: number }
  | { op: 'subscribe'; filter: string; qos: QoS; mode: 'callback' | 'iterate' | 'none'; take: number }
  | { op: 'unsubscribe'; filter: string }
  | { op: 'ready'; timeout: number }
  | { op: 'wait'; ms: number };

const qos = fc.constantFrom<QoS>(0, 1, 2);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('publish' as const),
    topic: topicName,
    qos,
    retain: fc.boolean(),
    size: fc.nat({ max: 64 }),
  }),
  fc.record({
    op: fc.constant('subscribe' as const),
    filter: topicFilter,
    qos,
    mode: fc.constantFrom('callback' as const, 'iterate' as const, 'none' as const),
    take: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ op: fc.constant('unsubscribe' as const), filter: topicFilter }),
  fc.record({ op: fc.constant('ready' as const), timeout: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 8 }) }),
);

/**
 * Runs the API calls; every promise goes into `promises` to be checked after end(). The outcome is observed at
 * once (a rejection is not "unhandled" just because the test checks it later), so a stray rejection seen by the
 * hooks is one the client made itself.
 */
async function drive(client: Client, ops: Op[], settled: Promise<unknown>[]): Promise<void> {
  const promises = { push: (p: Promise<unknown>) => settled.push(observe(p)) };
  for (const o of ops) {
    switch (o.op) {
      case 'publish':
        promises.push(client.publish(o.topic, new Uint8Array(o.size), { qos: o.qos, retain: o.retain }));
        break;
      case 'subscribe': {
        const subscribed =
          o.mode === 'callback'
            ? client.subscribe(o.filter, { qos: o.qos, onMessage: (m) => m.ack() })
            : client.subscribe(o.filter, { qos: o.qos });
        promises.push(subscribed);
        if (o.mode === 'iterate') {
          promises.push(
            subscribed.then(async (sub) => {
              let n = 0;
              for await (const _ of sub) if (++n >= o.take) break;
            }),
          );
        }
        break;
      }
      case 'unsubscribe':
        promises.push(client.unsubscribe(o.filter));
        break;
      case 'ready':
        promises.push(client.ready(o.timeout));
        break;
      case 'wait':
        await sleep(o.ms);
        break;
    }
  }
}

/** A promise that resolves once `p` settles, recording a rejection that breaks the contract. */
function observe(p: Promise<unknown>): Promise<void> {
  return p.then(
    () => undefined,
    (error: unknown) => {
      if (!(error instanceof MqttError)) problems.push(`rejected with a non-MqttError: ${String(error)}`);
      else if (!CODES.has(error.code)) problems.push(`rejected with undocumented code ${error.code}`);
    },
  );
}

/** Waits for every observed promise to settle, at most SETTLE_MS. */
async function checkSettled(outcomes: Promise<unknown>[]): Promise<string[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), SETTLE_MS);
  });
  const result = await Promise.race([Promise.all(outcomes), bound]);
  clearTimeout(timer);
  if (result === 'late') problems.push(`an API promise did not settle within ${SETTLE_MS} ms of end()`);
  return problems;
}

async function runOnce(version: ProtocolVersion, script: PeerScript, ops: Op[], endFirst: boolean) {
  stray.length = 0;
  problems.length = 0;
  const timersBefore = timerCount();
  const record: PeerRecord = { received: [], malformed: [], connections: 0 };
  const client = createClient({
    link: scriptedPeer(script, version, record),
    protocolVersion: version,
    clientId: 'fuzz-client',
    keepalive: 1,
    connectTimeout: 200,
    quietPeriod: 0,
    reconnectPeriod: 2,
    reconnectPeriodMax: 8,
    unclaimedTimeout: 50,
  }).start();
  const promises: Promise<unknown>[] = [];
  if (endFirst) promises.push(observe(client.end()));
  await drive(client, ops, promises);
  await client.end();
  const late = await checkSettled(promises);
  // Let late callbacks (a rejection nobody handled is reported after the microtasks drain) surface.
  await new Promise((resolve) => setImmediate(resolve));
  await sleep(1);
  assert.deepEqual([...problems, ...late], []);
  assert.deepEqual(
    stray.map((e) => (e instanceof Error ? e.stack : String(e))),
    [],
    'unhandled rejection or uncaught exception',
  );
  assert.deepEqual(record.malformed.map(String), [], 'the client wrote a packet a broker cannot decode');
  assert.ok(
    timerCount() <= timersBefore,
    `timers left running after end(): ${timerCount()} > ${timersBefore}`,
  );
}

for (const version of [4, 5] as const) {
  describe(`whole-client fuzz, MQTT ${version === 5 ? '5.0' : '3.1.1'}`, () => {
    it('random broker scripts, faults and API calls: nothing unhandled, everything settles, no timer left', async () => {
      await fc.assert(
        fc.asyncProperty(
          scriptFor(version),
          fc.array(op, { maxLength: 10 }),
          fc.boolean(),
          (script, ops, endFirst) => runOnce(version, script, ops, endFirst && ops.length % 5 === 0),
        ),
        { numRuns: RUNS },
      );
    });
  });
}
