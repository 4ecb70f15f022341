// Real ejabberd brokers (its `mod_mqtt`, MQTT 3.1.1 and 5.0) for integration
// tests: the Debian package's Erlang release run directly with `erl`, on a
// free loopback port, with its own config, Mnesia spool, log, HOME and
// Erlang node name, and no epmd (the node listens on a port of its own, so
// parallel tests and other Erlang nodes on the machine never collide). The
// only listener is mod_mqtt; no XMPP port is opened. Brokers are killed when
// the test process exits, and only processes started here are ever
// signalled, and only by PID.
//
// Authentication: ejabberd refuses a CONNECT without a password even with
// anonymous authentication (mod_mqtt_session:authenticate/2), so every
// client must send a user name and a password. The broker's `url` carries
// them (`mqtt://USER:PASS@127.0.0.1:PORT`), and `credentials` holds them for
// clients that take options instead. Anonymous auth (`login_anon`) accepts
// any pair; the user name becomes the session's JID user, the client id its
// resource.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts } from './ports.ts';
import { ExitCleanup, exited, readTail, tcpAccepts } from './process.ts';

/** Options for {@link startEjabberd}. Everything is optional. */
export interface EjabberdOptions {
  /**
   * mod_mqtt module options merged over the defaults, e.g. `{ max_queue: 10 }`
   * or `{ session_expiry: 0 }` (see ejabberd's mod_mqtt documentation). Default none.
   */
  mqtt?: Record<string, unknown>;
  /** Options of the mod_mqtt listener, e.g. `{ max_payload_size: 1000 }`. Default none. */
  listener?: Record<string, unknown>;
  /** Top-level config options merged over the generated ones. Default none. */
  config?: Record<string, unknown>;
  /** Log level (`none` … `debug`). Default `info` (connections and refusals are logged). */
  loglevel?: string;
  /** How long to wait for the listener, in ms. Default `30000` (start-up takes 1-3 s here). */
  readyTimeoutMs?: number;
  /**
   * Let the test process exit while the broker runs (it is then SIGKILLed by the exit hook):
   * for a broker shared by a whole test file, which no single test stops. Default `false`.
   */
  unref?: boolean;
  /** The `erl` launcher. Default `$EJABBERD_ERL` or `/usr/bin/erl`. */
  erl?: string;
  /** Where the Debian package keeps the ejabberd release. Default `/usr/lib/x86_64-linux-gnu`, or `$EJABBERD_LIBS`. */
  libs?: string;
}

/** A running ejabberd started by {@link startEjabberd}. */
export interface EjabberdBroker {
  /** mod_mqtt's TCP port on 127.0.0.1. */
  readonly port: number;
  /** `mqtt://USER:PASS@127.0.0.1:PORT` (ejabberd requires credentials). */
  readonly url: string;
  /** The credentials in `url`, for clients configured with options. */
  readonly credentials: { username: string; password: string };
  /** The Erlang node name (`-sname`), unique per broker. */
  readonly node: string;
  /** PID of the current broker process (changes on restart). */
  readonly pid: number;
  /** Temp directory holding the config, spool, log and HOME. */
  readonly dataDir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly running: boolean;
  /** The log (ejabberd's own log file and the VM's stderr). */
  log(): string;
  /** SIGTERM (an orderly `init:stop()`; SIGKILL after 10 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; the temp dir is kept so `restart()` works. */
  kill(): Promise<void>;
  /** Stop if running, then start again on the same port, node name and spool. */
  restart(): Promise<void>;
}

/** The ejabberd release's Debian package name, for error messages. */
export const EJABBERD_PACKAGE = 'ejabberd';
const DEFAULT_ERL = process.env.EJABBERD_ERL ?? '/usr/bin/erl';
const DEFAULT_LIBS = process.env.EJABBERD_LIBS ?? '/usr/lib/x86_64-linux-gnu';
const USER = 'steadfast';
const PASSWORD = 'test';

/** Why ejabberd cannot run here (with the fix), or undefined when it can. */
export function ejabberdUnavailable(options: Pick<EjabberdOptions, 'erl' | 'libs'> = {}): string | undefined {
  const erl = options.erl ?? DEFAULT_ERL;
  const libs = options.libs ?? DEFAULT_LIBS;
  if (!existsSync(erl))
    return `erl not found at ${erl}: run scripts/ensure-system-deps.sh (installs ${EJABBERD_PACKAGE})`;
  let release = false;
  try {
    release = readFileSync('/var/lib/dpkg/status', 'utf8').includes(`Package: ${EJABBERD_PACKAGE}\n`);
  } catch {
    release = false;
  }
  if (!release || !existsSync(libs)) {
    return `the ${EJABBERD_PACKAGE} package is not installed: run scripts/ensure-system-deps.sh (apt-get install -y ${EJABBERD_PACKAGE})`;
  }
  return undefined;
}

const cleanup = new ExitCleanup();
let counter = 0;

/**
 * The config, as JSON (valid YAML, which is what ejabberd reads): one virtual
 * host, anonymous authentication, mod_mqtt on `port` and nothing else.
 */
function buildConfig(port: number, options: EjabberdOptions): string {
  const config = {
    hosts: ['localhost'],
    loglevel: options.loglevel ?? 'info',
    log_rotate_count: 0,
    certfiles: [],
    auth_method: ['anonymous'],
    anonymous_protocol: 'login_anon',
    allow_multiple_connections: true,
    listen: [{ port, ip: '127.0.0.1', module: 'mod_mqtt', backlog: 1000, ...options.listener }],
    acl: { local: { user_regexp: '' } },
    access_rules: { local: { allow: 'all' } },
    modules: { mod_mqtt: { ...options.mqtt } },
    ...options.config,
  };
  return `# generated by test/helpers/ejabberd.ts\n${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Starts ejabberd on a free loopback port with a generated config and a
 * private temp directory, and waits until mod_mqtt accepts connections.
 * Install it with `scripts/ensure-system-deps.sh`.
 */
export async function startEjabberd(options: EjabberdOptions = {}): Promise<EjabberdBroker> {
  const unavailable = ejabberdUnavailable(options);
  if (unavailable) throw new Error(`ejabberd: ${unavailable}`);
  const erl = options.erl ?? DEFAULT_ERL;
  const [port, distPort] = await freePorts(2);
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-ejabberd-'));
  cleanup.dir(dataDir);
  const configFile = join(dataDir, 'ejabberd.yml');
  const logFile = join(dataDir, 'ejabberd.log');
  const stderrFile = join(dataDir, 'vm.log');
  const inetrc = join(dataDir, 'inetrc');
  writeFileSync(configFile, buildConfig(port, options));
  // Name resolution from a file only: the node name's host and "localhost" are all ejabberd looks up.
  writeFileSync(inetrc, '{lookup,["file","native"]}.\n{host,{127,0,0,1},["localhost"]}.\n');
  const node = `sfm${process.pid}x${++counter}x${randomBytes(3).toString('hex')}`;
  const cookie = randomBytes(12).toString('hex');
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const argv = [
    '-noinput',
    '-sname',
    node,
    '-setcookie',
    cookie,
    // No epmd: the node listens on its own free port instead of registering with a shared daemon.
    '-start_epmd',
    'false',
    '-erl_epmd_port',
    String(distPort),
    '-mnesia',
    'dir',
    JSON.stringify(join(dataDir, 'spool')),
    '-s',
    'ejabberd',
  ];
  const env = {
    ...process.env,
    HOME: dataDir,
    EJABBERD_CONFIG_PATH: configFile,
    EJABBERD_LOG_PATH: logFile,
    ERL_LIBS: options.libs ?? DEFAULT_LIBS,
    ERL_INETRC: inetrc,
    ERL_CRASH_DUMP: join(dataDir, 'erl_crash.dump'),
    ERL_CRASH_DUMP_BYTES: '0',
  };

  let child: ChildProcess | undefined;
  let removed = false;
  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const ready = `Start accepting TCP connections at 127.0.0.1:${port} for mod_mqtt`;

  async function launch(): Promise<void> {
    const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
    const fd = openSync(stderrFile, 'a');
    let spawnError: Error | undefined;
    try {
      child = spawn(erl, argv, { cwd: dataDir, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const proc = child;
    proc.once('error', (err) => {
      spawnError = err;
    });
    cleanup.child(proc);
    if (options.unref) proc.unref();
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const dead = spawnError !== undefined || proc.exitCode !== null || proc.signalCode !== null;
      if (!dead && readTail(logFile, logOffset).includes(ready) && (await tcpAccepts(port))) return;
      if (dead || Date.now() > deadline) {
        if (!dead) {
          proc.kill('SIGKILL');
          await exited(proc);
        }
        const why = spawnError
          ? `spawn failed: ${spawnError.message}`
          : dead
            ? `exited with ${proc.exitCode ?? proc.signalCode}`
            : `not ready after ${readyTimeoutMs} ms`;
        throw new Error(
          `ejabberd ${why} (config ${configFile}):\n--- log ---\n${readTail(logFile, logOffset)}\n--- vm ---\n${readTail(stderrFile)}`,
        );
      }
      await sleep(50);
    }
  }

  async function signalAndWait(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const proc = child;
    if (proc === undefined || !isRunning()) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited(proc);
    clearTimeout(timer);
  }

  try {
    await launch();
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    cleanup.forgetDir(dataDir);
    throw err;
  }

  return {
    port,
    url: `mqtt://${USER}:${PASSWORD}@127.0.0.1:${port}`,
    credentials: { username: USER, password: PASSWORD },
    node,
    get pid() {
      return child?.pid ?? -1;
    },
    dataDir,
    configFile,
    logFile,
    get running() {
      return isRunning();
    },
    log: () => `${readTail(logFile)}${readTail(stderrFile)}`,
    async stop() {
      await signalAndWait('SIGTERM', 10_000);
      if (!removed) {
        removed = true;
        rmSync(dataDir, { recursive: true, force: true });
        cleanup.forgetDir(dataDir);
      }
    },
    async kill() {
      await signalAndWait('SIGKILL', 5000);
    },
    async restart() {
      if (removed) throw new Error('ejabberd: restart() after stop()');
      await signalAndWait('SIGTERM', 10_000);
      await launch();
    },
  };
}
