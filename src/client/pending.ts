/**
 * Publications not finished yet, as `Client.pending()` shows them; and the
 * promises given to the ones a store restored (published by an earlier
 * process), so that they can be awaited like `publish()`'s.
 */
import type { OutboundRecord } from '../session/types.ts';
import { type Deferred, deferred, type PendingPublication, type PublishResult } from './api.ts';

type Token = Deferred<PublishResult> & { promise: Promise<PublishResult>; restored?: boolean };

/** Gives each restored record (no token: nobody in this process published it) a promise of its outcome. */
export function adoptRestored(records: OutboundRecord[]): void {
  for (const record of records) {
    if (record.token !== undefined) continue;
    const done: Token = Object.assign(deferred<PublishResult>(), { restored: true });
    done.promise.catch(() => {}); // nobody may await it: its rejection is not unhandled
    record.token = done;
  }
}

/** A publication as `pending()` shows it: read-only, its state live. */
export function pendingPublication(record: OutboundRecord): PendingPublication {
  const m = record.message;
  const token = record.token as Token;
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
