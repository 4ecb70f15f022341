/**
 * Codec benchmark: our encoder/decoder against npm `mqtt-packet` (the codec
 * behind MQTT.js), same process, same packets, same bytes.
 *
 * Fairness rules, so the ratio means something:
 * - Decode cases feed BOTH sides the bytes mqtt-packet generated, so our
 *   decoder cannot win by reading a friendlier encoding of its own.
 * - Each decode op must yield exactly the expected number of packets on both
 *   sides (asserted inside the op, not just once), and both sides reuse one
 *   long-lived decoder/parser, as a connection would.
 * - Packet objects are converted to mqtt-packet's shape once, outside timing.
 * - Before timing, each side must decode the other's output to the same
 *   packet and both encodings must have the same length, so a broken codec
 *   fails loudly instead of looking fast.
 */
import { Buffer } from 'node:buffer';
import type { IPublishPacket, ISubscribePacket, Packet as RefPacket } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';
import { encode, PacketDecoder } from '../src/codec/index.ts';
import type { Packet, ProtocolVersion, PublishPacket, QoS, SubscribePacket } from '../src/codec/types.ts';
import {
  type Case,
  type CaseResult,
  check,
  compare,
  createTable,
  parseBenchArgs,
  printJsonLine,
} from './harness.ts';

const TOPIC = 'sensors/room42/temperature';
const SIZES: [label: string, bytes: number][] = [
  ['16B', 16],
  ['1KiB', 1024],
  ['64KiB', 64 * 1024],
];
const VERSIONS: ProtocolVersion[] = [4, 5];
const STREAM_PACKETS = 10_000;
const STREAM_CHUNK = 1400; // a typical TCP segment payload on a 1500-byte MTU

// Deterministic, non-uniform bytes so a codec that mangled the payload would be noticed.
function payloadOf(size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 31 + 7) & 0xff;
  return p;
}

function publish(v: ProtocolVersion, qos: QoS, payload: Uint8Array, packetId = 1): PublishPacket {
  const p: PublishPacket = { type: 'publish', topic: TOPIC, payload, qos, retain: false, dup: false };
  if (qos > 0) p.packetId = packetId;
  // A few typical MQTT 5 properties, so v5 cases exercise the property codec.
  if (v === 5) {
    p.properties = {
      messageExpiryInterval: 60,
      contentType: 'text/plain',
      userProperties: { site: 'lab-1' },
    };
  }
  return p;
}

function subscribe(v: ProtocolVersion): SubscribePacket {
  const subscriptions = Array.from({ length: 10 }, (_, i) => ({
    topic: i % 4 === 3 ? `home/floor${i}/#` : `sensors/room${i}/+/temperature`,
    qos: (i % 3) as QoS,
    // Subscription options exist only in MQTT 5; mixed values exercise every bit.
    ...(v === 5
      ? { noLocal: i % 2 === 1, retainAsPublished: i % 3 === 0, retainHandling: (i % 3) as 0 | 1 | 2 }
      : {}),
  }));
  return { type: 'subscribe', packetId: 7, subscriptions };
}

/** Our packet in mqtt-packet's shape. The payload Buffer shares memory with ours: no copy. */
function toRef(p: PublishPacket | SubscribePacket): RefPacket {
  if (p.type === 'publish') {
    const out: IPublishPacket = {
      cmd: 'publish',
      topic: p.topic,
      payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength),
      qos: p.qos,
      retain: p.retain,
      dup: p.dup,
    };
    if (p.packetId !== undefined) out.messageId = p.packetId;
    if (p.properties) out.properties = { ...p.properties } as IPublishPacket['properties'];
    return out;
  }
  const out: ISubscribePacket = {
    cmd: 'subscribe',
    messageId: p.packetId,
    subscriptions: p.subscriptions.map((s) =>
      s.noLocal === undefined
        ? { topic: s.topic, qos: s.qos }
        : { topic: s.topic, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling },
    ),
  };
  return out;
}

/**
 * A version-neutral description of a packet, as a string, for comparing what
 * the two codecs decoded. Defaults are filled in so "absent" equals "false/0".
 */
// biome-ignore lint/suspicious/noExplicitAny: decoded objects of either library are inspected field by field
function summary(p: any): string {
  const props = p.properties ?? {};
  if (p.type === 'publish' || p.cmd === 'publish') {
    return JSON.stringify({
      publish: p.topic,
      qos: p.qos,
      id: p.packetId ?? p.messageId ?? null,
      payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength).toString('base64'),
      mei: props.messageExpiryInterval ?? null,
      ct: props.contentType ?? null,
      up: props.userProperties ?? null,
    });
  }
  return JSON.stringify({
    subscribe: p.packetId ?? p.messageId,
    // biome-ignore lint/suspicious/noExplicitAny: as above
    subs: p.subscriptions.map((s: any) => [
      s.topic,
      s.qos,
      s.noLocal ?? s.nl ?? false,
      s.retainAsPublished ?? s.rap ?? false,
      s.retainHandling ?? s.rh ?? 0,
    ]),
  });
}

function ourDecoder(v: ProtocolVersion) {
  return new PacketDecoder({ protocolVersion: v });
}

/** The reference parser plus a packet counter and the last packet, reused across ops. */
function refParser(v: ProtocolVersion) {
  const state = { parser: mqttPacket.parser({ protocolVersion: v }), count: 0, last: undefined as unknown };
  state.parser.on('packet', (p) => {
    state.count++;
    state.last = p;
  });
  state.parser.on('error', (e) => {
    throw e;
  });
  return state;
}

/** Decodes `chunks` with each side once, outside timing, and returns what each decoded. */
function decodeBoth(v: ProtocolVersion, chunks: Uint8Array[]): { ours: Packet[]; ref: unknown[] } {
  const d = ourDecoder(v);
  const ours: Packet[] = [];
  const ref: unknown[] = [];
  const rp = refParser(v);
  rp.parser.on('packet', (p) => ref.push(p));
  for (const c of chunks) {
    d.push(c);
    for (let p = d.next(); p !== undefined; p = d.next()) ours.push(p);
    rp.parser.parse(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  }
  return { ours, ref };
}

/** Checks both codecs agree on `packets` (encoded one by one) and returns mqtt-packet's bytes. */
function checkPackets(
  name: string,
  v: ProtocolVersion,
  packets: (PublishPacket | SubscribePacket)[],
): Buffer {
  const opts = { protocolVersion: v };
  const oursBytes = packets.map((p) => encode(p, v));
  const refBytes = packets.map((p) => mqttPacket.generate(toRef(p), opts));
  const expected = packets.map(summary);
  // Each side decodes both encodings: cross-checks the two codecs and round-trips each.
  for (const [whose, bytes] of [
    ['our', oursBytes],
    ['mqtt-packet', refBytes],
  ] as const) {
    const got = decodeBoth(v, bytes);
    for (const [decoder, decoded] of [
      ['our decoder', got.ours],
      ['mqtt-packet parser', got.ref],
    ] as const) {
      const what = `${name}: ${decoder} on ${whose} bytes`;
      check(decoded.length === packets.length, `${what}: ${decoded.length} packets, want ${packets.length}`);
      decoded.forEach((p, i) => {
        check(summary(p) === expected[i], `${what}: packet ${i} differs`);
      });
    }
  }
  // A correct MQTT encoding of the same packet has one length (property order may differ, size cannot).
  oursBytes.forEach((b, i) => {
    check(
      b.length === refBytes[i].length,
      `${name}: ours encodes ${b.length} B, mqtt-packet ${refBytes[i].length} B`,
    );
  });
  return Buffer.concat(refBytes);
}

function decodeCase(name: string, v: ProtocolVersion, packet: PublishPacket | SubscribePacket): Case {
  const bytes = checkPackets(name, v, [packet]);
  const d = ourDecoder(v);
  const rp = refParser(v);
  return {
    name,
    ours: () => {
      d.push(bytes);
      let n = 0;
      while (d.next() !== undefined) n++;
      if (n !== 1) throw new Error(`${name}: ours decoded ${n} packets`);
      return n;
    },
    ref: () => {
      rp.count = 0;
      rp.parser.parse(bytes);
      if (rp.count !== 1) throw new Error(`${name}: mqtt-packet decoded ${rp.count} packets`);
      return rp.last;
    },
  };
}

function encodeCase(name: string, v: ProtocolVersion, packet: PublishPacket | SubscribePacket): Case {
  checkPackets(name, v, [packet]);
  const ref = toRef(packet);
  const opts = { protocolVersion: v };
  return { name, ours: () => encode(packet, v), ref: () => mqttPacket.generate(ref, opts) };
}

/**
 * 10,000 small QoS 0 publishes back to back, cut at fixed 1,400-byte
 * boundaries that ignore packet edges: measures reassembly across chunks.
 */
function streamCase(name: string, v: ProtocolVersion, distinctTopics: boolean): Case {
  const payload = payloadOf(16);
  const packets = Array.from({ length: STREAM_PACKETS }, () => publish(v, 0, payload));
  // v5 stream packets carry no properties: this case is about framing, not the property codec.
  for (const p of packets) delete p.properties;
  // Every packet on its own topic defeats our decoder's cache of recent topics: the worst case for it.
  if (distinctTopics) {
    packets.forEach((p, i) => {
      p.topic = `sensors/room${i}/temperature`;
    });
  }
  const all = checkPackets(name, v, packets);
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += STREAM_CHUNK) chunks.push(all.subarray(i, i + STREAM_CHUNK));
  const d = ourDecoder(v);
  const rp = refParser(v);
  return {
    name,
    ours: () => {
      let n = 0;
      for (const c of chunks) {
        d.push(c);
        while (d.next() !== undefined) n++;
      }
      if (n !== STREAM_PACKETS) throw new Error(`${name}: ours decoded ${n} packets`);
      return n;
    },
    ref: () => {
      rp.count = 0;
      for (const c of chunks) rp.parser.parse(c);
      if (rp.count !== STREAM_PACKETS) throw new Error(`${name}: mqtt-packet decoded ${rp.count} packets`);
      return rp.count;
    },
  };
}

/** Every case as a name and a builder; builders run the sanity checks, so only selected cases pay for them. */
function allCases(): { name: string; build: () => Case }[] {
  const out: { name: string; build: () => Case }[] = [];
  for (const dir of ['decode', 'encode'] as const) {
    const make = dir === 'decode' ? decodeCase : encodeCase;
    for (const v of VERSIONS) {
      for (const qos of [0, 1] as const) {
        for (const [label, size] of SIZES) {
          const name = `${dir} publish qos${qos} v${v} ${label}`;
          out.push({ name, build: () => make(name, v, publish(v, qos, payloadOf(size))) });
        }
      }
    }
  }
  for (const dir of ['decode', 'encode'] as const) {
    const make = dir === 'decode' ? decodeCase : encodeCase;
    for (const v of VERSIONS) {
      const name = `${dir} subscribe 10 filters v${v}`;
      out.push({ name, build: () => make(name, v, subscribe(v)) });
    }
  }
  for (const v of VERSIONS) {
    const name = `decode stream ${STREAM_PACKETS} publish v${v} ${STREAM_CHUNK}B chunks`;
    out.push({ name, build: () => streamCase(name, v, false) });
  }
  for (const v of VERSIONS) {
    const name = `decode stream ${STREAM_PACKETS} publish v${v} ${STREAM_CHUNK}B chunks, all topics distinct`;
    out.push({ name, build: () => streamCase(name, v, true) });
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const { filter, budget, quick } = parseBenchArgs(args);
  const selected = allCases().filter((c) => filter === undefined || c.name.includes(filter));
  if (selected.length === 0) throw new Error(`no codec case matches --filter ${filter}`);
  // Build (and sanity-check) everything before timing anything: fail fast, and keep setup garbage out of rounds.
  const cases = selected.map((c) => c.build());
  console.log(
    `codec: ours vs mqtt-packet, ${cases.length} cases${quick ? ' (quick: numbers are rough)' : ''}`,
  );
  const row = createTable(
    cases.map((c) => c.name),
    'mqtt-packet',
  );
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = compare(c, budget);
    results.push(r);
    row(r);
  }
  const slower = results.filter((r) => r.ratio < 1).map((r) => r.case);
  console.log(
    slower.length === 0 ? 'ours >= mqtt-packet in every case' : `ours < mqtt-packet in: ${slower.join('; ')}`,
  );
  printJsonLine('codec', results);
}
