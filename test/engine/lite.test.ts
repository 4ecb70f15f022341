/** The lite engine (src/lite/core.ts) against the engine conformance suite. */
import { encodePublish4 } from '../../src/codec/client-v4.ts';
import type { PublishPacket } from '../../src/codec/types.ts';
import { MqttError } from '../../src/errors.ts';
import { LiteCore } from '../../src/lite/core.ts';
import { prng } from '../helpers/prng.ts';
import {
  advanceClock,
  type EngineSettings,
  type EngineUnderTest,
  Recorded,
  runEngineConformance,
} from './engine.case.ts';

const text = new TextEncoder();

function liteEngine(settings: EngineSettings): EngineUnderTest {
  let now = 1_000_000;
  const seen = new Recorded();
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
    seen.bytes.push(...out.map((b) => b.slice()));
    for (const e of happened) {
      switch (e.type) {
        case 'up':
          seen.events.push(e.sessionPresent ? 'up present' : 'up');
          break;
        case 'message': {
          const m = e.message;
          seen.events.push(`message ${m.topic} q${m.qos}${m.dup ? ' dup' : ''}`);
          if (m.qos > 0) held.push({ message: m, epoch: e.epoch });
          break;
        }
        case 'done':
          seen.events.push(`done ${e.token}`);
          break;
        case 'failed':
          seen.events.push(`failed ${e.token} ${e.error.code}`);
          break;
        case 'close':
          seen.events.push(`close ${e.error.code}`);
          break;
        // 'open' is answered by linkUp; 'down' is the host's news, which the full engine's host reports.
        default:
      }
    }
  }
  function advance(ms: number): void {
    now = advanceClock(now, ms, {
      nextDeadline: () => core.nextDeadline(),
      tick: (at) => {
        now = at;
        run(() => core.tick(at));
      },
    });
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
    drain: () => seen.drain(),
  };
}

runEngineConformance({
  name: 'lite engine',
  capabilities: { versions: [4], qos2RollbackGuard: false },
  make: liteEngine,
});
