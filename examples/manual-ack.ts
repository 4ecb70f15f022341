/**
 * Manual acknowledgement: the broker gets PUBACK only when you call ack(), so
 * a crash before that means the broker delivers it again. (Without manualAck
 * the client acknowledges when your loop body comes back for the next message.)
 * Run: MQTT_URL=mqtt://127.0.0.1:1883 npx tsx examples/manual-ack.ts
 */
import { connect } from 'steadfast-mqtt';

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const worker = await connect(url, { clientId: 'example-worker', manualAck: true, readyTimeout: 10_000 });
const producer = await connect(url, { clientId: 'example-producer', readyTimeout: 10_000 });

const jobs = await worker.subscribe('example/jobs', { qos: 1 });
await producer.publish('example/jobs', JSON.stringify({ id: 1, task: 'resize image' }), { qos: 1 });

for await (const job of jobs) {
  const { id, task } = job.json<{ id: number; task: string }>();
  console.log(`processing job ${id}: ${task}`);
  job.ack(); // now, and only now, the broker may forget it
  break;
}
await producer.end();
await worker.end();
