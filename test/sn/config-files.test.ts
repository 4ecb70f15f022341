/**
 * The MQTT-SN gateway's configuration files in the Paho formats: good files parse to the options
 * the gateway takes; every bad line is refused with INVALID_ARGUMENT naming the file and the line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MqttError } from '../../src/errors.ts';
import {
  parseClientList,
  parsePredefinedTopics,
  parseSnGatewayConf,
} from '../../src/sn/gateway/config-files.ts';
import { loadSnGatewayConfig } from '../../src/sn/gateway/config-load.ts';

const dir = mkdtempSync(join(tmpdir(), 'sn-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('MQTT-SN gateway configuration files', () => {
  it('reads a pre-defined topics file: common and per-client ids, comments, COMMON and *', () => {
    const t = parsePredefinedTopics(
      '# ClientId, TopicName, TopicId\n*,plant/t,1\nCOMMON, plant/h , 2 \n\nsensor-9,own/topic,1 # its own id 1\n',
    );
    assert.deepEqual(
      [...t.common],
      [
        [1, 'plant/t'],
        [2, 'plant/h'],
      ],
    );
    assert.deepEqual([...(t.perClient.get('sensor-9') ?? [])], [[1, 'own/topic']]);
  });

  it('reads a clients list: ids, QoS -1 devices by address, Paho QoS-1 flag', () => {
    const l = parseClientList('dev-1\ndev-2,127.0.0.1:5000\ndev-3, [::1]:5001, QoS-1\n');
    assert.deepEqual([...l.clientIds], ['dev-1', 'dev-2', 'dev-3']);
    assert.deepEqual(l.qosMinusOneDevices, [
      { address: '127.0.0.1:5000', clientId: 'dev-2' },
      { address: '[::1]:5001', clientId: 'dev-3' },
    ]);
  });

  it('reads gateway.conf into options, ignoring Paho keys that change nothing here', () => {
    const c = parseSnGatewayConf(
      [
        'BrokerName=127.0.0.1',
        'BrokerPortNo=1884',
        'GatewayID=3',
        'GatewayName=PahoGateway-01',
        'MaxNumberOfClients=30;',
        'GatewayPortNo=10000',
        'KeepAlive=900',
        'MaxKeepAlive=600',
        'MaxSleep=3600',
        'ClientAuthentication=YES',
        'ClientsList=clients.conf',
        'PredefinedTopic=YES',
        'PredefinedTopicList=predefinedTopic.conf',
        'AggregatingGateway=NO',
      ].join('\n'),
    );
    assert.deepEqual(c.options, {
      broker: 'mqtt://127.0.0.1:1884',
      gatewayId: 3,
      advertiseInterval: 900,
      maxKeepalive: 600,
      maxSleep: 3600,
    });
    assert.equal(c.udpPort, 10000);
    assert.equal(c.clientsList, 'clients.conf');
    assert.equal(c.clientAuthentication, true);
    assert.equal(c.predefinedTopicList, 'predefinedTopic.conf');
  });

  it('loads gateway.conf and the files it names, relative to its directory', () => {
    writeFileSync(join(dir, 'clients.conf'), 'a-dev\nq-dev,127.0.0.1:6000\n');
    writeFileSync(join(dir, 'topics.conf'), '*,x/y,5\nq-dev,q/own,6\n');
    writeFileSync(
      join(dir, 'gateway.conf'),
      'ClientAuthentication=YES\nClientsList=clients.conf\nPredefinedTopic=YES\nPredefinedTopicList=topics.conf\nMaxSleep=60\n',
    );
    const { options } = loadSnGatewayConfig({ conf: join(dir, 'gateway.conf') });
    assert.deepEqual([...(options.clientList ?? [])], ['a-dev', 'q-dev']);
    assert.deepEqual(options.qosMinusOneDevices, [{ address: '127.0.0.1:6000', clientId: 'q-dev' }]);
    assert.deepEqual([...(options.predefinedTopics ?? [])], [[5, 'x/y']]);
    assert.deepEqual([...(options.clientPredefinedTopics?.get('q-dev') ?? [])], [[6, 'q/own']]);
    assert.equal(options.maxSleep, 60);
    assert.throws(
      () => loadSnGatewayConfig({ predefinedTopics: join(dir, 'missing.conf') }),
      (e: unknown) =>
        e instanceof MqttError &&
        e.code === 'INVALID_ARGUMENT' &&
        /missing\.conf: cannot read/.test(e.message),
    );
  });

  const bad: [string, (text: string) => unknown, string, RegExp][] = [
    [
      'topics: two fields',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*,a/b\n',
      /^p\.conf:1: expected "ClientId,TopicName,TopicId"/,
    ],
    [
      'topics: four fields',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '# c\n*,a,1,2\n',
      /^p\.conf:2: expected/,
    ],
    [
      'topics: id 0',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*,a,0\n',
      /^p\.conf:1: the topic id must be 1 to 65534/,
    ],
    [
      'topics: id 0xFFFF',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*,a,65535\n',
      /^p\.conf:1: the topic id must be 1 to/,
    ],
    [
      'topics: id not a number',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*,a,1x\n',
      /^p\.conf:1: the topic id must be a whole number/,
    ],
    [
      'topics: empty name',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*, ,3\n',
      /^p\.conf:1: the topic name is empty/,
    ],
    [
      'topics: wildcard',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*,a/+,3\n',
      /^p\.conf:1: a pre-defined topic is a name/,
    ],
    [
      'topics: id twice',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      '*,a,3\n\n*,b,3\n',
      /^p\.conf:3: topic id 3 is defined twice/,
    ],
    [
      'topics: name twice',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      'c1,a,3\nc1,a,4\n',
      /^p\.conf:2: topic "a" is defined twice/,
    ],
    [
      'topics: client id too long',
      (t) => parsePredefinedTopics(t, 'p.conf'),
      `${'x'.repeat(24)},a,3\n`,
      /^p\.conf:1: a client id is 1 to 23/,
    ],
    [
      'clients: twice',
      (t) => parseClientList(t, 'c.conf'),
      'a\na\n',
      /^c\.conf:2: client id "a" is listed twice/,
    ],
    [
      'clients: empty id',
      (t) => parseClientList(t, 'c.conf'),
      ',127.0.0.1:1\n',
      /^c\.conf:1: a client id is 1 to 23/,
    ],
    [
      'clients: bad address',
      (t) => parseClientList(t, 'c.conf'),
      'a,nowhere\n',
      /^c\.conf:1: an address is host:port/,
    ],
    [
      'clients: port 0',
      (t) => parseClientList(t, 'c.conf'),
      'a,127.0.0.1:0\n',
      /^c\.conf:1: the port must be 1 to 65535/,
    ],
    [
      'clients: QoS-1 without address',
      (t) => parseClientList(t, 'c.conf'),
      'a,QoS-1\n',
      /^c\.conf:1: QoS-1 needs the address/,
    ],
    [
      'clients: unknown field',
      (t) => parseClientList(t, 'c.conf'),
      'a,127.0.0.1:9,unstableLine\n',
      /^c\.conf:1: unknown field "unstableLine"/,
    ],
    [
      'clients: address twice',
      (t) => parseClientList(t, 'c.conf'),
      'a,127.0.0.1:9\nb,127.0.0.1:9\n',
      /^c\.conf:2: address 127\.0\.0\.1:9 is listed twice/,
    ],
    ['conf: no =', (t) => parseSnGatewayConf(t, 'g.conf'), 'BrokerName\n', /^g\.conf:1: expected Key=Value/],
    [
      'conf: unknown key',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'Brokername=x\n',
      /^g\.conf:1: unknown key "Brokername"/,
    ],
    [
      'conf: key twice',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'GatewayID=1\nGatewayID=2\n',
      /^g\.conf:2: GatewayID is set twice \(first on line 1\)/,
    ],
    [
      'conf: bad port',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'BrokerPortNo=70000\n',
      /^g\.conf:1: BrokerPortNo must be 1 to 65535/,
    ],
    [
      'conf: bad yes/no',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'QoS-1=yes\n',
      /^g\.conf:1: QoS-1 is YES or NO/,
    ],
    [
      'conf: aggregating',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'AggregatingGateway=YES\n',
      /^g\.conf:1: AggregatingGateway=YES is not supported/,
    ],
    [
      'conf: forwarder',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'Forwarder=YES\n',
      /^g\.conf:1: Forwarder=YES is not supported/,
    ],
    [
      'conf: list missing',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      '\nPredefinedTopic=YES\n',
      /^g\.conf:2: PredefinedTopic=YES needs PredefinedTopicList/,
    ],
    [
      'conf: bad broker',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'BrokerName=mqtt://x\n',
      /^g\.conf:1: BrokerName is a host name/,
    ],
    [
      'conf: gateway id 0',
      (t) => parseSnGatewayConf(t, 'g.conf'),
      'GatewayID=0\n',
      /^g\.conf:1: GatewayID must be 1 to 255/,
    ],
  ];
  for (const [name, parse, text, message] of bad)
    it(`refuses a bad file: ${name}`, () => {
      assert.throws(
        () => parse(text),
        (e: unknown) => {
          assert.ok(e instanceof MqttError, String(e));
          assert.equal(e.code, 'INVALID_ARGUMENT');
          assert.match(e.message, message);
          return true;
        },
      );
    });
});
