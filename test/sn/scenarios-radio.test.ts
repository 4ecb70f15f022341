/**
 * The MQTT-SN scenario suite (scenarios.ts) with the devices on the simulated radio: an nRF24
 * medium (32-byte MTU) with 10% frame loss, our link layer (ARQ, fragmentation, encryption) under
 * each device, through the gateway's radio front end.
 */
import { parseKeys } from '../../src/gateway/keys-file.ts';
import { nrf24, SimulatedMedium } from '../../src/radio/medium/index.ts';
import { SnClient } from '../../src/sn/client.ts';
import { type SnRunningGateway, startSnGateway } from '../../src/sn/gateway/start.ts';
import { radioSnTransport } from '../../src/sn/radio.ts';
import { testKey } from '../gateway/keys.ts';
import { prng } from '../helpers/prng.ts';
import { runSnScenarios } from './scenarios.ts';

/** Node addresses the gateway's keys cover (any client id), one per device. */
const ADDRESSES = 20;

runSnScenarios({
  name: 'radio',
  messages: 30,
  retryInterval: 1_000,
  async gateway(options) {
    const medium = new SimulatedMedium({ seed: 16, profile: nrf24(), loss: 0.1 });
    const keys = parseKeys(
      Array.from({ length: ADDRESSES }, (_, i) => `${i + 1} ${testKey(i + 1)} *`).join('\n'),
    );
    let seed = 1;
    const start = () =>
      startSnGateway({
        ...options,
        radio: { radio: medium.attach({ name: 'gw' }), keys, random: prng(seed++), latencyMs: 2 },
      });
    let g: SnRunningGateway = await start();
    let next = 1;
    return {
      get gateway() {
        return g.gateway;
      },
      async device(o) {
        const address = next++;
        const transport = radioSnTransport({
          radio: medium.attach({ name: `node-${address}`, position: { x: 5 + address, y: 0 } }),
          address,
          key: testKey(address),
          random: prng(100 + address),
          latencyMs: 2,
        });
        return new SnClient(transport, o);
      },
      async restart() {
        await g.close();
        g = await start();
      },
      async close() {
        await g.close();
        await medium.close();
      },
    };
  },
});
