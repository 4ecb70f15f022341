/**
 * FileStore: the conformance suite, then what only a file has: reopening,
 * large and odd messages, a torn or corrupt tail, foreign files, compaction,
 * leftovers of an interrupted compaction, and the lock within one process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from '../../src/store/crc32.ts';
import { FileStore, type FileStoreOptions } from '../../src/store/file.ts';
import { message, record, runStoreConformance } from './conformance.ts';
import { storeError, tempDir } from './helpers.ts';

const dir = tempDir();
let counter = 0;
const freshPath = () => join(dir, `store-${++counter}.log`);

runStoreConformance('FileStore', {
  create: () => new FileStore(freshPath(), { fsync: false }),
  reopen: (store) => {
    store.close();
    return new FileStore((store as FileStore).path, { fsync: false });
  },
});

/** Opens `path`, collecting warnings. */
function open(path: string, options: FileStoreOptions = {}): { store: FileStore; warnings: string[] } {
  const warnings: string[] = [];
  const store = new FileStore(path, { fsync: false, ...options, onWarning: (m) => warnings.push(m) });
  return { store, warnings };
}

function keys(store: FileStore): number[] {
  return store.load().outbound.map((r) => r.key);
}

describe('FileStore', () => {
  it('keeps thousands of records across reopenings, with fsync on', () => {
    const path = freshPath();
    let store = new FileStore(path);
    for (let key = 1; key <= 3000; key++) {
      store.addOutbound(record(key));
      if (key % 2 === 0) store.updateOutbound(record(key, key % 65535, 'sent'));
      if (key % 5 === 0) store.removeOutbound(record(key));
      if (key % 100 === 0) store.sync();
    }
    store.close();
    store = new FileStore(path);
    const loaded = store.load().outbound;
    assert.equal(loaded.length, 2400);
    for (const r of loaded) {
      assert.deepEqual(r, key2record(r.key));
    }
    store.close();

    function key2record(key: number) {
      return key % 2 === 0 ? record(key, key % 65535, 'sent') : record(key);
    }
  });

  it('round-trips an empty payload, a 256 KiB payload and properties', () => {
    const path = freshPath();
    const big = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    const records = [
      record(1, 0, 'queued', message(1, { payload: new Uint8Array(0) })),
      record(2, 2, 'sent', message(2, { payload: big, qos: 2, retain: true })),
      record(
        3,
        3,
        'sent',
        message(3, { properties: { userProperties: { k: ['v1', 'v2'] }, topicAlias: 4 } }),
      ),
      record(4, 0, 'queued', message(4, { topic: '', properties: { topicAlias: 9 } })),
    ];
    let { store } = open(path);
    for (const r of records) store.addOutbound(r);
    store.close();
    ({ store } = open(path));
    assert.deepEqual(store.load().outbound, records);
    store.close();
  });

  it('refuses a message the codec cannot carry, storing nothing', () => {
    const { store } = open(freshPath());
    const bad = message(1, { properties: { sessionExpiryInterval: 5 } });
    assert.throws(() => store.addOutbound(record(1, 0, 'queued', bad)), storeError(/not allowed/));
    assert.throws(() => store.updateOutbound(record(2, 70000, 'sent')), storeError(/packet id/));
    assert.deepEqual(store.load().outbound, []);
    store.close();
  });

  it('drops a torn last record, whatever byte it was cut at', () => {
    const path = freshPath();
    const { store } = open(path);
    const kept = [
      record(1, 1, 'sent'),
      record(2),
      record(3, 0, 'queued', message(3, { payload: new Uint8Array(0) })),
    ];
    for (const r of kept) store.addOutbound(r);
    store.setInbound(12, 'delivered');
    const start = store.size.bytes;
    const last = record(4, 0, 'queued', message(4, { properties: { contentType: 'text/plain' } }));
    store.addOutbound(last);
    const end = store.size.bytes;
    store.close();
    for (let cut = start; cut < end; cut++) {
      const copy = join(dir, `torn-${cut}.log`);
      copyFileSync(path, copy);
      truncateSync(copy, cut);
      const opened = open(copy);
      assert.deepEqual(
        opened.store.load(),
        { outbound: kept, inbound: [[12, 'delivered']] },
        `cut at ${cut}`,
      );
      assert.equal(opened.warnings.length, cut === start ? 0 : 1, `cut at ${cut}`);
      // The tail is gone from the file, so records written now are found next time.
      assert.equal(statSync(copy).size, start);
      opened.store.addOutbound(last);
      opened.store.close();
      const reopened = open(copy);
      assert.deepEqual(keys(reopened.store), [1, 2, 3, 4]);
      reopened.store.close();
    }
  });

  it('stops the replay at a flipped byte and drops what follows, with a warning', () => {
    const path = freshPath();
    const { store } = open(path);
    const offsets: number[] = [];
    for (let key = 1; key <= 10; key++) {
      offsets.push(store.size.bytes);
      store.addOutbound(record(key));
    }
    store.close();
    for (const where of [0, 4, 8, 9, 20, 30]) {
      const copy = join(dir, `flipped-${where}.log`);
      const image = readFileSync(path);
      image[offsets[4] + where] ^= 0x10;
      writeFileSync(copy, image);
      const opened = open(copy);
      assert.deepEqual(keys(opened.store), [1, 2, 3, 4], `flip at +${where}`);
      assert.equal(opened.warnings.length, 1);
      assert.match(opened.warnings[0], /replay stopped at .* offset \d+; dropped the last \d+ bytes/);
      assert.equal(statSync(copy).size, offsets[4]);
      opened.store.close();
    }
  });

  it('rejects a file that is not a store, or from a newer format', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, this is not a session store\n');
    assert.throws(() => new FileStore(text), storeError(/is not a steadfast-mqtt store/));
    assert.equal(readFileSync(text, 'utf8'), 'hello, this is not a session store\n');
    assert.ok(!existsSync(`${text}.lock`), 'a failed open releases the lock');

    const path = freshPath();
    open(path).store.close();
    const image = readFileSync(path);
    image[8] = 2;
    writeFileSync(path, image);
    assert.throws(() => new FileStore(path), storeError(/format version 2 .* reads version 1/));
  });

  it('fails on a record type it does not know rather than skipping it', () => {
    const path = freshPath();
    const { store } = open(path);
    store.setInbound(1, 'acked');
    store.close();
    // A well-formed record (length 1, op 99) with its CRC, as a newer version might write.
    const extra = Buffer.alloc(9);
    extra.writeUInt32LE(1, 0);
    extra[8] = 99;
    extra.writeUInt32LE(crc32(extra, 8, 9, crc32(extra, 0, 4)), 4);
    const image = readFileSync(path);
    writeFileSync(path, Buffer.concat([image, extra]));
    assert.throws(() => new FileStore(path), storeError(/unknown type 99/));
  });

  it('compacts to exactly the live records and shrinks the file', () => {
    const path = freshPath();
    const { store } = open(path, { compactMinBytes: 1 << 30 });
    for (let key = 1; key <= 200; key++) store.addOutbound(record(key));
    for (let key = 1; key <= 200; key++) if (key % 10 !== 0) store.removeOutbound(record(key));
    store.updateOutbound(record(50, 7, 'received'));
    store.setInbound(3, 'acked');
    const before = store.size.bytes;
    const expected = store.load();
    store.compact();
    assert.ok(store.size.bytes < before / 5, `${store.size.bytes} < ${before} / 5`);
    assert.equal(statSync(path).size, store.size.bytes);
    assert.deepEqual(store.load(), expected);
    store.addOutbound(record(201));
    store.close();
    const { store: again } = open(path);
    assert.deepEqual(
      keys(again),
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 201],
    );
    assert.deepEqual(again.load().outbound[4], record(50, 7, 'received'));
    again.close();
  });

  it('compacts by itself and keeps the file bounded under churn', () => {
    const path = freshPath();
    const { store } = open(path, { compactMinBytes: 16 * 1024, compactRatio: 2 });
    let largest = 0;
    for (let key = 1; key <= 20000; key++) {
      store.addOutbound(record(key));
      store.updateOutbound(record(key, (key % 65535) + 1, 'sent'));
      if (key > 20) store.removeOutbound(record(key - 20));
      largest = Math.max(largest, store.size.bytes);
    }
    assert.ok(largest <= 16 * 1024 + 64, `largest ${largest}`);
    store.close();
    const { store: again } = open(path);
    assert.deepEqual(
      keys(again),
      Array.from({ length: 20 }, (_, i) => 19981 + i),
    );
    again.close();
  });

  it('compacts at open when the file is mostly dead records', () => {
    const path = freshPath();
    const { store } = open(path, { compactMinBytes: 1 << 30 });
    for (let key = 1; key <= 2000; key++) {
      store.addOutbound(record(key));
      store.removeOutbound(record(key));
    }
    store.close();
    const before = statSync(path).size;
    const { store: again } = open(path, { compactMinBytes: 4096 });
    assert.equal(again.size.bytes, 12);
    assert.ok(statSync(path).size < before);
    again.close();
  });

  it('removes a .tmp left by an interrupted compaction', () => {
    const path = freshPath();
    const { store } = open(path);
    store.addOutbound(record(1));
    store.close();
    writeFileSync(`${path}.tmp`, 'half a snapshot');
    const opened = open(path);
    assert.ok(!existsSync(`${path}.tmp`));
    assert.match(opened.warnings.join('\n'), /\.tmp left by an interrupted compaction/);
    assert.deepEqual(keys(opened.store), [1]);
    opened.store.close();
  });

  it('treats an empty file as a new store', () => {
    const path = freshPath();
    writeFileSync(path, '');
    const { store } = open(path);
    store.addOutbound(record(1));
    store.close();
    const again = open(path).store;
    assert.deepEqual(keys(again), [1]);
    again.close();
  });

  it('needs an existing directory', () => {
    assert.throws(() => new FileStore(join(dir, 'missing', 'store.log')), storeError(/does not exist/));
  });

  it('cannot be opened twice in one process, and can after close', () => {
    const path = freshPath();
    const { store } = open(path);
    assert.throws(() => new FileStore(path), storeError(/already open in this process/));
    assert.throws(() => new FileStore(join(dir, '.', `store-${counter}.log`)), storeError(/already open/));
    store.close();
    assert.ok(!existsSync(`${path}.lock`));
    assert.throws(() => store.load(), storeError(/is closed/));
    open(path).store.close();
  });

  it("takes over a dead process's lock, and one with its own PID from an earlier life", () => {
    const path = freshPath();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    for (const pid of [dead, process.pid]) {
      writeFileSync(`${path}.lock`, `${pid}\n`);
      const opened = open(path);
      assert.match(opened.warnings.join('\n'), new RegExp(`stale lock .* pid ${pid}`));
      assert.equal(readFileSync(`${path}.lock`, 'utf8'), `${process.pid}\n`);
      opened.store.close();
      assert.ok(!existsSync(`${path}.lock`));
    }
  });
});
