/**
 * The scripted exchange of exchange.ts for the lite engine (src/lite/core.ts),
 * with the same actions and the same brief outputs, so that the lite engine
 * can replay the bytes recorded from Mosquitto in any engine (QuickJS
 * included) and be compared with the full one. Messages are taken at once,
 * as the full driver's session acknowledges them on arrival.
 *
 * The lite codec encodes strings with the platform TextEncoder/TextDecoder;
 * in an engine without them (QuickJS), bundle this file as the global
 * `SteadfastLite` and evaluate `PLATFORM_SHIM` after it: it defines both over
 * the codec's plain-JS UTF-8 (exported here for it).
 */
import { encodePublish4 } from '../../src/codec/client-v4.ts';
import { readUtf8, utf8Length, writeUtf8 } from '../../src/codec/index.ts';
import { LiteCore } from '../../src/lite/core.ts';
import { type Action, CLIENT_ID, fromHex, type StepOutput, toHex } from './exchange.ts';

function utf8(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  writeUtf8(out, 0, text);
  return out;
}

/** Drives one LiteCore through actions, collecting what it writes and reports per action. */
export class LiteExchangeDriver {
  readonly core = new LiteCore<string>({
    connect: { clientId: CLIENT_ID, clean: true, keepalive: 60 },
    random: () => 0.5,
  });
  private now = 1_000_000;
  private written: Uint8Array[] = [];
  private emitted: string[] = [];

  /** Carries out the outbox after an input, as the lite client does. */
  private run(input: () => void): void {
    input();
    const [bytes, events] = this.core.drain();
    for (const b of bytes) this.written.push(b.slice());
    for (const e of events) {
      switch (e.type) {
        case 'up':
          this.emitted.push(`up present=${e.sessionPresent}`);
          break;
        case 'done':
          this.emitted.push(
            e.token.startsWith('sub ')
              ? `subscribed ${e.token} [${e.codes.join(',')}]`
              : `published ${e.token} reason=0`,
          );
          break;
        case 'message': {
          const m = e.message;
          this.emitted.push(
            `message ${m.topic} qos${m.qos}${m.dup ? ' dup' : ''} "${readUtf8(m.payload, 0, m.payload.length)}"`,
          );
          if (m.qos > 0) this.run(() => this.core.taken(m, e.epoch, this.now));
          break;
        }
        case 'close':
          // Our own end is the full driver's `disconnect()`, which reports nothing.
          if (e.error.code !== 'CLIENT_CLOSED') this.emitted.push(`close ${e.error.code}`);
          break;
        default:
      }
    }
  }

  step(action: Action): StepOutput {
    const core = this.core;
    switch (action.do) {
      case 'link-up':
        this.run(() => core.start(this.now));
        this.run(() => core.opened(this.now));
        break;
      case 'receive':
        this.run(() => core.received(fromHex(action.hex), this.now));
        break;
      case 'subscribe':
        this.run(() => core.subscribe([action.topic], action.qos, `sub ${action.topic}`, this.now));
        break;
      case 'publish': {
        const bytes = encodePublish4(action.topic, utf8(action.payload), action.qos, false, false, 1);
        this.run(() => core.publish(bytes, action.qos, `pub ${action.payload}`, this.now));
        break;
      }
      case 'advance': {
        const target = this.now + action.ms;
        for (let deadline = core.nextDeadline(); deadline <= target; deadline = core.nextDeadline()) {
          this.now = Math.max(this.now, deadline);
          this.run(() => core.tick(this.now));
        }
        this.now = target;
        break;
      }
      case 'disconnect':
        this.run(() => core.end(this.now));
        break;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
    const out = { sent: this.written.map(toHex).join(''), events: this.emitted };
    this.written = [];
    this.emitted = [];
    return out;
  }
}

/** Runs a whole exchange and returns one output per action, as JSON (what a host engine passes across). */
export function replayLiteJson(actionsJson: string): string {
  const driver = new LiteExchangeDriver();
  return JSON.stringify((JSON.parse(actionsJson) as Action[]).map((action) => driver.step(action)));
}

/**
 * TextEncoder and TextDecoder for an engine without them, over the codec's UTF-8: the lite codec's only
 * platform needs. The decoder is strict, as the lite codec's `fatal` one (it throws on bad UTF-8).
 */
export const PLATFORM_SHIM = `(() => {
  const { utf8Length, writeUtf8, readUtf8 } = SteadfastLite;
  globalThis.TextEncoder = class { encode(s) { const b = new Uint8Array(utf8Length(s)); writeUtf8(b, 0, s); return b; } };
  globalThis.TextDecoder = class { decode(b) { return readUtf8(b, 0, b.length); } };
})()`;

export { readUtf8, utf8Length, writeUtf8 };
