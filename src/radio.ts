/**
 * steadfast-mqtt/radio: MQTT over packet radios. `radioLink()` is a Link over
 * any `Radio` driver (so `connect({ link: radioLink(...) })` is all a node
 * needs); the simulated medium is a Radio for tests, demos and planning.
 * Portable: nothing here imports from Node.
 *
 * @module steadfast-mqtt/radio
 */
export * from './radio/link/index.ts';
export * from './radio/medium/index.ts';
export type { Radio, RadioHandlers, RadioStats } from './radio/types.ts';
