/**
 * The MQTT-SN row of `npm run bench -- radio`: the same 4-byte QoS 1 reading as the MQTT runs, sent
 * by an MQTT-SN device as a PUBLISH to a pre-defined topic id, over the same link layer and medium
 * (radioSnTransport), through the MQTT-SN gateway's radio front end to the same Mosquitto. Every
 * byte on air is counted as in the MQTT runs (link headers, acknowledgements, retransmissions,
 * the MQTT-SN PUBACKs), so the two compare directly.
 */
import { parseKeys } from '../src/gateway/keys-file.ts';
import { type RadioProfile, SimulatedMedium } from '../src/radio/medium/index.ts';
import { SnClient } from '../src/sn/client.ts';
import { encodeSn, SnReturnCode } from '../src/sn/codec/index.ts';
import { startSnGateway } from '../src/sn/gateway/start.ts';
import { radioSnTransport } from '../src/sn/radio.ts';
import { prng } from '../test/helpers/prng.ts';
import { check } from './harness.ts';

/** The pre-defined topic id the device and the gateway share (any will do). */
const TOPIC_ID = 1;
/** Long enough that no MQTT-SN retransmission races the link layer's own. */
const SN_RETRY_MS = 60_000;

/** Bytes of the MQTT-SN PUBLISH and PUBACK of one reading, from the encoder. */
export function snPacketSizes(payloadBytes: number): { publish: number; puback: number } {
  const publish = encodeSn({
    type: 'publish',
    dup: false,
    qos: 1,
    retain: false,
    topic: { type: 'predefined', id: TOPIC_ID },
    msgId: 1,
    data: new Uint8Array(payloadBytes),
  }).length;
  const puback = encodeSn({
    type: 'puback',
    topicId: TOPIC_ID,
    msgId: 1,
    returnCode: SnReturnCode.Accepted,
  }).length;
  return { publish, puback };
}

export interface SnRun {
  airBytes: number;
  airBytesPerPayloadByte: number;
  airtimeMsPerMessage: number;
  messagesPerSecond: number;
  wallMs: number;
}

export async function runSn(
  brokerUrl: string,
  topic: string,
  payloadBytes: number,
  profile: RadioProfile,
  timeScale: number,
  messages: number,
  latencyMs: number | undefined,
  key: string,
): Promise<SnRun> {
  const medium = new SimulatedMedium({ seed: 42, profile, loss: 0.1, timeScale });
  const gateway = await startSnGateway({
    broker: brokerUrl,
    predefinedTopics: new Map([[TOPIC_ID, topic]]),
    radio: {
      radio: medium.attach({ name: 'gw' }),
      keys: parseKeys(`1 ${key} *`),
      random: prng(1),
      latencyMs,
    },
  });
  const transport = radioSnTransport({
    radio: medium.attach({ name: 'node', position: { x: 20, y: 0 } }),
    address: 1,
    key,
    random: prng(2),
    latencyMs,
  });
  const client = new SnClient(transport, { clientId: 'bench-sn', retryInterval: SN_RETRY_MS, keepalive: 0 });
  await client.connect();
  const before = { ...medium.stats };
  const startModel = medium.now();
  const startWall = performance.now();
  const done: Promise<void>[] = [];
  for (let i = 0; i < messages; i++) {
    const reading = new Uint8Array(payloadBytes);
    new DataView(reading.buffer).setInt32(0, 2000 + (i % 100));
    done.push(client.publish({ type: 'predefined', id: TOPIC_ID }, reading, { qos: 1 }));
  }
  await Promise.all(done);
  const modelMs = medium.now() - startModel;
  const wallMs = performance.now() - startWall;
  const after = medium.stats;
  client.close();
  await gateway.close();
  await medium.close();
  const airBytes = after.bytesSent - before.bytesSent;
  check(airBytes > messages * payloadBytes, 'every payload byte went on air');
  return {
    airBytes,
    airBytesPerPayloadByte: airBytes / (messages * payloadBytes),
    airtimeMsPerMessage: (after.airtimeMs - before.airtimeMs) / messages,
    messagesPerSecond: messages / (modelMs / 1000),
    wallMs,
  };
}
