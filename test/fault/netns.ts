// Two Linux network namespaces joined by a veth pair, with faults as methods:
// the broker runs in one ("broker side"), the device under test in the other
// ("client side"), and the faults act on the cable between them. Rules
// (iptables, tc) go into the client namespace wherever possible, so the broker
// side stays pristine and a peer client connecting to the broker over the
// broker namespace's loopback sees no fault at all. Deleting a namespace
// removes its veth end and its rules, so teardown cannot leak them.
//
// Needs root, iproute2 and iptables. The kernel here has no netem qdisc, so
// loss is iptables `statistic` DROP, a slow link is `tc tbf`, and delay/stalls
// belong to the userspace proxy (proxy.ts).
import { type ChildProcess, execFile, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { killPid, onExit } from './cleanup.ts';

const run = promisify(execFile);

/** Which namespace: the broker's or the device's. */
export type Side = 'broker' | 'client';

/** Which traffic a fault applies to, seen from the client: `in` = broker→client, `out` = client→broker. */
export type FaultDirection = 'in' | 'out' | 'both';

/** Options for {@link FaultNet.slow}. */
export interface SlowOptions {
  /** Which way to slow down. Default `'both'` (`'in'` puts a qdisc on the broker-side veth end). */
  direction?: FaultDirection;
  /** Longest a packet may wait in the shaper before it is dropped, in ms. Default 400. */
  latencyMs?: number;
  /** Bucket size in bytes (how much may pass at line rate). Default 4096. */
  burstBytes?: number;
}

/** See {@link FaultNet.stats}. */
export interface FaultStats {
  iptablesDropped: number;
  shaperDropped: number;
  shaperOverlimits: number;
}

/** Namespace names look like `sfm-<owner pid>-<n>-b`, so a sweep can tell whose they are. */
const NAME = /^sfm-(\d+)-(\d+)-[bc]$/;
let counter = 0;
let swept = false;

/** Why the fault tests cannot run here (not root, a tool missing), or undefined when they can. */
export function faultNetUnsupported(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables, tc)';
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/iptables', '/usr/sbin/tc']) {
    if (!existsSync(tool) && !existsSync(tool.replace('/usr/sbin/', '/sbin/'))) {
      return `${tool} missing: run scripts/ensure-system-deps.sh`;
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidsIn(ns: string): number[] {
  try {
    const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: 'pipe' });
    return out.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kills what is left in a namespace of ours (only our harness starts processes there), then deletes it. */
function removeNamespaceSync(ns: string): void {
  for (const pid of pidsIn(ns)) killPid(pid);
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/**
 * Deletes `sfm-*` namespaces left by harness processes that no longer exist
 * (a run killed with SIGKILL cannot clean up after itself), with whatever
 * processes they still hold. Namespaces of live processes are left alone.
 * Runs once per process from {@link FaultNet.create}; returns the names removed.
 */
export function sweepStaleNamespaces(): string[] {
  let listing = '';
  try {
    listing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: 'pipe' });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0];
    const match = NAME.exec(name);
    if (match === null || alive(Number(match[1]))) continue;
    removeNamespaceSync(name);
    removed.push(name);
  }
  return removed;
}

/**
 * A broker namespace and a client namespace joined by a veth pair on a
 * random private /24 (broker `.1`, client `.2`), loopback up in both.
 * Create with {@link FaultNet.create}; always {@link FaultNet.destroy} (it is
 * also done at process exit).
 */
export class FaultNet {
  /** Namespace names, `sfm-<pid>-<n>-b` and `...-c`. */
  readonly ns: Readonly<Record<Side, string>>;
  /** veth end in each namespace (named after the namespace, <= 15 characters). */
  readonly iface: Readonly<Record<Side, string>>;
  /** Addresses on the veth: the broker side listens on `ip.broker`. */
  readonly ip: Readonly<Record<Side, string>>;
  private readonly rules = new Map<string, string[][]>();
  private readonly shaped = new Set<Side>();
  private destroyed = false;
  private readonly unregister: () => void;

  private constructor(id: number, octets: [number, number]) {
    const base = `sfm-${process.pid}-${id}`;
    this.ns = { broker: `${base}-b`, client: `${base}-c` };
    const short = `s${process.pid.toString(36)}${id.toString(36)}`;
    this.iface = { broker: `${short}b`, client: `${short}c` };
    const net = `10.${octets[0]}.${octets[1]}`;
    this.ip = { broker: `${net}.1`, client: `${net}.2` };
    this.unregister = onExit('netns', () => this.destroySync());
  }

  /** Creates both namespaces and the veth between them (after sweeping stale ones once per process). */
  static async create(): Promise<FaultNet> {
    if (!swept) {
      swept = true;
      sweepStaleNamespaces();
    }
    const octets: [number, number] = [Math.floor(Math.random() * 256), 1 + Math.floor(Math.random() * 254)];
    const net = new FaultNet(counter++, octets);
    try {
      await net.setUp();
    } catch (error) {
      await net.destroy();
      throw error;
    }
    return net;
  }

  private async setUp(): Promise<void> {
    const { ns, iface, ip } = this;
    await run('ip', ['netns', 'add', ns.broker]);
    await run('ip', ['netns', 'add', ns.client]);
    // Created directly inside the namespaces: the names never exist in the root
    // namespace, so they cannot collide with anyone else's interfaces.
    await run('ip', [
      'link',
      'add',
      iface.broker,
      'netns',
      ns.broker,
      'type',
      'veth',
      'peer',
      'name',
      iface.client,
      'netns',
      ns.client,
    ]);
    for (const side of ['broker', 'client'] as const) {
      await run('ip', ['-n', ns[side], 'addr', 'add', `${ip[side]}/24`, 'dev', iface[side]]);
      await run('ip', ['-n', ns[side], 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', ns[side], 'link', 'set', iface[side], 'up']);
    }
  }

  /** Runs a command to completion inside a namespace and returns its stdout; rejects with its stderr. */
  async exec(side: Side, argv: string[]): Promise<string> {
    try {
      const { stdout } = await run('ip', ['netns', 'exec', this.ns[side], ...argv]);
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`in ${this.ns[side]}: ${argv.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
    }
  }

  /**
   * Starts a long-running process inside a namespace. `ip netns exec` execs
   * the command, so the child's PID is the command's own: signals reach it.
   * The caller owns the child (kill it by PID); {@link destroy} kills what is left.
   */
  spawn(side: Side, argv: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.ns[side], ...argv], options);
  }

  /** AP outage: the client's veth goes down (routes vanish, packets are not delivered either way). */
  async linkDown(): Promise<void> {
    await run('ip', ['-n', this.ns.client, 'link', 'set', this.iface.client, 'down']);
  }

  /** Ends {@link linkDown}. */
  async linkUp(): Promise<void> {
    await run('ip', ['-n', this.ns.client, 'link', 'set', this.iface.client, 'up']);
  }

  /** Drops each packet with probability `p` (0..1); replaces an earlier loss setting. Default both ways. */
  async loss(p: number, direction: FaultDirection = 'both'): Promise<void> {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`loss probability ${p} is not in [0, 1]`);
    await this.clearLoss();
    const match = ['-m', 'statistic', '--mode', 'random', '--probability', String(p)];
    await this.addRules('loss', direction, [...match, '-j', 'DROP']);
  }

  /** Ends {@link loss}. */
  async clearLoss(): Promise<void> {
    await this.removeRules('loss');
  }

  /**
   * Half-open connection: every packet is dropped both ways, silently (no
   * RST, no ICMP), so neither end learns that the connection is gone except by
   * its own timeouts.
   */
  async blackhole(direction: FaultDirection = 'both'): Promise<void> {
    await this.clearBlackhole();
    await this.addRules('blackhole', direction, ['-j', 'DROP']);
  }

  /** Ends {@link blackhole}. */
  async clearBlackhole(): Promise<void> {
    await this.removeRules('blackhole');
  }

  /**
   * Connection refused: TCP segments towards the broker are answered with a
   * RST (new connections fail at once, open ones are reset on their next send).
   */
  async refuse(): Promise<void> {
    await this.removeRules('refuse');
    await this.addRules('refuse', 'out', ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
  }

  /** Ends {@link refuse}. */
  async clearRefuse(): Promise<void> {
    await this.removeRules('refuse');
  }

  /** A slow link: token bucket at `rateKbit` kbit/s (tc tbf); replaces an earlier setting. */
  async slow(rateKbit: number, options: SlowOptions = {}): Promise<void> {
    const direction = options.direction ?? 'both';
    const latency = `${options.latencyMs ?? 400}ms`;
    const burst = String(options.burstBytes ?? 4096);
    await this.clearSlow();
    // tc shapes egress only: client→broker on the client's veth end, broker→client on the broker's.
    const sides: Side[] =
      direction === 'both' ? ['client', 'broker'] : direction === 'out' ? ['client'] : ['broker'];
    for (const side of sides) {
      this.shaped.add(side);
      await this.tc(side, [
        'replace',
        'root',
        'tbf',
        'rate',
        `${rateKbit}kbit`,
        'burst',
        burst,
        'latency',
        latency,
      ]);
    }
  }

  /** Ends {@link slow}. */
  async clearSlow(): Promise<void> {
    for (const side of [...this.shaped]) {
      this.shaped.delete(side);
      await this.tc(side, ['del', 'root']);
    }
  }

  /**
   * Evidence that the faults bit: packets dropped by the active iptables
   * rules (loss, blackhole, refuse) and by the shapers, and how often a
   * shaper had to hold packets back (tbf overlimits). Counters start again
   * when a fault is set anew.
   */
  async stats(): Promise<FaultStats> {
    const stats: FaultStats = { iptablesDropped: 0, shaperDropped: 0, shaperOverlimits: 0 };
    const rules = await this.exec('client', ['iptables', '-w', '-L', '-v', '-x', '-n']);
    for (const line of rules.split('\n')) {
      const [pkts, , target] = line.trim().split(/\s+/);
      if ((target === 'DROP' || target === 'REJECT') && /^\d+$/.test(pkts))
        stats.iptablesDropped += Number(pkts);
    }
    for (const side of this.shaped) {
      const out = await this.exec(side, ['tc', '-s', 'qdisc', 'show', 'dev', this.iface[side]]);
      const m = /dropped (\d+), overlimits (\d+)/.exec(out);
      if (m) {
        stats.shaperDropped += Number(m[1]);
        stats.shaperOverlimits += Number(m[2]);
      }
    }
    return stats;
  }

  /** Ends every fault: link up, no loss, no blackhole, no refusal, full speed. */
  async clearAll(): Promise<void> {
    await this.linkUp();
    for (const kind of [...this.rules.keys()]) await this.removeRules(kind);
    await this.clearSlow();
  }

  /** Kills what still runs in the namespaces and deletes them (with the veth and all rules). Idempotent. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.unregister();
    removeNamespaceSync(this.ns.client);
    removeNamespaceSync(this.ns.broker);
  }

  private tc(side: Side, args: string[]): Promise<string> {
    const [verb, ...rest] = args;
    return this.exec(side, ['tc', 'qdisc', verb, 'dev', this.iface[side], ...rest]);
  }

  private async addRules(kind: string, direction: FaultDirection, target: string[]): Promise<void> {
    const specs: string[][] = [];
    if (direction !== 'out') specs.push(['INPUT', '-i', this.iface.client, ...target]);
    if (direction !== 'in') specs.push(['OUTPUT', '-o', this.iface.client, ...target]);
    this.rules.set(kind, specs);
    // -w: the xtables lock is shared by every namespace, and parallel tests take it too.
    for (const spec of specs) await this.exec('client', ['iptables', '-w', '-A', ...spec]);
  }

  private async removeRules(kind: string): Promise<void> {
    const specs = this.rules.get(kind) ?? [];
    this.rules.delete(kind);
    for (const spec of specs) await this.exec('client', ['iptables', '-w', '-D', ...spec]);
  }
}
