/**
 * MQTT-SN over the project's radio link layer: an `SnTransport` for a node, its messages carried
 * in link frames (addressing, CRC or authenticated encryption, ARQ, fragmentation to the radio's
 * MTU) to an MQTT-SN gateway's radio front end (gateway/radio.ts). The link's stream opens on the
 * first send and again after it ended (a gateway restart, a link timeout); what was lost in
 * between is the MQTT-SN client's to retransmit, as on UDP. Portable: nothing from Node.
 */
import { MqttError } from '../errors.ts';
import { RadioEndpoint } from '../radio/link/endpoint.ts';
import type { StreamHandle } from '../radio/link/endpoint-types.ts';
import { MAX_ADDRESS } from '../radio/link/frame.ts';
import { parseKey } from '../radio/link/keys.ts';
import { NodeKey } from '../radio/link/secure-frame.ts';
import { type LinkTiming, type LinkTimingOptions, linkTiming } from '../radio/link/timing.ts';
import type { Radio } from '../radio/types.ts';
import { SnStreamSplitter } from './radio-framing.ts';
import type { SnTransport } from './transport.ts';

/** Options of {@link radioSnTransport}; timing options default from the radio's airtime. */
export interface RadioSnTransportOptions extends LinkTimingOptions {
  /** The node's radio (simulated medium, UART modem). Opened on the first send. Required. */
  radio: Radio;
  /** This node's address, 0-254. Required. */
  address: number;
  /** The gateway's radio address. Default 0. */
  gateway?: number;
  /** The node's key (16 bytes or 32 hex digits), shared with the gateway. Required unless `insecure`. Default none. */
  key?: Uint8Array | string;
  /** Unsecured frames (CRC only). Default false. */
  insecure?: boolean;
  /** [0, 1) for jitter and nonces. Default Math.random. */
  random?: () => number;
}

/** An SnTransport over a radio link, with the link's timing and counters. */
export interface RadioSnTransport extends SnTransport {
  readonly timing: LinkTiming;
  readonly endpoint: RadioEndpoint;
}

/**
 * A transport from node `address` to the MQTT-SN gateway at `gateway` over `radio`.
 *
 * @throws MqttError INVALID_ARGUMENT for a bad address, neither `key` nor `insecure`, or both.
 */
export function radioSnTransport(options: RadioSnTransportOptions): RadioSnTransport {
  const { radio, address } = options;
  const gateway = options.gateway ?? 0;
  for (const [name, v] of [
    ['address', address],
    ['gateway', gateway],
  ] as const)
    if (!Number.isInteger(v) || v < 0 || v > MAX_ADDRESS)
      throw new MqttError('INVALID_ARGUMENT', `MQTT-SN radio ${name} must be 0-${MAX_ADDRESS}, got ${v}`);
  if ((options.key === undefined) === (options.insecure !== true))
    throw new MqttError('INVALID_ARGUMENT', 'MQTT-SN radio transport: give a key or insecure: true');
  const key = options.key === undefined ? undefined : new NodeKey(parseKey(options.key));
  const timing = linkTiming(radio, options);
  const endpoint = new RadioEndpoint({
    radio,
    address,
    timing,
    random: options.random,
    security: key === undefined ? undefined : { keyFor: (peer) => (peer === gateway ? key : undefined) },
  });
  let handler: (d: Uint8Array) => void = () => {};
  let stream: StreamHandle | undefined;
  let closed = false;
  const open = (): StreamHandle => {
    const splitter = new SnStreamSplitter((d) => handler(d));
    const handle = endpoint.connect(gateway, {
      data: (bytes) => {
        splitter.push(bytes);
        if (splitter.broken) handle.abort();
      },
      closed: () => {
        if (stream === handle) stream = undefined;
      },
    });
    return handle;
  };
  let started: Promise<void> | undefined;
  return {
    timing,
    endpoint,
    send(datagram) {
      if (closed) return;
      started ??= endpoint.start();
      // The stream queues what is written before ACCEPT; a radio that fails to open leaves the
      // client's retransmissions to time out.
      started.then(
        () => {
          if (closed) return;
          stream ??= open();
          stream.write(datagram);
        },
        () => {},
      );
    },
    onDatagram(h) {
      handler = h;
    },
    close() {
      if (closed) return;
      closed = true;
      void endpoint.close();
    },
  };
}
