// The UART framing on its own (pure, no ports): COBS + CRC-16 + 0x00 delimiter,
// fed in chunks of every size, damaged in every way a line damages bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cobsDecode, cobsEncodeInto, cobsMaxEncodedLength } from '../../src/radio/uart/cobs.ts';
import { crc16 } from '../../src/radio/uart/crc16.ts';
import {
  encodedFrameLength,
  encodeFrame,
  FrameDecoder,
  largestFrame,
  type RejectReason,
} from '../../src/radio/uart/framing.ts';

function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  return out.subarray(0, cobsEncodeInto(data, out, 0));
}

/** A decoder that records what it hands up and what it rejects. */
function collector(options: { maxEncoded?: number; checksum?: boolean; rssiByte?: boolean } = {}) {
  const frames: { frame: Uint8Array; rssi?: number }[] = [];
  const rejects: RejectReason[] = [];
  const decoder = new FrameDecoder({
    maxEncoded: options.maxEncoded ?? 1024,
    checksum: options.checksum ?? true,
    rssiByte: options.rssiByte ?? false,
    frame: (frame, rssi) => frames.push(rssi === undefined ? { frame } : { frame, rssi }),
    reject: (reason) => rejects.push(reason),
  });
  return { decoder, frames, rejects };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('COBS', () => {
  test('known encodings (the examples of Cheshire and Baker)', () => {
    assert.deepEqual([...cobsEncode(Uint8Array.of(0))], [1, 1]);
    assert.deepEqual([...cobsEncode(Uint8Array.of(0, 0))], [1, 1, 1]);
    assert.deepEqual([...cobsEncode(Uint8Array.of(0x11, 0x22, 0, 0x33))], [3, 0x11, 0x22, 2, 0x33]);
    const run = new Uint8Array(254).fill(7);
    assert.deepEqual([...cobsEncode(run)], [0xff, ...run, 1]);
  });

  test('round trip, no zero in the encoding, within the size bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
        const encoded = cobsEncode(data);
        assert.ok(!encoded.includes(0));
        assert.ok(encoded.length <= cobsMaxEncodedLength(data.length));
        assert.deepEqual(cobsDecode(encoded), data);
      }),
      { numRuns: 500 },
    );
  });

  test('a block that claims more bytes than there are is rejected', () => {
    assert.equal(cobsDecode(Uint8Array.of(5, 1, 2)), undefined);
    assert.equal(cobsDecode(Uint8Array.of(2, 0)), undefined);
    assert.equal(cobsDecode(new Uint8Array(0)), undefined);
  });
});

describe('UART framing', () => {
  test('CRC-16/CCITT-FALSE check value', () => {
    assert.equal(crc16(new TextEncoder().encode('123456789')), 0x29b1);
  });

  test('mtu: what fits one modem packet after 4 bytes of framing', () => {
    assert.equal(largestFrame(58, true), 54); // EBYTE E32
    assert.equal(largestFrame(240, true), 236); // EBYTE E22
    assert.equal(largestFrame(64, true), 60);
    assert.equal(largestFrame(58, false), 56);
    assert.equal(largestFrame(4, true), 0);
    for (const size of [5, 32, 58, 240, 255, 256, 257, 600, 1024]) {
      const mtu = largestFrame(size, true);
      assert.ok(encodedFrameLength(mtu, true) <= size);
      assert.ok(encodedFrameLength(mtu + 1, true) > size);
      // The worst case really is the worst case: a frame with no zero byte at all.
      assert.ok(encodeFrame(new Uint8Array(mtu).fill(0xaa), true).length <= size);
    }
  });

  test('frames of every size survive any re-chunking, fed byte by byte or in random pieces', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 236 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const { decoder, frames: got, rejects } = collector({ maxEncoded: 239 });
          const stream = concat(frames.map((f) => encodeFrame(f, true)));
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length] as number;
            decoder.push(stream.subarray(at, at + size));
            at += size;
          }
          assert.deepEqual(rejects, []);
          assert.deepEqual(
            got.map((g) => g.frame),
            frames,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('every single-bit error in a frame or its delimiter is caught, and the next frame still arrives', () => {
    const first = Uint8Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff);
    const second = Uint8Array.from({ length: 30 }, (_, i) => 255 - i);
    const third = Uint8Array.of(1, 2, 3);
    const stream = concat([encodeFrame(first, true), encodeFrame(second, true), encodeFrame(third, true)]);
    const firstEnd = encodeFrame(first, true).length;
    for (let bit = 0; bit < firstEnd * 8; bit++) {
      const damaged = stream.slice();
      damaged[bit >> 3] = (damaged[bit >> 3] as number) ^ (1 << (bit & 7));
      const { decoder, frames, rejects } = collector({ maxEncoded: 200 });
      decoder.push(damaged);
      const good = [first, second, third].map((f) => Buffer.from(f).toString('hex'));
      for (const { frame } of frames)
        assert.ok(good.includes(Buffer.from(frame).toString('hex')), `bit ${bit}`);
      assert.ok(rejects.length > 0, `bit ${bit}: damage not noticed`);
      // Resync: the third frame always arrives (the second one may be glued to the first).
      assert.deepEqual(frames.at(-1)?.frame, third, `bit ${bit}`);
    }
  });

  test('two frames glued by a lost delimiter are rejected, never handed up as one', () => {
    const a = Uint8Array.of(10, 20, 30, 40);
    const b = Uint8Array.of(50, 60, 0, 70);
    const glued = concat([encodeFrame(a, true).subarray(0, -1), encodeFrame(b, true)]);
    const { decoder, frames, rejects } = collector();
    decoder.push(glued);
    assert.deepEqual(frames, []);
    assert.deepEqual(rejects, ['crc']);
  });

  test('a truncated frame is rejected; a run longer than a packet is skipped up to the next delimiter', () => {
    const { decoder, frames, rejects } = collector({ maxEncoded: 20 });
    const whole = encodeFrame(Uint8Array.of(1, 2, 3, 4, 5, 6), true);
    decoder.push(concat([whole.subarray(0, 3), Uint8Array.of(0)]));
    decoder.push(new Uint8Array(50).fill(9));
    decoder.push(Uint8Array.of(0));
    decoder.push(whole);
    assert.deepEqual(rejects, ['cobs', 'oversize']);
    assert.deepEqual(
      frames.map((f) => [...f.frame]),
      [[1, 2, 3, 4, 5, 6]],
    );
  });

  test('the byte after each delimiter is the modem RSSI byte: dBm = byte - 256', () => {
    const { decoder, frames, rejects } = collector({ rssiByte: true });
    const a = encodeFrame(Uint8Array.of(1, 2), true);
    const b = encodeFrame(Uint8Array.of(3, 0, 4), true);
    decoder.push(concat([a, Uint8Array.of(0xb0), b]));
    assert.equal(decoder.holding, true, 'b waits for its RSSI byte');
    decoder.push(Uint8Array.of(0x00)); // an RSSI byte of 0 is still an RSSI byte
    assert.deepEqual(rejects, []);
    assert.deepEqual(frames, [
      { frame: Uint8Array.of(1, 2), rssi: -80 },
      { frame: Uint8Array.of(3, 0, 4), rssi: -256 },
    ]);
  });

  test('a late RSSI byte: the frame goes up without RSSI, and the late byte does not shift the next frame', () => {
    const { decoder, frames, rejects } = collector({ rssiByte: true });
    decoder.push(encodeFrame(Uint8Array.of(7), true));
    decoder.release();
    assert.deepEqual(frames, [{ frame: Uint8Array.of(7) }]);
    decoder.push(Uint8Array.of(0xc8));
    decoder.push(concat([encodeFrame(Uint8Array.of(8), true), Uint8Array.of(0xc9)]));
    assert.deepEqual(rejects, []);
    assert.deepEqual(frames.at(-1), { frame: Uint8Array.of(8), rssi: 0xc9 - 256 });
  });

  test('without the checksum: 2 bytes less per frame, COBS still rejects truncation', () => {
    const frame = Uint8Array.of(1, 2, 3);
    assert.equal(encodeFrame(frame, false).length, encodeFrame(frame, true).length - 2);
    const { decoder, frames, rejects } = collector({ checksum: false });
    decoder.push(concat([encodeFrame(frame, false), encodeFrame(Uint8Array.of(0, 0), false)]));
    assert.deepEqual(
      frames.map((f) => [...f.frame]),
      [
        [1, 2, 3],
        [0, 0],
      ],
    );
    decoder.push(Uint8Array.of(9, 1, 0));
    assert.deepEqual(rejects, ['cobs']);
  });
});
