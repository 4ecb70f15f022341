/**
 * One stream of a node's endpoint as a Link's Connection: opens it to a
 * gateway, resolves once ACCEPTed, and turns its end into what the Client
 * is told (streamEndError). `radioLink()` and `roamingLink()` share it.
 * Portable.
 */
import { MqttError } from '../../errors.ts';
import type { Connection, LinkHandlers } from '../../links/types.ts';
import type { RadioEndpoint } from './endpoint.ts';
import type { StreamHandle } from './endpoint-types.ts';
import { resetReasonText } from './frame.ts';
import type { StreamEnd } from './stream.ts';

/** Turns why a stream ended into what the Client is told (undefined: a normal close). */
export function streamEndError(end: StreamEnd, where: string): MqttError | undefined {
  switch (end.by) {
    case 'local':
      return undefined;
    case 'peer':
      return new MqttError(
        'CONNECTION_LOST',
        `${where}: reset by the peer (${resetReasonText(end.reason)})`,
        {
          side: 'remote',
        },
      );
    case 'timeout':
      return new MqttError('TIMEOUT', `${where}: nothing heard for ${Math.round(end.silentMs)} ms`);
    case 'aborted':
      return new MqttError('CONNECTION_LOST', `${where}: stream aborted (${resetReasonText(end.reason)})`);
    case 'radio':
      return new MqttError('LINK_ERROR', `${where}: ${end.message}`);
    default: {
      const unknown: never = end;
      throw new Error(`unreachable: ${String(unknown)}`);
    }
  }
}

/** What `openStreamConnection` gives besides the Connection. */
export interface StreamConnectionHooks {
  /** The stream was created (before it opens): its handle. */
  created?(handle: StreamHandle): void;
  /** The stream ended after it had opened; called before the Client's `close` handler. */
  ended?(end: StreamEnd): void;
  /** The gateway granted a sleep. */
  asleep?(untilMs: number): void;
  /** The sleep is over. */
  awake?(): void;
}

/**
 * Opens a stream from `endpoint` to `gateway` and resolves with it as a
 * Connection once the gateway accepts; rejects (LINK_ERROR, TIMEOUT,
 * ABORTED) when it does not.
 */
export function openStreamConnection(
  endpoint: RadioEndpoint,
  gateway: number,
  name: string,
  handlers: LinkHandlers,
  signal: AbortSignal | undefined,
  hooks: StreamConnectionHooks = {},
): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    let isOpen = false;
    let handle: StreamHandle | undefined;
    const onAbort = () => {
      handle?.abort();
      reject(new MqttError('ABORTED', `${name}: open aborted`));
    };
    const connection: Connection = {
      write: (bytes) => handle?.write(bytes) ?? false,
      get bufferedAmount() {
        return handle?.bufferedAmount ?? 0;
      },
      close: () => handle?.close(),
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    handle = endpoint.connect(gateway, {
      open: () => {
        isOpen = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(connection);
      },
      data: (bytes) => handlers.data(bytes),
      drain: () => handlers.drain?.(),
      asleep: (untilMs) => hooks.asleep?.(untilMs),
      awake: () => hooks.awake?.(),
      closed: (end) => {
        signal?.removeEventListener('abort', onAbort);
        const error = streamEndError(end, name);
        if (isOpen) {
          hooks.ended?.(end);
          handlers.close(error);
        } else
          reject(
            end.by === 'peer' || end.by === 'radio'
              ? new MqttError('LINK_ERROR', `${name}: the gateway refused the stream`, { cause: error })
              : (error ?? new MqttError('LINK_ERROR', `${name}: closed while opening`)),
          );
      },
    });
    hooks.created?.(handle);
  });
}
