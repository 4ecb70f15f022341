/**
 * The MQTT-SN client against a scripted gateway over real UDP on loopback: the will dialogue,
 * every QoS with retransmission (Tretry/Nretry), REGISTER both ways, inbound QoS 1/2 with
 * duplicate suppression, sleep and wake, refusals, malformed datagrams dropped and counted.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MqttError } from '../../src/errors.ts';
import { SnClient, type SnReceived } from '../../src/sn/client.ts';
import { SnReturnCode } from '../../src/sn/codec/index.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { ScriptedPeer } from './peer.ts';

/** Short retransmission clock so the retry paths take milliseconds. */
const RETRY_MS = 40;
const RETRIES = 3;
const text = (s: string) => new TextEncoder().encode(s);

let peer: ScriptedPeer;
let client: SnClient;

async function newClient(extra: Partial<ConstructorParameters<typeof SnClient>[1]> = {}): Promise<SnClient> {
  const transport = await udpTransport({ port: peer.port });
  client = new SnClient(transport, { clientId: 'dev1', retryInterval: RETRY_MS, retries: RETRIES, ...extra });
  return client;
}

async function connected(extra: Partial<ConstructorParameters<typeof SnClient>[1]> = {}): Promise<SnClient> {
  const c = await newClient(extra);
  const done = c.connect();
  await peer.next('connect');
  peer.send({ type: 'connack', returnCode: SnReturnCode.Accepted });
  await done;
  return c;
}

beforeEach(async () => {
  peer = await ScriptedPeer.start();
});
afterEach(() => {
  client?.close();
  peer.close();
});

describe('MQTT-SN client', () => {
  it('runs the will dialogue inside CONNECT; a retransmitted CONNECT is answered once', async () => {
    const c = await newClient({
      will: { topic: 'dev/1/status', payload: text('gone'), qos: 1, retain: true },
    });
    const done = c.connect();
    const connect = await peer.next('connect');
    assert.equal(connect.will, true);
    assert.equal(connect.clientId, 'dev1');
    peer.send({ type: 'willtopicreq' });
    const wt = await peer.next('willtopic');
    assert.deepEqual(wt, { type: 'willtopic', qos: 1, retain: true, topic: 'dev/1/status' });
    peer.send({ type: 'willmsgreq' });
    const wm = await peer.next('willmsg');
    assert.deepEqual(wm.message, text('gone'));
    peer.send({ type: 'connack', returnCode: SnReturnCode.Accepted });
    await done;
    assert.equal(peer.log.filter((m) => m.type === 'connect').length, 1, 'the dialogue held the retry clock');
  });

  it('CONNACK rejected: congestion rejects connect with the return code', async () => {
    const c = await newClient();
    const done = c.connect();
    await peer.next('connect');
    peer.send({ type: 'connack', returnCode: SnReturnCode.RejectedCongestion });
    await assert.rejects(
      done,
      (e: unknown) => e instanceof MqttError && e.code === 'CONNECTION_REFUSED' && e.reasonCode === 1,
    );
  });

  it('a silent gateway: CONNECT sent 1 + Nretry times, then TIMEOUT', async () => {
    const c = await newClient();
    await assert.rejects(c.connect(), (e: unknown) => e instanceof MqttError && e.code === 'TIMEOUT');
    assert.equal(peer.log.filter((m) => m.type === 'connect').length, 1 + RETRIES);
  });

  it('QoS 1: REGISTER first, a lost PUBACK makes a DUP retransmission', async () => {
    const c = await connected();
    const done = c.publish('a/b', text('x'), { qos: 1 });
    const reg = await peer.next('register');
    assert.equal(reg.topicName, 'a/b');
    peer.send({ type: 'regack', topicId: 33, msgId: reg.msgId, returnCode: SnReturnCode.Accepted });
    const first = await peer.next('publish');
    assert.equal(first.dup, false);
    assert.deepEqual(first.topic, { type: 'normal', id: 33 });
    const again = await peer.next('publish'); // no PUBACK: Tretry passes
    assert.equal(again.dup, true);
    assert.equal(again.msgId, first.msgId);
    peer.send({ type: 'puback', topicId: 33, msgId: first.msgId, returnCode: SnReturnCode.Accepted });
    await done;
    assert.equal(c.topicId('a/b'), 33);
  });

  it('QoS 2: PUBLISH, PUBREC, PUBREL, PUBCOMP', async () => {
    const c = await connected();
    const done = c.publish({ type: 'predefined', id: 7 }, text('y'), { qos: 2 });
    const pub = await peer.next('publish');
    assert.equal(pub.qos, 2);
    peer.send({ type: 'pubrec', msgId: pub.msgId });
    const rel = await peer.next('pubrel');
    assert.equal(rel.msgId, pub.msgId);
    peer.send({ type: 'pubcomp', msgId: pub.msgId });
    await done;
  });

  it('QoS -1 to a short topic: one datagram, no connection, no answer awaited', async () => {
    const c = await newClient();
    await c.publish({ type: 'short', name: 'tt' }, text('z'), { qos: -1 });
    const pub = await peer.next('publish');
    assert.deepEqual([pub.qos, pub.msgId, pub.topic], [-1, 0, { type: 'short', name: 'tt' }]);
  });

  it('a refused PUBLISH (invalid topic id) rejects with the return code', async () => {
    const c = await connected();
    const done = c.publish({ type: 'normal', id: 99 }, text('q'), { qos: 1 });
    const pub = await peer.next('publish');
    peer.send({
      type: 'puback',
      topicId: 99,
      msgId: pub.msgId,
      returnCode: SnReturnCode.RejectedInvalidTopicId,
    });
    await assert.rejects(
      done,
      (e: unknown) => e instanceof MqttError && e.code === 'REFUSED' && e.reasonCode === 2,
    );
  });

  it('subscribes to a wildcard; the gateway REGISTERs the topic before it forwards; QoS 2 once only', async () => {
    const c = await connected();
    const got: SnReceived[] = [];
    c.onMessage((m) => {
      got.push(m);
    });
    const sub = c.subscribe('s/#', 2);
    const req = await peer.next('subscribe');
    peer.send({ type: 'suback', qos: 2, topicId: 0, msgId: req.msgId, returnCode: SnReturnCode.Accepted });
    assert.deepEqual(await sub, { topicId: 0, qos: 2 });

    peer.send({ type: 'register', topicId: 12, msgId: 500, topicName: 's/1' });
    assert.deepEqual(await peer.next('regack'), { type: 'regack', topicId: 12, msgId: 500, returnCode: 0 });
    const publish = {
      type: 'publish',
      dup: false,
      qos: 2,
      retain: false,
      topic: { type: 'normal', id: 12 },
      msgId: 501,
      data: text('m'),
    } as const;
    peer.send(publish);
    assert.equal((await peer.next('pubrec')).msgId, 501);
    peer.send({ ...publish, dup: true }); // our PUBREC "lost": the gateway sends again
    assert.equal((await peer.next('pubrec')).msgId, 501);
    peer.send({ type: 'pubrel', msgId: 501 });
    assert.equal((await peer.next('pubcomp')).msgId, 501);
    assert.equal(got.length, 1, 'a duplicate QoS 2 PUBLISH is not delivered twice');
    assert.equal(got[0].topic, 's/1');

    peer.send({ ...publish, qos: 1, msgId: 502 });
    assert.equal((await peer.next('puback')).msgId, 502);
    assert.equal(got.length, 2);
  });

  it('a PUBLISH to a topic id never registered is refused with invalid topic id', async () => {
    await connected();
    peer.send({
      type: 'publish',
      dup: false,
      qos: 1,
      retain: false,
      topic: { type: 'normal', id: 77 },
      msgId: 9,
      data: text('?'),
    });
    const ack = await peer.next('puback');
    assert.equal(ack.returnCode, SnReturnCode.RejectedInvalidTopicId);
  });

  it('sleeps with a duration and wakes with PINGREQ + client id: buffered messages, then PINGRESP', async () => {
    const c = await connected();
    const got: string[] = [];
    c.onMessage((m) => {
      got.push(new TextDecoder().decode(m.data));
    });
    const asleep = c.sleep(300);
    assert.equal((await peer.next('disconnect')).duration, 300);
    peer.send({ type: 'disconnect' });
    await asleep;
    const woke = c.awake();
    assert.equal((await peer.next('pingreq')).clientId, 'dev1');
    for (let i = 0; i < 3; i++)
      peer.send({
        type: 'publish',
        dup: false,
        qos: 1,
        retain: false,
        topic: { type: 'short', name: 'zz' },
        msgId: 10 + i,
        data: text(`m${i}`),
      });
    for (let i = 0; i < 3; i++) await peer.next('puback');
    peer.send({ type: 'pingresp' });
    await woke;
    assert.deepEqual(got, ['m0', 'm1', 'm2']);
  });

  it('unsubscribe, ping, will updates, disconnect', async () => {
    const c = await connected();
    const u = c.unsubscribe({ type: 'predefined', id: 3 });
    peer.send({ type: 'unsuback', msgId: (await peer.next('unsubscribe')).msgId });
    await u;
    const p = c.ping();
    await peer.next('pingreq');
    peer.send({ type: 'pingresp' });
    await p;
    const wt = c.updateWillTopic('new/will', 1);
    assert.equal((await peer.next('willtopicupd')).topic, 'new/will');
    peer.send({ type: 'willtopicresp', returnCode: SnReturnCode.Accepted });
    await wt;
    const wm = c.updateWillMessage(text('bye'));
    await peer.next('willmsgupd');
    peer.send({ type: 'willmsgresp', returnCode: SnReturnCode.Accepted });
    await wm;
    const d = c.disconnect();
    await peer.next('disconnect');
    peer.send({ type: 'disconnect' });
    await d;
  });

  it('drops and counts malformed datagrams, then carries on', async () => {
    const c = await connected();
    peer.sendRaw(Uint8Array.of(9, 0x0c, 0));
    peer.sendRaw(Uint8Array.of(2, 0x03));
    const p = c.ping();
    await peer.next('pingreq');
    peer.send({ type: 'pingresp' });
    await p;
    assert.equal(c.malformed, 2);
  });

  it('close() rejects what is pending with CLIENT_CLOSED', async () => {
    const c = await connected();
    const p = c.ping();
    c.close();
    await assert.rejects(p, (e: unknown) => e instanceof MqttError && e.code === 'CLIENT_CLOSED');
  });
});
