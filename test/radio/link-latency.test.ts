// Data written while the radio is busy goes out as soon as the radio is free
// (window permitting), never at the next heartbeat. The bug this guards
// against: on a full-duplex line (a UART, a serial wire) the peer's answer to
// a poll can arrive before the driver reports that the poll has left; that
// answer was ignored, so the window stayed shut until the retransmission
// timeout, and the frame still on its way gave a round trip "sample" of the
// whole clock reading, which pushed that timeout up to the heartbeat.
//
// Two levels, both deterministic: the Stream alone (sans-IO), and two
// RadioEndpoints on a fake clock joined by a scripted full-duplex line whose
// frames reach the peer before the sender's send() resolves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RadioEndpoint } from '../../src/radio/link/endpoint.ts';
import type { StreamHandle } from '../../src/radio/link/endpoint-types.ts';
import { decodeFrame, encodeFrame, type Frame, FrameKind } from '../../src/radio/link/frame.ts';
import { Stream } from '../../src/radio/link/stream.ts';
import { linkTiming } from '../../src/radio/link/timing.ts';
import type { Radio, RadioHandlers } from '../../src/radio/types.ts';

/** 115200 baud, 10 bits a byte: 0.0868 ms a byte. */
const BYTE_MS = 10 / 115.2;
const line = { mtu: 251, dutyCycle: 1, airtimeMs: (bytes: number) => bytes * BYTE_MS };
const timing = linkTiming(line, {});

describe('radio stream (sans-IO): an answer that overtakes the end of its poll', () => {
  function openPair() {
    const config = { epoch: 2, nonce: 9, payloadSize: 243, timing, random: () => 0.5, now: 1000 };
    const node = new Stream({ ...config, local: 7, peer: 0, role: 'initiator' });
    const gateway = new Stream({ ...config, local: 0, peer: 7, role: 'responder' });
    gateway.accept();
    let now = 1000;
    // OPEN, ACCEPT: sent and received in order.
    for (const [from, to] of [
      [node, gateway],
      [gateway, node],
    ] as const) {
      const frame = from.poll(now);
      assert.ok(frame);
      from.sent(frame, now);
      now += 1;
      to.receive(frame, now);
    }
    assert.equal(node.state, 'open');
    node.takeEvents();
    gateway.takeEvents();
    return { node, gateway, at: () => now, advance: (ms: number) => (now += ms) };
  }

  it('a DATA poll answered before it has left: the next bytes go the moment it has', () => {
    const { node, gateway, advance } = openPair();
    node.write(new Uint8Array([0x30, 1, 2, 3]));
    const publish = node.poll(advance(1)) as Frame;
    assert.equal(publish.kind, FrameKind.DATA);
    assert.ok(publish.poll);
    // The gateway has the frame (a wire hands bytes up as they arrive) and answers with its
    // own DATA (a PUBACK) before the node's driver says the frame has left.
    gateway.receive(publish, advance(0.5));
    gateway.write(new Uint8Array([0x40, 2, 0, 1]));
    const puback = gateway.poll(advance(0.1)) as Frame;
    assert.equal(puback.kind, FrameKind.DATA);
    assert.equal(puback.ack, 1, 'the answer acknowledges the poll frame');
    node.receive(puback, advance(0.5));
    // The application reacts to the PUBACK with the next PUBLISH...
    node.write(new Uint8Array([0x30, 4, 5, 6]));
    // ...and the radio reports the first frame gone.
    node.sent(publish, advance(1));
    const next = node.poll(advance(0));
    assert.ok(next, 'the next PUBLISH waits for nothing');
    assert.equal(next.kind, FrameKind.DATA);
    assert.deepEqual([...next.payload], [0x30, 4, 5, 6]);
    // The frame acknowledged while still on its way gave no round-trip sample.
    assert.equal(node.smoothedRttMs, undefined);
  });

  it('a heartbeat answered before it has left: bytes written meanwhile go at once', () => {
    const { node, gateway, advance } = openPair();
    const heartbeat = node.poll(advance(timing.heartbeatMs + 1)) as Frame;
    assert.equal(heartbeat.kind, FrameKind.ACK);
    assert.ok(heartbeat.poll);
    gateway.receive(heartbeat, advance(0.2));
    const answer = gateway.poll(advance(0.1)) as Frame;
    assert.equal(answer.kind, FrameKind.ACK);
    node.receive(answer, advance(0.2));
    node.write(new Uint8Array([0x30, 7]));
    node.sent(heartbeat, advance(0.5));
    const next = node.poll(advance(0));
    assert.ok(next, 'nothing was in flight: any frame from the peer answers the heartbeat');
    assert.equal(next.kind, FrameKind.DATA);
  });

  it('an ACK that does not cover the poll frame is not taken for its answer', () => {
    const { node, gateway, advance } = openPair();
    // Two frames: the first without poll, the second (the poll) still on its way.
    node.write(new Uint8Array(243 + 10).fill(1));
    const first = node.poll(advance(1)) as Frame;
    node.sent(first, advance(1));
    const second = node.poll(advance(0)) as Frame;
    assert.ok(second.poll);
    // The gateway heard only the first and answers its burst gap: ack = 1, not 2.
    gateway.receive(first, advance(0.1));
    const partial = gateway.poll(advance(timing.burstGapMs + timing.ackDelayMs + 1)) as Frame;
    assert.equal(partial.kind, FrameKind.ACK);
    assert.equal(partial.ack, 1);
    node.receive(partial, advance(0.1));
    node.write(new Uint8Array([9]));
    node.sent(second, advance(0.5));
    // The poll is still outstanding: nothing new until its answer (or its timeout).
    assert.equal(node.poll(advance(0)), undefined);
  });
});

/** A fake clock: timers run only when the test advances time, in deadline order. */
class FakeClock {
  // Not 0: a process that has run a while, so a bogus round trip "sample" of the clock reading shows.
  private at = 100_000;
  private timers = new Map<number, { due: number; callback: () => void }>();
  private nextId = 1;
  now = () => this.at;
  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { due: this.at + ms, callback });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };
  /** Runs every timer due within `ms`, letting promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.at + ms;
    for (;;) {
      await settle();
      let first: [number, { due: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (first === undefined || entry[1].due < first[1].due) first = entry;
      if (first === undefined || first[1].due > end) break;
      this.timers.delete(first[0]);
      this.at = Math.max(this.at, first[1].due);
      first[1].callback();
    }
    this.at = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/**
 * One end of a full-duplex wire on the fake clock: a frame reaches the peer
 * `deliverMs` after send() (bytes arrive as they are written), while send()
 * resolves only after the frame's time on the wire, as a UART driver does.
 */
class WireEnd implements Radio {
  readonly name: string;
  readonly mtu = line.mtu;
  readonly dutyCycle = 1;
  readonly stats = { framesSent: 0, bytesSent: 0, framesReceived: 0, airtimeMs: 0 };
  peer: WireEnd | undefined;
  handlers: RadioHandlers | undefined;
  constructor(
    name: string,
    private readonly clock: FakeClock,
    private readonly deliverMs: number,
  ) {
    this.name = name;
  }
  airtimeMs(bytes: number): number {
    return line.airtimeMs(bytes);
  }
  async open(handlers: RadioHandlers): Promise<void> {
    this.handlers = handlers;
  }
  send(frame: Uint8Array): Promise<void> {
    this.stats.framesSent++;
    const copy = frame.slice();
    this.clock.setTimeout(() => this.peer?.handlers?.receive(copy), this.deliverMs);
    return new Promise((resolve) => this.clock.setTimeout(resolve, this.airtimeMs(frame.length) + 0.4));
  }
  async close(): Promise<void> {}
}

describe('radio endpoint on a fake clock: bytes written during a transmission', () => {
  async function wired() {
    const clock = new FakeClock();
    // Delivered after 0.2 ms: well before a frame's time on the wire ends.
    const nodeRadio = new WireEnd('node', clock, 0.2);
    const gatewayRadio = new WireEnd('gateway', clock, 0.2);
    nodeRadio.peer = gatewayRadio;
    gatewayRadio.peer = nodeRadio;
    const out: { at: number; frame: Frame }[] = [];
    let gatewayHandle: StreamHandle | undefined;
    const gateway = new RadioEndpoint({
      radio: gatewayRadio,
      address: 0,
      timing,
      clock,
      random: () => 0.5,
      onOpen: (request) => {
        gatewayHandle = request.accept({
          // A broker that answers every PUBLISH with a PUBACK at once.
          data: (bytes) => {
            if (bytes[0] === 0x30) gatewayHandle?.write(new Uint8Array([0x40, 2, 0, bytes[1]]));
          },
          closed: () => {},
        });
      },
    });
    const node = new RadioEndpoint({
      radio: nodeRadio,
      address: 7,
      timing,
      clock,
      random: () => 0.5,
      observe: (event) => {
        if (event.type === 'frame' && event.direction === 'out')
          out.push({ at: clock.now(), frame: event.frame });
      },
    });
    await gateway.start();
    await node.start();
    const received: number[][] = [];
    let opened = false;
    const handle = node.connect(0, {
      open: () => {
        opened = true;
      },
      data: (bytes) => received.push([...bytes]),
      closed: () => {},
    });
    await clock.advance(50);
    assert.ok(opened, 'the stream opened');
    return { clock, node, gateway, handle, out, received, nodeRadio };
  }

  it('sequential awaited publishes each go out as soon as the PUBACK is in, not at a heartbeat', async () => {
    const { clock, handle, out, received } = await wired();
    const sentAt: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const start = clock.now();
      const before = received.length;
      handle.write(new Uint8Array([0x30, i, 0xaa, 0xbb]));
      sentAt.push(start);
      // Wait, on the fake clock, for this publish's PUBACK.
      let waited = 0;
      while (received.length === before && waited < 10 * timing.heartbeatMs) {
        await clock.advance(1);
        waited++;
      }
      const latency = clock.now() - start;
      assert.deepEqual(received.at(-1), [0x40, 2, 0, i], `publish ${i} got its PUBACK`);
      // Two frames on the wire and a few ms of bookkeeping: far below any RTO or heartbeat.
      assert.ok(latency < 10, `publish ${i} took ${latency} ms (heartbeat ${timing.heartbeatMs} ms)`);
    }
    // No publish needed a second transmission.
    const data = out.filter((o) => o.frame.kind === FrameKind.DATA);
    assert.equal(data.length, 5);
  });

  it('a write while a poll frame is on the wire and already answered goes the moment the radio is free', async () => {
    const { clock, handle, out, nodeRadio } = await wired();
    handle.write(new Uint8Array([0x30, 1, 0xaa]));
    // The node's DATA poll is on the wire; the gateway has it after 0.2 ms and answers at once.
    const publish = out.at(-1);
    assert.equal(publish?.frame.kind, FrameKind.DATA);
    const busyUntil = clock.now() + nodeRadio.airtimeMs(encodeFrame(publish.frame).length) + 0.4;
    await clock.advance(0.3);
    // Still transmitting (send() has not resolved); the application writes again.
    assert.ok(clock.now() < busyUntil);
    handle.write(new Uint8Array([0x30, 2, 0xbb]));
    await clock.advance(busyUntil - clock.now() + 0.5);
    const next = out.find((o) => o.frame.kind === FrameKind.DATA && o.frame.payload[1] === 2);
    assert.ok(next, `the second write is still waiting at ${clock.now()} ms`);
    assert.ok(next.at <= busyUntil + 0.01, `sent at ${next.at} ms, the radio was free at ${busyUntil} ms`);
    const decoded = decodeFrame(encodeFrame(next.frame));
    assert.ok(decoded.ok);
  });
});
