// Shared plumbing for the client's end-to-end tests against real brokers:
// start a broker or a client for one test and clean it up when the test ends
// (pass or fail), wait for events and messages with generous deadlines, and a
// link the test can cut without the client sending DISCONNECT.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { PacketDecoder } from '../../src/codec/decoder.ts';
import type { Packet } from '../../src/codec/types.ts';
import type { Connection, Link } from '../../src/links/types.ts';
import type { Client, ClientEvents, Message, NodeClientOptions, Subscription } from '../../src/node.ts';
import { connect, createClient, MqttError, type MqttErrorCode, tcpLink } from '../../src/node.ts';
import { type AedesBroker, startAedes } from '../helpers/aedes.ts';
import { type EjabberdBroker, startEjabberd } from '../helpers/ejabberd.ts';
import { type MosquittoBroker, type MosquittoOptions, startMosquitto } from '../helpers/mosquitto.ts';

/** Per-test timeout: generous, so a slow machine does not fail a correct client. */
export const TEST = { timeout: 60_000 };
/** How long to wait for something that should happen "at once". */
export const WAIT = 15_000;
/** MQTT 3.1.1 and 5.0, for tests of features both have. */
export const VERSIONS = [4, 5] as const;

/** A fresh topic prefix, so tests never see each other's messages. */
export function uniqueTopic(prefix = 'e2e'): string {
  return `${prefix}/${randomUUID()}`;
}

/** Starts Mosquitto for this test and stops it when the test ends. */
export async function mosquitto(t: TestContext, options?: MosquittoOptions): Promise<MosquittoBroker> {
  const broker = await startMosquitto(options);
  t.after(() => broker.stop());
  return broker;
}

/** The real brokers the end-to-end tests run against. */
export type BrokerName = 'mosquitto' | 'ejabberd';

/**
 * Broker features a test may need. A test declares what it needs and runs
 * against every broker of {@link CAPABILITIES} that has all of it
 * ({@link brokersWith}); docs/brokers.md has the evidence for each gap.
 */
export type Feature =
  /** Retained messages, delivered on subscribe and cleared by an empty one. */
  | 'retain'
  /** The will of a client whose link dies, and none after DISCONNECT. */
  | 'will'
  /** MQTT 5 Will Delay Interval. */
  | 'willDelay'
  /** MQTT 5 DISCONNECT 0x04 (disconnect with will message). */
  | 'disconnectWithWill'
  /** MQTT 5 subscription options: Retain Handling 0/1/2. */
  | 'retainHandling'
  /** MQTT 5 subscription option Retain As Published. */
  | 'retainAsPublished'
  /** `$share/group/filter`. */
  | 'sharedSubscriptions'
  /** Sessions resumed with what was queued while the client was away. */
  | 'persistentSession'
  /** MQTT 5 PUBACK 0x10 No matching subscribers. */
  | 'noMatchingSubscribers'
  /** The broker keeps the MQTT 5 properties of a PUBLISH (content type, user properties...) when it forwards it. */
  | 'forwardsProperties'
  /** MQTT 5 Subscription Identifiers on forwarded messages. */
  | 'subscriptionIdentifiers';

const ALL_FEATURES: readonly Feature[] = [
  'retain',
  'will',
  'willDelay',
  'disconnectWithWill',
  'retainHandling',
  'retainAsPublished',
  'sharedSubscriptions',
  'persistentSession',
  'noMatchingSubscribers',
  'forwardsProperties',
  'subscriptionIdentifiers',
];

/** What ejabberd 23.01's mod_mqtt lacks, and why (the evidence is in docs/brokers.md). */
export const EJABBERD_LACKS: ReadonlyMap<Feature, string> = new Map<Feature, string>([
  [
    'retainHandling',
    'Retain Handling 0 on a filter already subscribed: no retained message is sent again after one was delivered on it',
  ],
]);

/**
 * What each broker supports, as the tests found it (ejabberd 23.01
 * mod_mqtt, Mosquitto 2.0.11). A feature missing here is a broker
 * limitation recorded in docs/brokers.md, never a client bug.
 */
export const CAPABILITIES: Record<BrokerName, ReadonlySet<Feature>> = {
  mosquitto: new Set(ALL_FEATURES),
  ejabberd: new Set<Feature>(ALL_FEATURES.filter((f) => !EJABBERD_LACKS.has(f))),
};

/** The brokers that have every one of `features`. */
export function brokersWith(...features: Feature[]): BrokerName[] {
  return (Object.keys(CAPABILITIES) as BrokerName[]).filter((name) =>
    features.every((f) => CAPABILITIES[name].has(f)),
  );
}

/** A broker a test runs against: where it is and what a client must send to get in. */
export interface TestBroker {
  readonly name: BrokerName;
  /** `mqtt://` URL, credentials included when the broker needs them. */
  readonly url: string;
  readonly port: number;
  /** Client options a broker needs (ejabberd: a user name and password), for clients given a Link. */
  readonly auth: { username?: string; password?: string };
}

let sharedEjabberd: Promise<EjabberdBroker> | undefined;

/**
 * A broker for this test. Mosquitto: a fresh one per test (with `options`),
 * stopped when the test ends. ejabberd: one per test file (its start-up
 * takes seconds), shared by the file's tests (they use unique topics and
 * client ids) and killed when the file's process exits.
 */
export async function broker(
  t: TestContext,
  name: BrokerName,
  options?: MosquittoOptions,
): Promise<TestBroker> {
  if (name === 'mosquitto') {
    const b = await mosquitto(t, options);
    return { name, url: b.url, port: b.port, auth: {} };
  }
  if (options !== undefined) throw new Error('broker(): Mosquitto options given for ejabberd');
  sharedEjabberd ??= startEjabberd({ unref: true });
  const b = await sharedEjabberd;
  return { name, url: b.url, port: b.port, auth: { ...b.credentials } };
}

/** Starts an in-process Aedes broker (MQTT 3.1.1) for this test. */
export async function aedes(t: TestContext): Promise<AedesBroker> {
  const broker = await startAedes();
  t.after(() => broker.stop());
  return broker;
}

/** Client defaults for tests: quick reconnects, and a ready timeout so a broken test fails instead of hanging. */
const DEFAULTS: NodeClientOptions = {
  reconnectPeriod: 100,
  reconnectPeriodMax: 1000,
  quietPeriod: 50,
  readyTimeout: WAIT,
};

/** Connects one of our clients to a broker URL or over a Link; it is ended when the test ends. */
export async function client(
  t: TestContext,
  target: string | Link,
  options: NodeClientOptions = {},
): Promise<Client> {
  const where = typeof target === 'string' ? { url: target } : { link: target };
  const c = await connect({ ...DEFAULTS, ...where, ...options });
  t.after(() => c.end());
  return c;
}

/** Creates (and starts) one of our clients without waiting for it; ended when the test ends. */
export function started(t: TestContext, options: NodeClientOptions): Client {
  const c = createClient({ ...DEFAULTS, ...options }).start();
  t.after(() => c.end());
  return c;
}

/** Resolves with the next `event` of `client` that passes `accept`; rejects after `ms`. */
export function nextEvent<K extends keyof ClientEvents>(
  emitter: Client,
  event: K,
  accept: (value: ClientEvents[K]) => boolean = () => true,
  ms = WAIT,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${String(event)}' event within ${ms} ms`));
    }, ms);
    const off = emitter.on(event, (value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Takes `count` messages from a subscription's iterator; rejects if they do not all come within `ms`. */
export async function take(subscription: Subscription, count: number, ms = WAIT): Promise<Message[]> {
  const messages: Message[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`got ${messages.length} of ${count} messages within ${ms} ms`)),
      ms,
    );
  });
  try {
    while (messages.length < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) throw new Error(`subscription ended after ${messages.length} of ${count} messages`);
      messages.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return messages;
}

/**
 * Asserts that nothing reached `subscription` before now: `publisher`
 * publishes a marker to `markerTopic` (which the subscription must match),
 * and the next message must be that marker. Anything the broker queued for
 * the subscriber before the marker (a retained message, a will) shows up first.
 */
export async function nothingBefore(subscription: Subscription, publisher: Client, markerTopic: string) {
  const marker = `marker ${randomUUID()}`;
  await publisher.publish(markerTopic, marker, { qos: 1 });
  const [next] = await take(subscription, 1);
  assert.equal(next.text, marker, `expected nothing before the marker, got ${next.topic}: ${next.text}`);
}

/** Waits until `condition()` holds, checking every 20 ms; fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An assert.rejects / assert.throws matcher for an MqttError with `code` (and `reasonCode`). */
export function mqttError(code: MqttErrorCode, reasonCode?: number) {
  return (error: unknown) => {
    assert.ok(error instanceof MqttError, `expected an MqttError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (reasonCode !== undefined) assert.equal(error.reasonCode, reasonCode, error.message);
    return true;
  };
}

/**
 * A TCP link the test can cut like a dying network, and that records the
 * packets going each way (decoded with our codec). `cut()` destroys the
 * open socket (the client sends no DISCONNECT, the broker sees the link
 * die); while `blocked`, every new open fails as an unreachable broker would.
 */
export interface TestLink extends Link {
  blocked: boolean;
  /** Connections opened so far. */
  readonly opened: number;
  /** Packets the client wrote, over every connection. */
  readonly sent: Packet[];
  /** Packets the client received, over every connection. */
  readonly received: Packet[];
  /** Both, in the order they crossed the link: `>` sent, `<` received. */
  readonly trace: ['>' | '<', Packet][];
  cut(): void;
  /** Writes raw bytes on the open connection, behind the client's back (to make a broker react). */
  inject(bytes: Uint8Array): void;
}

export function testLink(port: number, protocolVersion: 4 | 5 = 5): TestLink {
  const inner = tcpLink({ host: '127.0.0.1', port });
  let current: Connection | undefined;
  let opened = 0;
  const sent: Packet[] = [];
  const received: Packet[] = [];
  const trace: ['>' | '<', Packet][] = [];
  const drain = (decoder: PacketDecoder, bytes: Uint8Array, into: Packet[]) => {
    decoder.push(bytes);
    for (let p = decoder.next(); p !== undefined; p = decoder.next()) {
      into.push(p);
      trace.push([into === sent ? '>' : '<', p]);
    }
  };
  const link: TestLink = {
    name: `test ${inner.name}`,
    blocked: false,
    sent,
    received,
    trace,
    get opened() {
      return opened;
    },
    async open(handlers, signal) {
      if (link.blocked) throw new MqttError('LINK_ERROR', 'the test blocks this link');
      const outDecoder = new PacketDecoder({ protocolVersion });
      const inDecoder = new PacketDecoder({ protocolVersion });
      const connection = await inner.open(
        {
          ...handlers,
          data: (chunk) => {
            drain(inDecoder, chunk, received);
            handlers.data(chunk);
          },
        },
        signal,
      );
      current = connection;
      opened++;
      return {
        write(bytes) {
          drain(outDecoder, bytes, sent);
          return connection.write(bytes);
        },
        get bufferedAmount() {
          return connection.bufferedAmount;
        },
        close: () => connection.close(),
      };
    },
    cut() {
      current?.close();
      current = undefined;
    },
    inject(bytes) {
      current?.write(bytes);
    },
  };
  return link;
}
