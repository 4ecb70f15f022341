/**
 * Recently decoded PUBLISH topics, by a hash of their bytes. Streams repeat a
 * few topics over and over; a hit costs one pass to hash and one to compare,
 * instead of decoding UTF-8 into a new string and validating it again.
 * Direct-mapped (a colliding topic replaces the old one), fixed size, so it
 * cannot grow with hostile input.
 */
import { validateTopicName } from './topic.ts';
import { readUtf8 } from './utf8.ts';

const SLOTS = 256; // a power of two
const MAX_CACHED_LENGTH = 128;
const cachedBytes: (Uint8Array | undefined)[] = new Array(SLOTS);
const cachedTopics: string[] = new Array(SLOTS);

/** Decodes and validates the topic name in `buf[start, end)`; an empty one is returned as ''. */
export function readTopicName(buf: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return '';
  if (length > MAX_CACHED_LENGTH) return decodeAndCheck(buf, start, end);
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], 0x01000193);
  const slot = (hash >>> 0) & (SLOTS - 1);
  const bytes = cachedBytes[slot];
  if (bytes !== undefined && bytes.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (bytes[i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cachedTopics[slot];
  }
  const topic = decodeAndCheck(buf, start, end);
  cachedBytes[slot] = buf.slice(start, end);
  cachedTopics[slot] = topic;
  return topic;
}

function decodeAndCheck(buf: Uint8Array, start: number, end: number): string {
  const topic = readUtf8(buf, start, end);
  validateTopicName(topic, 'remote');
  return topic;
}
