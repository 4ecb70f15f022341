/**
 * `steadfast keygen`: a new radio node key on stdout (as `wg genkey`), for
 * the node's `radioLink({ key })`. With `--keys FILE --address N`, the node
 * is also added to the gateway's keys file (created with mode 0600). The
 * key goes nowhere else: never to a log, never to stderr.
 */
import { randomFillSync } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { parseKeys } from '../../gateway/keys-file.ts';
import { generateKey } from '../../radio/link/keys.ts';
import { flagHelp, numberFlag, parseFlags, stringFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';

const FLAGS = [
  {
    key: 'keys',
    names: ['--keys'],
    value: true,
    meta: 'FILE',
    help: 'add the node to this gateway keys file',
  },
  {
    key: 'address',
    names: ['--address'],
    value: true,
    meta: '1-254',
    help: "the node's radio address (with --keys)",
  },
  {
    key: 'clientIds',
    names: ['--client-id'],
    value: true,
    meta: 'ID[,ID…]',
    help: 'client ids the node may use (with --keys; default * for any)',
  },
];

export const command: Command = {
  usage: `steadfast keygen [--keys FILE --address N [--client-id ID,…]]

Prints a new 128-bit radio node key (32 hex digits). With --keys, also adds
the line "N KEY IDS" to the gateway's keys file (mode 0600); an address
already in the file is refused.

${flagHelp(FLAGS)}

Example:
  steadfast keygen --keys /etc/steadfast/nodes.keys --address 7 --client-id node-7`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const path = stringFlag(flags, 'keys');
    const address = numberFlag(flags, 'address', '--address', 1, 254);
    const ids = stringFlag(flags, 'clientIds') ?? '*';
    if ((path === undefined) !== (address === undefined))
      throw new UsageError('--keys and --address go together');
    if (/\s/.test(ids) || ids === '') throw new UsageError('--client-id: comma-separated ids, no spaces');
    const key = generateKey((bytes) => randomFillSync(bytes));
    if (path !== undefined && address !== undefined) {
      const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
      let known: ReturnType<typeof parseKeys>;
      try {
        known = parseKeys(existing);
      } catch (error) {
        throw new UsageError(`--keys: ${(error as Error).message}`);
      }
      if (known.has(address)) throw new UsageError(`--keys: address ${address} is already in ${path}`);
      const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
      appendFileSync(path, `${separator}${address} ${key} ${ids}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
    }
    process.stdout.write(`${key}\n`);
    return 0;
  },
};
