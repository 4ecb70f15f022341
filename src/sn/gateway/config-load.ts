/**
 * Reads the MQTT-SN gateway's configuration files (formats in config-files.ts) into gateway options:
 * a Paho-style `gateway.conf` naming the other two, or the clients list and the pre-defined topics
 * file on their own. Relative file names in `gateway.conf` are read from its directory, as Paho does.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MqttError } from '../../errors.ts';
import { parseClientList, parsePredefinedTopics, parseSnGatewayConf } from './config-files.ts';
import type { SnGatewayOptions } from './options.ts';

/** Which files to read; each is optional. */
export interface SnConfigFiles {
  /** A Paho-style `gateway.conf`. Default none. */
  conf?: string;
  /** A clients list; given here it restricts CONNECT to its client ids (as ClientAuthentication=YES). Default none. */
  clientsList?: string;
  /** A pre-defined topics file. Default none. */
  predefinedTopics?: string;
}

/** Options from the files, and the UDP port when `gateway.conf` has `GatewayPortNo`. */
export interface SnLoadedConfig {
  options: Partial<SnGatewayOptions>;
  udpPort: number | undefined;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new MqttError('INVALID_ARGUMENT', `${file}: cannot read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Reads and checks the files; throws INVALID_ARGUMENT with `file:line:` for the first fault. */
export function loadSnGatewayConfig(files: SnConfigFiles): SnLoadedConfig {
  let options: Partial<SnGatewayOptions> = {};
  let udpPort: number | undefined;
  let clientsList = files.clientsList;
  let auth = clientsList !== undefined;
  let predefined = files.predefinedTopics;
  if (files.conf !== undefined) {
    const conf = parseSnGatewayConf(read(files.conf), files.conf);
    const base = dirname(files.conf);
    options = conf.options;
    udpPort = conf.udpPort;
    // A file given on its own overrides the one gateway.conf names.
    if (clientsList === undefined && conf.clientsList !== undefined) {
      clientsList = resolve(base, conf.clientsList);
      auth = conf.clientAuthentication;
    }
    if (predefined === undefined && conf.predefinedTopicList !== undefined)
      predefined = resolve(base, conf.predefinedTopicList);
  }
  if (clientsList !== undefined) {
    const list = parseClientList(read(clientsList), clientsList);
    if (auth) options.clientList = list.clientIds;
    options.qosMinusOneDevices = list.qosMinusOneDevices;
  }
  if (predefined !== undefined) {
    const topics = parsePredefinedTopics(read(predefined), predefined);
    options.predefinedTopics = topics.common;
    options.clientPredefinedTopics = topics.perClient;
  }
  return { options, udpPort };
}
