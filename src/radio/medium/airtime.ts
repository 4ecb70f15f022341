/**
 * Time on air and receiver sensitivity, from the formulas in the radio
 * chips' datasheets. All results are modelled milliseconds (the time the
 * frame occupies the channel in the real world), independent of the
 * medium's `timeScale`.
 */

/** The LoRa modem settings that decide the time on air (Semtech SX1276/77/78/79 datasheet, section 4.1.1.7). */
export interface LoraAirtimeParams {
  /** Spreading factor, 6 to 12. */
  sf: number;
  /** Bandwidth in Hz (7_800 to 500_000). */
  bandwidthHz: number;
  /** Coding rate denominator: 5 for 4/5 ... 8 for 4/8. */
  codingRate: number;
  /** Programmed preamble length in symbols (the modem adds 4.25). */
  preambleSymbols: number;
  /** Explicit header mode (true) or implicit (false; required at SF6). */
  explicitHeader: boolean;
  /** Payload CRC on. */
  crc: boolean;
  /** Low data rate optimisation on. */
  lowDataRateOptimize: boolean;
}

/** Symbol time of a LoRa modulation in ms: Ts = 2^SF / BW. */
export function loraSymbolMs(sf: number, bandwidthHz: number): number {
  return (2 ** sf / bandwidthHz) * 1000;
}

/**
 * Semtech requires the low data rate optimisation when the symbol time
 * exceeds 16 ms (SX1276 datasheet, RegModemConfig3): SF11 and SF12 at 125 kHz,
 * SF10 and up at 62.5 kHz, and so on.
 */
export function loraNeedsLowDataRateOptimize(sf: number, bandwidthHz: number): boolean {
  return loraSymbolMs(sf, bandwidthHz) > 16;
}

/**
 * LoRa time on air of a `bytes`-byte payload (SX1276 datasheet 4.1.1.7, also
 * Semtech AN1200.13):
 *
 *   Ts        = 2^SF / BW
 *   Tpreamble = (n_preamble + 4.25) * Ts
 *   n_payload = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) * (CR + 4), 0)
 *   ToA       = Tpreamble + n_payload * Ts
 *
 * with PL the payload bytes, CRC = 1 when the payload CRC is on, IH = 1 in
 * implicit header mode, DE = 1 with low data rate optimisation, CR = 1..4 for
 * 4/5..4/8.
 */
export function loraAirtimeMs(bytes: number, p: LoraAirtimeParams): number {
  const ts = loraSymbolMs(p.sf, p.bandwidthHz);
  const preamble = (p.preambleSymbols + 4.25) * ts;
  const cr = p.codingRate - 4;
  const numerator = 8 * bytes - 4 * p.sf + 28 + (p.crc ? 16 : 0) - (p.explicitHeader ? 0 : 20);
  const denominator = 4 * (p.sf - (p.lowDataRateOptimize ? 2 : 0));
  const payloadSymbols = 8 + Math.max(Math.ceil(numerator / denominator) * (cr + 4), 0);
  return preamble + payloadSymbols * ts;
}

/**
 * The demodulator's SNR floor per spreading factor (SX1276 datasheet table 13):
 * LoRa decodes below the noise floor, 2.5 dB further per SF step.
 */
const LORA_SNR_LIMIT_DB: Record<number, number> = {
  6: -5,
  7: -7.5,
  8: -10,
  9: -12.5,
  10: -15,
  11: -17.5,
  12: -20,
};

/**
 * LoRa receiver sensitivity in dBm (Semtech AN1200.22):
 * S = -174 + 10 log10(BW) + NF + SNR_limit, with thermal noise -174 dBm/Hz
 * and the SX127x noise figure of 6 dB. SF7/125 kHz gives -124.5 dBm, SF12 -137 dBm.
 */
export function loraSensitivityDbm(sf: number, bandwidthHz: number, noiseFigureDb = 6): number {
  return -174 + 10 * Math.log10(bandwidthHz) + noiseFigureDb + LORA_SNR_LIMIT_DB[sf];
}

/** The Enhanced ShockBurst packet layout that decides an nRF24L01+ time on air. */
export interface Nrf24AirtimeParams {
  /** Air data rate in bit/s: 250_000, 1_000_000 or 2_000_000. */
  bitrate: number;
  /** Address width in bytes, 3 to 5. */
  addressBytes: number;
  /** CRC length in bytes, 1 or 2 (0 when CRC is off). */
  crcBytes: number;
  /** The 9-bit packet control field of Enhanced ShockBurst (absent in the legacy ShockBurst mode). */
  packetControlField: boolean;
}

/**
 * nRF24L01+ time on air (nRF24L01+ product specification 7.3 and appendix):
 *
 *   T_OA = (8 (1 preamble + address + payload + CRC) + 9 PCF) / data rate
 *
 * The 130 us TX settling (Tstby2a) is before the frame is on the air and is not
 * counted: the channel is free during it.
 */
export function nrf24AirtimeMs(bytes: number, p: Nrf24AirtimeParams): number {
  const bits = 8 * (1 + p.addressBytes + bytes + p.crcBytes) + (p.packetControlField ? 9 : 0);
  return (bits / p.bitrate) * 1000;
}

/** The on-air packet of a transparent UART radio modem (HC-12, APC220, 3DR/SiK-like). */
export interface UartModemAirtimeParams {
  /** Air data rate in bit/s. */
  airRate: number;
  /** Bytes the modem adds per packet: preamble, sync word, length, CRC. */
  overheadBytes: number;
}

/** UART modem time on air: T = 8 (overhead + payload) / air rate. */
export function uartModemAirtimeMs(bytes: number, p: UartModemAirtimeParams): number {
  return ((8 * (p.overheadBytes + bytes)) / p.airRate) * 1000;
}

/**
 * Sensitivity estimate for a (G)FSK receiver in dBm: thermal noise -174 dBm/Hz
 * over a receive bandwidth of twice the bit rate, plus noise figure and the SNR
 * the demodulator needs: S = -174 + 10 log10(2 R) + NF + SNR_min.
 */
export function fskSensitivityDbm(bitrate: number, noiseFigureDb = 6, snrMinDb = 10): number {
  return -174 + 10 * Math.log10(2 * bitrate) + noiseFigureDb + snrMinDb;
}
