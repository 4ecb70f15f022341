/**
 * `serialLink()`: a Link over a plain serial line (a wired UART to a
 * gateway). It is the radio link layer over a UartModem configured as a
 * wire: the air rate is the baud rate, no duty cycle, large frames. So a
 * serial line gets framing, CRC (or authenticated encryption), retransmission, resync after an outage and
 * heartbeats from the same code the radios use. The other end is a gateway
 * that owns a UartModem with the same `baudRate`, `frameSize` and
 * `checksum`. Node only.
 */
import type { Connection, LinkHandlers } from '../../links/types.ts';
import {
  type EndpointEvent,
  type EndpointStats,
  type LinkTiming,
  type LinkTimingOptions,
  type RadioLink,
  radioLink,
  type StreamStats,
} from '../link/index.ts';
import { UartModem, type UartModemOptions } from '../uart-modem.ts';

/** Options for {@link serialLink}. The link timing options default from the line's speed. */
export interface SerialLinkOptions extends LinkTimingOptions {
  /** The serial device, e.g. `/dev/ttyUSB0` or `/dev/ttyAMA0`. Required. */
  path: string;
  /** Line speed in bits/s (8N1). Default `115200`. */
  baudRate?: number;
  /**
   * Bytes of one frame on the line, framing included (the UartModem's
   * `packetSize`): 4 go to the UART framing and 8 to the link layer, the rest
   * carries MQTT bytes. Smaller frames lose less to a noisy line. Both ends
   * must agree. Default `256`.
   */
  frameSize?: number;
  /** CRC-16 on each frame in the UART framing (see UartModemOptions). Both ends must agree. Default `true`. */
  checksum?: boolean;
  /** This end's link address, 0-254. Default `1`. */
  address?: number;
  /** The gateway's link address. Default `0`. */
  gateway?: number;
  /** Every frame in and out and every defect, for logs. Default none. */
  observe?: (event: EndpointEvent) => void;
  /** Name for logs. Default `serial <path>`. */
  name?: string;
  /** This end's key, 16 bytes or 32 hex digits (see `RadioLinkOptions.key`). Required unless `insecure`. Default none. */
  key?: Uint8Array | string;
  /** Unsecured frames (see `RadioLinkOptions.insecure`). Default false. */
  insecure?: boolean;
}

/** A Link over a serial line, with what a node may want to print. */
export interface SerialLink extends RadioLink {
  /** The UART driver currently in use (a new one after the port vanished and came back). */
  readonly modem: UartModem;
}

/** The UartModem options that make a serial line a "radio": a wire has no air rate of its own and no duty cycle. */
export function serialModemOptions(
  options: Pick<SerialLinkOptions, 'path' | 'baudRate' | 'frameSize' | 'checksum' | 'name'>,
): UartModemOptions {
  const baudRate = options.baudRate ?? 115200;
  return {
    path: options.path,
    baudRate,
    airRate: baudRate,
    packetSize: options.frameSize ?? 256,
    dutyCycle: 1,
    checksum: options.checksum ?? true,
    name: options.name ?? `serial ${options.path}`,
  };
}

/**
 * A Link to a gateway over the serial line at `path`.
 *
 * The radio link layer closes for good when its radio stops; a serial port
 * that vanishes (a USB adapter unplugged) may come back, so each `open()`
 * after a lost or failed port starts over with a fresh driver and link
 * layer, and the Client's next reconnect finds the line again.
 *
 * @throws MqttError INVALID_ARGUMENT for a missing path, bad numbers or bad timing.
 */
export function serialLink(options: SerialLinkOptions): SerialLink {
  const modemOptions = serialModemOptions(options);
  let modem = new UartModem(modemOptions);
  let link = build(modem);
  /** The driver has been opened by the link layer: once it is no longer open, it is spent. */
  let used = false;
  let closed = false;

  function build(driver: UartModem): RadioLink {
    const {
      path: _path,
      baudRate: _baud,
      frameSize: _size,
      checksum: _check,
      name: _name,
      ...rest
    } = options;
    return radioLink({
      ...rest,
      radio: driver,
      address: options.address ?? 1,
      gateway: options.gateway ?? 0,
    });
  }

  async function open(handlers: LinkHandlers, signal?: AbortSignal): Promise<Connection> {
    if (used && !modem.isOpen && !closed) {
      // The port vanished or never opened: the old link layer is closed for good.
      await link.close().catch(() => {});
      modem = new UartModem(modemOptions);
      link = build(modem);
      used = false;
    }
    used = true;
    return link.open(handlers, signal);
  }

  return {
    get name() {
      return link.name;
    },
    get timing(): LinkTiming {
      return link.timing;
    },
    get stats(): EndpointStats {
      return link.stats;
    },
    get secure() {
      return link.secure;
    },
    get streamStats(): StreamStats | undefined {
      return link.streamStats;
    },
    get modem() {
      return modem;
    },
    open,
    sleep: (ms) => link.sleep(ms),
    wake: () => link.wake(),
    get asleep() {
      return link.asleep;
    },
    reset(signal) {
      return link.reset?.(signal) ?? Promise.resolve();
    },
    async close() {
      closed = true;
      await link.close();
    },
  };
}
