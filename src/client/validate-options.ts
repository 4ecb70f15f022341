/**
 * The Client's options checked where the user passes them: a wrong type or a
 * value out of range is an INVALID_ARGUMENT from `createClient()` (and a
 * rejection from `connect()`), naming the option, instead of a NaN timer, a
 * loop that never backs off or a failure at every connection attempt. What a
 * CONNECT must carry (client id, will, properties) is checked by encoding
 * one (`Session.checkConnect`).
 */
import { localError } from '../errors.ts';
import type { ClientOptions } from './options.ts';

/** The largest keepalive a CONNECT can carry (a two-byte number of seconds). */
const MAX_KEEPALIVE_SECONDS = 0xffff;
/** Past this, setTimeout fires at once (a 32-bit signed number of ms). */
const MAX_TIMER_MS = 0x7fff_ffff;

type Options = Record<string, unknown>;

function fail(name: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw localError('INVALID_ARGUMENT', `option ${name} must be ${expected}, got ${shown}`);
}

function boolean(o: Options, name: string): void {
  const v = o[name];
  if (v !== undefined && typeof v !== 'boolean') fail(name, 'true or false', v);
}

/** A duration in ms: finite, within what a timer can wait; `min` 1 where 0 would fire at once. */
function duration(o: Options, name: string, min = 0): void {
  const v = o[name];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_TIMER_MS)
    fail(name, `a number of ms from ${min} to ${MAX_TIMER_MS}`, v);
}

/** A count or size bound: a whole number >= `min`, or Infinity for none. */
function bound(o: Options, name: string, min = 0): void {
  const v = o[name];
  if (v === undefined) return;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || (Number.isFinite(v) && !Number.isInteger(v)))
    fail(name, `a whole number from ${min} (or Infinity)`, v);
}

function oneOf(o: Options, name: string, values: readonly unknown[]): void {
  const v = o[name];
  if (v !== undefined && !values.includes(v))
    fail(name, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
}

function kind(o: Options, name: string, type: 'string' | 'object' | 'function'): void {
  const v = o[name];
  if (v === undefined) return;
  if (type === 'object' ? v === null || typeof v !== 'object' : typeof v !== type) fail(name, `a ${type}`, v);
}

/** Throws INVALID_ARGUMENT naming the first option that is of the wrong type or out of range. */
export function validateOptions(options: ClientOptions): void {
  if (options === null || typeof options !== 'object') fail('options', 'an object', options);
  const o = options as unknown as Options;
  const url = o.url;
  if (
    url !== undefined &&
    typeof url !== 'string' &&
    !(Array.isArray(url) && url.every((u) => typeof u === 'string'))
  )
    fail('url', 'a string or an array of strings', url);
  oneOf(o, 'protocolVersion', [4, 5]);
  kind(o, 'clientId', 'string');
  kind(o, 'username', 'string');
  if (o.password !== undefined && typeof o.password !== 'string' && !(o.password instanceof Uint8Array))
    fail('password', 'a string or a Uint8Array', o.password);
  const keepalive = o.keepalive;
  if (
    keepalive !== undefined &&
    (typeof keepalive !== 'number' ||
      !Number.isInteger(keepalive) ||
      keepalive < 0 ||
      keepalive > MAX_KEEPALIVE_SECONDS)
  )
    fail('keepalive', `a whole number of seconds from 0 to ${MAX_KEEPALIVE_SECONDS}`, keepalive);
  for (const name of ['clean', 'cleanInit', 'topicAliases', 'manualAck', 'subscriptionIdentifiers'])
    boolean(o, name);
  for (const name of ['connectTimeout', 'responseTimeout', 'writeTimeout']) duration(o, name, 1);
  for (const name of [
    'quietPeriod',
    'reconnectPeriod',
    'reconnectPeriodMax',
    'resetBackoffAfter',
    'openRetryInterval',
    'stallProbeAfter',
    'unclaimedTimeout',
  ])
    duration(o, name);
  for (const name of ['maxQueuedMessages', 'maxQueuedBytes', 'maxBufferedMessages', 'maxBufferedBytes'])
    bound(o, name);
  const inflight = o.maxInflight;
  if (
    inflight !== undefined &&
    (typeof inflight !== 'number' || !Number.isInteger(inflight) || inflight < 1 || inflight > 0xffff)
  )
    fail('maxInflight', 'a whole number from 1 to 65535', inflight);
  const guard = o.qos2RollbackGuard;
  if (
    guard !== undefined &&
    (typeof guard !== 'number' || !Number.isInteger(guard) || guard < 0 || guard > 0xffff)
  )
    fail('qos2RollbackGuard', 'a whole number from 0 to 65535', guard);
  duration(o, 'readyTimeout'); // connect()'s, in the Node entry point
  oneOf(o, 'queueFullPolicy', ['wait', 'reject']);
  oneOf(o, 'timers', ['auto', 'main', 'worker']);
  for (const name of ['will', 'properties', 'store', 'authenticator', 'link']) kind(o, name, 'object');
  kind(o, 'linkFactory', 'function');
  if (o.link !== undefined && typeof (o.link as { open?: unknown }).open !== 'function')
    fail('link', 'a Link (an object with open())', o.link);
}
