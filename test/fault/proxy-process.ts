// Parent side of proxy-main.ts: runs the fault proxy as a child process in a
// namespace (normally the broker's, in front of the broker's port) and
// drives it. Every method resolves once the proxy has applied the change, so
// a test knows e.g. that a trigger is armed before it goes on.

import type { WaitOptions } from './child.ts';
import { type ExitEvent, JsonChild } from './child.ts';
import type { FaultNet, Side } from './netns.ts';
import type { CutTrigger, ProxyEvent } from './proxy.ts';

/** Options for {@link ProxyProcess.start}. */
export interface ProxyProcessOptions {
  net: FaultNet;
  /** Namespace to run in. Default `'broker'`. */
  side?: Side;
  /** Where to forward to. Default `127.0.0.1`. */
  targetHost?: string;
  targetPort: number;
  /** Port to listen on (all addresses). Default 1884. */
  listenPort?: number;
  /** Name in logs and errors. Default `proxy`. */
  name?: string;
}

type ProxyChildEvent = ProxyEvent | { ev: 'ready'; port: number } | { ev: 'ok' | 'error'; id: number };

const MAIN = new URL('./proxy-main.ts', import.meta.url).pathname;

export class ProxyProcess {
  private constructor(
    readonly child: JsonChild<ProxyChildEvent>,
    /** The port the proxy listens on, in its namespace. */
    readonly port: number,
  ) {}

  /** Starts the proxy and waits until it listens. */
  static async start(options: ProxyProcessOptions): Promise<ProxyProcess> {
    const listenPort = options.listenPort ?? 1884;
    const child = new JsonChild<ProxyChildEvent>({
      name: options.name ?? 'proxy',
      net: options.net,
      side: options.side ?? 'broker',
      argv: [
        process.execPath,
        '--import',
        'tsx',
        MAIN,
        '--target-host',
        options.targetHost ?? '127.0.0.1',
        '--target-port',
        String(options.targetPort),
        '--listen-port',
        String(listenPort),
      ],
    });
    await child.start();
    return new ProxyProcess(child, listenPort);
  }

  /** Every event the proxy reported so far. */
  get events(): readonly (ProxyChildEvent | ExitEvent)[] {
    return this.child.events;
  }

  /** See {@link FaultProxy.delay}. */
  delay(ms: number, jitterMs = 0): Promise<void> {
    return this.child.request({ cmd: 'delay', ms, jitter: jitterMs });
  }

  /** See {@link FaultProxy.stall}. */
  stall(ms: number): Promise<void> {
    return this.child.request({ cmd: 'stall', ms });
  }

  /** See {@link FaultProxy.cut}. */
  cut(options: { reset?: boolean } = {}): Promise<void> {
    return this.child.request({ cmd: 'cut', reset: options.reset === true });
  }

  /** See {@link FaultProxy.cutAfter}; wait for the cut with {@link waitForCut}. */
  cutAfter(trigger: CutTrigger): Promise<void> {
    return this.child.request({ cmd: 'cutAfter', ...trigger });
  }

  /** See {@link FaultProxy.trace}. */
  trace(on = true): Promise<void> {
    return this.child.request({ cmd: 'trace', on });
  }

  /** See {@link FaultProxy.refuse}. */
  refuse(on = true): Promise<void> {
    return this.child.request({ cmd: 'refuse', on });
  }

  /**
   * Resolves with the next `cut` event (or one already reported since
   * `options.from`), of the given `reason` when one is given (e.g. `'trigger'`
   * after {@link cutAfter}: a connection failing meanwhile is reported as a
   * cut too, with reason `'error'`). Default: any cut.
   */
  async waitForCut(
    options: WaitOptions & { reason?: 'trigger' | 'manual' | 'error' } = {},
  ): Promise<ProxyEvent & { ev: 'cut' }> {
    const { reason, ...wait } = options;
    const event = await this.child.waitFor(
      (e) => e.ev === 'cut' && (reason === undefined || (e as ProxyEvent & { ev: 'cut' }).reason === reason),
      { what: `a cut${reason ? ` (${reason})` : ''}`, ...wait },
    );
    return event as ProxyEvent & { ev: 'cut' };
  }

  /** Stops the proxy (its connections are reset). Idempotent. */
  async close(): Promise<void> {
    if (!this.child.running) return;
    this.child.send({ cmd: 'close' });
    await this.child.waitExit(5000);
  }
}
