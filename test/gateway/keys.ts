// Test keys for radio nodes: a fixed key per address (derived from the
// address, so a failure repeats), every client id allowed unless a test
// narrows it.
import { parseKeys } from '../../src/gateway/keys-file.ts';

/** The test key of node `address`, 32 hex digits. */
export function testKey(address: number): string {
  return Array.from({ length: 16 }, (_, i) =>
    ((address * 37 + i * 11 + 5) & 0xff).toString(16).padStart(2, '0'),
  ).join('');
}

/** A keys file for `addresses`, each with `clientIds` (default '*': any). */
export function testKeysText(
  addresses: number[],
  clientIds: (address: number) => string = () => '*',
): string {
  return addresses.map((a) => `${a} ${testKey(a)} ${clientIds(a)}`).join('\n');
}

/** Parsed test keys for `addresses`. */
export function testKeys(addresses: number[], clientIds?: (address: number) => string) {
  return parseKeys(testKeysText(addresses, clientIds));
}
