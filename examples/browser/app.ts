/**
 * The browser example's page logic: connect, subscribe, publish, and show
 * the client's state as it rides out outages. A bundler (esbuild in
 * serve.ts) resolves `steadfast-mqtt` to the runtime-neutral entry, which
 * talks to the broker through the platform WebSocket.
 *
 * Open `index.html?url=ws://127.0.0.1:9001` to connect at load;
 * `&v=4` for MQTT 3.1.1, `&keepalive=SECONDS`, `&timers=main|worker|auto`.
 */
import { type Client, createClient, type Message, type QoS } from 'steadfast-mqtt';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusOut = $<HTMLOutputElement>('status');
const counters = {
  outages: $<HTMLOutputElement>('outages'),
  published: $<HTMLOutputElement>('published'),
  pending: $<HTMLOutputElement>('pending'),
  failed: $<HTMLOutputElement>('failed'),
};
let client: Client | undefined;

function show(state: 'connecting' | 'connected' | 'down' | 'disconnected', detail = ''): void {
  statusOut.dataset.state = state;
  statusOut.value = detail ? `${state}: ${detail}` : state;
}

function log(line: string): void {
  const item = document.createElement('li');
  item.textContent = `${new Date().toISOString().slice(11, 23)} ${line}`;
  $('log').append(item);
}

function bump(counter: HTMLOutputElement, by = 1): void {
  counter.value = String(Number(counter.value) + by);
}

function showMessage(message: Message): void {
  const item = document.createElement('li');
  item.dataset.topic = message.topic;
  item.dataset.payload = message.text;
  item.textContent = `${message.topic}: ${message.text} (QoS ${message.qos}${message.dup ? ', dup' : ''})`;
  $('messages').append(item);
}

async function start(url: string, protocolVersion: 4 | 5): Promise<void> {
  await client?.end();
  show('connecting', url);
  // createClient + start (not `connect`): the page shows the state as it changes instead of waiting for it.
  // timers: 'auto' (the default) keeps keepalive on time in a hidden tab, where browsers throttle the page's timers.
  const next = createClient({ url, protocolVersion, keepalive, timers });
  client = next;
  next.on('up', ({ sessionPresent }) => {
    show('connected');
    counters.outages.value = String(next.stats.outages);
    log(`connected (session present: ${sessionPresent})`);
  });
  next.on('down', ({ cause }) => {
    show('down', 'reconnecting');
    log(`down: ${cause.message}`);
  });
  next.start();
}

async function subscribe(filter: string, qos: QoS): Promise<void> {
  if (client === undefined) return log('connect first');
  try {
    // Subscribing while down waits for the connection; the subscription outlives outages.
    const subscription = await client.subscribe(filter, { qos });
    log(`subscribed to ${filter} (granted QoS ${subscription.granted[0]})`);
    for await (const message of subscription) showMessage(message);
  } catch (error) {
    log(`subscribe ${filter} failed: ${(error as Error).message}`);
  }
}

async function publish(topic: string, payload: string, qos: QoS): Promise<void> {
  if (client === undefined) return log('connect first');
  bump(counters.pending);
  try {
    // Resolves once the QoS flow completes, across any number of outages in between.
    await client.publish(topic, payload, { qos });
    bump(counters.published);
  } catch (error) {
    bump(counters.failed);
    log(`publish failed: ${(error as Error).message}`);
  } finally {
    bump(counters.pending, -1);
  }
}

const value = (id: string) => $<HTMLInputElement | HTMLSelectElement>(id).value;
const qosOf = (id: string) => Number(value(id)) as QoS;

$('connect').addEventListener('submit', (event) => {
  event.preventDefault();
  void start(value('url'), value('version') === '4' ? 4 : 5);
});
$('subscribe').addEventListener('submit', (event) => {
  event.preventDefault();
  void subscribe(value('filter'), qosOf('sub-qos'));
});
$('publish').addEventListener('submit', (event) => {
  event.preventDefault();
  void publish(value('topic'), value('payload'), qosOf('qos'));
});

const query = new URLSearchParams(location.search);
// `&keepalive=SECONDS` and `&timers=main|worker|auto` (for the background-tab test).
const keepalive = Number(query.get('keepalive') ?? 60);
const timers = (query.get('timers') ?? 'auto') as 'auto' | 'main' | 'worker';
const fromQuery = query.get('url');
if (query.get('v') === '4') $<HTMLSelectElement>('version').value = '4';
if (fromQuery !== null) {
  $<HTMLInputElement>('url').value = fromQuery;
  void start(fromQuery, query.get('v') === '4' ? 4 : 5);
}
