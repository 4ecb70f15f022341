/**
 * `npm run bench -- radio [--quick]`: MQTT over packet radio, through the
 * simulated medium, the radio link layer, the gateway and a real Mosquitto.
 *
 * Workload (issue 5): a node publishes a 4-byte reading to
 * `home/livingroom/temperature` at QoS 1, 1,000 times (200 with --quick),
 * on a 32-byte-MTU medium (nRF24L01 at 1 Mbps) and a LoRa SF7/BW125/CR4/5
 * medium (255-byte MTU), both with 10% frame loss, with MQTT 5 topic
 * aliases on and off. Reported per run: every byte on air (both directions,
 * link headers, CRCs, acknowledgements, retransmissions, PUBACKs) per byte
 * of application payload, airtime per message, and messages per second, all
 * in modelled time (the medium runs `timeScale` times faster than the wall
 * clock). LoRa runs with no duty-cycle limit here; under EU868's 1% the
 * rate is bounded by airtime: at most 0.01 / (airtime per message) per second.
 */
import { encode } from '../src/codec/encode.ts';
import { startGateway } from '../src/gateway/index.ts';
import { parseKeys } from '../src/gateway/keys-file.ts';
import { connect } from '../src/node.ts';
import { FRAME_OVERHEAD, radioLink, SECURE_OVERHEAD } from '../src/radio/link/index.ts';
import { lora, nrf24, type RadioProfile, SimulatedMedium } from '../src/radio/medium/index.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { prng } from '../test/helpers/prng.ts';
import { check, parseBenchArgs } from './harness.ts';
import { runSn, type SnRun, snPacketSizes } from './radio-sn.ts';

const TOPIC = 'home/livingroom/temperature';
const PAYLOAD_BYTES = 4;

/** The bench node's key (any 16 bytes; fixed so runs compare). */
const BENCH_KEY = '5ec0de5ec0de5ec0de5ec0de5ec0de00';

interface Run {
  medium: string;
  aliases: boolean;
  secure: boolean;
  messages: number;
  airBytes: number;
  airBytesPerPayloadByte: number;
  airtimeMsPerMessage: number;
  messagesPerSecond: number;
  retransmissions: number;
  wallMs: number;
}

/**
 * The link's `latencyMs`. The simulator has no serial port between host and
 * radio, so 2 ms (timers and the event loop) is what it really adds; the
 * default of 25 ms is sized for real hardware and, on nRF24, costs most of
 * the throughput in ack delays and retransmission timeouts.
 * `RADIO_BENCH_LATENCY_MS=default` (or a number) runs with another value.
 */
function benchLatencyMs(): number | undefined {
  const value = process.env.RADIO_BENCH_LATENCY_MS;
  if (value === undefined || value === '') return 2;
  if (value === 'default') return undefined;
  const ms = Number(value);
  check(Number.isFinite(ms) && ms >= 0, `RADIO_BENCH_LATENCY_MS must be "default" or ms >= 0, got ${value}`);
  return ms;
}

async function runOne(
  brokerUrl: string,
  label: string,
  profile: RadioProfile,
  timeScale: number,
  aliases: boolean,
  messages: number,
  secure: boolean,
): Promise<Run> {
  const medium = new SimulatedMedium({ seed: 42, profile, loss: 0.1, timeScale });
  const latencyMs = benchLatencyMs();
  const gateway = await startGateway({
    radio: medium.attach({ name: 'gw' }),
    broker: brokerUrl,
    random: prng(1),
    latencyMs,
    ...(secure ? { keys: parseKeys(`1 ${BENCH_KEY} *`) } : { insecure: true }),
  });
  const link = radioLink({
    radio: medium.attach({ name: 'node', position: { x: 20, y: 0 } }),
    address: 1,
    random: prng(2),
    latencyMs,
    ...(secure ? { key: BENCH_KEY } : { insecure: true }),
  });
  const client = await connect({
    link,
    protocolVersion: 5,
    clientId: `bench-radio-${label}-${aliases}`,
    clean: true,
    keepalive: 60,
    topicAliases: aliases,
    readyTimeout: 60_000,
  });
  // Count only the workload, not the handshake.
  const before = { ...medium.stats };
  const startModel = medium.now();
  const startWall = performance.now();
  const reading = new Uint8Array(PAYLOAD_BYTES);
  const done: Promise<unknown>[] = [];
  for (let i = 0; i < messages; i++) {
    new DataView(reading.buffer).setInt32(0, 2000 + (i % 100));
    done.push(client.publish(TOPIC, reading.slice(), { qos: 1 }));
  }
  await Promise.all(done);
  const modelMs = medium.now() - startModel;
  const wallMs = performance.now() - startWall;
  const after = medium.stats;
  const retransmissions = link.streamStats?.retransmissions ?? 0;
  await client.end();
  await link.close();
  await gateway.close();
  await medium.close();
  const airBytes = after.bytesSent - before.bytesSent;
  check(airBytes > messages * PAYLOAD_BYTES, 'every payload byte went on air');
  return {
    medium: label,
    aliases,
    secure,
    messages,
    airBytes,
    airBytesPerPayloadByte: airBytes / (messages * PAYLOAD_BYTES),
    airtimeMsPerMessage: (after.airtimeMs - before.airtimeMs) / messages,
    messagesPerSecond: messages / (modelMs / 1000),
    retransmissions,
    wallMs,
  };
}

export async function run(args: string[]): Promise<void> {
  const { quick } = parseBenchArgs(args);
  const messages = quick ? 200 : 1000;
  const aliased = encode(
    {
      type: 'publish',
      topic: '',
      payload: new Uint8Array(PAYLOAD_BYTES),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
      properties: { topicAlias: 1 },
    },
    5,
  ).length;
  const plain = encode(
    {
      type: 'publish',
      topic: TOPIC,
      payload: new Uint8Array(PAYLOAD_BYTES),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    },
    5,
  ).length;
  const sn = snPacketSizes(PAYLOAD_BYTES);
  const broker = await startMosquitto();
  const runs: Run[] = [];
  const snRuns: SnRun[] = [];
  try {
    const media: [string, RadioProfile, number][] = [
      ['nrf24 MTU 32', nrf24(), 1],
      ['LoRa SF7/BW125 MTU 255', lora({ sf: 7, bandwidthHz: 125_000, dutyCycle: 1 }), 10],
    ];
    console.log(
      `radio: ${messages} x QoS 1 PUBLISH of ${PAYLOAD_BYTES} B to ${TOPIC}, 10% frame loss, via gateway and Mosquitto, link latencyMs ${benchLatencyMs() ?? 'default (25)'}`,
    );
    console.log(
      `MQTT PUBLISH size: ${plain} B, ${aliased} B with a topic alias; MQTT-SN PUBLISH to a pre-defined id ${sn.publish} B (PUBACK ${sn.puback} B); link overhead ${FRAME_OVERHEAD} B per frame`,
    );
    console.log(
      `${'medium'.padEnd(24)} ${'aliases'.padEnd(8)} ${'air B/payload B'.padStart(16)} ${'airtime/msg ms'.padStart(15)} ${'msg/s (model)'.padStart(14)} ${'retx'.padStart(6)} ${'wall s'.padStart(7)}`,
    );
    for (const [label, profile, timeScale] of media) {
      for (const [aliases, secure] of [
        [true, false],
        [false, false],
        [true, true],
      ]) {
        const r = await runOne(broker.url, label, profile, timeScale, aliases, messages, secure);
        runs.push(r);
        console.log(
          `${`${r.medium}${secure ? ' secure' : ''}`.padEnd(24)} ${(aliases ? 'on' : 'off').padEnd(8)} ${r.airBytesPerPayloadByte.toFixed(2).padStart(16)} ${r.airtimeMsPerMessage.toFixed(3).padStart(15)} ${r.messagesPerSecond.toFixed(1).padStart(14)} ${String(r.retransmissions).padStart(6)} ${(r.wallMs / 1000).toFixed(1).padStart(7)}`,
        );
      }
      // The same reading from an MQTT-SN device (pre-defined topic id), secure, beside the secure aliased run.
      const s = await runSn(
        broker.url,
        TOPIC,
        PAYLOAD_BYTES,
        profile,
        timeScale,
        messages,
        benchLatencyMs(),
        BENCH_KEY,
      );
      snRuns.push(s);
      console.log(
        `${`${label} MQTT-SN secure`.padEnd(24)} ${'topicid'.padEnd(8)} ${s.airBytesPerPayloadByte.toFixed(2).padStart(16)} ${s.airtimeMsPerMessage.toFixed(3).padStart(15)} ${s.messagesPerSecond.toFixed(1).padStart(14)} ${'-'.padStart(6)} ${(s.wallMs / 1000).toFixed(1).padStart(7)}`,
      );
    }
  } finally {
    await broker.stop();
  }
  const find = (medium: number, aliases: boolean, secure = false) =>
    runs.filter((r) => r.aliases === aliases && r.secure === secure)[medium];
  const cost = (medium: number) =>
    Number(
      (
        (find(medium, true, true).airtimeMsPerMessage / find(medium, true).airtimeMsPerMessage - 1) *
        100
      ).toFixed(1),
    );
  const json = {
    bench: 'radio',
    messages,
    link_latency_ms: benchLatencyMs() ?? 'default',
    frame_payload_bytes_mtu32: 32 - FRAME_OVERHEAD,
    frame_payload_bytes_mtu32_secure: 32 - SECURE_OVERHEAD,
    airtime_ms_per_message_mtu32_secure: Number(find(0, true, true).airtimeMsPerMessage.toFixed(4)),
    airtime_ms_per_message_lora_secure: Number(find(1, true, true).airtimeMsPerMessage.toFixed(2)),
    security_airtime_cost_percent_mtu32: cost(0),
    security_airtime_cost_percent_lora: cost(1),
    messages_per_second_mtu32_secure: Number(find(0, true, true).messagesPerSecond.toFixed(1)),
    publish_bytes_aliased: aliased,
    publish_bytes_plain: plain,
    sn_publish_bytes_predefined: sn.publish,
    sn_air_bytes_per_message_mtu32_secure: Number((snRuns[0].airBytes / messages).toFixed(2)),
    mqtt5_aliased_air_bytes_per_message_mtu32_secure: Number(
      (find(0, true, true).airBytes / messages).toFixed(2),
    ),
    sn_airtime_ms_per_message_mtu32_secure: Number(snRuns[0].airtimeMsPerMessage.toFixed(4)),
    sn_airtime_ms_per_message_lora_secure: Number(snRuns[1].airtimeMsPerMessage.toFixed(2)),
    air_bytes_per_payload_byte: Number(find(0, true).airBytesPerPayloadByte.toFixed(3)),
    air_bytes_per_payload_byte_mtu32_no_alias: Number(find(0, false).airBytesPerPayloadByte.toFixed(3)),
    air_bytes_per_payload_byte_lora: Number(find(1, true).airBytesPerPayloadByte.toFixed(3)),
    air_bytes_per_payload_byte_lora_no_alias: Number(find(1, false).airBytesPerPayloadByte.toFixed(3)),
    airtime_ms_per_message_mtu32: Number(find(0, true).airtimeMsPerMessage.toFixed(4)),
    airtime_ms_per_message_lora: Number(find(1, true).airtimeMsPerMessage.toFixed(2)),
    airtime_ms_per_message_lora_no_alias: Number(find(1, false).airtimeMsPerMessage.toFixed(2)),
    messages_per_second_mtu32: Number(find(0, true).messagesPerSecond.toFixed(1)),
    messages_per_second_lora: Number(find(1, true).messagesPerSecond.toFixed(1)),
    messages_per_second_lora_no_alias: Number(find(1, false).messagesPerSecond.toFixed(1)),
  };
  console.log(JSON.stringify(json));
}
