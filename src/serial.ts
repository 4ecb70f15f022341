/**
 * steadfast-mqtt/serial: serial lines and UART radio modems. Node only; needs
 * the optional peer dependency `serialport` (npm install serialport), loaded
 * when a port is first opened.
 *
 * - `UartModem`: a transparent UART radio modem (EBYTE E32/E22, HC-12...) as a
 *   `Radio`, for `radioLink()` on a node or for the gateway.
 * - `serialLink()`: a Link over a plain serial line to a gateway, with the
 *   radio link layer's framing, CRC, retransmission and heartbeats.
 *
 * @module steadfast-mqtt/serial
 */
export type { Radio, RadioHandlers, RadioStats } from './radio/types.ts';
export type { RejectReason } from './radio/uart/framing.ts';
export {
  type SerialLink,
  type SerialLinkOptions,
  serialLink,
  serialModemOptions,
} from './radio/uart/serial-link.ts';
export { UartModem, type UartModemOptions, type UartModemStats } from './radio/uart-modem.ts';
