/**
 * A scripted MQTT exchange driver for the sans-IO Session, written so that
 * it can be bundled with the codec and the session and run in any engine
 * (QuickJS included): no Node built-ins, no TextEncoder, no timers, no
 * Buffer. Bytes cross the boundary as hex strings and events as short text,
 * so the host engine only ever passes JSON in and out.
 *
 * quickjs.test.ts bundles this file (entry point) with src/codec and
 * src/session; record-exchange.ts uses it to record a real broker's bytes.
 */
import { readUtf8, utf8Length, writeUtf8 } from '../../src/codec/index.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/types.ts';

export type QoS = 0 | 1 | 2;

/** One input to the engine. */
export type Action =
  /** The link is up: the engine sends CONNECT. */
  | { do: 'link-up'; clean: boolean }
  /** Bytes from the broker (one whole packet, as recorded). */
  | { do: 'receive'; hex: string }
  | { do: 'subscribe'; topic: string; qos: QoS }
  | { do: 'publish'; topic: string; payload: string; qos: QoS }
  /** Moves the fake clock, calling `tick` at every deadline the engine asks for (keepalive). */
  | { do: 'advance'; ms: number }
  | { do: 'disconnect' };

/** What the engine did in answer to one action: the bytes it wrote (hex) and its events, briefly. */
export interface StepOutput {
  sent: string;
  events: string[];
}

/** The client id of every scripted exchange (fixed, so the recorded bytes are too). */
export const CLIENT_ID = 'quickjs-core';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function utf8(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  writeUtf8(out, 0, text);
  return out;
}

function briefEvent(event: SessionEvent): string {
  switch (event.type) {
    case 'up':
      return `up present=${event.sessionPresent}`;
    case 'subscribed':
      return `subscribed ${String(event.token)} [${event.suback.reasonCodes.join(',')}]`;
    case 'published':
      return `published ${String(event.token)} reason=${event.reasonCode}`;
    case 'message': {
      const m = event.message;
      const text = readUtf8(m.payload, 0, m.payload.length);
      return `message ${m.topic} qos${m.qos}${m.dup ? ' dup' : ''} "${text}"`;
    }
    case 'close':
      return `close ${event.error.code}`;
    default:
      return event.type;
  }
}

/** Drives one Session through actions, collecting what it writes and emits per action. */
export class ExchangeDriver {
  readonly session: Session;
  private now = 1_000_000;
  private written: Uint8Array[] = [];
  private emitted: string[] = [];

  constructor(protocolVersion: 4 | 5) {
    this.session = new Session({ protocolVersion, clientId: CLIENT_ID, keepalive: 60 });
  }

  /** Takes what the engine produced out of its outbox. */
  private drain(): void {
    const s = this.session;
    for (let bytes = s.nextBytes(); bytes !== undefined; bytes = s.nextBytes())
      this.written.push(bytes.slice());
    for (let event = s.nextEvent(); event !== undefined; event = s.nextEvent()) {
      this.emitted.push(briefEvent(event));
    }
  }

  step(action: Action): StepOutput {
    const s = this.session;
    switch (action.do) {
      case 'link-up':
        s.linkUp(this.now, action.clean);
        break;
      case 'receive':
        s.received(fromHex(action.hex), this.now);
        break;
      case 'subscribe':
        s.subscribe([{ topic: action.topic, qos: action.qos }], undefined, `sub ${action.topic}`);
        break;
      case 'publish': {
        const message = {
          topic: action.topic,
          payload: utf8(action.payload),
          qos: action.qos,
          retain: false,
        };
        s.publish(message, `pub ${action.payload}`, this.now);
        break;
      }
      case 'advance': {
        const target = this.now + action.ms;
        for (let deadline = s.nextDeadline(); deadline <= target; deadline = s.nextDeadline()) {
          this.now = Math.max(this.now, deadline);
          s.tick(this.now);
          this.drain();
          if (s.nextDeadline() === deadline) throw new Error(`the session keeps asking for ${deadline}`);
        }
        this.now = target;
        break;
      }
      case 'disconnect':
        s.disconnect();
        break;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
    this.drain();
    let length = 0;
    for (const chunk of this.written) length += chunk.length;
    const sent = new Uint8Array(length);
    let at = 0;
    for (const chunk of this.written) {
      sent.set(chunk, at);
      at += chunk.length;
    }
    const out = { sent: toHex(sent), events: this.emitted };
    this.written = [];
    this.emitted = [];
    return out;
  }
}

/** Runs a whole exchange and returns one output per action. */
export function replay(protocolVersion: 4 | 5, actions: Action[]): StepOutput[] {
  const driver = new ExchangeDriver(protocolVersion);
  return actions.map((action) => driver.step(action));
}

/** What a host engine calls: JSON in, JSON out (QuickJS passes strings across cheaply). */
export function replayJson(protocolVersion: 4 | 5, actionsJson: string): string {
  return JSON.stringify(replay(protocolVersion, JSON.parse(actionsJson) as Action[]));
}
