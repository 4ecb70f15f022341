/** The file store's file-system helpers: errors, paths, exact reads and writes, directory fsync. */
import { closeSync, fsyncSync, openSync, readSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MqttError } from '../errors.ts';

export function storeError(message: string, cause?: unknown): MqttError {
  return new MqttError('STORE_ERROR', message, cause === undefined ? {} : { cause });
}

/** A STORE_ERROR saying what failed, with the original error as its cause. */
export function wrap(error: unknown, what: string): MqttError {
  if (error instanceof MqttError && error.code === 'STORE_ERROR') return error;
  const reason = error instanceof Error ? error.message : String(error);
  return storeError(`${what}: ${reason}`, error);
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** The store's absolute path, through the real path of its directory, which must exist. */
export function canonicalPath(path: string): string {
  const absolute = resolve(path);
  const dir = dirname(absolute);
  try {
    return join(realpathSync(dir), basename(absolute));
  } catch (error) {
    throw storeError(`cannot open session store ${absolute}: directory ${dir} does not exist`, error);
  }
}

/** Makes a rename in `dir` durable. */
export function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    if (errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') return; // Windows: cannot, need not
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (errorCode(error) !== 'EINVAL') throw error; // a file system without directory fsync
  } finally {
    closeSync(fd);
  }
}

/** Removes `file` if it is there; says whether it was. */
export function removeQuietly(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Writes `buf[start, end)` at the end of the append-mode file `fd`. */
export function writeAll(fd: number, buf: Buffer, start: number, end: number): void {
  while (start < end) start += writeSync(fd, buf, start, end - start);
}

/** Reads exactly `length` bytes at file offset `position` into `buf[at]`. */
export function readExactly(fd: number, buf: Buffer, at: number, length: number, position: number): void {
  while (length > 0) {
    const n = readSync(fd, buf, at, length, position);
    if (n === 0) throw storeError(`the store file ended before offset ${position + length}`);
    at += n;
    position += n;
    length -= n;
  }
}

const CHUNK_SIZE = 64 * 1024;

/** Writes a snapshot in 64 KiB chunks: records are built in place, then written in few system calls. */
export class ChunkWriter {
  buf: Buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  private used = 0;
  private flushed = 0;

  constructor(private readonly fd: number) {}

  /** Room for `size` bytes in `buf`, at the returned index. */
  reserve(size: number): number {
    if (this.used + size > this.buf.length) {
      this.flush();
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size);
    }
    const at = this.used;
    this.used += size;
    return at;
  }

  /** The file offset that index `at` of `buf` will land at. */
  offsetOf(at: number): number {
    return this.flushed + at;
  }

  /** Writes what is left and returns the file's size. */
  finish(): number {
    this.flush();
    return this.flushed;
  }

  private flush(): void {
    writeAll(this.fd, this.buf, 0, this.used);
    this.flushed += this.used;
    this.used = 0;
  }
}
