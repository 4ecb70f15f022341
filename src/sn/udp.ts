/** MQTT-SN over UDP (Node): one socket, connected to the gateway's address. */
import { createSocket } from 'node:dgram';
import type { SnTransport } from './transport.ts';

/** Where the gateway listens. */
export interface UdpTransportOptions {
  /** Gateway host. Default `'127.0.0.1'`. */
  host?: string;
  /** Gateway UDP port (the MQTT-SN default is 1883 on UDP, but there is no default here: say it). */
  port: number;
}

/** Opens a UDP socket bound to an ephemeral port and connected to the gateway. */
export async function udpTransport(options: UdpTransportOptions): Promise<SnTransport> {
  const host = options.host ?? '127.0.0.1';
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let handler: (d: Uint8Array) => void = () => {};
  socket.on('message', (msg) => handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.length)));
  // A datagram socket's errors (ICMP port unreachable on a connected socket) are not fatal:
  // the client's retransmission covers a gateway that is not there yet.
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(options.port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  return {
    send(datagram) {
      // A send after close would throw ERR_SOCKET_DGRAM_NOT_RUNNING; a datagram may be lost anyway.
      if (!closed) socket.send(datagram, () => {});
    },
    onDatagram(h) {
      handler = h;
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
