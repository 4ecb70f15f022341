/**
 * One device's broker connection: the project's own Client over a Link the gateway can sever, so
 * that a lost device's connection ends abruptly (no DISCONNECT reaches the broker, which then
 * publishes the device's will) on MQTT 3.1.1 as on 5.0.
 */
import { Client } from '../../client/index.ts';
import type { WillOptions } from '../../client/options.ts';
import { localError } from '../../errors.ts';
import { linkForUrl } from '../../links/node.ts';
import type { Connection, Link } from '../../links/types.ts';
import type { SessionStore } from '../../session/store.ts';

/** A Client and the switch that cuts its link. */
export interface BrokerConnection {
  readonly client: Client;
  /** Cuts the link without DISCONNECT and closes the client: the broker publishes the will. */
  sever(): Promise<void>;
  /** DISCONNECT, then close: the broker discards the will. */
  end(): Promise<void>;
}

/** What a device's broker connection is made of. */
export interface BrokerConnectionOptions {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  clean: boolean;
  keepalive: number;
  will: WillOptions | undefined;
  connectTimeout: number;
  /** Where the Client keeps its session (a file store survives a gateway crash). Default memory. */
  store?: SessionStore;
}

/** Opens nothing yet: the caller subscribes, then `client.start()`. */
export function brokerConnection(o: BrokerConnectionOptions): BrokerConnection {
  const inner = linkForUrl(o.url, { connectTimeout: o.connectTimeout });
  let severed = false;
  let current: Connection | undefined;
  const link: Link = {
    name: inner.name,
    async open(handlers, signal) {
      if (severed) throw localError('LINK_ERROR', 'the device is gone');
      const c = await inner.open(handlers, signal);
      current = c;
      return {
        // After sever() nothing more leaves: not even the DISCONNECT that end() would write.
        write: (bytes) => (severed ? true : c.write(bytes)),
        get bufferedAmount() {
          return c.bufferedAmount;
        },
        close: () => c.close(),
      };
    },
  };
  const client = new Client({
    link,
    protocolVersion: o.protocolVersion,
    clientId: o.clientId,
    clean: o.clean,
    keepalive: o.keepalive,
    will: o.will,
    connectTimeout: o.connectTimeout,
    ...(o.store === undefined ? {} : { store: o.store }),
    // The gateway acknowledges a QoS 1/2 message only once the device has it (docs/mqtt-sn.md).
    manualAck: true,
    // Reconnect soon: a device behind the gateway is waiting.
    quietPeriod: 200,
    reconnectPeriod: 200,
    reconnectPeriodMax: 5_000,
  });
  return {
    client,
    async sever() {
      severed = true;
      current?.close();
      await client.end();
    },
    async end() {
      await client.end();
    },
  };
}
