/**
 * Publish and subscribe at QoS 0, 1 and 2.
 * Run: MQTT_URL=mqtt://127.0.0.1:1883 npx tsx examples/publish-subscribe.ts
 */
import { createClient } from 'steadfast-mqtt';

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const client = createClient(url, { clientId: 'example-pubsub' });
// Subscribed before connecting: what the broker kept for this session while we were away
// arrives right after CONNACK, and finds its subscription.
const subscribed = client.subscribe('example/greetings/#', { qos: 2 });
await client.start().ready(10_000);
const subscription = await subscribed;

for (const qos of [0, 1, 2] as const) {
  // Resolves when the QoS flow is complete: handed to the link, PUBACK, or PUBCOMP.
  await client.publish(`example/greetings/qos${qos}`, `hello at QoS ${qos}`, { qos });
}

let received = 0;
for await (const message of subscription) {
  // Acknowledged to the broker when the loop comes back for the next one, not on arrival.
  console.log(`${message.topic}: ${message.text} (QoS ${message.qos})`);
  if (++received === 3) break; // leaving the loop unsubscribes
}
await client.end();
