/**
 * A sensor node with only a packet radio (a simulated nRF24L01: 32-byte
 * frames, 250 kbps, 10% of frames lost) publishes its readings through a
 * gateway to the broker, where an ordinary client on the LAN receives them.
 * The node runs the same Client as everyone else: only its link differs.
 * Every frame is authenticated and encrypted with the node's key, which the
 * gateway knows from its keys file (made here in memory; `steadfast keygen`
 * makes one for real deployments).
 * Run: MQTT_URL=mqtt://127.0.0.1:1883 npx tsx examples/radio-node.ts
 */
import { connect } from 'steadfast-mqtt';
import { parseKeys, startGateway } from 'steadfast-mqtt/gateway';
import { generateKey, nrf24, radioLink, SimulatedMedium } from 'steadfast-mqtt/radio';

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

// The air: seeded, so a run can be repeated.
const medium = new SimulatedMedium({ seed: 7, profile: nrf24({ bitrate: 250_000 }), loss: 0.1 });

// Node 7's key, and the client id it may use: a line of the gateway's keys file.
const key = generateKey((bytes) => crypto.getRandomValues(bytes));
const keys = parseKeys(`7 ${key} example-radio-node-7`);

// The gateway owns one radio and opens one broker connection per node it hears (and knows).
const gateway = await startGateway({ radio: medium.attach({ name: 'gateway' }), broker: url, keys });

// The node: radio address 7, MQTT 5 so that topic aliases shrink repeated PUBLISH headers on the air.
const radio = medium.attach({ name: 'node-7' });
const link = radioLink({ radio, address: 7, key });
const node = await connect({ link, clientId: 'example-radio-node-7', protocolVersion: 5, keepalive: 15 });

const lan = await connect(url, { clientId: 'example-radio-lan' });
const readings = await lan.subscribe('example/radio/+/temperature', { qos: 1 });

for (let i = 1; i <= 5; i++) {
  // Resolves on the broker's PUBACK, however many radio frames were lost on the way.
  await node.publish('example/radio/node-7/temperature', (20 + i / 10).toFixed(1), { qos: 1 });
}

let received = 0;
for await (const message of readings) {
  console.log(`${message.topic}: ${message.text}`);
  if (++received === 5) break;
}
const { framesSent, airtimeMs } = radio.stats;
console.log(`node radio: ${framesSent} frames sent, ${airtimeMs.toFixed(1)} ms on air`);

await node.end();
await link.close();
await gateway.close();
await medium.close();
await lan.end();
