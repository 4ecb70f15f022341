/**
 * The broker every network benchmark talks to: a real Mosquitto on a free
 * loopback port (test/helpers/mosquitto.ts), configured so that the broker
 * never drops what a benchmark counts on.
 */
import { type MosquittoBroker, startMosquitto } from '../../test/helpers/mosquitto.ts';

export type { MosquittoBroker };

/**
 * - `max_queued_messages 0`: the default (1,000) drops QoS 1/2 messages for a
 *   subscriber that falls behind a fast publisher, which would turn a
 *   throughput run into a loss test.
 * - `max_connections -1`: no limit (the memory and fan-in runs open 1,000+).
 * - `max_inflight_messages 0`: no limit, so no Receive Maximum is announced.
 *   With the default (20), MQTT.js, which ignores the broker's Receive
 *   Maximum, gets QoS 1 publications refused (0x97 Quota exceeded) and QoS 2
 *   ones silently dropped (PUBREC'd, never delivered: seen here), so it
 *   could not finish a run; and for a compliant client a window of 20 makes
 *   a throughput run a test of loopback round trips.
 * Everything else is Mosquitto's default.
 */
export function startBenchBroker(extra: string[] = []): Promise<MosquittoBroker> {
  return startMosquitto({
    config: ['max_queued_messages 0', 'max_inflight_messages 0', ...extra],
    listenerConfig: ['max_connections -1'],
  });
}

/**
 * The throughput benchmark's Mosquitto: as startBenchBroker, but with the
 * default in-flight limit (max_inflight_messages 20, announced as Receive
 * Maximum 20), as a user's broker would have it. Without a limit Mosquitto's
 * cost per message grows with the number in flight, which made QoS 2 a test
 * of the broker's config rather than of the client.
 */
export function startThroughputBroker(): Promise<MosquittoBroker> {
  return startMosquitto({ config: ['max_queued_messages 0'], listenerConfig: ['max_connections -1'] });
}
