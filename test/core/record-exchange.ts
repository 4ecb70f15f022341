/**
 * Records the broker's side of the scripted exchange that quickjs.test.ts
 * replays: the Session (in Node, through exchange.ts) talks to a real
 * Mosquitto over TCP, and every packet the broker sends is kept as hex, with
 * the bytes the engine wrote in answer. Messages "from the broker" come from
 * a second client publishing to the topics the engine subscribed to.
 *
 * Regenerate the fixture (after a change to the script or to what the engine
 * sends):  npx tsx test/core/record-exchange.ts > test/core/recorded-exchange.ts
 *          npx biome format --write test/core/recorded-exchange.ts
 */
import { connect as tcpConnect } from 'node:net';
import { connect } from '../../src/node.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { type Action, ExchangeDriver, type QoS } from './exchange.ts';

/** A step of the script: an engine action, or a peer's publication; `expect` = packets the broker sends for it. */
type ScriptStep =
  | { action: Exclude<Action, { do: 'receive' }>; expect: number }
  | { peer: { topic: string; payload: string; qos: QoS }; expect: number };

/** The scripted exchange, the same for MQTT 3.1.1 and 5.0. */
export const SCRIPT: ScriptStep[] = [
  { action: { do: 'link-up', clean: true }, expect: 1 }, // CONNACK
  { action: { do: 'subscribe', topic: 'quickjs/in/#', qos: 2 }, expect: 1 }, // SUBACK
  { action: { do: 'publish', topic: 'quickjs/out', payload: 'qos 1 from the engine', qos: 1 }, expect: 1 }, // PUBACK
  { action: { do: 'publish', topic: 'quickjs/out', payload: 'qos 2 from the engine', qos: 2 }, expect: 2 }, // PUBREC, PUBCOMP
  { peer: { topic: 'quickjs/in/one', payload: 'qos 1 from the broker', qos: 1 }, expect: 1 }, // PUBLISH
  { peer: { topic: 'quickjs/in/two', payload: 'qos 2 from the broker', qos: 2 }, expect: 2 }, // PUBLISH, PUBREL
  { action: { do: 'advance', ms: 60_000 }, expect: 1 }, // PINGRESP to the keepalive PINGREQ
  { action: { do: 'disconnect' }, expect: 0 },
];

export interface RecordedStep {
  action: Action;
  /** Hex of what the engine wrote in answer, when recorded. */
  sent: string;
}

/** Splits a byte stream into whole MQTT packets (fixed header + remaining length). */
function splitPackets(buffer: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = [];
  let at = 0;
  for (;;) {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    for (; i < buffer.length; i++) {
      length += (buffer[i] & 0x7f) * multiplier;
      multiplier *= 128;
      if ((buffer[i] & 0x80) === 0) break;
    }
    if (i >= buffer.length || i + 1 + length > buffer.length) break;
    packets.push(buffer.subarray(at, i + 1 + length));
    at = i + 1 + length;
  }
  return { packets, rest: buffer.subarray(at) };
}

async function record(version: 4 | 5, brokerPort: number, brokerUrl: string): Promise<RecordedStep[]> {
  const socket = tcpConnect({ host: '127.0.0.1', port: brokerPort });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const peer = await connect(brokerUrl, { protocolVersion: version, readyTimeout: 10_000 });
  const driver = new ExchangeDriver(version);
  const steps: RecordedStep[] = [];
  let pending = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  let received = 0;
  socket.on('data', (chunk) => {
    const { packets, rest } = splitPackets(Buffer.concat([pending, chunk]));
    pending = Buffer.from(rest);
    for (const packet of packets) {
      const action: Action = { do: 'receive', hex: packet.toString('hex') };
      const { sent } = driver.step(action);
      if (sent) socket.write(Buffer.from(sent, 'hex'));
      steps.push({ action, sent });
      received++;
    }
    waiting?.();
  });
  const until = async (count: number, what: string) => {
    const deadline = Date.now() + 10_000;
    while (received < count) {
      if (Date.now() > deadline) throw new Error(`recording ${what}: ${received} of ${count} broker packets`);
      await new Promise<void>((resolve) => {
        waiting = resolve;
        setTimeout(resolve, 100);
      });
    }
  };

  let expected = 0;
  for (const item of SCRIPT) {
    expected += item.expect;
    if ('action' in item) {
      const { sent } = driver.step(item.action);
      steps.push({ action: item.action, sent });
      socket.write(Buffer.from(sent, 'hex'));
      await until(expected, JSON.stringify(item.action));
    } else {
      await peer.publish(item.peer.topic, item.peer.payload, { qos: item.peer.qos });
      await until(expected, `peer ${item.peer.topic}`);
    }
  }
  // Anything more from the broker would be a packet the script did not expect.
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (received !== expected)
    throw new Error(`the broker sent ${received} packets, the script expects ${expected}`);
  socket.destroy();
  await peer.end();
  return steps;
}

async function main(): Promise<void> {
  const broker = await startMosquitto();
  try {
    const recorded = {
      4: await record(4, broker.port, broker.url),
      5: await record(5, broker.port, broker.url),
    };
    const version = /mosquitto version \S+/.exec(broker.log())?.[0] ?? 'mosquitto';
    const lines = [
      '// Generated by `npx tsx test/core/record-exchange.ts > test/core/recorded-exchange.ts`:',
      `// the broker's bytes from ${version} (loopback, default config) for the scripted`,
      '// exchange in record-exchange.ts, with the bytes the engine wrote in answer.',
      "import type { RecordedStep } from './record-exchange.ts';",
      '',
      `export const RECORDED_WITH = ${JSON.stringify(version)};`,
      '',
      'export const RECORDED: Record<4 | 5, RecordedStep[]> = {',
    ];
    for (const v of [4, 5] as const) {
      lines.push(`  ${v}: [`);
      for (const step of recorded[v]) lines.push(`    ${JSON.stringify(step)},`);
      lines.push('  ],');
    }
    lines.push('};');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await broker.stop();
  }
}

if (process.argv[1]?.endsWith('record-exchange.ts')) await main();
