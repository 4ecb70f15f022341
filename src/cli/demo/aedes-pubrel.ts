/**
 * A correction for one bookkeeping bug in Aedes 1.x's default in-memory
 * persistence (aedes-persistence 11), which otherwise makes the embedded
 * broker re-send QoS 2 messages after it has sent their PUBREL: a broken
 * [MQTT-4.3.3-1] that the demo would show as duplicates.
 *
 * The bug. Aedes keeps, per client, one queue of outgoing QoS 1/2 records.
 * On a PUBREC it stores a bare `{ cmd: 'pubrel', messageId }` in place of
 * the PUBLISH with that id (lib/handlers/pubrec.js). The memory store's
 * `outgoingUpdate` (asyncPersistence.js) finds the record by `brokerId` and
 * `brokerCounter` first and by packet id only for records of another
 * broker; a bare PUBREL has neither field, so it "matches" the first earlier
 * bare PUBREL still waiting for its PUBCOMP and relabels that one instead.
 * The PUBLISH stays queued, the next PUBCOMP removes the relabelled record,
 * and at the client's next reconnect Aedes replays the PUBLISH (DUP clear)
 * although its flow completed long ago. It takes only two QoS 2 messages in
 * flight with the second's PUBREC arriving before the first's PUBCOMP:
 * legitimate and common after a reconnect or a stall (test/brokers/aedes-qos2.test.ts).
 *
 * The correction gives each PUBREL record an identity of its own before the
 * store sees it, so it can only ever replace the PUBLISH with its packet id;
 * when Aedes replays such a record on reconnect (the copy keeps those
 * fields) the update is the no-op it is meant to be, and skipping the store
 * keeps a new PUBLISH that happens to reuse the packet id from being taken
 * for it. Nothing else changes: a PUBREC for a packet id the broker has no
 * PUBLISH for still fails in the store, and Aedes still disconnects the
 * client for it, so a client at fault is not hidden.
 */

/** What of Aedes' persistence the correction touches. */
export interface OutgoingUpdate {
  outgoingUpdate(client: unknown, packet: unknown, ...rest: unknown[]): unknown;
}

/** Marks the PUBREL records the correction has tagged; never a real broker id. */
export const PUBREL_RECORD_ORIGIN = 'steadfast-demo/pubrel-record';

/**
 * Wraps `persistence.outgoingUpdate` in place (the broker calls it through
 * the object, so it must be the same object Aedes holds).
 */
export function correctPubrelRecords(persistence: OutgoingUpdate): void {
  const update = persistence.outgoingUpdate.bind(persistence);
  let counter = 0;
  persistence.outgoingUpdate = (client, packet, ...rest) => {
    const kind = pubrelKind(packet);
    if (kind === 'other') return update(client, packet, ...rest);
    if (kind === 'tagged') {
      // A replay of a record tagged here: already stored under its packet id.
      const done = rest[0];
      if (typeof done === 'function') done(null, client, packet);
      return Promise.resolve();
    }
    counter++;
    // A copy: Aedes writes its own PUBREL object to the wire right after.
    const record = { ...(packet as object), brokerId: PUBREL_RECORD_ORIGIN, brokerCounter: counter };
    return update(client, record, ...rest);
  };
}

/** A PUBREL straight from Aedes' PUBREC handler (bare), one tagged here, or anything else. */
function pubrelKind(packet: unknown): 'bare' | 'tagged' | 'other' {
  if (typeof packet !== 'object' || packet === null) return 'other';
  const p = packet as { cmd?: unknown; brokerId?: unknown };
  if (p.cmd !== 'pubrel') return 'other';
  if (p.brokerId === undefined) return 'bare';
  return p.brokerId === PUBREL_RECORD_ORIGIN ? 'tagged' : 'other';
}
