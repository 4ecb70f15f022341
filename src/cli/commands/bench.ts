/**
 * `steadfast bench [NAME] [ARGS]`: runs bench/run.ts (through tsx) from a
 * source checkout. The published package holds no benchmarks, so outside a
 * checkout this says how to get one.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../commands.ts';
import { CliFailure, EXIT } from '../exit.ts';

export const command: Command = {
  usage: `steadfast bench [NAME] [ARGS…]

Runs a benchmark (codec, …; "all" runs every one; no name lists them) from a
source checkout of steadfast-mqtt, with its dev dependencies installed:
  git clone … && cd steadfast-mqtt && npm ci && npx steadfast bench codec
Same as "npm run bench -- NAME".`,

  async run(argv) {
    const root = checkoutRoot();
    const runner = root === undefined ? undefined : join(root, 'bench', 'run.ts');
    if (root === undefined || runner === undefined || !existsSync(runner)) {
      throw new CliFailure(
        'the benchmarks ship with the source, not the package: clone the repository, run "npm ci" there, then "npx steadfast bench"',
        EXIT.FAILED,
      );
    }
    try {
      createRequire(join(root, 'package.json')).resolve('tsx');
    } catch {
      throw new CliFailure(
        `the benchmarks run through tsx, which is not installed in ${root}: run "npm ci" there`,
        EXIT.FAILED,
      );
    }
    const args = argv.length === 0 ? ['--help'] : argv;
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
      cwd: root,
      stdio: 'inherit',
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    return new Promise<number>((resolve) => {
      child.on('close', (code, signal) => {
        process.off('SIGINT', forward);
        resolve(code ?? (signal ? 128 + 2 : EXIT.FAILED));
      });
    });
  },
};

/** The package root above this file (src/cli/commands or dist/cli/commands), when it is a checkout. */
function checkoutRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}
