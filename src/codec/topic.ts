/**
 * Topic names, topic filters, matching, and shared subscriptions
 * (MQTT 3.1.1 section 4.7, MQTT 5.0 sections 4.7 and 4.8.2).
 */
import { type ErrorSide, MqttError } from '../errors.ts';

const SLASH = 47;
const PLUS = 43;
const HASH = 35;
const DOLLAR = 36;
const SHARE_PREFIX = '$share/';

function invalid(
  code: 'TOPIC_NAME_INVALID' | 'TOPIC_FILTER_INVALID',
  message: string,
  side: ErrorSide,
): never {
  throw new MqttError(code, message, { side, reasonCode: code === 'TOPIC_NAME_INVALID' ? 0x90 : 0x8f });
}

/**
 * Checks a topic name for PUBLISH: not empty, no wildcard, no U+0000.
 * `side` says whose name it is, for the error.
 */
export function validateTopicName(topic: string, side: ErrorSide = 'local'): void {
  if (topic.length === 0) invalid('TOPIC_NAME_INVALID', 'a topic name must not be empty', side);
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH) {
      invalid(
        'TOPIC_NAME_INVALID',
        `a topic name must not contain wildcards: ${JSON.stringify(topic)}`,
        side,
      );
    }
    if (c === 0) invalid('TOPIC_NAME_INVALID', 'a topic name must not contain U+0000', side);
  }
}

/** A shared subscription `$share/{group}/{filter}` split into its parts. */
export interface SharedSubscription {
  group: string;
  filter: string;
}

/** Splits `$share/group/filter`; undefined when `filter` is not a shared subscription. */
export function parseSharedSubscription(filter: string): SharedSubscription | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return undefined;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  if (slash < 0) return undefined;
  return { group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1) };
}

function checkFilterLevels(filter: string, side: ErrorSide): void {
  if (filter.length === 0) invalid('TOPIC_FILTER_INVALID', 'a topic filter must not be empty', side);
  let levelStart = 0;
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) invalid('TOPIC_FILTER_INVALID', 'a topic filter must not contain U+0000', side);
    if (c === SLASH) {
      levelStart = i + 1;
    } else if (c === PLUS || c === HASH) {
      const next = i + 1 < filter.length ? filter.charCodeAt(i + 1) : SLASH;
      if (i !== levelStart || next !== SLASH) {
        invalid(
          'TOPIC_FILTER_INVALID',
          `a wildcard must fill a whole level: ${JSON.stringify(filter)}`,
          side,
        );
      }
      if (c === HASH && i !== filter.length - 1) {
        invalid('TOPIC_FILTER_INVALID', `'#' must be the last level: ${JSON.stringify(filter)}`, side);
      }
    }
  }
}

/** Checks a topic filter for SUBSCRIBE or UNSUBSCRIBE, including the `$share/group/` form. */
export function validateTopicFilter(filter: string, side: ErrorSide = 'local'): void {
  if (filter.startsWith(SHARE_PREFIX)) {
    const shared = parseSharedSubscription(filter);
    // The share name is part of the filter: no wildcard, and no U+0000 either [MQTT-4.7.3-2].
    if (shared === undefined || shared.group.length === 0 || /[+#\u0000]/.test(shared.group)) {
      invalid(
        'TOPIC_FILTER_INVALID',
        `a shared subscription needs $share/{group}/{filter}: ${JSON.stringify(filter)}`,
        side,
      );
    }
    checkFilterLevels(shared.filter, side);
    return;
  }
  checkFilterLevels(filter, side);
}

/** True when `filter` is a valid topic filter. */
export function isValidTopicFilter(filter: string): boolean {
  try {
    validateTopicFilter(filter);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `topic` matches `filter` (`+` one level, `#` this level and all below).
 * Topics starting with `$` are not matched by a filter starting with a wildcard.
 * A shared subscription matches as its inner filter. Walks both strings in
 * place: no split, no allocation.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter.startsWith(SHARE_PREFIX)) {
    const shared = parseSharedSubscription(filter);
    if (shared === undefined) return false;
    filter = shared.filter;
  }
  const first = filter.charCodeAt(0);
  if (topic.charCodeAt(0) === DOLLAR && (first === PLUS || first === HASH)) return false;
  const fl = filter.length;
  const tl = topic.length;
  let fi = 0;
  let ti = 0;
  while (fi < fl) {
    const c = filter.charCodeAt(fi);
    if (c === HASH) return true;
    if (c === PLUS) {
      while (ti < tl && topic.charCodeAt(ti) !== SLASH) ti++;
      fi++;
    } else {
      while (fi < fl && filter.charCodeAt(fi) !== SLASH) {
        if (ti >= tl || topic.charCodeAt(ti) !== filter.charCodeAt(fi)) return false;
        fi++;
        ti++;
      }
      if (ti < tl && topic.charCodeAt(ti) !== SLASH) return false;
    }
    // Both are at a level separator or at their end.
    if (fi >= fl) return ti >= tl;
    fi++;
    if (ti >= tl) {
      // The topic ended but the filter goes on: only a final '#' also matches the parent level.
      return fi === fl - 1 && filter.charCodeAt(fi) === HASH;
    }
    ti++;
  }
  return ti >= tl;
}
