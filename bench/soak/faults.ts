/**
 * The soak's fault repertoire and its seeded schedule. Each fault is applied
 * to the shared network (or broker, proxy, client processes) and removed;
 * `restoredAt` is when the link was whole again, from which recovery is
 * measured. Every kind of the fault harness (test/fault/) is here.
 */
import type { NsBroker } from '../../test/fault/broker.ts';
import type { FaultNet } from '../../test/fault/netns.ts';
import type { ProxyProcess } from '../../test/fault/proxy-process.ts';

export const FAULT_KINDS = [
  'link-down',
  'loss',
  'slow',
  'half-open',
  'delay',
  'stall',
  'cut',
  'broker-kill',
  'broker-restart',
  'client-kill',
  'subscriber-kill',
  'qos2-cut-out',
  'qos2-cut-in',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a fault needs to act on. */
export interface FaultTargets {
  net: FaultNet;
  broker: NsBroker;
  proxy: ProxyProcess;
  /** Broker kill -9 happened at `t` (for the checkers' broker attribution). */
  brokerKilled(t: number): void;
  /** kill -9 every device process, and start them again after `ms`. */
  killClients(ms: number): Promise<void>;
  /**
   * kill -9 the broker-side peers (the subscribers of the device's streams; the
   * receiving side's crash), and start them again after `ms`.
   */
  killSubscribers(ms: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AppliedFault {
  kind: FaultKind;
  /** Human description with its parameters. */
  detail: string;
  startedAt: number;
  restoredAt: number;
}

/**
 * Applies one fault of `kind` with parameters drawn from `random`, holds it,
 * removes it. Resolves once the link is whole again.
 */
export async function applyFault(
  kind: FaultKind,
  random: () => number,
  targets: FaultTargets,
): Promise<AppliedFault> {
  const { net, broker, proxy } = targets;
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const startedAt = Date.now();
  let detail: string = kind;
  switch (kind) {
    case 'link-down': {
      const ms = between(800, 2000);
      detail = `link down ${ms} ms (an access point outage)`;
      await net.linkDown();
      await sleep(ms);
      await net.linkUp();
      break;
    }
    case 'loss': {
      const p = between(10, 40) / 100;
      const ms = between(1500, 3000);
      detail = `${Math.round(p * 100)}% packet loss for ${ms} ms`;
      await net.loss(p);
      await sleep(ms);
      await net.clearLoss();
      break;
    }
    case 'slow': {
      const kbit = between(32, 128);
      const ms = between(1500, 3000);
      detail = `${kbit} kbit/s link for ${ms} ms`;
      await net.slow(kbit);
      await sleep(ms);
      await net.clearSlow();
      break;
    }
    case 'half-open': {
      const ms = between(4500, 5500);
      detail = `every packet dropped both ways for ${ms} ms (half-open, no RST)`;
      await net.blackhole();
      await sleep(ms);
      await net.clearBlackhole();
      break;
    }
    case 'delay': {
      const ms = between(100, 500);
      const jitter = between(50, 200);
      const hold = between(1500, 2500);
      detail = `delay ${ms} ± ${jitter} ms for ${hold} ms`;
      await proxy.delay(ms, jitter);
      await sleep(hold);
      await proxy.delay(0, 0);
      break;
    }
    case 'stall': {
      const ms = between(2000, 4500);
      detail = `proxy stalls every byte for ${ms} ms`;
      await proxy.stall(ms);
      await sleep(ms);
      break;
    }
    case 'cut': {
      const reset = random() < 0.5;
      detail = `proxy cuts every connection${reset ? ' with RST' : ''}`;
      await proxy.cut({ reset });
      break;
    }
    case 'broker-kill': {
      const ms = between(500, 1500);
      detail = `broker kill -9, restarted after ${ms} ms`;
      targets.brokerKilled(await broker.kill9());
      await sleep(ms);
      await broker.start();
      break;
    }
    case 'broker-restart':
      detail = 'broker graceful restart';
      await broker.restart();
      break;
    case 'client-kill': {
      const ms = between(500, 1500);
      detail = `client processes kill -9, restarted after ${ms} ms`;
      await targets.killClients(ms);
      break;
    }
    case 'subscriber-kill': {
      const ms = between(500, 1500);
      detail = `subscriber processes (broker side) kill -9, restarted after ${ms} ms`;
      await targets.killSubscribers(ms);
      break;
    }
    case 'qos2-cut-out':
    case 'qos2-cut-in': {
      // Out: the broker's PUBREC reaches the client, its PUBREL never reaches the broker.
      // In: the client's PUBREC reaches the broker, the broker's PUBREL never reaches the client.
      const direction = kind === 'qos2-cut-out' ? 'toClient' : 'toBroker';
      detail = `cut right after a PUBREC ${direction === 'toClient' ? 'to the client' : 'to the broker'} (mid QoS 2 handshake)`;
      const from = proxy.events.length;
      await proxy.cutAfter({ type: 'PUBREC', direction });
      await proxy.waitForCut({ from, reason: 'trigger', timeoutMs: 10_000 }).catch(() => {
        detail += ' (no QoS 2 traffic came: not cut)';
      });
      break;
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
  return { kind, detail, startedAt, restoredAt: Date.now() };
}

/**
 * The schedule: `count` faults, every kind at least once (in a seeded order)
 * before kinds repeat at random, so a short run still covers them all.
 */
export function schedule(count: number, random: () => number): FaultKind[] {
  const kinds: FaultKind[] = [];
  while (kinds.length < count) {
    const round = [...FAULT_KINDS];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j], round[i]];
    }
    kinds.push(...round);
  }
  return kinds.slice(0, count);
}
