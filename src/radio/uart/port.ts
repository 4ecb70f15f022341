/**
 * The one place that touches the npm `serialport` package. It is an optional
 * peer dependency, loaded on first use, so that the rest of the library (and
 * its bundles) work without it; a missing package is a clear LINK_ERROR.
 * Only the few members used here are typed, so the package's types are not
 * needed either. Node only.
 */
import { MqttError } from '../../errors.ts';

/** The part of serialport's `SerialPort` used here. */
interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (error: Error | null) => void): void;
  write(data: Uint8Array, callback: (error: Error | null | undefined) => void): boolean;
  close(callback: (error: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Uint8Array) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'close', listener: (error?: Error & { disconnected?: boolean }) => void): this;
  removeAllListeners(event?: string): this;
}

type SerialPortConstructor = new (options: {
  path: string;
  baudRate: number;
  autoOpen: false;
}) => SerialPortLike;

let cached: SerialPortConstructor | undefined;

/**
 * Loads `SerialPort` from the `serialport` package. `specifier` exists for
 * the test that checks the error when the package is missing.
 */
export async function loadSerialPort(specifier = 'serialport'): Promise<SerialPortConstructor> {
  if (cached !== undefined && specifier === 'serialport') return cached;
  let module: { SerialPort?: SerialPortConstructor };
  try {
    module = await import(specifier);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new MqttError(
      'LINK_ERROR',
      missing
        ? `the UART modem needs the optional package "${specifier}": npm install serialport`
        : `could not load "${specifier}": ${(err as Error).message}`,
      { cause: err },
    );
  }
  const SerialPort = module.SerialPort;
  if (typeof SerialPort !== 'function') {
    throw new MqttError(
      'LINK_ERROR',
      `"${specifier}" does not export SerialPort (serialport 12 or later needed)`,
    );
  }
  if (specifier === 'serialport') cached = SerialPort;
  return SerialPort;
}

/** What an open port reports. */
export interface PortEvents {
  data(chunk: Uint8Array): void;
  /** The port closed without being asked to (device unplugged, pty gone). */
  lost(error: MqttError): void;
}

/** An open serial port. */
export interface OpenPort {
  /** Resolves once the bytes are handed to the operating system. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the port; `lost` is not called. Safe to call more than once. */
  close(): Promise<void>;
}

/** Opens `path` at `baudRate`; rejects with LINK_ERROR (cause: the system error) when it cannot. */
export async function openPort(
  name: string,
  path: string,
  baudRate: number,
  events: PortEvents,
): Promise<OpenPort> {
  const SerialPort = await loadSerialPort();
  let port: SerialPortLike;
  try {
    port = new SerialPort({ path, baudRate, autoOpen: false });
  } catch (err) {
    throw new MqttError('LINK_ERROR', `${name}: ${(err as Error).message}`, { cause: err });
  }
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) reject(new MqttError('LINK_ERROR', `${name}: cannot open: ${err.message}`, { cause: err }));
      else resolve();
    });
  });

  let closing = false;
  let failure: Error | undefined;
  port.on('data', (chunk) => events.data(chunk));
  // `error` without a callback to report to (a failed read); `close` follows when the port is gone.
  port.on('error', (err) => {
    failure ??= err;
  });
  port.on('close', (err) => {
    port.removeAllListeners('data');
    if (closing) return;
    const cause = err ?? failure;
    const why = err?.disconnected ? 'the port vanished' : 'the port closed';
    events.lost(
      new MqttError('LINK_ERROR', `${name}: ${why}${cause ? ` (${cause.message})` : ''}`, { cause }),
    );
  });

  return {
    write(bytes) {
      return new Promise((resolve, reject) => {
        if (!port.isOpen) {
          reject(new MqttError('LINK_ERROR', `${name}: port is closed`));
          return;
        }
        port.write(bytes, (err) => {
          if (err)
            reject(new MqttError('LINK_ERROR', `${name}: write failed: ${err.message}`, { cause: err }));
          else resolve();
        });
      });
    },
    close() {
      closing = true;
      if (!port.isOpen) return Promise.resolve();
      return new Promise((resolve) => port.close(() => resolve()));
    },
  };
}
