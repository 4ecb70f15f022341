/**
 * A crash-safe session store in one file, for Node.
 *
 * File layout. A 12-byte header, then records, appended one per change:
 *
 *     header  89 53 46 4D 51 0D 0A 1A  ("\x89SFMQ\r\n\x1a")  | version u8 (1) | 3 zero bytes
 *     record  length u32 | crc u32 | op u8 | body             (integers little-endian;
 *             length counts op + body; the CRC-32 covers length, op and body)
 *
 *     op 1  add outbound      key f64 | packetId u16 | state u8 | the message as an MQTT 5 PUBLISH
 *     op 2  update outbound   key f64 | packetId u16 | state u8
 *     op 3  remove outbound   key f64
 *     op 4  set inbound       packetId u16 | state u8
 *     op 5  remove inbound    packetId u16
 *     op 6  clear inbound     (no body)
 *
 *     outbound state 0 queued, 1 sent, 2 received; inbound state 0 delivered, 1 acked.
 *     The PUBLISH (fixed header included) carries topic, QoS, retain, properties
 *     and payload, with a dummy packet id 1; the record's packetId is the real one.
 *
 * Opening replays the records in order; the first record that is cut short
 * or fails its CRC ends the replay, and the file is truncated there (with a
 * warning): records are appended in order, so nothing after a damaged one
 * can be trusted. A record with an op this version does not know is a
 * STORE_ERROR, never skipped: it was written by a newer format.
 *
 * Durability. Every call writes its record with one write(2) before it
 * returns, so it is in the kernel's page cache:
 * - `kill -9` (or any crash of the process) at any instant loses nothing a
 *   call returned from. A call cut off mid-write leaves at most one torn
 *   record at the end, dropped at the next open: that change never happened.
 * - An OS crash or power loss loses nothing told before the last `sync()`
 *   returned (it fdatasyncs the file). Changes after it may be lost, always
 *   as a suffix, since replay stops at the first damaged record. The client
 *   calls `sync()` before it writes to the network, so a lost add or update
 *   had not gone out yet; a lost remove resends a message whose flow had
 *   ended (a QoS 1 duplicate, which QoS 1 allows, or a PUBREL the broker
 *   answers again). A lost inbound QoS 2 id lets the broker's resend of a
 *   message already delivered through again, unless `sync()` ran between
 *   storing the id and delivering. `fsync: false` gives all this up for
 *   speed; kill -9 safety stays.
 *
 * Compaction. The store mirrors the live records in memory (for each
 * message only where its bytes lie in the file). When the log outgrows
 * max(compactMinBytes, compactRatio × the live records' size), the live
 * records are written to `<path>.tmp`, fsynced, renamed over `<path>` and the
 * directory fsynced; the store then appends to the new file. rename(2) is
 * atomic, so a crash at any point leaves the old file or the new one whole;
 * a leftover `.tmp` is deleted at open. A new store is created the same way,
 * so a store file always has its header.
 *
 * Locking. `<path>.lock` holds the owner's PID (see `file-lock.ts`): a
 * second process fails with STORE_ERROR, a dead owner's lock is taken over.
 *
 * POSIX semantics are assumed (renaming over a file that is open, fsync of
 * a directory); the store is not meant for network file systems.
 */
import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { MqttError } from '../errors.ts';
import type { InboundQos2State, SessionStore, StoredOutbound, StoredSession } from '../session/store.ts';
import {
  ChunkWriter,
  canonicalPath,
  errorCode,
  readExactly,
  removeQuietly,
  storeError,
  syncDirectory,
  wrap,
  writeAll,
} from './file-io.ts';
import { acquireLock, releaseLock } from './file-lock.ts';
import {
  ADD_SIZE,
  addRecord,
  checkHeader,
  decodeMessage,
  FRAME_SIZE,
  HEADER_SIZE,
  INBOUND_CLEAR_SIZE,
  INBOUND_REMOVE_SIZE,
  INBOUND_SET_SIZE,
  OP_ADD,
  OP_INBOUND_CLEAR,
  OP_REMOVE,
  OP_UPDATE,
  REMOVE_SIZE,
  scanRecords,
  seal,
  UPDATE_SIZE,
  writeHeader,
  writeInbound,
  writeOutbound,
} from './file-log.ts';
import { Mirror } from './file-mirror.ts';

/** Options for `FileStore`. */
export interface FileStoreOptions {
  /**
   * fdatasync the file at `sync()` when something was written since the last
   * one, and fsync snapshots and the directory when compacting: what makes
   * the store survive an OS crash or power loss. Without it a `kill -9` still
   * loses nothing, but a power loss may lose recent changes or, right after a
   * compaction, the whole file. Default true.
   */
  fsync?: boolean;
  /** Never compact a log smaller than this many bytes. Default 1 MiB (1,048,576). */
  compactMinBytes?: number;
  /** Compact when the log is larger than this many times the live records' size. Default 4. */
  compactRatio?: number;
  /**
   * Hears about trouble the store got over: a damaged tail dropped at open,
   * a stale lock taken over, a leftover `.tmp` removed, a compaction that
   * failed (it is retried later). Default: ignore them.
   */
  onWarning?: (message: string) => void;
}

const APPEND = constants.O_RDWR | constants.O_APPEND;
const CREATE = APPEND | constants.O_CREAT | constants.O_TRUNC;

/** Stores open in this process (the lock file holds our PID either way, so it cannot tell). */
const openPaths = new Set<string>();

/**
 * A `SessionStore` in an append-only, checksummed log file that survives
 * `kill -9` at any instant and, with `fsync` on, power loss after `sync()`.
 * Opening takes the file's lock, replays it, and repairs a damaged tail;
 * errors (a missing directory, a file that is not a store, a lock held by a
 * live process, I/O failures) are MqttError STORE_ERROR.
 */
export class FileStore implements SessionStore {
  /** The store file's absolute path. */
  readonly path: string;
  private readonly fsync: boolean;
  private readonly compactMinBytes: number;
  private readonly compactRatio: number;
  private readonly warn: (message: string) => void;

  private fd = -1;
  /** The file's length: where the next record goes. */
  private bytes = 0;
  private dirty = false;
  private directoryDirty = false;
  private closed = false;
  /** Set when the file can no longer be trusted to hold what it was told. */
  private broken: MqttError | undefined;
  private compactNotBefore = 0;
  private readonly live = new Mirror();
  /** For the fixed-size records, written from here without allocating. */
  private readonly scratch = Buffer.alloc(UPDATE_SIZE);

  constructor(path: string, options: FileStoreOptions = {}) {
    this.fsync = options.fsync ?? true;
    this.compactMinBytes = options.compactMinBytes ?? 1024 * 1024;
    this.compactRatio = options.compactRatio ?? 4;
    this.warn = options.onWarning ?? (() => {});
    if (!(this.compactRatio >= 1))
      throw storeError(`compactRatio must be at least 1, not ${this.compactRatio}`);
    if (!(this.compactMinBytes >= 0))
      throw storeError(`compactMinBytes must be >= 0, not ${this.compactMinBytes}`);
    this.path = canonicalPath(path);
    if (openPaths.has(this.path))
      throw storeError(`session store ${this.path} is already open in this process`);
    acquireLock(this.path, this.warn);
    openPaths.add(this.path);
    try {
      this.open();
    } catch (error) {
      if (this.fd >= 0) closeSync(this.fd);
      this.release();
      throw wrap(error, `cannot open session store ${this.path}`);
    }
  }

  load(): StoredSession {
    this.usable();
    const image = Buffer.allocUnsafe(this.bytes);
    try {
      readExactly(this.fd, image, 0, this.bytes, 0);
    } catch (error) {
      throw wrap(error, `cannot read session store ${this.path}`);
    }
    const keys = [...this.live.outbound.keys()].sort((a, b) => a - b);
    const outbound = keys.map((key): StoredOutbound => {
      const live = this.live.outbound.get(key)!;
      const message = decodeMessage(image, live.messageAt, live.messageLength);
      return { key, message, packetId: live.packetId, state: live.state };
    });
    return { outbound, inbound: [...this.live.inbound] };
  }

  addOutbound(record: StoredOutbound): void {
    this.usable();
    const buf = addRecord(record.key, record.message, record.packetId, record.state);
    const at = this.append(buf, buf.length);
    this.live.setOutbound(record.key, {
      packetId: record.packetId,
      state: record.state,
      messageAt: at + ADD_SIZE,
      messageLength: buf.length - ADD_SIZE,
    });
    this.maybeCompact();
  }

  updateOutbound(record: StoredOutbound): void {
    this.usable();
    const live = this.live.outbound.get(record.key);
    // As MemoryStore does, an update of a record never added adds it.
    if (live === undefined) return this.addOutbound(record);
    if (live.packetId === record.packetId && live.state === record.state) return;
    writeOutbound(this.scratch, 0, OP_UPDATE, record.key, record.packetId, record.state);
    this.append(this.scratch, UPDATE_SIZE);
    live.packetId = record.packetId;
    live.state = record.state;
    this.maybeCompact();
  }

  removeOutbound(record: StoredOutbound): void {
    this.usable();
    if (!this.live.outbound.has(record.key)) return;
    this.scratch[FRAME_SIZE] = OP_REMOVE;
    this.scratch.writeDoubleLE(record.key, FRAME_SIZE + 1);
    this.append(this.scratch, REMOVE_SIZE);
    this.live.deleteOutbound(record.key);
    this.maybeCompact();
  }

  setInbound(packetId: number, state: InboundQos2State): void {
    this.usable();
    if (this.live.inbound.get(packetId) === state) return;
    writeInbound(this.scratch, 0, packetId, state);
    this.append(this.scratch, INBOUND_SET_SIZE);
    this.live.setInbound(packetId, state);
    this.maybeCompact();
  }

  removeInbound(packetId: number): void {
    this.usable();
    if (!this.live.inbound.has(packetId)) return;
    writeInbound(this.scratch, 0, packetId);
    this.append(this.scratch, INBOUND_REMOVE_SIZE);
    this.live.deleteInbound(packetId);
    this.maybeCompact();
  }

  clearInbound(): void {
    this.usable();
    if (this.live.inbound.size === 0) return;
    this.scratch[FRAME_SIZE] = OP_INBOUND_CLEAR;
    this.append(this.scratch, INBOUND_CLEAR_SIZE);
    this.live.clearInbound();
    this.maybeCompact();
  }

  sync(): void {
    this.usable();
    if (!this.fsync) return;
    try {
      if (this.directoryDirty) syncDirectory(dirname(this.path));
      this.directoryDirty = false;
      if (this.dirty) fdatasyncSync(this.fd);
      this.dirty = false;
    } catch (error) {
      // After a failed fsync the kernel may have dropped the dirty pages: a retry could "succeed".
      this.broken = wrap(error, `cannot sync session store ${this.path}`);
      throw this.broken;
    }
  }

  close(): void {
    if (this.closed) return;
    let failure: unknown;
    try {
      if (this.broken === undefined) this.sync();
    } catch (error) {
      failure = error;
    }
    try {
      closeSync(this.fd);
    } catch (error) {
      failure ??= wrap(error, `cannot close session store ${this.path}`);
    }
    this.release();
    if (failure !== undefined) throw failure;
  }

  /** Writes a snapshot of the live records now, whatever the log's size. */
  compact(): void {
    this.usable();
    try {
      this.writeSnapshot();
    } catch (error) {
      throw wrap(error, `cannot compact session store ${this.path}`);
    }
  }

  /** Messages and QoS 2 ids held, as MemoryStore reports them, and the file's length in bytes. */
  get size(): { outbound: number; inbound: number; bytes: number } {
    return { outbound: this.live.outbound.size, inbound: this.live.inbound.size, bytes: this.bytes };
  }

  private release(): void {
    this.closed = true;
    openPaths.delete(this.path);
    releaseLock(this.path);
  }

  private usable(): void {
    if (this.closed) throw storeError(`session store ${this.path} is closed`);
    if (this.broken !== undefined) throw this.broken;
  }

  private open(): void {
    if (removeQuietly(`${this.path}.tmp`)) {
      this.warn(`removed ${this.path}.tmp left by an interrupted compaction`);
    }
    try {
      this.fd = openSync(this.path, APPEND);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    const length = this.fd < 0 ? 0 : fstatSync(this.fd).size;
    // A new store, or an empty file made for it: write the header the crash-safe way.
    if (length === 0) return this.writeSnapshot();
    const image = Buffer.allocUnsafe(length);
    readExactly(this.fd, image, 0, length, 0);
    checkHeader(image, this.path);
    const result = scanRecords(image, (op, record, body, bodyLength) =>
      this.live.replay(image, op, record, body, bodyLength, (m) => this.warn(`${this.path}: ${m}`)),
    );
    this.bytes = result.end;
    if (result.damage !== undefined) {
      this.warn(
        `${this.path}: replay stopped at ${result.damage}; dropped the last ${length - result.end} bytes`,
      );
      ftruncateSync(this.fd, result.end);
      if (this.fsync) fdatasyncSync(this.fd);
    }
    if (this.bytes > this.compactThreshold()) this.writeSnapshot();
  }

  /**
   * Seals and appends the record in `buf[0, size)`; returns its offset. A
   * failed write is cut off the file again, so that a partial record never
   * sits in front of later ones.
   */
  private append(buf: Buffer, size: number): number {
    seal(buf, 0, size);
    const at = this.bytes;
    try {
      writeAll(this.fd, buf, 0, size);
    } catch (error) {
      const failure = wrap(error, `cannot write session store ${this.path}`);
      try {
        ftruncateSync(this.fd, at);
      } catch {
        this.broken = failure;
      }
      throw failure;
    }
    this.bytes = at + size;
    this.dirty = true;
    return at;
  }

  private compactThreshold(): number {
    return Math.max(this.compactMinBytes, this.compactRatio * this.live.liveBytes, this.compactNotBefore);
  }

  private maybeCompact(): void {
    if (this.bytes <= this.compactThreshold()) return;
    try {
      this.writeSnapshot();
    } catch (error) {
      // The log is still whole and appended to; try again once it has doubled.
      this.compactNotBefore = this.bytes * 2;
      this.warn(`compaction of ${this.path} failed, retrying later: ${wrap(error, 'compaction').message}`);
    }
  }

  /** Writes the live records to `.tmp`, renames it over the store and appends to it from then on. */
  private writeSnapshot(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, CREATE, 0o600);
    const entries = [...this.live.outbound].sort((a, b) => a[0] - b[0]);
    const moved: number[] = [];
    let bytes: number;
    try {
      const out = new ChunkWriter(fd);
      writeHeader(out.buf, out.reserve(HEADER_SIZE));
      for (const [key, live] of entries) {
        const size = ADD_SIZE + live.messageLength;
        const at = out.reserve(size);
        writeOutbound(out.buf, at, OP_ADD, key, live.packetId, live.state);
        readExactly(this.fd, out.buf, at + ADD_SIZE, live.messageLength, live.messageAt);
        seal(out.buf, at, size);
        moved.push(out.offsetOf(at) + ADD_SIZE);
      }
      for (const [id, state] of this.live.inbound) {
        const at = out.reserve(INBOUND_SET_SIZE);
        writeInbound(out.buf, at, id, state);
        seal(out.buf, at, INBOUND_SET_SIZE);
      }
      bytes = out.finish();
      if (this.fsync) fsyncSync(fd);
      renameSync(tmp, this.path);
    } catch (error) {
      closeSync(fd);
      removeQuietly(tmp);
      throw error;
    }
    // From here the new file is the store; only its directory entry may still need making durable.
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // The old file is gone from the directory: nothing of it is needed any more.
      }
    }
    this.fd = fd;
    this.bytes = bytes;
    this.dirty = false;
    this.compactNotBefore = 0;
    entries.forEach(([, live], i) => {
      live.messageAt = moved[i];
    });
    if (this.fsync) {
      try {
        syncDirectory(dirname(this.path));
      } catch (error) {
        this.directoryDirty = true; // the next sync() tries again
        this.warn(`cannot fsync the directory of ${this.path}: ${String(error)}`);
      }
    }
  }
}
