/**
 * MQTT 5 extended authentication through a pluggable Authenticator.
 *
 * Mosquitto 2.0.11 does extended authentication only through a C plugin, so
 * the broker side here is a scripted peer that speaks real MQTT bytes (our
 * codec) over an in-memory Link: it tests the client's half of the exchange,
 * CONNECT → AUTH 0x18 → AUTH 0x18 → CONNACK, not a broker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, type Packet } from '../../src/codec/index.ts';
import { type Client, createClient, type Link } from '../../src/node.ts';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** A peer that challenges with "nonce" and accepts the answer "nonce:secret". */
function challengingPeer(seen: Packet[]): Link {
  return {
    name: 'scripted auth peer',
    async open(handlers) {
      const reply = (p: Packet) => queueMicrotask(() => handlers.data(encode(p, 5)));
      return {
        bufferedAmount: 0,
        write(bytes) {
          const packet = decode(bytes, 5);
          seen.push(packet);
          if (packet.type === 'connect') {
            reply({
              type: 'auth',
              reasonCode: 0x18,
              properties: { authenticationMethod: 'X-TEST', authenticationData: text('nonce') },
            });
          } else if (packet.type === 'auth') {
            const ok = str(packet.properties?.authenticationData) === 'nonce:secret';
            reply(
              ok
                ? { type: 'connack', sessionPresent: false, reasonCode: 0 }
                : { type: 'connack', sessionPresent: false, reasonCode: 0x86 },
            );
          }
          return true;
        },
        close() {
          queueMicrotask(() => handlers.close());
        },
      };
    },
  };
}

test('the Authenticator answers the server challenge and the connection comes up', async (t) => {
  const seen: Packet[] = [];
  const client: Client = createClient({
    link: challengingPeer(seen),
    clientId: 'auth-client',
    authenticator: {
      method: 'X-TEST',
      initialData: () => text('hello'),
      challenge: (data, reasonCode) => {
        assert.equal(reasonCode, 0x18);
        return text(`${str(data)}:secret`);
      },
    },
  }).start();
  t.after(() => client.end());
  await client.ready(5000);
  const [connect, auth] = seen;
  assert.equal(connect.type, 'connect');
  if (connect.type === 'connect') {
    assert.equal(connect.properties?.authenticationMethod, 'X-TEST');
    assert.equal(str(connect.properties?.authenticationData), 'hello');
  }
  assert.equal(auth.type, 'auth');
  if (auth.type === 'auth') {
    assert.equal(auth.reasonCode, 0x18);
    assert.equal(auth.properties?.authenticationMethod, 'X-TEST');
    assert.equal(str(auth.properties?.authenticationData), 'nonce:secret');
  }
});

test('a wrong answer is refused and, refused for good, not retried', async (t) => {
  const seen: Packet[] = [];
  const client = createClient({
    link: challengingPeer(seen),
    clientId: 'auth-client',
    authenticator: { method: 'X-TEST', challenge: () => text('wrong') },
  }).start();
  t.after(() => client.end());
  await assert.rejects(client.ready(5000), (error: Error & { code?: string; reasonCode?: number }) => {
    assert.equal(error.code, 'CONNECTION_REFUSED');
    assert.equal(error.reasonCode, 0x86);
    return true;
  });
  assert.equal(seen.filter((p) => p.type === 'connect').length, 1);
});
