/** The MQTT-SN scenario suite (scenarios.ts) with the devices on UDP over loopback. */
import { SnClient } from '../../src/sn/client.ts';
import { type SnUdpGateway, udpSnGateway } from '../../src/sn/gateway/index.ts';
import { udpTransport } from '../../src/sn/udp.ts';
import { runSnScenarios } from './scenarios.ts';

runSnScenarios({
  name: 'udp',
  messages: 100,
  retryInterval: 200,
  async gateway(options) {
    let g: SnUdpGateway = await udpSnGateway(options);
    const port = g.port;
    return {
      get gateway() {
        return g.gateway;
      },
      device: async (o) => new SnClient(await udpTransport({ port }), o),
      async restart() {
        await g.close();
        // Back on the same port: the devices know the gateway by its address.
        g = await udpSnGateway({ ...options, port });
      },
      close: () => g.close(),
    };
  },
});
