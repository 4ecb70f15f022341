/**
 * The table of `steadfast` subcommands. Adding one is a file in `commands/`
 * that exports `command: Command`, and one line here. Modules load on use, so
 * `steadfast pub` never loads the demo's broker or report code.
 */

/** A subcommand: its help text and what it does. */
export interface Command {
  /** Full help for `steadfast help NAME` and `steadfast NAME --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves with the exit code. */
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  /** One line for the command list. */
  summary: string;
  load(): Promise<{ command: Command }>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  pub: { summary: 'publish one message', load: () => import('./commands/pub.ts') },
  sub: { summary: 'subscribe and print messages, through outages', load: () => import('./commands/sub.ts') },
  req: {
    summary: 'MQTT 5 request/response: publish a request, print the reply',
    load: () => import('./commands/req.ts'),
  },
  bench: { summary: 'run the benchmarks (source checkout)', load: () => import('./commands/bench.ts') },
  sim: {
    summary: 'serve a simulated radio medium (LoRa, nRF24, UART modem) on a Unix socket',
    load: () => import('./commands/sim.ts'),
  },
  gateway: {
    summary: 'relay radio nodes (simulated medium or UART modem) to a broker',
    load: () => import('./commands/gateway.ts'),
  },
  keygen: {
    summary: 'make a radio node key (and add the node to a gateway keys file)',
    load: () => import('./commands/keygen.ts'),
  },
  demo: {
    summary: 'resilience demo: traffic through scripted outages, with a report',
    load: () => import('./commands/demo.ts'),
  },
};
