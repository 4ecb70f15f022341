/**
 * A packet radio, as the radio link layer sees it: frames of at most `mtu`
 * bytes go out to whoever is in range, frames heard come in. No addressing,
 * no acknowledgement, no promise of delivery: those belong to the link layer
 * (src/radio/link). Drivers: the simulated medium (src/radio/medium) and a
 * transparent UART radio modem (src/radio/uart-modem.ts, Node only).
 *
 * This file imports nothing, so the link layer and the simulated medium run
 * in any JavaScript engine.
 */

/** What a radio tells its owner. Called from the radio's own event source. */
export interface RadioHandlers {
  /**
   * A frame was heard. The radio may or may not have checked it (a simulated
   * medium flips bits; a modem passes what it got): the link layer's CRC
   * decides. `rssi` is the received signal strength in dBm when the driver
   * knows it.
   */
  receive(frame: Uint8Array, rssi?: number): void;
  /** The radio stopped for good (port closed, medium gone); `error` says why. */
  close?(error?: Error): void;
}

/** Counters every driver keeps; the gateway and the benchmarks print them. */
export interface RadioStats {
  /** Frames handed to `send` and put on the air. */
  framesSent: number;
  /** Bytes put on the air, frame bytes only (no preamble). */
  bytesSent: number;
  /** Frames heard and handed to `receive`. */
  framesReceived: number;
  /** Milliseconds spent transmitting. */
  airtimeMs: number;
}

/** A packet radio driver (see the module comment): what the radio link layer sends frames through. */
export interface Radio {
  /** A short description for logs and status, e.g. `sim node-3 lora SF7`. */
  readonly name: string;
  /** The largest frame one transmission carries, in bytes. */
  readonly mtu: number;
  /**
   * Time on air of one frame of `bytes` bytes, in milliseconds, including
   * preamble and headers the radio adds. The link layer derives its
   * retransmission timeout from this and the measured round trip.
   */
  airtimeMs(bytes: number): number;
  /**
   * The fraction of time this radio may transmit (1 when unlimited, 0.01 for
   * the EU868 1% duty cycle). The link layer scales heartbeats and timeouts
   * with it.
   */
  readonly dutyCycle: number;
  /** Starts listening; frames heard go to `handlers.receive`. */
  open(handlers: RadioHandlers): Promise<void>;
  /**
   * Transmits one frame. Resolves when it has left the antenna (after any
   * duty-cycle wait and its airtime). A frame sent is not a frame received.
   * Rejects with an MqttError (code LINK_ERROR) when the radio is closed or
   * when `frame.length > mtu`.
   */
  send(frame: Uint8Array): Promise<void>;
  /**
   * Turns the receiver off (`true`: frames are not heard, the radio draws
   * next to nothing) or back on, for a sleeping node (the link calls it
   * when the gateway has granted a sleep, and on waking). Optional: a
   * driver without it stays on. `send()` still works (and wakes nothing).
   */
  standby?(on: boolean): void;
  /** Stops listening and releases the device. Safe to call more than once. */
  close(): Promise<void>;
  readonly stats: RadioStats;
}
