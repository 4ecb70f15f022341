/**
 * Radio profiles: what a kind of radio is on the air. A profile gives the MTU,
 * the time on air of a frame, the duty cycle, transmit power, sensitivity, the
 * capture threshold and the channel (radios hear and collide only with radios
 * on the same channel). `lora()`, `nrf24()` and `uartModem()` build them.
 *
 * Every profile carries a plain-data `spec` so that a radio attached over the
 * medium socket can rebuild the same profile in another process.
 */
import { localError } from '../../errors.ts';
import {
  fskSensitivityDbm,
  loraAirtimeMs,
  loraNeedsLowDataRateOptimize,
  loraSensitivityDbm,
  nrf24AirtimeMs,
  uartModemAirtimeMs,
} from './airtime.ts';

/** A kind of radio: its airtime, MTU, duty cycle, power and sensitivity. Made by `lora()`, `nrf24()` or `uartModem()`. */
export interface RadioProfile {
  /** Plain data from which `profileFromSpec` rebuilds this profile. */
  readonly spec: ProfileSpec;
  /** A short label for logs, e.g. `lora SF7 BW125 CR4/5`. */
  readonly label: string;
  /** The largest frame in bytes. */
  readonly mtu: number;
  /** Fraction of time a radio may transmit (1 = unlimited). */
  readonly dutyCycle: number;
  /** Carrier frequency in Hz (for the free-space loss at the reference distance). */
  readonly frequencyHz: number;
  /** Transmit power in dBm (EIRP: antenna gains folded in). */
  readonly txPowerDbm: number;
  /** Weakest signal the receiver decodes, in dBm. */
  readonly sensitivityDbm: number;
  /** A frame survives an overlapping one when it is at least this many dB stronger. */
  readonly captureThresholdDb: number;
  /** Radios hear (and collide with) only radios whose profile has the same channel. */
  readonly channel: string;
  /** Modelled time on air of a frame of `bytes` bytes, in ms. */
  airtimeMs(bytes: number): number;
}

/** Options for {@link lora}. */
export interface LoraOptions {
  /** Spreading factor 6..12. Default 7. */
  sf?: number;
  /** Bandwidth in Hz: 7_800, 10_400, 15_600, 20_800, 31_250, 41_700, 62_500, 125_000, 250_000 or 500_000. Default 125_000. */
  bandwidthHz?: number;
  /** Coding rate denominator, 5..8 for 4/5..4/8. Default 5. */
  codingRate?: number;
  /** Preamble symbols as programmed. Default 8 (LoRaWAN). */
  preambleSymbols?: number;
  /** Explicit header. Default true (SF6 needs false). */
  explicitHeader?: boolean;
  /** Payload CRC. Default true. */
  crc?: boolean;
  /** Low data rate optimisation. Default: on when the symbol time exceeds 16 ms (SF11/12 at 125 kHz). */
  lowDataRateOptimize?: boolean;
  /** Duty-cycle limit. Default 0.01 (EU868 sub-band g1, ETSI EN 300 220). */
  dutyCycle?: number;
  /** Carrier frequency. Default 868_100_000. */
  frequencyHz?: number;
  /** Transmit power, dBm EIRP. Default 14 (the EU868 limit). */
  txPowerDbm?: number;
  /** Sensitivity. Default from Semtech AN1200.22 (`loraSensitivityDbm`): -124.5 dBm at SF7/125 kHz. */
  sensitivityDbm?: number;
  /** Capture threshold for same-SF collisions. Default 6 dB (Bor et al., "Do LoRa Low-Power Wide-Area Networks Scale?", MSWiM 2016). */
  captureThresholdDb?: number;
  /** Largest payload. Default 255 (SX127x FIFO). */
  mtu?: number;
}

/** Options for {@link nrf24}. */
export interface Nrf24Options {
  /** Air data rate in bit/s: 250_000, 1_000_000 or 2_000_000. Default 1_000_000. */
  bitrate?: number;
  /** RF channel 0..125 (2400 + channel MHz). Default 76 (the RF24 library default). */
  rfChannel?: number;
  /** Address width in bytes, 3..5. Default 5. */
  addressBytes?: number;
  /** CRC bytes, 0..2. Default 2. */
  crcBytes?: number;
  /** Enhanced ShockBurst packet control field (9 bits). Default true. */
  packetControlField?: boolean;
  /** Transmit power, dBm. Default 0 (the chip's maximum). */
  txPowerDbm?: number;
  /** Sensitivity. Default from the nRF24L01+ product specification: -94 dBm at 250 kbps, -85 at 1 Mbps, -82 at 2 Mbps. */
  sensitivityDbm?: number;
  /** Capture threshold. Default 10 dB (a typical co-channel rejection for GFSK). */
  captureThresholdDb?: number;
  /** Duty cycle. Default 1 (2.4 GHz ISM: no duty-cycle limit). */
  dutyCycle?: number;
}

/** Options for {@link uartModem}: a transparent UART radio modem (HC-12, EBYTE E32/E22) on the simulated air. */
export interface UartModemOptions {
  /** Air data rate in bit/s. Default 9_600. */
  airRate?: number;
  /** The modem's packet size, which is the MTU. Default 64. */
  packetSize?: number;
  /** Bytes the modem adds per packet (preamble 4, sync 2, length 1, CRC 2). Default 9. */
  overheadBytes?: number;
  /** Carrier frequency. Default 433_400_000 (HC-12 channel 1). */
  frequencyHz?: number;
  /** Transmit power, dBm. Default 14. */
  txPowerDbm?: number;
  /** Sensitivity. Default `fskSensitivityDbm(airRate)`: -174 + 10 log10(2 R) + 6 dB NF + 10 dB SNR (-115.2 dBm at 9600). */
  sensitivityDbm?: number;
  /** Capture threshold. Default 10 dB. */
  captureThresholdDb?: number;
  /** Duty cycle. Default 1; set 0.1 or 0.01 for a 433/868 MHz sub-band with a limit. */
  dutyCycle?: number;
}

/** The plain data behind a profile; every option resolved. */
export type ProfileSpec =
  | ({ kind: 'lora' } & Required<LoraOptions>)
  | ({ kind: 'nrf24' } & Required<Nrf24Options>)
  | ({ kind: 'uart-modem' } & Required<UartModemOptions>);

const NRF24_SENSITIVITY_DBM: Record<number, number> = { 250000: -94, 1000000: -85, 2000000: -82 };
const LORA_BANDWIDTHS = [7_800, 10_400, 15_600, 20_800, 31_250, 41_700, 62_500, 125_000, 250_000, 500_000];

function check(ok: boolean, message: string): void {
  if (!ok) throw localError('INVALID_ARGUMENT', message);
}

function checkDutyCycle(dutyCycle: number): void {
  check(dutyCycle > 0 && dutyCycle <= 1, `dutyCycle must be in (0, 1], got ${dutyCycle}`);
}

/** A LoRa radio (Semtech SX127x), e.g. `lora({ sf: 7, bandwidthHz: 125_000, codingRate: 5, dutyCycle: 0.01 })`. */
export function lora(options: LoraOptions = {}): RadioProfile {
  const sf = options.sf ?? 7;
  const bandwidthHz = options.bandwidthHz ?? 125_000;
  check(Number.isInteger(sf) && sf >= 6 && sf <= 12, `LoRa sf must be 6..12, got ${sf}`);
  check(
    LORA_BANDWIDTHS.includes(bandwidthHz),
    `LoRa bandwidthHz must be one of ${LORA_BANDWIDTHS.join(', ')}`,
  );
  const spec: ProfileSpec = {
    kind: 'lora',
    sf,
    bandwidthHz,
    codingRate: options.codingRate ?? 5,
    preambleSymbols: options.preambleSymbols ?? 8,
    explicitHeader: options.explicitHeader ?? sf !== 6,
    crc: options.crc ?? true,
    lowDataRateOptimize: options.lowDataRateOptimize ?? loraNeedsLowDataRateOptimize(sf, bandwidthHz),
    dutyCycle: options.dutyCycle ?? 0.01,
    frequencyHz: options.frequencyHz ?? 868_100_000,
    txPowerDbm: options.txPowerDbm ?? 14,
    sensitivityDbm: options.sensitivityDbm ?? loraSensitivityDbm(sf, bandwidthHz),
    captureThresholdDb: options.captureThresholdDb ?? 6,
    mtu: options.mtu ?? 255,
  };
  check(
    Number.isInteger(spec.codingRate) && spec.codingRate >= 5 && spec.codingRate <= 8,
    'LoRa codingRate must be 5..8 (4/5..4/8)',
  );
  check(!(sf === 6 && spec.explicitHeader), 'LoRa SF6 works only in implicit header mode');
  check(spec.mtu >= 1 && spec.mtu <= 255, 'LoRa mtu must be 1..255');
  checkDutyCycle(spec.dutyCycle);
  return loraProfile(spec);
}

function loraProfile(spec: Extract<ProfileSpec, { kind: 'lora' }>): RadioProfile {
  return {
    spec,
    label: `lora SF${spec.sf} BW${spec.bandwidthHz / 1000} CR4/${spec.codingRate}`,
    mtu: spec.mtu,
    dutyCycle: spec.dutyCycle,
    frequencyHz: spec.frequencyHz,
    txPowerDbm: spec.txPowerDbm,
    sensitivityDbm: spec.sensitivityDbm,
    captureThresholdDb: spec.captureThresholdDb,
    // Different spreading factors are (nearly) orthogonal: only the same SF, bandwidth and frequency interfere.
    channel: `lora:${spec.frequencyHz}:${spec.bandwidthHz}:SF${spec.sf}`,
    airtimeMs: (bytes) => loraAirtimeMs(bytes, spec),
  };
}

/** An nRF24L01+ in Enhanced ShockBurst mode, e.g. `nrf24({ bitrate: 250_000 })`. MTU 32. */
export function nrf24(options: Nrf24Options = {}): RadioProfile {
  const bitrate = options.bitrate ?? 1_000_000;
  check(
    bitrate in NRF24_SENSITIVITY_DBM,
    `nRF24 bitrate must be 250_000, 1_000_000 or 2_000_000, got ${bitrate}`,
  );
  const spec: ProfileSpec = {
    kind: 'nrf24',
    bitrate,
    rfChannel: options.rfChannel ?? 76,
    addressBytes: options.addressBytes ?? 5,
    crcBytes: options.crcBytes ?? 2,
    packetControlField: options.packetControlField ?? true,
    txPowerDbm: options.txPowerDbm ?? 0,
    sensitivityDbm: options.sensitivityDbm ?? NRF24_SENSITIVITY_DBM[bitrate],
    captureThresholdDb: options.captureThresholdDb ?? 10,
    dutyCycle: options.dutyCycle ?? 1,
  };
  check(spec.rfChannel >= 0 && spec.rfChannel <= 125, 'nRF24 rfChannel must be 0..125');
  check(spec.addressBytes >= 3 && spec.addressBytes <= 5, 'nRF24 addressBytes must be 3..5');
  check(spec.crcBytes >= 0 && spec.crcBytes <= 2, 'nRF24 crcBytes must be 0..2');
  checkDutyCycle(spec.dutyCycle);
  return nrf24Profile(spec);
}

function nrf24Profile(spec: Extract<ProfileSpec, { kind: 'nrf24' }>): RadioProfile {
  return {
    spec,
    label: `nrf24 ${spec.bitrate >= 1_000_000 ? `${spec.bitrate / 1_000_000}Mbps` : `${spec.bitrate / 1000}kbps`} ch${spec.rfChannel}`,
    mtu: 32,
    dutyCycle: spec.dutyCycle,
    frequencyHz: (2400 + spec.rfChannel) * 1_000_000,
    txPowerDbm: spec.txPowerDbm,
    sensitivityDbm: spec.sensitivityDbm,
    captureThresholdDb: spec.captureThresholdDb,
    channel: `nrf24:${spec.rfChannel}:${spec.bitrate}`,
    airtimeMs: (bytes) => nrf24AirtimeMs(bytes, spec),
  };
}

/** A transparent UART radio modem, e.g. `uartModem({ airRate: 9_600, packetSize: 64 })`. MTU = packet size. */
export function uartModem(options: UartModemOptions = {}): RadioProfile {
  const airRate = options.airRate ?? 9_600;
  check(airRate > 0, `airRate must be positive, got ${airRate}`);
  const spec: ProfileSpec = {
    kind: 'uart-modem',
    airRate,
    packetSize: options.packetSize ?? 64,
    overheadBytes: options.overheadBytes ?? 9,
    frequencyHz: options.frequencyHz ?? 433_400_000,
    txPowerDbm: options.txPowerDbm ?? 14,
    sensitivityDbm: options.sensitivityDbm ?? fskSensitivityDbm(airRate),
    captureThresholdDb: options.captureThresholdDb ?? 10,
    dutyCycle: options.dutyCycle ?? 1,
  };
  check(Number.isInteger(spec.packetSize) && spec.packetSize >= 1, 'packetSize must be a positive integer');
  checkDutyCycle(spec.dutyCycle);
  return uartModemProfile(spec);
}

function uartModemProfile(spec: Extract<ProfileSpec, { kind: 'uart-modem' }>): RadioProfile {
  return {
    spec,
    label: `uart-modem ${spec.airRate}bps`,
    mtu: spec.packetSize,
    dutyCycle: spec.dutyCycle,
    frequencyHz: spec.frequencyHz,
    txPowerDbm: spec.txPowerDbm,
    sensitivityDbm: spec.sensitivityDbm,
    captureThresholdDb: spec.captureThresholdDb,
    channel: `uart-modem:${spec.frequencyHz}:${spec.airRate}`,
    airtimeMs: (bytes) => uartModemAirtimeMs(bytes, spec),
  };
}

/** Rebuilds a profile from its `spec` (as sent over the medium socket), checking it again. */
export function profileFromSpec(spec: ProfileSpec): RadioProfile {
  switch (spec.kind) {
    case 'lora': {
      const { kind: _, ...options } = spec;
      return lora(options);
    }
    case 'nrf24': {
      const { kind: _, ...options } = spec;
      return nrf24(options);
    }
    case 'uart-modem': {
      const { kind: _, ...options } = spec;
      return uartModem(options);
    }
    default: {
      const unknown: never = spec;
      throw localError('INVALID_ARGUMENT', `unknown radio profile ${JSON.stringify(unknown)}`);
    }
  }
}
