/** The lite engine (src/lite/core.ts) against the engine conformance suite. */
import { encodePublish4 } from '../../src/codec/client-v4.ts';
import type { PublishPacket } from '../../src/codec/types.ts';
import { MqttError } from '../../src/errors.ts';
import { LiteCore } from '../../src/lite/core.ts';
import { prng } from '../helpers/prng.ts';
import { type EngineSettings, type EngineUnderTest, runEngineConformance } from './engine.case.ts';

const text = new TextEncoder();

function liteEngine(settings: EngineSettings): EngineUnderTest {
  let now = 1_000_000;
  let bytes: Uint8Array[] = [];
  let events: string[] = [];
  let held: { message: PublishPacket; epoch: number }[] = [];
  const core = new LiteCore<string>({
    connect: { clientId: 'engine', clean: false, keepalive: settings.keepalive },
    responseTimeout: settings.responseTimeout,
    connectTimeout: settings.connectTimeout,
    random: prng(15),
  });
  /** Carries out the outbox, as the lite client does after every input. */
  function run(input: () => void): void {
    input();
    const [out, happened] = core.drain();
    bytes.push(...out.map((b) => b.slice()));
    for (const e of happened) {
      switch (e.type) {
        case 'up':
          events.push(e.sessionPresent ? 'up present' : 'up');
          break;
        case 'message': {
          const m = e.message;
          events.push(`message ${m.topic} q${m.qos}${m.dup ? ' dup' : ''}`);
          if (m.qos > 0) held.push({ message: m, epoch: e.epoch });
          break;
        }
        case 'done':
          events.push(`done ${e.token}`);
          break;
        case 'failed':
          events.push(`failed ${e.token} ${e.error.code}`);
          break;
        case 'close':
          events.push(`close ${e.error.code}`);
          break;
        // 'open' is answered by linkUp; 'down' is the host's news, which the full engine's host reports.
        default:
      }
    }
  }
  function advance(ms: number): void {
    const target = now + ms;
    for (let deadline = core.nextDeadline(); deadline <= target; deadline = core.nextDeadline()) {
      now = Math.max(now, deadline);
      run(() => core.tick(now));
    }
    now = target;
  }
  return {
    linkUp() {
      if (core.phase === 'idle') run(() => core.start(now));
      // The lite engine reconnects by itself after the quiet period and backoff: wait them out.
      else if (core.phase === 'waiting') advance(core.nextDeadline() - now);
      run(() => core.opened(now));
    },
    linkDown: () => run(() => core.closed(new MqttError('CONNECTION_LOST', 'the link dropped'), now)),
    received: (b) => run(() => core.received(b, now)),
    advance,
    publish: (topic, qos, token) =>
      run(() =>
        core.publish(encodePublish4(topic, text.encode(topic), qos, false, false, 1), qos, token, now),
      ),
    subscribe: (filter, qos, token) => run(() => core.subscribe([filter], qos, token, now)),
    unsubscribe: (filter, token) => run(() => core.subscribe([filter], undefined, token, now)),
    take() {
      const messages = held;
      held = [];
      for (const m of messages) run(() => core.taken(m.message, m.epoch, now));
    },
    drain() {
      const out = { bytes, events };
      bytes = [];
      events = [];
      return out;
    },
  };
}

runEngineConformance({
  name: 'lite engine',
  capabilities: { versions: [4], qos2RollbackGuard: false },
  make: liteEngine,
});
