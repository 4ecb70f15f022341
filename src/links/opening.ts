/**
 * The part every link's `open()` shares: settle exactly once, on success,
 * failure, timeout or abort, and on any failure tear down whatever is
 * half-open. Runtime-neutral (used by the browser WebSocket link too).
 */
import { MqttError } from '../errors.ts';

/** Default time allowed for a link to open, in ms. */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;

/** Given to a link's starter: how it reports the outcome of the open. */
export interface Opening<T> {
  /** The connection is ready. Ignored once settled. */
  resolve(value: T): void;
  /** Opening failed. Ignored once settled. */
  reject(error: MqttError): void;
}

/**
 * Starts opening something and returns a function that abandons it
 * (detaches listeners, destroys the half-open socket). The abandon function
 * is called exactly once if, and only if, the open fails for any reason.
 */
export type Starter<T> = (opening: Opening<T>) => () => void;

/**
 * Runs one open attempt for link `name`: calls `start`, and rejects with
 * ABORTED when `signal` aborts (at once if it already has, without calling
 * `start`), with TIMEOUT after `timeoutMs` (none when 0 or not finite),
 * and with LINK_ERROR when `start` throws.
 */
export function runOpening<T>(
  name: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  start: Starter<T>,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(aborted(name, signal));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let failed = false;
    let abandon: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const onAbort = () => fail(aborted(name, signal));
    const finish = () => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      signal?.removeEventListener('abort', onAbort);
    };
    function fail(error: MqttError): void {
      if (settled) return;
      finish();
      failed = true;
      // `start` may fail synchronously, before it has handed back `abandon`.
      abandon?.();
      reject(error);
    }

    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(
        () => fail(new MqttError('TIMEOUT', `${name}: not open after ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
    try {
      const abandonFn = start({
        resolve(value) {
          if (settled) return;
          finish();
          resolve(value);
        },
        reject: fail,
      });
      if (failed) abandonFn();
      else abandon = abandonFn;
    } catch (err) {
      fail(linkError(name, err));
    }
  });
}

/** A LINK_ERROR for link `name` whose cause is `err`. */
export function linkError(name: string, err: unknown, what?: string): MqttError {
  const detail = what ?? describe(err);
  return new MqttError('LINK_ERROR', `${name}: ${detail}`, { cause: err });
}

/** A readable reason: Node's AggregateError (both address families failed) has an empty message. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}

function aborted(name: string, signal: AbortSignal | undefined): MqttError {
  return new MqttError('ABORTED', `${name}: open aborted`, { cause: signal?.reason });
}
