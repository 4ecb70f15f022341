// Turns the fault proxy's packet trace into events that tell the checker
// who had a message when the broker was killed:
// - `handoff`: the broker took responsibility for a published message (its
//   PUBACK for QoS 1, PUBREC for QoS 2, went back to the publisher). For QoS 2
//   this is earlier than the publisher's `acked` (PUBCOMP), and it tells a
//   message the broker lost at a kill -9 (PUBREC sent, state not saved yet)
//   from one the client failed to resend.
// - `delivered`: the broker considered a delivery to a subscriber done, or
//   nearly: the subscriber's PUBACK (QoS 1) was sent, or the broker's PUBREL
//   (QoS 2: it had the subscriber's PUBREC). A copy the restarted broker
//   sends again after a kill -9 is then the broker's duplicate: its saved
//   state went back to before that step. The subscriber's PUBCOMP would be
//   stricter evidence that the client released the packet id, but it is
//   often never sent: the broker's death resets the connection right after
//   its PUBREL. What this leaves unjudged, a client that delivers a DUP
//   PUBLISH twice while it still holds the packet id, is tested
//   deterministically by cut case c (cut-cases.ts).
// The proxy traces packets when it reads them, so these are times at which
// a side had sent the packet, whether or not it was forwarded.
// Packet identifiers belong to a session, so they are keyed by client id.
import type { ProxyEvent } from './proxy.ts';

/** See the module comment. `t` is when the proxy read the packet. */
export interface TraceDerivedEvent {
  ev: 'handoff' | 'delivered';
  t: number;
  topic: string;
  seq: number;
}

type PacketEvent = ProxyEvent & { ev: 'packet' };

export class HandoffTracker {
  /** `client:packetId` → message a client published with that id. */
  private readonly publishing = new Map<string, { topic: string; seq: number }>();
  /** `client:packetId` → message the broker sent a client with that id. */
  private readonly delivering = new Map<string, { topic: string; seq: number }>();

  /** Takes one proxy event (tracing on); returns what this packet meant, if anything. */
  feed(event: ProxyEvent): TraceDerivedEvent | undefined {
    if (event.ev !== 'packet' || event.packetId === undefined) return undefined;
    const key = `${event.client ?? `conn${event.conn}`}:${event.packetId}`;
    const toBroker = event.direction === 'toBroker';
    if (event.type === 'PUBLISH') {
      const message = messageOf(event);
      if (message) (toBroker ? this.publishing : this.delivering).set(key, message);
      return undefined;
    }
    if (!toBroker && (event.type === 'PUBACK' || event.type === 'PUBREC')) {
      return take(this.publishing, key, 'handoff', event.t);
    }
    if ((toBroker && event.type === 'PUBACK') || (!toBroker && event.type === 'PUBREL')) {
      return take(this.delivering, key, 'delivered', event.t);
    }
    return undefined;
  }
}

function messageOf(event: PacketEvent): { topic: string; seq: number } | undefined {
  const seq = Number.parseInt(event.payloadHead ?? '', 10);
  return event.topic && Number.isInteger(seq) ? { topic: event.topic, seq } : undefined;
}

function take(
  map: Map<string, { topic: string; seq: number }>,
  key: string,
  ev: 'handoff' | 'delivered',
  t: number,
): TraceDerivedEvent | undefined {
  const message = map.get(key);
  if (message === undefined) return undefined;
  map.delete(key);
  return { ev, t, ...message };
}
