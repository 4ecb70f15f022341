/**
 * One MQTT-SN gateway with several front ends: UDP and the radio link layer at once. Devices are
 * told apart by address (`host:port` on UDP, `radio:N` on the radio), so a client id may move from
 * one to the other (the gateway treats it as the device re-connecting from a new address).
 */
import { SnGateway } from './gateway.ts';
import type { SnGatewayOptions } from './options.ts';
import { type SnFrontEnd, type SnRadioFrontEndOptions, snRadioFrontEnd } from './radio.ts';
import { type SnUdpOptions, udpSnFrontEnd } from './udp.ts';

/** Options of {@link startSnGateway}: the gateway's, and which front ends to run (at least one). */
export interface SnGatewayStartOptions extends SnGatewayOptions {
  /** A UDP front end. Default none. */
  udp?: SnUdpOptions;
  /** A radio front end (simulated medium, UART modem). Default none. */
  radio?: SnRadioFrontEndOptions;
}

/** A running gateway and its front ends. */
export interface SnRunningGateway {
  readonly gateway: SnGateway;
  /** The UDP port, when there is a UDP front end. */
  readonly udpPort: number | undefined;
  /** Ends every device's broker connection (abruptly), then the front ends. */
  close(): Promise<void>;
}

/** Starts the gateway and its front ends; rejects (and closes what it opened) when one cannot start. */
export async function startSnGateway(options: SnGatewayStartOptions): Promise<SnRunningGateway> {
  const fronts: SnFrontEnd[] = [];
  const gateway = new SnGateway(options, (address, datagram) =>
    fronts.find((f) => f.owns(address))?.send(address, datagram),
  );
  const deliver = (address: string, datagram: Uint8Array) => gateway.received(address, datagram);
  let udpPort: number | undefined;
  try {
    if (options.udp) {
      const udp = await udpSnFrontEnd(options.udp, deliver);
      udpPort = udp.port;
      fronts.push(udp);
    }
    if (options.radio) fronts.push(await snRadioFrontEnd(options.radio, deliver));
  } catch (error) {
    await Promise.all(fronts.map((f) => f.close()));
    await gateway.close();
    throw error;
  }
  return {
    gateway,
    udpPort,
    async close() {
      await gateway.close();
      await Promise.all(fronts.map((f) => f.close()));
    },
  };
}
