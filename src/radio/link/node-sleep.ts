/**
 * A sleeping node's side of its link (stream-sleep.ts has the protocol):
 * `sleep(ms)` asks the gateway through the current stream and resolves once
 * it is granted, with the radio's receiver then off (`Radio.standby`) until
 * the time is up or `wake()`. `radioLink()` and `roamingLink()` share it.
 * Portable.
 */
import { MqttError } from '../../errors.ts';
import type { Radio } from '../types.ts';
import type { StreamHandle } from './endpoint-types.ts';

export class NodeSleep {
  private handle: StreamHandle | undefined;
  private waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private sleeping = false;

  constructor(
    private readonly radio: Radio,
    private readonly name: string,
  ) {}

  /** True while asleep. */
  get asleep(): boolean {
    return this.sleeping;
  }

  /** A new stream (its events come through the hooks below). */
  attach(handle: StreamHandle): void {
    this.ended();
    this.handle = handle;
  }

  /** The gateway granted the sleep: receiver off. */
  readonly fellAsleep = (): void => {
    this.sleeping = true;
    this.radio.standby?.(true);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  };

  /** The sleep is over: receiver on. */
  readonly wokeUp = (): void => {
    if (!this.sleeping) return;
    this.sleeping = false;
    this.radio.standby?.(false);
  };

  /** The stream ended (or another began): awake, and a pending request fails. */
  readonly ended = (): void => {
    this.wokeUp();
    this.handle = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(
      new MqttError('CONNECTION_LOST', `${this.name}: the stream ended before the sleep was granted`),
    );
  };

  /**
   * Asks to sleep `ms`; resolves once granted (the gateway holds what the
   * broker sends until the node wakes). Rejects with LINK_ERROR when no
   * stream is open, CONNECTION_LOST when it ends first.
   */
  sleep(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0)
      return Promise.reject(
        new MqttError('INVALID_ARGUMENT', `${this.name}: sleep needs a time > 0 ms, got ${ms}`),
      );
    const handle = this.handle;
    if (handle === undefined || handle.stream.state !== 'open')
      return Promise.reject(new MqttError('LINK_ERROR', `${this.name}: no open stream to sleep on`));
    this.waiting?.reject(new MqttError('ABORTED', `${this.name}: replaced by another sleep request`));
    return new Promise<void>((resolve, reject) => {
      this.waiting = { resolve, reject };
      handle.sleep(ms);
    });
  }

  /** Wakes now (or drops a request not granted yet). */
  wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(new MqttError('ABORTED', `${this.name}: woken before the sleep was granted`));
    this.handle?.wake();
  }
}
