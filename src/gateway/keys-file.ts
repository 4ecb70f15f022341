/**
 * The gateway's keys: for each node address, its key and the client ids it
 * may name in CONNECT. The file, one node per line (`#` starts a comment):
 *
 * ```
 * # address  key (32 hex digits)               client ids (comma-separated; * for any)
 * 7          3f1c...e2                         node-7,sensor-7
 * ```
 *
 * Keep it readable by the gateway only (mode 0600). Errors name the line,
 * never the key.
 */
import { readFileSync } from 'node:fs';
import { MqttError } from '../errors.ts';
import { MAX_ADDRESS } from '../radio/link/frame.ts';
import { parseKey } from '../radio/link/keys.ts';
import { NodeKey } from '../radio/link/secure-frame.ts';

/** What the gateway knows of one node. */
export interface NodeEntry {
  key: NodeKey;
  /** Client ids the node may use; undefined: any. */
  clientIds: ReadonlySet<string> | undefined;
}

/** Address -> node. */
export type GatewayKeys = ReadonlyMap<number, NodeEntry>;

/** Parses the text of a keys file (see the module comment). Throws INVALID_ARGUMENT naming the line. */
export function parseKeys(text: string): GatewayKeys {
  const keys = new Map<number, NodeEntry>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const where = `keys file line ${index + 1}`;
    const [address, key, ids, extra] = line.split(/\s+/);
    const node = Number(address);
    if (!Number.isInteger(node) || node < 0 || node > MAX_ADDRESS)
      throw new MqttError('INVALID_ARGUMENT', `${where}: the address must be 0-${MAX_ADDRESS}`);
    if (ids === undefined || extra !== undefined)
      throw new MqttError('INVALID_ARGUMENT', `${where}: expected "address key client-ids"`);
    if (keys.has(node)) throw new MqttError('INVALID_ARGUMENT', `${where}: address ${node} appears twice`);
    let secret: Uint8Array;
    try {
      secret = parseKey(key);
    } catch {
      throw new MqttError('INVALID_ARGUMENT', `${where}: the key must be 32 hex digits`);
    }
    const clientIds = ids === '*' ? undefined : new Set(ids.split(',').filter((id) => id !== ''));
    keys.set(node, { key: new NodeKey(secret), clientIds });
  });
  return keys;
}

/** Reads and parses a keys file. */
export function readKeysFile(path: string): GatewayKeys {
  return parseKeys(readFileSync(path, 'utf8'));
}
