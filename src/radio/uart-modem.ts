/**
 * A transparent UART radio modem (EBYTE E32/E22, HC-12 and the like) as a
 * `Radio`. Node only: it drives the port through the optional npm package
 * `serialport`.
 *
 * A transparent modem sends whatever bytes reach its UART, cut into air
 * packets of its own size, and writes whatever it hears to the other side's
 * UART. So each frame is framed on the UART (COBS, a 0x00 delimiter and a
 * CRC-16: see ./uart/framing.ts), one frame never exceeds one air packet, and
 * writes are paced to the air rate so that the modem's small buffer never
 * overflows and never merges two frames into one packet.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { localError, MqttError } from '../errors.ts';
import type { Radio, RadioHandlers, RadioStats } from './types.ts';
import {
  encodedFrameLength,
  encodeFrame,
  FrameDecoder,
  largestFrame,
  type RejectReason,
} from './uart/framing.ts';
import { type OpenPort, openPort } from './uart/port.ts';

/** Options for {@link UartModem}. Defaults match an EBYTE E32 as it leaves the factory. */
export interface UartModemOptions {
  /** The serial device the modem is on, e.g. `/dev/ttyUSB0` or `COM3`. Required. */
  path: string;
  /** UART speed in bits/s (8N1); must match the modem's setting. Default `9600`. */
  baudRate?: number;
  /**
   * Bytes the modem sends in one air packet: 58 for the EBYTE E32, 240 for the
   * E22 (its sub-packet setting: 240, 128, 64 or 32). Frames are sized so that
   * one frame, framing included, fits one packet. Default `58`.
   */
  packetSize?: number;
  /**
   * The modem's data rate on air, in bits/s (E32 and E22 factory setting:
   * 2400; HC-12 in FU3 at 9600 baud: 15000). Airtime and pacing come from it.
   * Default `2400`.
   */
  airRate?: number;
  /**
   * The fraction of time the modem may transmit: 1 for no limit, 0.01 for the
   * EU868 1% rule. After a frame of airtime t, the next waits (1/dutyCycle - 1)·t.
   * Default `1`.
   */
  dutyCycle?: number;
  /**
   * Time on air each packet costs beyond its bytes (preamble, header, the
   * modem's turnaround), in ms, added to every airtime. Default `0`.
   */
  packetOverheadMs?: number;
  /**
   * The modem writes one byte of signal strength after every packet it
   * receives (EBYTE E22 "RSSI byte" setting); it is read as the frame's RSSI,
   * dBm = -(256 - byte). Both ends must agree. Default `false`.
   */
  rssiByte?: boolean;
  /**
   * Append a CRC-16 to every frame on the UART and hand up only frames that
   * pass it. Costs 2 bytes per frame; turn it off only when the link layer
   * above checks its own CRC and the air budget is tight (a frame glued from
   * two after a lost delimiter then reaches the link layer, whose CRC must
   * catch it). Both ends must agree. Default `true`.
   */
  checksum?: boolean;
  /** Name for logs and status. Default `uart <path>`. */
  name?: string;
}

/** The driver's counters: the `Radio` ones plus what the UART framing saw. */
export interface UartModemStats extends RadioStats {
  /** Bytes read from the UART. */
  bytesReceived: number;
  /** Frames (or runs of bytes) discarded by the framing, all reasons. */
  framesRejected: number;
  /** The same, by reason: bad COBS (truncated), bad CRC (garbled or glued), oversize (lost delimiter). */
  rejected: Record<RejectReason, number>;
}

/** UART bits per byte: start, 8 data, stop. */
const UART_BITS_PER_BYTE = 10;
/** Idle byte-times left between frames: modems end a packet after 3 idle byte-times on the UART. */
const PACKET_GAP_BYTES = 4;
/** The longest wait for a modem's RSSI byte before a frame goes up without it. */
const RSSI_WAIT_MIN_MS = 20;

type State = 'closed' | 'opening' | 'open';

/**
 * A transparent UART radio modem (EBYTE E32/E22, HC-12...) as a `Radio`:
 * frames framed with COBS and a CRC-16 on the UART, paced to the air rate
 * and duty cycle so one frame is one air packet.
 */
export class UartModem implements Radio {
  readonly name: string;
  readonly mtu: number;
  readonly dutyCycle: number;
  readonly stats: UartModemStats = {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    airtimeMs: 0,
    bytesReceived: 0,
    framesRejected: 0,
    rejected: { cobs: 0, crc: 0, oversize: 0 },
  };
  readonly #path: string;
  readonly #baudRate: number;
  readonly #packetSize: number;
  readonly #airRate: number;
  readonly #packetOverheadMs: number;
  readonly #rssiByte: boolean;
  readonly #checksum: boolean;

  #state: State = 'closed';
  #port: OpenPort | undefined;
  #handlers: RadioHandlers | undefined;
  #decoder: FrameDecoder | undefined;
  #rssiTimer: ReturnType<typeof setTimeout> | undefined;
  /** Aborts pacing waits when the port closes. Renewed on each open. */
  #abort = new AbortController();
  /** Sends run one after another, in call order. */
  #queue: Promise<void> = Promise.resolve();
  /** When the modem has finished the last packet (ms, performance.now()). */
  #busyUntil = 0;
  /** When the duty cycle allows the next transmission. */
  #dutyFreeAt = 0;

  constructor(options: UartModemOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw localError(
        'INVALID_ARGUMENT',
        'UartModem: `path` (the serial device, e.g. /dev/ttyUSB0) is required',
      );
    }
    this.#path = options.path;
    this.#baudRate = positive('baudRate', options.baudRate ?? 9600);
    this.#packetSize = positive('packetSize', options.packetSize ?? 58);
    this.#airRate = positive('airRate', options.airRate ?? 2400);
    this.#packetOverheadMs = options.packetOverheadMs ?? 0;
    if (!(this.#packetOverheadMs >= 0)) {
      throw localError('INVALID_ARGUMENT', 'UartModem: `packetOverheadMs` must be 0 or more');
    }
    this.dutyCycle = options.dutyCycle ?? 1;
    if (!(this.dutyCycle > 0 && this.dutyCycle <= 1)) {
      throw localError('INVALID_ARGUMENT', 'UartModem: `dutyCycle` must be in (0, 1]');
    }
    this.#rssiByte = options.rssiByte ?? false;
    this.#checksum = options.checksum ?? true;
    this.mtu = largestFrame(this.#packetSize, this.#checksum);
    if (this.mtu < 1) {
      throw localError(
        'INVALID_ARGUMENT',
        `UartModem: a packetSize of ${this.#packetSize} leaves no room for a frame after the framing`,
      );
    }
    this.name = options.name ?? `uart ${this.#path}`;
  }

  /** Whether the port is open. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /**
   * Time on air of a frame of `bytes` bytes, framing included: its UART
   * encoding at the air rate (or at the UART's speed, if that is slower, as
   * on a plain wire), plus `packetOverheadMs`.
   */
  airtimeMs(bytes: number): number {
    const encoded = encodedFrameLength(bytes, this.#checksum);
    const uartMs = (encoded * UART_BITS_PER_BYTE * 1000) / this.#baudRate;
    const airMs = (encoded * 8 * 1000) / this.#airRate;
    return Math.max(uartMs, airMs) + this.#packetOverheadMs;
  }

  /**
   * Opens the port. Rejects with LINK_ERROR when the port cannot be opened
   * (no such device, no permission, `serialport` not installed) or is open
   * already. May be called again after `close()` or after the port vanished.
   */
  async open(handlers: RadioHandlers): Promise<void> {
    if (this.#state !== 'closed') throw new MqttError('LINK_ERROR', `${this.name}: already open`);
    this.#state = 'opening';
    this.#abort = new AbortController();
    const decoder = new FrameDecoder({
      maxEncoded: this.#packetSize - 1,
      checksum: this.#checksum,
      rssiByte: this.#rssiByte,
      frame: (frame, rssi) => {
        this.stats.framesReceived++;
        handlers.receive(frame, rssi);
      },
      reject: (reason) => {
        this.stats.framesRejected++;
        this.stats.rejected[reason]++;
      },
    });
    let port: OpenPort;
    try {
      port = await openPort(this.name, this.#path, this.#baudRate, {
        data: (chunk) => this.#received(chunk),
        lost: (error) => this.#lost(error),
      });
    } catch (err) {
      this.#state = 'closed';
      throw err;
    }
    if (this.#state !== 'opening') {
      // close() was called while the port was opening.
      await port.close();
      throw new MqttError('LINK_ERROR', `${this.name}: closed while opening`);
    }
    this.#port = port;
    this.#handlers = handlers;
    this.#decoder = decoder;
    this.#state = 'open';
  }

  /**
   * Transmits one frame: waits its turn (earlier frames, the duty cycle),
   * writes it to the modem and resolves once its airtime has passed. Rejects
   * with LINK_ERROR when the port is closed (or closes meanwhile) or when
   * the frame is longer than `mtu`.
   */
  send(frame: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
    if (frame.length > this.mtu) {
      return Promise.reject(
        new MqttError(
          'LINK_ERROR',
          `${this.name}: frame of ${frame.length} bytes exceeds the mtu of ${this.mtu}`,
        ),
      );
    }
    const encoded = encodeFrame(frame, this.#checksum);
    const airtime = this.airtimeMs(frame.length);
    const turn = this.#queue.then(() => this.#transmit(encoded, airtime));
    // A failed send must not stop the ones queued after it.
    this.#queue = turn.catch(() => {});
    return turn;
  }

  /** Closes the port; pending sends reject. Safe to call more than once. */
  async close(): Promise<void> {
    const port = this.#port;
    const handlers = this.#handlers;
    if (this.#state === 'opening') this.#state = 'closed';
    if (!this.#shutDown()) return;
    await port?.close();
    handlers?.close?.();
  }

  async #transmit(encoded: Uint8Array, airtime: number): Promise<void> {
    const signal = this.#abort.signal;
    const wait = Math.max(this.#busyUntil, this.#dutyFreeAt) - performance.now();
    if (wait > 0) await this.#pause(wait, signal);
    const port = this.#port;
    if (this.#state !== 'open' || port === undefined || signal.aborted) throw this.#closedError();
    const start = performance.now();
    // Counted before the write resolves: the modem has the bytes once they are written.
    this.#busyUntil = start + airtime + (PACKET_GAP_BYTES * UART_BITS_PER_BYTE * 1000) / this.#baudRate;
    this.#dutyFreeAt = start + airtime / this.dutyCycle;
    await port.write(encoded);
    this.stats.framesSent++;
    this.stats.bytesSent += encoded.length;
    this.stats.airtimeMs += airtime;
    const left = start + airtime - performance.now();
    if (left > 0) await this.#pause(left, signal);
  }

  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      throw this.#closedError();
    }
  }

  #received(chunk: Uint8Array): void {
    const decoder = this.#decoder;
    if (decoder === undefined) return;
    this.stats.bytesReceived += chunk.length;
    decoder.push(chunk);
    if (decoder.holding) this.#waitForRssi(decoder);
  }

  /** A frame waits for the RSSI byte the modem writes right after it, but not for long. */
  #waitForRssi(decoder: FrameDecoder): void {
    if (this.#rssiTimer !== undefined) clearTimeout(this.#rssiTimer);
    const byteMs = (UART_BITS_PER_BYTE * 1000) / this.#baudRate;
    this.#rssiTimer = setTimeout(
      () => {
        this.#rssiTimer = undefined;
        decoder.release();
      },
      Math.max(RSSI_WAIT_MIN_MS, 8 * byteMs),
    );
  }

  #lost(error: MqttError): void {
    const handlers = this.#handlers;
    if (!this.#shutDown()) return;
    handlers?.close?.(error);
  }

  /** Leaves the open state; false when it was not open. */
  #shutDown(): boolean {
    if (this.#state !== 'open') return false;
    this.#state = 'closed';
    this.#abort.abort();
    if (this.#rssiTimer !== undefined) clearTimeout(this.#rssiTimer);
    this.#rssiTimer = undefined;
    this.#decoder?.release();
    this.#decoder = undefined;
    this.#handlers = undefined;
    this.#port = undefined;
    return true;
  }

  #closedError(): MqttError {
    return new MqttError('LINK_ERROR', `${this.name}: port is closed`);
  }
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw localError('INVALID_ARGUMENT', `UartModem: \`${name}\` must be a positive number, got ${value}`);
  }
  return value;
}
