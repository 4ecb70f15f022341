/**
 * One scenario suite for every transport a device can use to reach the MQTT-SN gateway (UDP, the
 * simulated radio): each transport's test file is a few lines that say how to start a gateway and
 * a device on it. Real Mosquitto (with persistence, so a restart keeps clean=0 sessions), the real
 * gateway, SnClients; every stream counted per sequence number: no QoS 1 loss, no QoS 2 loss or
 * duplicate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../../src/client/client.ts';
import { connect } from '../../src/node.ts';
import type { SnClient, SnClientOptions } from '../../src/sn/client.ts';
import type { SnGateway } from '../../src/sn/gateway/gateway.ts';
import type { SnGatewayOptions } from '../../src/sn/gateway/options.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';

/** A gateway as a scenario drives it. */
export interface ScenarioGateway {
  readonly gateway: SnGateway;
  /** A device on this transport (not yet connected). */
  device(options: SnClientOptions): Promise<SnClient>;
  /** Stops the gateway (its broker connections cut) and starts a new one where devices find it. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** How a transport's test file starts its gateway. */
export interface SnTransportUnderTest {
  name: string;
  /** Streams are shorter over a slow lossy link; every count still has to be exact. */
  messages: number;
  /** Tretry for devices on this transport, ms. */
  retryInterval: number;
  gateway(options: SnGatewayOptions): Promise<ScenarioGateway>;
}

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const PREDEFINED_UP = 7;
const PREDEFINED_DOWN = 8;

class Tally {
  private readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  /** Every `prefix i` for i < n arrived; exactly once when `once`. */
  check(prefix: string, n: number, once: boolean): void {
    const lost: number[] = [];
    const twice: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = this.get(`${prefix} ${i}`);
      if (c === 0) lost.push(i);
      if (once && c > 1) twice.push(i);
    }
    assert.deepEqual(lost, [], `${prefix}: ${lost.length} lost`);
    assert.deepEqual(twice, [], `${prefix}: ${twice.length} duplicated`);
  }
  complete(prefix: string, n: number): boolean {
    for (let i = 0; i < n; i++) if (this.get(`${prefix} ${i}`) === 0) return false;
    return true;
  }
}

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function runSnScenarios(t: SnTransportUnderTest): void {
  const N = t.messages;
  let broker: MosquittoBroker;
  const dir = mkdtempSync(join(tmpdir(), 'sn-scenarios-'));
  const open: { close(): unknown }[] = [];
  const clients: Client[] = [];

  async function gateway(extra: Partial<SnGatewayOptions> = {}): Promise<ScenarioGateway> {
    const g = await t.gateway({
      broker: broker.url,
      retryInterval: t.retryInterval,
      predefinedTopics: new Map([
        [PREDEFINED_UP, 'sn/sc/pre/up'],
        [PREDEFINED_DOWN, 'sn/sc/pre/down'],
      ]),
      ...extra,
    });
    open.push(g);
    return g;
  }
  async function device(g: ScenarioGateway, o: Partial<SnClientOptions> & { clientId: string }) {
    const d = await g.device({
      retryInterval: t.retryInterval,
      retries: 10,
      predefinedTopics: new Map([
        [PREDEFINED_UP, 'sn/sc/pre/up'],
        [PREDEFINED_DOWN, 'sn/sc/pre/down'],
      ]),
      ...o,
    });
    open.push(d);
    return d;
  }
  /** A plain MQTT client; with a client id its session is kept (clean=0), so a broker restart loses it nothing. */
  async function mqtt(filter?: string, into?: Tally, clientId?: string): Promise<Client> {
    const session = clientId === undefined ? { clean: true } : { clean: false, clientId };
    const c = await connect({ url: broker.url, ...session, reconnectPeriod: 100, quietPeriod: 100 });
    clients.push(c);
    if (filter && into)
      await c.subscribe(filter, { qos: 2, onMessage: (m) => into.add(`${m.topic} ${m.text}`) });
    return c;
  }
  const onDevice = (d: SnClient, into: Tally) =>
    d.onMessage((m) => into.add(`${m.topic ?? '?'} ${decode(m.data)}`));

  describe(`MQTT-SN scenarios over ${t.name}`, () => {
    before(async () => {
      broker = await startMosquitto({ config: ['persistence true', 'autosave_interval 1'] });
    });
    after(async () => {
      for (const x of open.reverse()) await x.close();
      for (const c of clients) await c.end();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('every QoS with every topic id type, both ways', async () => {
      const g = await gateway();
      const up = new Tally();
      await mqtt('sn/sc/#', up);
      await mqtt('ab', up);
      const d = await device(g, { clientId: `${t.name}-ids` });
      const down = new Tally();
      onDevice(d, down);
      await d.connect();
      await d.subscribe('sn/sc/down/n', 2);
      await d.subscribe({ type: 'predefined', id: PREDEFINED_DOWN }, 2);
      await d.subscribe({ type: 'short', name: 'dn' }, 2);
      const feeder = await mqtt();
      for (const qos of [0, 1, 2] as const) {
        await d.publish('sn/sc/up/n', text(`${qos}`), { qos });
        await d.publish({ type: 'predefined', id: PREDEFINED_UP }, text(`${qos}`), { qos });
        await d.publish({ type: 'short', name: 'ab' }, text(`${qos}`), { qos });
        for (const topic of ['sn/sc/down/n', 'sn/sc/pre/down', 'dn'])
          await feeder.publish(topic, `${qos}`, { qos });
      }
      const names = {
        up: ['sn/sc/up/n', 'sn/sc/pre/up', 'ab'],
        down: ['sn/sc/down/n', 'sn/sc/pre/down', 'dn'],
      };
      await until('QoS 1 and 2 both ways', () =>
        [1, 2].every(
          (q) =>
            names.up.every((n) => up.get(`${n} ${q}`) > 0) &&
            names.down.every((n) => down.get(`${n} ${q}`) > 0),
        ),
      );
      await new Promise((r) => setTimeout(r, 200));
      for (const [tally, list] of [
        [up, names.up],
        [down, names.down],
      ] as const)
        for (const n of list) {
          assert.ok(tally.get(`${n} 0`) <= 1, `${n} QoS 0 twice`);
          assert.equal(tally.get(`${n} 1`) >= 1, true, `${n} QoS 1 lost`);
          assert.equal(tally.get(`${n} 2`), 1, `${n} QoS 2 not exactly once`);
        }
      await d.disconnect();
    });

    it('the will dialogue, and the will published on keepalive loss', async () => {
      const g = await gateway();
      const wills = new Tally();
      await mqtt('sn/sc/will/#', wills);
      const d = await device(g, {
        clientId: `${t.name}-will`,
        keepalive: 1,
        will: { topic: 'sn/sc/will/dev', payload: text('gone'), qos: 1 },
      });
      await d.connect();
      await d.updateWillMessage(text('gone for good'));
      d.close(); // silence from here on: no PINGREQ
      await until('the will', () => wills.get('sn/sc/will/dev gone for good') > 0, 10_000);
      assert.equal(wills.get('sn/sc/will/dev gone'), 0);
    });

    it('a sleeping device receives 55 QoS 1 messages buffered while asleep, in order, then PINGRESP', async () => {
      const g = await gateway({ brokerKeepalive: 1 });
      const d = await device(g, { clientId: `${t.name}-sleeper`, keepalive: 1, cleanSession: false });
      const got: string[] = [];
      d.onMessage((m) => void got.push(decode(m.data)));
      await d.connect();
      await d.subscribe('sn/sc/sleep', 1);
      await d.sleep(5);
      const feeder = await mqtt();
      const M = 55;
      for (let i = 0; i < M; i++) await feeder.publish('sn/sc/sleep', `${i}`, { qos: 1 });
      // Asleep past the broker keepalive: the gateway keeps the broker connection up for it.
      await new Promise((r) => setTimeout(r, 1_600));
      assert.equal(got.length, 0, 'delivered while asleep');
      await d.awake();
      assert.deepEqual(
        got,
        Array.from({ length: M }, (_, i) => `${i}`),
      );
      assert.equal(g.gateway.deviceState(`${t.name}-sleeper`), 'asleep');
      await d.connect();
      await d.disconnect();
    });

    it('long-lived mixed QoS 1 and 2 both ways on one connection', async () => {
      const g = await gateway();
      const up = new Tally();
      await mqtt('sn/sc/mixed/up', up);
      const d = await device(g, { clientId: `${t.name}-mixed` });
      const down = new Tally();
      onDevice(d, down);
      await d.connect();
      await d.subscribe('sn/sc/mixed/down', 2);
      const feeder = await mqtt();
      const M = 2 * N;
      const sent = [];
      for (let i = 0; i < M; i++)
        sent.push(feeder.publish('sn/sc/mixed/down', `${i}`, { qos: i % 2 === 0 ? 1 : 2 }));
      for (let i = 0; i < M; i++)
        await d.publish('sn/sc/mixed/up', text(`${i}`), { qos: i % 2 === 0 ? 1 : 2 });
      await Promise.all(sent);
      await until(
        'both streams',
        () => up.complete('sn/sc/mixed/up', M) && down.complete('sn/sc/mixed/down', M),
      );
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 1; i < M; i += 2) {
        assert.equal(up.get(`sn/sc/mixed/up ${i}`), 1, `up QoS 2 ${i}`);
        assert.equal(down.get(`sn/sc/mixed/down ${i}`), 1, `down QoS 2 ${i}`);
      }
      await d.disconnect();
    });

    for (const outage of ['broker', 'gateway'] as const)
      it(`clean=0 streams of QoS 1 and 2 both ways across a ${outage} restart mid-stream`, async () => {
        const g = await gateway(outage === 'gateway' ? { stateDir: join(dir, `${t.name}-state`) } : {});
        const up = new Tally();
        await mqtt(`sn/sc/${outage}/up/#`, up, `${t.name}-${outage}-watcher`);
        const d = await device(g, { clientId: `${t.name}-${outage}`, cleanSession: false });
        const down = new Tally();
        onDevice(d, down);
        await d.connect();
        await d.subscribe(`sn/sc/${outage}/down/#`, 2);
        const feeder = await mqtt(undefined, undefined, `${t.name}-${outage}-feeder`);
        const flows: Promise<unknown>[] = [];
        const stream = async (from: number, to: number) => {
          for (let i = from; i < to; i++)
            for (const q of [1, 2] as const) {
              flows.push(feeder.publish(`sn/sc/${outage}/down/q${q}`, `${i}`, { qos: q }));
              await d.publish(`sn/sc/${outage}/up/q${q}`, text(`${i}`), { qos: q });
            }
        };
        await stream(0, N / 2);
        const restarted = outage === 'broker' ? broker.restart() : g.restart();
        const second = stream(N / 2, N);
        await restarted;
        await second;
        await Promise.all(flows);
        const prefixes = [1, 2].flatMap((q) => [`sn/sc/${outage}/up/q${q}`, `sn/sc/${outage}/down/q${q}`]);
        await until('every stream', () =>
          prefixes.every((p) => (p.includes('/up/') ? up : down).complete(p, N)),
        );
        await new Promise((r) => setTimeout(r, 300));
        for (const q of [1, 2]) {
          up.check(`sn/sc/${outage}/up/q${q}`, N, q === 2);
          down.check(`sn/sc/${outage}/down/q${q}`, N, q === 2);
        }
        console.log(`${t.name}, ${outage} restart: device reconnects ${d.reconnects}`);
        await d.disconnect();
      });
  });
}
