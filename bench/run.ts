/**
 * Benchmark entry point: `npm run bench -- <name> [args]`, or `all`.
 *
 * Each benchmark is a module exporting `run(args: string[]): Promise<void>`.
 * Modules load lazily so one benchmark whose dependencies are missing or
 * broken does not stop the others from running.
 */

type BenchModule = { run(args: string[]): Promise<void> };

// One line per benchmark. Keep names short; they are what users type.
const BENCHMARKS: Record<string, () => Promise<BenchModule>> = {
  codec: () => import('./codec.ts'),
  radio: () => import('./radio.ts'),
  roam: () => import('./roam.ts'),
  throughput: () => import('./throughput.ts'),
  latency: () => import('./latency.ts'),
  memory: () => import('./memory.ts'),
  fanin: () => import('./fanin.ts'),
  recovery: () => import('./recovery.ts'),
  storm: () => import('./storm.ts'),
  // After throughput, memory and fanin: `all` draws docs/perf.svg from their fresh results.
  chart: () => import('./chart.ts'),
  size: () => import('./size.ts'),
  quickjs: () => import('./quickjs.ts'),
};

function usage(): string {
  return [
    'usage: npm run bench -- <name> [--quick] [--filter <substring>]',
    `benchmarks: ${Object.keys(BENCHMARKS).join(', ')}, all`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  if (name === 'all') {
    // In turn, never in parallel: concurrent benchmarks would measure each other.
    for (const [benchName, load] of Object.entries(BENCHMARKS)) {
      console.log(`\n# ${benchName}`);
      await (await load()).run(args);
    }
    return 0;
  }
  // hasOwn, so that names like 'toString' count as unknown rather than hitting Object.prototype.
  const load = name !== undefined && Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (load === undefined) {
    console.error(name === undefined ? 'no benchmark given' : `unknown benchmark: ${name}`);
    console.error(usage());
    return 2;
  }
  await (await load()).run(args);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
