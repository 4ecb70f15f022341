#!/usr/bin/env node
/**
 * The `steadfast` command. Subcommands live in `commands/`, one file each,
 * listed in `commands.ts`. Errors print one line and set a documented exit
 * code (see exit.ts); no stack traces.
 */
import { readFileSync } from 'node:fs';
import { flagHelp } from './args.ts';
import { COMMANDS, type CommandEntry } from './commands.ts';
import { CONNECTION_FLAGS, defaultConfigPath, ENVIRONMENT } from './config.ts';
import { describeError, EXIT } from './exit.ts';

function overview(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `steadfast: a resilient MQTT 3.1.1 / 5.0 client

Usage: steadfast COMMAND [options]      (steadfast help COMMAND for its options)

Commands:
${names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n].summary}`).join('\n')}
  ${'help'.padEnd(width)}this text; "help config" for settings, env vars and the config file
  ${'version'.padEnd(width)}print the version

Exit codes: 0 success, 1 failed after connecting (refused publish; gateway:
the radio stopped), 2 bad usage or input, 3 broker (gateway: the radio) not
reachable, or not an MQTT broker, 4 connection refused by the broker, 5 demo:
a message was lost or duplicated, 27 timed out (sub -W, req -W), 130 Ctrl-C.`;
}

function configHelp(): string {
  return `Connection settings come from, in order of precedence:
  1. flags
${flagHelp(CONNECTION_FLAGS)}
  2. environment variables
${Object.entries(ENVIRONMENT)
  .map(([name, key]) => `  ${name.padEnd(28)}${key}`)
  .join('\n')}
     (STEADFAST_CONFIG names the config file)
  3. a JSON config file: --config FILE, else $STEADFAST_CONFIG, else
     ${defaultConfigPath()} if it exists, e.g.
     {"url": "mqtts://broker.example:8883", "username": "me", "password": "…",
      "clientId": "laptop", "protocolVersion": 5, "cafile": "ca.pem"}
     (certificate paths are relative to the file)
-h and -p change the host and port of the URL, wherever it came from;
user:pass in a URL counts as that source's username and password.`;
}

function version(): string {
  // src/cli/main.ts and dist/cli/main.js are both two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function lookup(name: string): CommandEntry | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  try {
    if (name === 'version' || name === '--version') {
      console.log(version());
      return EXIT.OK;
    }
    if (name === 'help' || name === '--help') {
      const topic = rest[0];
      if (topic === undefined) console.log(overview());
      else if (topic === 'config') console.log(configHelp());
      else {
        const entry = lookup(topic);
        if (entry === undefined) throw new Error(`unknown command "${topic}"`);
        console.log((await entry.load()).command.usage);
      }
      return EXIT.OK;
    }
    const entry = lookup(name);
    if (entry === undefined) {
      console.error(`steadfast: unknown command "${name}"\n\n${overview()}`);
      return EXIT.USAGE;
    }
    const { command } = await entry.load();
    if (rest.includes('--help')) {
      console.log(command.usage);
      return EXIT.OK;
    }
    return await command.run(rest);
  } catch (error) {
    const { message, exitCode } = describeError(error);
    // --quiet (as mosquitto's) hides runtime errors, never a usage error.
    if (rest.includes('--quiet') && exitCode !== EXIT.USAGE) return exitCode;
    console.error(`steadfast ${name}: ${message}`);
    if (exitCode === EXIT.USAGE)
      console.error(`(steadfast help ${lookup(name) ? name : ''} for usage)`.replace(' )', ')'));
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
