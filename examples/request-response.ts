/**
 * MQTT 5 request/response: one client serves, another asks.
 * Run: MQTT_URL=mqtt://127.0.0.1:1883 npx tsx examples/request-response.ts
 */
import { connect } from 'steadfast-mqtt';

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const server = await connect(url, { clientId: 'example-adder', readyTimeout: 10_000 });
const caller = await connect(url, { clientId: 'example-caller', readyTimeout: 10_000 });

// The serving side: answer every request on example/add with the sum of its numbers.
await server.respond('example/add', (request) => {
  const numbers = request.json<number[]>();
  return JSON.stringify(numbers.reduce((a, b) => a + b, 0));
});

const response = await caller.request('example/add', JSON.stringify([1, 2, 3, 4]), { timeout: 5_000 });
console.log(`1 + 2 + 3 + 4 = ${response.text}`);

await caller.end();
await server.end();
