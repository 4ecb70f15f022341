/**
 * FileStore across real processes: the lock against another live process,
 * and `kill -9` at random instants. The child reports each change only after
 * the store call returned; the reopened store must hold every reported
 * change, plus at most the one change the child was making when it died,
 * and nothing corrupt.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InboundQos2State } from '../../src/session/store.ts';
import type { OutboundState } from '../../src/session/types.ts';
import { FileStore } from '../../src/store/file.ts';
import { crashMessage, crashPacketId, nextState } from './fixtures/crash-model.ts';
import { storeError, tempDir } from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const dir = tempDir();

interface Child {
  process: ChildProcess;
  /** Everything the child wrote to stdout so far. */
  output(): string;
  ready: Promise<void>;
  exited: Promise<void>;
}

function start(script: string, args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(script), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('latin1');
      if (out.startsWith('ready\n')) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) before ready: ${err}`)),
    );
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  // 'close' comes after the child has exited and its stdout has been read to the end.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { process: child, output: () => out, ready, exited };
}

async function kill(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('FileStore across processes', () => {
  it('is locked while another process holds it, and taken over once that one is killed', async () => {
    const path = join(dir, 'locked.log');
    const child = start('hold-store.ts', [path]);
    try {
      await child.ready;
      const pid = child.process.pid!;
      assert.throws(() => new FileStore(path), storeError(new RegExp(`locked by pid ${pid}$`)));
    } finally {
      await kill(child);
    }
    const warnings: string[] = [];
    const store = new FileStore(path, { onWarning: (m) => warnings.push(m) });
    assert.match(warnings.join('\n'), new RegExp(`stale lock .* pid ${child.process.pid}`));
    assert.deepEqual(
      store.load().outbound.map((r) => r.message.topic),
      ['held'],
    );
    store.close();
  });

  interface Model {
    outbound: Map<number, { packetId: number; state: OutboundState }>;
    inbound: Map<number, InboundQos2State>;
  }

  /** Applies the child's complete report lines to `model`; returns how many changes and compactions there were. */
  function apply(model: Model, output: string): { changes: number; compactions: number; nextKey: number } {
    const lines = output.split('\n').slice(1, -1); // after 'ready'; the last piece is partial or empty
    let nextKey = Math.max(0, ...model.outbound.keys()) + 1;
    let changes = 0;
    let compactions = 0;
    for (const line of lines) {
      const [op, a, b, c] = line.split(' ');
      const n = Number(a);
      if (op === 'K') compactions++;
      else changes++;
      if (op === 'A') {
        assert.equal(n, nextKey++);
        model.outbound.set(n, { packetId: 0, state: 'queued' });
      } else if (op === 'U') model.outbound.set(n, { packetId: Number(b), state: c as OutboundState });
      else if (op === 'R') model.outbound.delete(n);
      else if (op === 'I') model.inbound.set(n, b as InboundQos2State);
      else if (op === 'J') model.inbound.delete(n);
      else if (op === 'C') model.inbound.clear();
      else assert.equal(op, 'K', `unknown report ${line}`);
    }
    return { changes, compactions, nextKey };
  }

  /**
   * Checks that `loaded` is `model`, or `model` after the one change the
   * child may have made without living to report it. Returns the loaded state.
   */
  function check(model: Model, nextKey: number, store: FileStore): Model {
    const loaded = store.load();
    const outbound = new Map(loaded.outbound.map((r) => [r.key, { packetId: r.packetId, state: r.state }]));
    for (const r of loaded.outbound) {
      assert.deepEqual(r.message, crashMessage(r.key), `message ${r.key} is intact`);
    }
    const inbound = new Map(loaded.inbound);
    let unreported = 0;
    for (const key of new Set([...model.outbound.keys(), ...outbound.keys()])) {
      const want = model.outbound.get(key);
      const got = outbound.get(key);
      if (JSON.stringify(want) === JSON.stringify(got)) continue;
      unreported++;
      if (want === undefined) {
        assert.equal(key, nextKey, `only the next key can appear unreported (${key})`);
        assert.deepEqual(got, { packetId: 0, state: 'queued' });
      } else {
        const next = nextState(key, want.state);
        const step = next === undefined ? undefined : { packetId: crashPacketId(key), state: next };
        assert.deepEqual(got, step, `record ${key}: ${JSON.stringify(want)} became ${JSON.stringify(got)}`);
      }
    }
    const cleared = inbound.size === 0 && model.inbound.size > 0;
    if (cleared) unreported++;
    else {
      for (const id of new Set([...model.inbound.keys(), ...inbound.keys()])) {
        const want = model.inbound.get(id);
        const got = inbound.get(id);
        if (want === got) continue;
        unreported++;
        const step = want === undefined ? 'delivered' : want === 'delivered' ? 'acked' : undefined;
        assert.equal(got, step, `inbound ${id}: ${want} became ${got}`);
      }
    }
    assert.ok(unreported <= 1, `${unreported} unreported changes`);
    return { outbound, inbound };
  }

  async function crashRounds(name: string, rounds: number, args: [number, number, boolean]) {
    const path = join(dir, `${name}.log`);
    let model: Model = { outbound: new Map(), inbound: new Map() };
    let changes = 0;
    let compactions = 0;
    for (let round = 0; round < rounds; round++) {
      const seed = Math.floor(Math.random() * 2 ** 32);
      const child = start('crash-child.ts', [
        path,
        String(seed),
        String(args[0]),
        String(args[1]),
        args[2] ? '1' : '0',
      ]);
      await child.ready;
      await sleep(20 + Math.random() * 200);
      await kill(child);
      const applied = apply(model, child.output());
      changes += applied.changes;
      compactions += applied.compactions;
      const store = new FileStore(path, { fsync: false });
      try {
        model = check(model, applied.nextKey, store);
      } catch (error) {
        throw new Error(`round ${round} (seed ${seed}): ${(error as Error).message}`, { cause: error });
      } finally {
        store.close();
      }
    }
    return { changes, compactions };
  }

  it('loses nothing a call returned from when killed at random instants', async () => {
    const { changes } = await crashRounds('crash', 8, [1024 * 1024, 4, false]);
    assert.ok(changes > 8 * 50, `only ${changes} changes`);
  });

  it('loses nothing when killed during frequent compactions', async () => {
    const { changes, compactions } = await crashRounds('crash-compact', 8, [4096, 1.2, false]);
    assert.ok(changes > 8 * 50, `only ${changes} changes`);
    assert.ok(compactions > 8, `only ${compactions} compactions`);
  });

  it('loses nothing when killed with fsync on', async () => {
    const { changes } = await crashRounds('crash-fsync', 4, [8192, 2, true]);
    assert.ok(changes > 4 * 10, `only ${changes} changes`);
  });
});
