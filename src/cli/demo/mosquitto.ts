/**
 * `--broker mosquitto`: a Mosquitto of the demo's own, on a free loopback
 * port with its own config and data directory and persistence on, so that a
 * restart (SIGTERM saves the sessions, the new process loads them) keeps
 * every session and every queued message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliFailure, EXIT } from '../exit.ts';
import type { DemoBroker } from './brokers.ts';

function findMosquitto(): string | undefined {
  const candidates = [
    process.env.MOSQUITTO_BIN,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'mosquitto')),
    '/usr/sbin/mosquitto',
    '/usr/local/sbin/mosquitto',
    '/opt/homebrew/sbin/mosquitto',
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function startLocalMosquitto(): Promise<DemoBroker> {
  const binary = findMosquitto();
  if (binary === undefined) {
    throw new CliFailure(
      '--broker mosquitto needs Mosquitto installed (Debian/Ubuntu: apt install mosquitto; macOS: brew install mosquitto), or set MOSQUITTO_BIN',
      EXIT.USAGE,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-demo-mosquitto-'));
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(
    configFile,
    [
      '# written by steadfast demo',
      // Running as root, Mosquitto would switch to user "mosquitto", which cannot write our directory.
      `user ${userInfo().username}`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest stderr',
      // Room for what the subscriber misses during an outage, at any --rate.
      'max_queued_messages 100000',
      `listener ${port} 127.0.0.1`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let version = '';
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  // If the demo dies, its broker must not outlive it.
  const killOnExit = () => {
    if (running()) child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  async function launch(): Promise<void> {
    const log = openSync(logFile, 'a');
    const offset = readFileSync(logFile).length;
    const proc = spawn(binary!, ['-c', configFile], { cwd: dir, stdio: ['ignore', log, log] });
    closeSync(log);
    child = proc;
    let spawnError: Error | undefined;
    proc.once('error', (error) => (spawnError = error));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const out = readFileSync(logFile, 'utf8').slice(offset);
      const found = /mosquitto version (\S+) running/.exec(out);
      if (found && (await accepts(port))) {
        version = found[1];
        return;
      }
      if (spawnError || !running() || Date.now() > deadline) {
        if (running()) proc.kill('SIGKILL');
        throw new CliFailure(
          `mosquitto did not start (${spawnError?.message ?? 'see its log'}):\n${out.trim()}`,
          EXIT.FAILED,
        );
      }
      await sleep(25);
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (proc === undefined || !running()) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  try {
    await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    get description() {
      return `Mosquitto ${version} (started by the demo, persistence on, ${dir})`;
    },
    host: '127.0.0.1',
    port,
    protocol: 'mqtt',
    defaultVersion: 5,
    versions: [4, 5],
    restartable: true,
    stopForRestart: stop,
    startAgain: launch,
    async close() {
      await stop();
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
