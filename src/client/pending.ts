/**
 * Publications not finished yet, as `Client.pending()` shows them; and the
 * promises given to the ones a store restored (published by an earlier
 * process), so that they can be awaited like `publish()`'s.
 */
import type { OutboundRecord } from '../session/types.ts';
import { type Deferred, deferred, type PendingPublication, type PublishResult } from './api.ts';

/** What the Client gives the Session for each publication: the promise `publish()` returned, and how to settle it. */
export type PublishToken = Deferred<PublishResult> & { promise: Promise<PublishResult>; restored?: boolean };

/** The token of a publication restored from the store: nobody in this process published it. */
export function restoredToken(): PublishToken {
  const done: PublishToken = Object.assign(deferred<PublishResult>(), { restored: true });
  done.promise.catch(() => {}); // nobody may await it: its rejection is not unhandled
  return done;
}

/** A publication as `pending()` shows it: read-only, its state live. */
export function pendingPublication(
  record: OutboundRecord<PublishToken>,
  token: PublishToken,
): PendingPublication {
  const m = record.message;
  const view: { -readonly [K in keyof PendingPublication]: PendingPublication[K] } = {
    topic: m.topic,
    payload: m.payload,
    qos: m.qos as 1 | 2,
    retain: m.retain,
    get state() {
      return record.state;
    },
    restored: token.restored === true,
    result: token.promise,
  };
  if (m.properties !== undefined) view.properties = m.properties;
  return view;
}
