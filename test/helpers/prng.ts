/** The project's one PRNG (mulberry32) lives with the simulated radio medium; tests and the soak use it from here. */
export { prng } from '../../src/radio/medium/random.ts';
