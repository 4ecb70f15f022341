/**
 * How MQTT-SN datagrams reach a gateway: one message per datagram, both ways. UDP is the usual
 * transport (`udpTransport` in udp.ts); anything that carries datagrams can stand in.
 */
export interface SnTransport {
  /** Sends one datagram. */
  send(datagram: Uint8Array): void;
  /** Registers the one handler for datagrams received. */
  onDatagram(handler: (datagram: Uint8Array) => void): void;
  /** Releases the transport. */
  close(): void;
}
