/**
 * Sleeping nodes, the link layer's part: a node asks to sleep with a poll
 * (an ACK with poll) whose body, after the selective-ack byte, says
 * SLEEP_REQUEST and for how long; the gateway grants it only when it has
 * nothing waiting for the node, answering with SLEEP_GRANTED and the time
 * it grants (its cap). Then neither end sends on the stream until the node
 * wakes: the node's radio is off (no heartbeat), the gateway holds what the
 * broker sends and waits the granted time plus its usual silence limit
 * before it gives up on the node. Any frame from the node wakes it at the
 * gateway; on waking, the node polls at once, and the gateway's answer
 * carries what it held.
 *
 * ```
 * ACK body: sack (1) | SLEEP_REQUEST or SLEEP_GRANTED (1) | milliseconds (u32)
 * ```
 *
 * An ACK body of one byte (every ACK of an older peer) is no sleep at all.
 * Portable: imports nothing.
 */

/** The ACK body's second byte: what the sleep part says. */
export const SleepMark = {
  /** Node to gateway: "may I sleep this long?" */
  REQUEST: 1,
  /** Gateway to node: "yes, this long". */
  GRANTED: 2,
} as const;
export type SleepMark = (typeof SleepMark)[keyof typeof SleepMark];

/** Bytes of an ACK body with a sleep part. */
const SLEEP_BODY_BYTES = 6;

/** An ACK body with the selective-ack bits and a sleep part. */
export function sleepBody(sack: number, mark: SleepMark, ms: number): Uint8Array {
  const body = new Uint8Array(SLEEP_BODY_BYTES);
  body[0] = sack;
  body[1] = mark;
  new DataView(body.buffer).setUint32(2, Math.min(0xffff_ffff, Math.max(0, Math.round(ms))));
  return body;
}

/** The sleep part of an ACK body, if it has one. */
export function readSleep(payload: Uint8Array): { mark: SleepMark; ms: number } | undefined {
  if (payload.length < SLEEP_BODY_BYTES) return undefined;
  const mark = payload[1];
  if (mark !== SleepMark.REQUEST && mark !== SleepMark.GRANTED) return undefined;
  const ms = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(2);
  return { mark, ms };
}
