/**
 * The gateway's QoS 2 crash window, taken deterministically: the state directory is copied at the
 * instant the device's broker connection drops a completed QoS 2 message from its file store (the
 * broker's PUBCOMP), which is what a crash at that instant leaves on disk. A second gateway starts
 * on the copy, the device re-sends the PUBLISH as it would after a gateway restart, and the
 * message must reach the broker once. Real Mosquitto, real gateways over UDP on loopback, the
 * device a raw socket so it can stop listening to the first gateway at the crash point.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '../../src/client/client.ts';
import { connect } from '../../src/node.ts';
import type { StoredOutbound } from '../../src/session/store.ts';
import { decodeSn, encodeSn, type SnMessage, SnReturnCode } from '../../src/sn/codec/index.ts';
import { udpSnGateway } from '../../src/sn/gateway/index.ts';
import { FileStore } from '../../src/store/file.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';

const TOPIC = 'sn/window/reading';
const text = (s: string) => new TextEncoder().encode(s);

let broker: MosquittoBroker;
let watcher: Client;
const dir = mkdtempSync(join(tmpdir(), 'sn-window-'));

before(async () => {
  broker = await startMosquitto();
  watcher = await connect({ url: broker.url, clean: true });
});
after(async () => {
  await watcher.end();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A device as bytes on a UDP socket: send a message, await the next one of a type. */
class RawDevice {
  private readonly inbox: SnMessage[] = [];
  private wake: (() => void) | undefined;
  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (b) => {
      this.inbox.push(decodeSn(new Uint8Array(b)));
      this.wake?.();
    });
  }
  static async open(port: number): Promise<RawDevice> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new RawDevice(s, port);
  }
  send(m: SnMessage): void {
    this.socket.send(encodeSn(m), this.port, '127.0.0.1');
  }
  async next<T extends SnMessage['type']>(type: T, ms = 5_000): Promise<SnMessage & { type: T }> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as SnMessage & { type: T };
      if (Date.now() > end) throw new Error(`no ${type} from the gateway`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 20);
      });
    }
  }
  close(): void {
    this.socket.close();
  }
}

function publish(id: number, qos: 1 | 2, msgId: number, data: string, dup: boolean): SnMessage {
  return { type: 'publish', dup, qos, retain: false, topic: { type: 'normal', id }, msgId, data: text(data) };
}

/** CONNECT (clean=0) and REGISTER: the topic id. */
async function attach(d: RawDevice): Promise<number> {
  d.send({ type: 'connect', will: false, cleanSession: false, duration: 60, clientId: 'window-1' });
  assert.equal((await d.next('connack')).returnCode, SnReturnCode.Accepted);
  d.send({ type: 'register', topicId: 0, msgId: 1, topicName: TOPIC });
  return (await d.next('regack')).topicId;
}

test('a crash right after the broker connection drops a completed QoS 2 message does not duplicate it', async () => {
  const got: string[] = [];
  await watcher.subscribe('sn/window/#', { qos: 2, onMessage: (m) => void got.push(m.text) });
  const live = join(dir, 'live');
  const crashed = join(dir, 'crashed');
  const first = await udpSnGateway({ broker: broker.url, stateDir: live, retryInterval: 200 });

  // The crash point: the store's removal of the QoS 2 record has reached the file.
  const remove = FileStore.prototype.removeOutbound;
  let copied = false;
  FileStore.prototype.removeOutbound = function (this: FileStore, record: StoredOutbound) {
    remove.call(this, record);
    if (!copied && record.message.qos === 2 && record.message.topic === TOPIC) {
      cpSync(live, crashed, { recursive: true });
      copied = true;
    }
  };
  const a = await RawDevice.open(first.port);
  try {
    const id = await attach(a);
    a.send(publish(id, 2, 5, 'once', false));
    const end = Date.now() + 5_000;
    while (!copied && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.ok(copied, 'the QoS 2 message never completed at the broker');
  } finally {
    FileStore.prototype.removeOutbound = remove;
    a.close();
  }
  // The device never saw this gateway's PUBREC: to it, the gateway died with the message in flight.
  await first.close();

  const second = await udpSnGateway({ broker: broker.url, stateDir: crashed, retryInterval: 200 });
  const b = await RawDevice.open(second.port);
  try {
    const id = await attach(b);
    b.send(publish(id, 2, 5, 'once', true));
    await b.next('pubrec');
    b.send({ type: 'pubrel', msgId: 5 });
    await b.next('pubcomp');
    // A marker behind it on the same broker connection: once it is here, a duplicate would be too.
    b.send(publish(id, 1, 6, 'marker', false));
    await b.next('puback');
    const end = Date.now() + 5_000;
    while (!got.includes('marker') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['once', 'marker']);
  } finally {
    b.close();
    await second.close();
  }
});
