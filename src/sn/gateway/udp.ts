/** The gateway's UDP front end (Node): one socket, devices known by `host:port`. */
import { createSocket, type Socket } from 'node:dgram';
import { SnGateway } from './gateway.ts';
import type { SnGatewayOptions } from './options.ts';
import type { SnFrontEnd } from './radio.ts';

/** Where the UDP front end listens. */
export interface SnUdpOptions {
  /** Address to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** UDP port; 0 picks a free one. Default 0 (MQTT-SN has no registered port; Paho uses 10000). */
  port?: number;
}

/** A running UDP gateway. */
export interface SnUdpGateway {
  readonly gateway: SnGateway;
  /** The bound port. */
  readonly port: number;
  /** Closes every device's broker connection (abruptly: the wills go out), then the socket. */
  close(): Promise<void>;
}

/** `host:port` with IPv6 in brackets, the key devices are known by. */
export function udpAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(address.slice(i + 1)) };
}

/** Binds a UDP socket; datagrams go to `deliver(host:port, datagram)`. */
export async function udpSnFrontEnd(
  options: SnUdpOptions,
  deliver: (address: string, datagram: Uint8Array) => void,
): Promise<SnFrontEnd & { port: number }> {
  const host = options.host ?? '127.0.0.1';
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let closed = false;
  socket.on('message', (msg, rinfo) =>
    deliver(udpAddress(rinfo.address, rinfo.port), new Uint8Array(msg.buffer, msg.byteOffset, msg.length)),
  );
  // ICMP errors for a device that went away are not the gateway's problem: keepalive covers them.
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    // Datagram senders are numeric addresses: IPv4, or IPv6 in brackets.
    owns: (address) => /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d+$/.test(address),
    send(address, datagram) {
      if (closed) return;
      const to = parseAddress(address);
      socket.send(datagram, to.port, to.host, () => {});
    },
    async close() {
      closed = true;
      socket.close();
    },
  };
}

/** Binds a UDP socket and runs a gateway on it. */
export async function udpSnGateway(options: SnGatewayOptions & SnUdpOptions): Promise<SnUdpGateway> {
  let front: SnFrontEnd | undefined;
  const gateway = new SnGateway(options, (address, datagram) => front?.send(address, datagram));
  const udp = await udpSnFrontEnd(options, (address, datagram) => gateway.received(address, datagram));
  front = udp;
  return {
    gateway,
    port: udp.port,
    async close() {
      await gateway.close();
      await udp.close();
    },
  };
}
