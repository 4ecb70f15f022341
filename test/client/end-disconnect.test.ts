// end() resolves only once DISCONNECT has gone out. Destroying a socket whose
// receive buffer still holds unread bytes makes the kernel send a reset and
// discard what is queued, on our side and at the peer: a DISCONNECT written
// just before was then lost, and the broker published the will of a client
// that had said goodbye. Here a broker floods the client and does not read for
// a moment, so both buffers are full when end() is called.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { connect } from '../../src/node.ts';

const DISCONNECT = [0xe0, 0x00];
const CONNACK_V4 = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** One QoS 0 PUBLISH on `t` with a 1 KiB payload. */
function publish(): Buffer {
  const payload = Buffer.alloc(1024, 0x61);
  const body = Buffer.concat([Buffer.from([0x00, 0x01, 0x74]), payload]);
  return Buffer.concat([Buffer.from([0x30, 0x83, 0x08]), body]); // remaining length 1027
}

function contains(haystack: Buffer, needle: number[]): boolean {
  return haystack.indexOf(Buffer.from(needle)) >= 0;
}

test('end() waits until DISCONNECT is written out, also while the broker floods us and is slow to read', async (t) => {
  const received: Buffer[] = [];
  let peerError: Error | undefined;
  let peerClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    peerClosed = resolve;
  });
  const server = createServer((socket: Socket) => {
    socket.on('error', (err) => {
      peerError = err;
    });
    socket.on('close', () => peerClosed());
    socket.once('data', (first) => {
      received.push(first);
      socket.write(CONNACK_V4);
      const flood = Buffer.concat(Array.from({ length: 4096 }, publish));
      socket.write(flood);
      // Not reading for a while: what the client sends waits in our receive buffer.
      socket.pause();
      setTimeout(() => {
        socket.on('data', (chunk) => received.push(chunk));
        socket.resume();
      }, 300);
      socket.on('end', () => socket.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };

  const client = await connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId: 'ender' });
  await new Promise((resolve) => setTimeout(resolve, 20)); // the flood is arriving
  const started = Date.now();
  await client.end();
  const took = Date.now() - started;
  await closed;
  const all = Buffer.concat(received);
  assert.equal(peerError, undefined, `the broker saw ${peerError?.message}: the client reset the connection`);
  assert.ok(contains(all.subarray(2), DISCONNECT), 'the broker received DISCONNECT');
  assert.ok(
    took >= 200 && took < 2500,
    `end() took ${took} ms: it waited for the broker to read, within the bound`,
  );
});
