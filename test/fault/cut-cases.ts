// Outages at an exact point of a QoS 2 handshake, made by the proxy's
// MQTT-aware trigger, shared by qos2-cut*.test.ts. Each case cuts the
// device's connection at one packet (delivered or not) and names the packet
// the spec then requires on a later connection for the same packet id.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { PacketTypeName } from './mqtt-frames.ts';
import type { ProxyDirection, ProxyEvent } from './proxy.ts';
import { Scenario } from './scenario.ts';

export interface CutCase {
  name: string;
  /** The PUBREC going this way is the cut point. */
  direction: ProxyDirection;
  /** `after`: the PUBREC arrives, then the cut; `before`: it never arrives. */
  when: 'after' | 'before';
  /** What must cross for the same packet id after the reconnect. */
  resend: { type: PacketTypeName; direction: ProxyDirection; dup?: boolean };
}

export const CUT_CASES: Record<'a' | 'b' | 'c' | 'd', CutCase> = {
  // The device published; it knows the broker has the message, so it resends PUBREL, not PUBLISH.
  a: {
    name: 'PUBREC reaches the device, its PUBREL never reaches the broker',
    direction: 'toClient',
    when: 'after',
    resend: { type: 'PUBREL', direction: 'toBroker' },
  },
  // The device received; it has delivered the message and must complete the flow without delivering it again.
  b: {
    name: "the device's PUBREC reaches the broker, PUBREL never reaches the device",
    direction: 'toBroker',
    when: 'after',
    resend: { type: 'PUBCOMP', direction: 'toBroker' },
  },
  // The device received; the broker sends the PUBLISH again (DUP) and the device must not deliver it twice.
  c: {
    name: "the device's PUBREC never reaches the broker",
    direction: 'toBroker',
    when: 'before',
    resend: { type: 'PUBLISH', direction: 'toClient', dup: true },
  },
  // The device published; without a PUBREC it must send the PUBLISH again, with DUP set.
  d: {
    name: 'the broker’s PUBREC never reaches the device',
    direction: 'toClient',
    when: 'before',
    resend: { type: 'PUBLISH', direction: 'toBroker', dup: true },
  },
};

type PacketEvent = ProxyEvent & { ev: 'packet' };

/** Runs one case: streams both ways through the proxy, the cut mid-stream, then the checks. */
export async function runCutCase(t: TestContext, version: 4 | 5, c: CutCase): Promise<void> {
  const s = await Scenario.start(t, { version, proxy: true });
  const proxy = s.proxy!;
  await proxy.trace(true);
  s.startStreams();
  await s.waitFlowing();
  const from = s.device.events.length;
  const cutFrom = proxy.events.length;
  await proxy.cutAfter({ type: 'PUBREC', direction: c.direction, when: c.when });
  const cut = await proxy.waitForCut({ from: cutFrom, reason: 'trigger' });
  await s.assertReconnected(from);
  await s.waitDelivered();
  s.assertDelivery(await s.finish());
  // The interrupted flow went on, on a later connection, with the packet the spec asks for.
  const { type, direction, dup } = c.resend;
  const resent = proxy.events.find((e): e is PacketEvent => {
    const p = e as PacketEvent;
    return (
      p.ev === 'packet' &&
      p.conn > cut.conn &&
      p.client === 'device' &&
      p.type === type &&
      p.direction === direction &&
      p.packetId === cut.packetId
    );
  });
  const where = `${type} ${direction} for packet id ${cut.packetId} after the cut`;
  assert.ok(resent, `no ${where}\n${s.timeline()}`);
  if (dup !== undefined) assert.equal(resent.dup, dup, `DUP flag of the ${where}`);
}
