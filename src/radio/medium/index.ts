/**
 * The simulated radio medium: radios attach to a shared medium that models
 * range, loss, bit errors, bursts of interference, airtime, duty cycle,
 * half-duplex and collisions. Portable: imports nothing from Node. The
 * cross-process part (`serveMedium`, `connectMedium`) is in ../medium-socket.ts.
 */
export {
  fskSensitivityDbm,
  type LoraAirtimeParams,
  loraAirtimeMs,
  loraNeedsLowDataRateOptimize,
  loraSensitivityDbm,
  loraSymbolMs,
  type Nrf24AirtimeParams,
  nrf24AirtimeMs,
  type UartModemAirtimeParams,
  uartModemAirtimeMs,
} from './airtime.ts';
export type { WallClock } from './clock.ts';
export type { BurstOptions, InterferenceOptions } from './interference.ts';
export {
  type DropReason,
  type MediumEvent,
  type MediumOptions,
  type MediumStats,
  SimulatedMedium,
} from './medium.ts';
export {
  type LoraOptions,
  lora,
  type Nrf24Options,
  nrf24,
  type ProfileSpec,
  profileFromSpec,
  type RadioProfile,
  type UartModemOptions,
  uartModem,
} from './profiles.ts';
export {
  freeSpaceLossDb,
  type PathLossOptions,
  type Position,
  pathLossDb,
  type Waypoint,
} from './propagation.ts';
export { prng } from './random.ts';
export {
  type AttachOptions,
  type MediumPort,
  SimulatedRadio,
  type SimulatedRadioStats,
} from './sim-radio.ts';
