/**
 * The file store's lock: `<store>.lock` holds the PID of the process that
 * has the store open. Two processes appending to one log would interleave
 * records and resume the same session twice, so the second one must fail.
 *
 * The lock is created complete and atomically: the PID is written to a file
 * of our own, which is then hard-linked to the lock's name (link(2) fails
 * when the name exists), so nobody ever sees an empty lock. A lock whose
 * process is gone (a crash, `kill -9`) is stale and taken over; so is one
 * holding our own PID, which can only be left by an earlier process that had
 * the same PID (a container restarted, where the client is often PID 1).
 * Taking over moves the stale lock aside with rename(2) and checks that what
 * was moved is the lock that was judged stale, and puts it back if not, so
 * two processes taking over the same stale lock at once do not both win.
 *
 * Limits: a PID reused by an unrelated live process makes a stale lock look
 * held (the error names the PID; delete the `.lock` file once it is known
 * to be stale). Worker threads share their process's PID: the lock cannot
 * tell them apart, so open a store from one thread only.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { MqttError } from '../errors.ts';
import { errorCode, removeQuietly } from './file-io.ts';

/** The PID in a lock file: null when there is no such file, NaN when it holds no PID. */
function readPid(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  return /^\d+\n?$/.test(text) ? Number.parseInt(text, 10) : Number.NaN;
}

/** Whether a process other than this one runs with this PID. EPERM means it exists but is not ours. */
function isOtherLiveProcess(pid: number): boolean {
  // Guard: kill(0) and kill(-n) would signal process groups.
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function lockedError(store: string, pid: number): MqttError {
  return new MqttError('STORE_ERROR', `session store ${store} is locked by pid ${pid}`);
}

/**
 * Takes the lock of `store` or throws STORE_ERROR ("locked by pid N").
 * `warn` hears about a stale lock taken over.
 */
export function acquireLock(store: string, warn: (message: string) => void): void {
  const lock = `${store}.lock`;
  const mine = `${lock}.${process.pid}`;
  const aside = `${lock}.stale.${process.pid}`;
  try {
    writeFileSync(mine, `${process.pid}\n`, { mode: 0o644 });
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(mine, lock);
        return;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const holder = readPid(lock);
      if (holder === null) continue; // released meanwhile: try again
      if (isOtherLiveProcess(holder)) throw lockedError(store, holder);
      try {
        renameSync(lock, aside);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue; // someone else took it over first
        throw error;
      }
      const moved = readPid(aside);
      if (moved !== null && !Object.is(moved, holder)) {
        // We moved a lock another process took in between: give it back.
        try {
          linkSync(aside, lock);
        } catch {
          // A third process holds the lock now; the one we moved lost it. Vanishingly rare.
        }
        removeQuietly(aside);
        if (isOtherLiveProcess(moved)) throw lockedError(store, moved);
        continue;
      }
      removeQuietly(aside);
      warn(`took over the stale lock of ${store} left by pid ${holder}`);
    }
    throw new MqttError('STORE_ERROR', `could not take the lock of session store ${store}`);
  } catch (error) {
    if (error instanceof MqttError) throw error;
    throw new MqttError('STORE_ERROR', `cannot lock session store ${store}: ${String(error)}`, {
      cause: error,
    });
  } finally {
    removeQuietly(mine);
  }
}

/** Releases the lock of `store` if this process holds it. */
export function releaseLock(store: string): void {
  const lock = `${store}.lock`;
  try {
    if (readPid(lock) === process.pid) unlinkSync(lock);
  } catch {
    // The lock is gone or unreadable: a later open judges it by its PID either way.
  }
}
