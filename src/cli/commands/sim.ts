/**
 * `steadfast sim`: the simulated radio medium as a process. It serves a
 * SimulatedMedium on a Unix socket, so that `steadfast gateway --sim PATH`
 * and nodes (`connectMedium(PATH)`) in other processes share one piece of
 * air, with the loss, bit errors, bursts, airtime and duty cycle chosen here.
 * Runs until SIGINT or SIGTERM, then prints a summary.
 */
import { serveMedium } from '../../gateway.ts';
import {
  type BurstOptions,
  lora,
  type MediumStats,
  nrf24,
  type RadioProfile,
  SimulatedMedium,
  uartModem,
} from '../../radio.ts';
import {
  type FlagSpec,
  flagHelp,
  numberFlag,
  type ParsedFlags,
  parseFlags,
  stringFlag,
  UsageError,
} from '../args.ts';
import type { Command } from '../commands.ts';
import { CliFailure, EXIT } from '../exit.ts';

const FLAGS: FlagSpec[] = [
  {
    key: 'socket',
    names: ['-s', '--socket'],
    value: true,
    meta: 'PATH',
    help: 'Unix socket to serve on (required)',
  },
  {
    key: 'profile',
    names: ['--profile'],
    value: true,
    meta: 'lora|nrf24|uart',
    help: 'radio type (default lora)',
  },
  { key: 'sf', names: ['--sf'], value: true, meta: '6-12', help: 'lora: spreading factor (default 7)' },
  { key: 'bw', names: ['--bw'], value: true, meta: 'HZ', help: 'lora: bandwidth (default 125000)' },
  { key: 'cr', names: ['--cr'], value: true, meta: '5-8', help: 'lora: coding rate 4/N (default 5)' },
  {
    key: 'rate',
    names: ['--rate'],
    value: true,
    meta: 'BIT/S',
    help: 'nrf24: 250000, 1000000 or 2000000 (default 1000000)',
  },
  {
    key: 'airRate',
    names: ['--air-rate'],
    value: true,
    meta: 'BIT/S',
    help: 'uart: air rate (default 9600)',
  },
  {
    key: 'packetSize',
    names: ['--packet-size'],
    value: true,
    meta: 'BYTES',
    help: 'uart: modem packet size, the MTU (default 64)',
  },
  {
    key: 'dutyCycle',
    names: ['--duty-cycle'],
    value: true,
    meta: 'FRACTION',
    help: 'share of time a radio may send (default: lora 0.01, others 1)',
  },
  {
    key: 'seed',
    names: ['--seed'],
    value: true,
    meta: 'N',
    help: 'seed for every random decision (default 1)',
  },
  {
    key: 'loss',
    names: ['--loss'],
    value: true,
    meta: 'P',
    help: 'frame loss probability per receiver (default 0)',
  },
  {
    key: 'ber',
    names: ['--ber'],
    value: true,
    meta: 'P',
    help: 'bit error rate of delivered frames (default 0)',
  },
  {
    key: 'burst',
    names: ['--burst'],
    value: true,
    meta: 'GOOD_MS:BAD_MS',
    help: 'Gilbert-Elliott interference: mean gap and mean burst, modelled ms (default none)',
  },
  {
    key: 'burstLoss',
    names: ['--burst-loss'],
    value: true,
    meta: 'P',
    help: 'loss probability of a frame in a burst (default 1)',
  },
  {
    key: 'timeScale',
    names: ['--time-scale'],
    value: true,
    meta: 'N',
    help: 'run N times faster than the modelled radios (default 1)',
  },
  {
    key: 'statusInterval',
    names: ['--status-interval'],
    value: true,
    meta: 'SECONDS',
    help: 'print the status line this often (default: only on SIGUSR1 and at exit)',
  },
];

function probabilityFlag(flags: ParsedFlags, key: string, what: string): number | undefined {
  return numberFlag(flags, key, what, 0, 1, false);
}

/** The radio profile the flags describe; a flag of another radio type is bad usage. */
export function profileFromFlags(flags: ParsedFlags): RadioProfile {
  const kind = stringFlag(flags, 'profile') ?? 'lora';
  const only: Record<string, string[]> = {
    lora: ['sf', 'bw', 'cr'],
    nrf24: ['rate'],
    uart: ['airRate', 'packetSize'],
  };
  if (!Object.hasOwn(only, kind))
    throw new UsageError(`--profile must be lora, nrf24 or uart, got "${kind}"`);
  for (const [other, keys] of Object.entries(only)) {
    if (other === kind) continue;
    const given = keys.find((key) => flags.values.has(key));
    const spec = FLAGS.find((f) => f.key === given);
    if (spec !== undefined) throw new UsageError(`${spec.names[0]} is for --profile ${other}, not ${kind}`);
  }
  const dutyCycle = numberFlag(flags, 'dutyCycle', '--duty-cycle', 0.000001, 1, false);
  try {
    if (kind === 'lora')
      return lora({
        sf: numberFlag(flags, 'sf', '--sf', 6, 12),
        bandwidthHz: numberFlag(flags, 'bw', '--bw', 7800, 500_000),
        codingRate: numberFlag(flags, 'cr', '--cr', 5, 8),
        dutyCycle,
      });
    if (kind === 'nrf24')
      return nrf24({ bitrate: numberFlag(flags, 'rate', '--rate', 250_000, 2_000_000), dutyCycle });
    return uartModem({
      airRate: numberFlag(flags, 'airRate', '--air-rate', 1),
      packetSize: numberFlag(flags, 'packetSize', '--packet-size', 16, 255),
      dutyCycle,
    });
  } catch (error) {
    // The profile's own checks (a bandwidth LoRa does not have, an nRF24 rate it does not have).
    throw new UsageError((error as Error).message);
  }
}

function burstFromFlags(flags: ParsedFlags): BurstOptions | undefined {
  const raw = stringFlag(flags, 'burst');
  const lossInBurst = probabilityFlag(flags, 'burstLoss', '--burst-loss');
  if (raw === undefined) {
    if (lossInBurst !== undefined) throw new UsageError('--burst-loss needs --burst GOOD_MS:BAD_MS');
    return undefined;
  }
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(raw.trim());
  const meanGoodMs = Number(match?.[1]);
  const meanBadMs = Number(match?.[2]);
  if (match === null || !(meanGoodMs > 0) || !(meanBadMs > 0))
    throw new UsageError(`--burst must be GOOD_MS:BAD_MS with both above 0, e.g. 60000:2000, got "${raw}"`);
  return lossInBurst === undefined ? { meanGoodMs, meanBadMs } : { meanGoodMs, meanBadMs, lossInBurst };
}

/** One line: what the medium did so far. */
export function formatMediumStats(stats: MediumStats, connected: number, modelMs: number): string {
  return (
    `${connected} radio${connected === 1 ? '' : 's'} connected (${stats.radios} ever), ${stats.transmissions} frames sent, ` +
    `${stats.deliveries} delivered (${stats.corrupted} corrupted), ${stats.lost} lost, ` +
    `${stats.collided} collided, ${stats.missedWhileSending} missed while sending, ` +
    `${stats.outOfRange} out of range; ${(modelMs / 1000).toFixed(1)} s modelled`
  );
}

export const command: Command = {
  usage: `steadfast sim --socket PATH [options]

Runs a simulated radio medium and serves it on a Unix socket. Gateways
(steadfast gateway --sim PATH) and nodes (connectMedium(PATH) from
steadfast-mqtt/gateway) attach to it from other processes and share its air:
range, loss, bit errors, interference bursts, time on air and duty cycle
apply to every frame. Every random decision comes from --seed.

Prints a status line (frames sent, delivered, lost, corrupted, collided) every
--status-interval seconds and on SIGUSR1; SIGINT or SIGTERM stops it with a
summary (exit 0). Exit 2 for bad usage, 1 when the socket cannot be served.

${flagHelp(FLAGS)}

Examples:
  steadfast sim -s /tmp/air.sock --profile nrf24 --loss 0.1
  steadfast sim -s /tmp/air.sock --sf 9 --duty-cycle 1 --time-scale 10 --burst 60000:2000`,

  async run(argv) {
    const flags = parseFlags(argv, FLAGS);
    if (flags.positional.length > 0) throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
    const path = stringFlag(flags, 'socket');
    if (path === undefined) throw new UsageError('sim needs a socket path: --socket PATH');
    const profile = profileFromFlags(flags);
    const seed = numberFlag(flags, 'seed', '--seed', 0, 0xffff_ffff) ?? 1;
    const timeScale = numberFlag(flags, 'timeScale', '--time-scale', 0.001, 1_000_000, false) ?? 1;
    const statusInterval = numberFlag(flags, 'statusInterval', '--status-interval', 0.1, 86_400, false);
    const medium = new SimulatedMedium({
      seed,
      timeScale,
      profile,
      loss: probabilityFlag(flags, 'loss', '--loss'),
      bitErrorRate: probabilityFlag(flags, 'ber', '--ber'),
      burst: burstFromFlags(flags),
    });
    let server: Awaited<ReturnType<typeof serveMedium>>;
    try {
      server = await serveMedium(medium, { path });
    } catch (error) {
      await medium.close();
      throw new CliFailure((error as Error).message, EXIT.FAILED);
    }
    const duty = profile.dutyCycle < 1 ? `, duty cycle ${profile.dutyCycle * 100}%` : '';
    console.log(`sim: serving ${profile.label}${duty} on ${path} (seed ${seed}, time scale ${timeScale})`);
    const status = () => formatMediumStats(medium.stats, server.connections, medium.now());
    const printStatus = () => console.log(`sim: ${status()}`);
    const timer = statusInterval === undefined ? undefined : setInterval(printStatus, statusInterval * 1000);
    let stop!: (signal: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    process.on('SIGUSR1', printStatus);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const signal = await stopped;
      console.log(`sim: ${signal}: stopping; ${status()}`);
    } finally {
      clearInterval(timer);
      process.off('SIGUSR1', printStatus);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await server.close();
      await medium.close();
    }
    return EXIT.OK;
  },
};
