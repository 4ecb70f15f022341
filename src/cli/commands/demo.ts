/**
 * `steadfast demo`: QoS 1 and QoS 2 traffic through a link with scripted
 * outages, a live display, a final table and an HTML report. With no
 * arguments it needs nothing but this package (and Aedes, from npm).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flagHelp, numberFlag, parseFlags, stringFlag, switchFlag, UsageError } from '../args.ts';
import type { Command } from '../commands.ts';
import { parseVersion } from '../config.ts';
import { renderReport } from '../demo/report.ts';
import { type DemoOptions, runDemo } from '../demo/run.ts';
import { MIN_DURATION_S } from '../demo/script.ts';
import { formatTable } from '../demo/summary.ts';
import { EXIT } from '../exit.ts';

const REPORT_NAME = 'steadfast-demo-report.html';

const FLAGS = [
  {
    key: 'broker',
    names: ['--broker'],
    value: true,
    meta: 'aedes|mosquitto',
    help: 'embedded Aedes (default, MQTT 3.1.1) or a local Mosquitto started by the demo',
  },
  {
    key: 'url',
    names: ['-L', '--url'],
    value: true,
    meta: 'URL',
    help: 'use your broker instead (MQTT 5 by default; not restarted)',
  },
  {
    key: 'version',
    names: ['-V', '--protocol-version'],
    value: true,
    meta: '311|5',
    help: 'MQTT version (default: 3.1.1 on Aedes, else 5)',
  },
  {
    key: 'duration',
    names: ['--duration'],
    value: true,
    meta: 'SECONDS',
    help: `how long to publish (default 60, at least ${MIN_DURATION_S}); longer runs repeat the faults every minute`,
  },
  {
    key: 'rate',
    names: ['--rate'],
    value: true,
    meta: 'N',
    help: 'messages per second at each QoS (default 20)',
  },
  {
    key: 'report',
    names: ['--report'],
    value: true,
    meta: 'PATH',
    help: `HTML report file or directory (default ./${REPORT_NAME})`,
  },
  { key: 'noReport', names: ['--no-report'], help: 'do not write the report' },
  {
    key: 'seed',
    names: ['--seed'],
    value: true,
    meta: 'N',
    help: 'seed for the loss burst (default: random)',
  },
  { key: 'plain', names: ['--plain'], help: 'plain progress lines even on a terminal' },
  {
    key: 'cafile',
    names: ['--cafile'],
    value: true,
    meta: 'FILE',
    help: 'CA certificates for an mqtts:// or wss:// --url',
  },
  { key: 'insecure', names: ['--insecure'], help: "do not check the --url broker's certificate" },
];

export const command: Command = {
  usage: `steadfast demo [options]

Runs a publisher and a subscriber (QoS 1 and QoS 2, numbered messages,
persistent sessions) through a link that fails on a script: a link drop, a
half-open period (bytes stop, sockets stay open), a broker restart with the
sessions kept, and a burst of radio-style loss. Shows progress live, ends
with a table (sent, delivered, lost, duplicated per QoS, outages, recovery
time) and writes an HTML report with a timeline.

Exit code 0 when no QoS 1 message was lost and no QoS 2 message was lost or
duplicated (QoS 1 duplicates are allowed by QoS 1 and reported), 5 otherwise.

${flagHelp(FLAGS)}`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const url = stringFlag(flags, 'url');
    const brokerName = stringFlag(flags, 'broker');
    if (url !== undefined && brokerName !== undefined)
      throw new UsageError('give --broker or --url, not both');
    if (brokerName !== undefined && brokerName !== 'aedes' && brokerName !== 'mosquitto') {
      throw new UsageError(`--broker must be aedes or mosquitto, got "${brokerName}"`);
    }
    const broker: DemoOptions['broker'] =
      url !== undefined
        ? { kind: 'url', url }
        : brokerName === 'mosquitto'
          ? { kind: 'mosquitto' }
          : { kind: 'aedes' };
    const versionText = stringFlag(flags, 'version');
    const durationS = numberFlag(flags, 'duration', '--duration', MIN_DURATION_S, 86400, false) ?? 60;
    const rate = numberFlag(flags, 'rate', '--rate', 1, 500) ?? 20;
    const seed = numberFlag(flags, 'seed', '--seed', 0, 2 ** 32 - 1) ?? Math.floor(Math.random() * 2 ** 32);
    const reportPath = switchFlag(flags, 'noReport') ? undefined : reportFile(stringFlag(flags, 'report'));
    const tls: DemoOptions['tls'] = {};
    const cafile = stringFlag(flags, 'cafile');
    if (cafile !== undefined) {
      try {
        tls.ca = readFileSync(cafile);
      } catch (error) {
        throw new UsageError(
          `cannot read --cafile file ${cafile}: ${(error as NodeJS.ErrnoException).code ?? error}`,
        );
      }
    }
    if (switchFlag(flags, 'insecure')) tls.rejectUnauthorized = false;

    const abort = new AbortController();
    const interrupt = () => abort.abort();
    process.once('SIGINT', interrupt);
    const date = new Date();
    let run: Awaited<ReturnType<typeof runDemo>>;
    try {
      run = await runDemo({
        broker,
        version: versionText === undefined ? undefined : parseVersion(versionText, '-V'),
        durationMs: durationS * 1000,
        rate,
        seed,
        live: process.stdout.isTTY === true && !switchFlag(flags, 'plain'),
        tls,
        signal: abort.signal,
      });
    } finally {
      process.off('SIGINT', interrupt);
    }
    console.log(`\n${formatTable(run.result)}`);
    if (reportPath !== undefined) {
      writeFileSync(reportPath, renderReport({ ...run, date }));
      console.log(`\nreport: ${reportPath}`);
    }
    if (abort.signal.aborted) {
      console.log('interrupted: the run was cut short, so messages still in flight count as lost');
      return 130;
    }
    return run.result.pass ? EXIT.OK : EXIT.DELIVERY;
  },
};

function reportFile(given: string | undefined): string {
  if (given === undefined) return resolve(REPORT_NAME);
  const path = resolve(given);
  try {
    if (statSync(path).isDirectory()) return join(path, REPORT_NAME);
  } catch {
    // Not there yet: it is the file to write.
  }
  return path;
}
