/**
 * The MQTT-SN gateway's radio front end: devices reach it through the project's radio link layer
 * (a node uses `radioSnTransport`), each as the address `radio:N`. Every OPEN from a node with a key
 * (or any node, on an insecure link) is accepted; the stream's bytes are cut into MQTT-SN messages
 * (radio-framing.ts) and handed to the gateway; answers go back on the node's current stream. A
 * node's keys-file entry may name the client ids it may CONNECT with: others get CONNACK rejected.
 */
import { MqttError } from '../../errors.ts';
import type { GatewayKeys } from '../../gateway/keys-file.ts';
import { RadioEndpoint } from '../../radio/link/endpoint.ts';
import type { StreamHandle } from '../../radio/link/endpoint-types.ts';
import { type LinkTimingOptions, linkTiming } from '../../radio/link/timing.ts';
import type { Radio } from '../../radio/types.ts';
import { decodeSn, encodeSn, SnReturnCode } from '../codec/index.ts';
import { SnStreamSplitter } from '../radio-framing.ts';

/** The address prefix of devices heard on a radio. */
export const RADIO_ADDRESS_PREFIX = 'radio:';

/** Options of {@link snRadioFrontEnd}. */
export interface SnRadioFrontEndOptions extends LinkTimingOptions {
  /** The gateway's radio. Required. */
  radio: Radio;
  /** The gateway's radio address. Default 0. */
  address?: number;
  /** Node keys and the client ids each may use (the radio gateway's keys file). Required unless `insecure`. Default none. */
  keys?: GatewayKeys;
  /** Unsecured frames: any node may speak. Default false. */
  insecure?: boolean;
  /** [0, 1) for jitter and nonces. Default Math.random. */
  random?: () => number;
}

/** A front end: which addresses it owns, how datagrams leave through it. */
export interface SnFrontEnd {
  /** Whether `address` is a device of this front end (`radio:N`, `host:port`). */
  owns(address: string): boolean;
  /** Sends one datagram to the device at `address`; dropped when it is not reachable now. */
  send(address: string, datagram: Uint8Array): void;
  /** Stops the front end (socket, radio). */
  close(): Promise<void>;
}

/** Starts the radio and hands what nodes send to `deliver(address, datagram)`. */
export async function snRadioFrontEnd(
  options: SnRadioFrontEndOptions,
  deliver: (address: string, datagram: Uint8Array) => void,
): Promise<SnFrontEnd> {
  const { keys } = options;
  if ((keys === undefined) === (options.insecure !== true))
    throw new MqttError('INVALID_ARGUMENT', 'MQTT-SN radio front end: give keys or insecure: true');
  const streams = new Map<number, StreamHandle>();
  const endpoint = new RadioEndpoint({
    radio: options.radio,
    address: options.address ?? 0,
    timing: linkTiming(options.radio, options),
    random: options.random,
    security: keys === undefined ? undefined : { keyFor: (peer) => keys.get(peer)?.key },
    onOpen(request) {
      const peer = request.peer;
      const from = `${RADIO_ADDRESS_PREFIX}${peer}`;
      const allowed = keys?.get(peer)?.clientIds;
      const splitter = new SnStreamSplitter((datagram) => {
        if (allowed !== undefined && !connectAllowed(datagram, allowed)) {
          handle.write(encodeSn({ type: 'connack', returnCode: SnReturnCode.RejectedNotSupported }));
          return;
        }
        deliver(from, datagram);
      });
      const handle = request.accept({
        data: (bytes) => {
          splitter.push(bytes);
          if (splitter.broken) handle.abort();
        },
        closed: () => {
          if (streams.get(peer) === handle) streams.delete(peer);
        },
      });
      streams.set(peer, handle);
    },
  });
  await endpoint.start();
  return {
    owns: (address) => address.startsWith(RADIO_ADDRESS_PREFIX),
    send(address, datagram) {
      // No stream: the node is gone or re-opening; its client retransmits.
      streams.get(Number(address.slice(RADIO_ADDRESS_PREFIX.length)))?.write(datagram);
    },
    close: () => endpoint.close(),
  };
}

/** A CONNECT naming a client id the node's key does not cover is refused; anything else passes. */
function connectAllowed(datagram: Uint8Array, allowed: ReadonlySet<string>): boolean {
  try {
    const m = decodeSn(datagram);
    return m.type !== 'connect' || allowed.has(m.clientId);
  } catch {
    return true; // the gateway drops and counts it
  }
}
