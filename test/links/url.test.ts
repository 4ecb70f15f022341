import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MqttError } from '../../src/errors.ts';
import { linkForUrl } from '../../src/links/node.ts';
import { type BrokerAddress, parseBrokerUrl, redactUrl, websocketUrl } from '../../src/links/url.ts';

const GOOD: Array<[string, BrokerAddress]> = [
  ['mqtt://broker', { protocol: 'mqtt', host: 'broker', port: 1883 }],
  ['tcp://broker:1884', { protocol: 'mqtt', host: 'broker', port: 1884 }],
  ['mqtts://broker', { protocol: 'mqtts', host: 'broker', port: 8883 }],
  ['ssl://broker', { protocol: 'mqtts', host: 'broker', port: 8883 }],
  ['tls://broker:443', { protocol: 'mqtts', host: 'broker', port: 443 }],
  ['MQTT://Broker.Example:1', { protocol: 'mqtt', host: 'Broker.Example', port: 1 }],
  ['mqtt://10.0.0.7:65535', { protocol: 'mqtt', host: '10.0.0.7', port: 65535 }],
  ['mqtt://[::1]', { protocol: 'mqtt', host: '::1', port: 1883 }],
  ['mqtts://[2001:db8::1]:8884', { protocol: 'mqtts', host: '2001:db8::1', port: 8884 }],
  ['mqtt://broker/ignored/path', { protocol: 'mqtt', host: 'broker', port: 1883 }],
  ['mqtt://broker:', { protocol: 'mqtt', host: 'broker', port: 1883 }],
  ['ws://broker', { protocol: 'ws', host: 'broker', port: 80, path: '/' }],
  ['ws://broker:80/mqtt', { protocol: 'ws', host: 'broker', port: 80, path: '/mqtt' }],
  ['wss://broker', { protocol: 'wss', host: 'broker', port: 443, path: '/' }],
  [
    'wss://broker:8084/mqtt?token=a%20b',
    { protocol: 'wss', host: 'broker', port: 8084, path: '/mqtt?token=a%20b' },
  ],
  ['ws://[::1]:9001/ws', { protocol: 'ws', host: '::1', port: 9001, path: '/ws' }],
  ['mqtt://alice@broker', { protocol: 'mqtt', host: 'broker', port: 1883, username: 'alice' }],
  [
    'mqtt://alice:s3cret@broker',
    { protocol: 'mqtt', host: 'broker', port: 1883, username: 'alice', password: 's3cret' },
  ],
  [
    'mqtts://a%40b.c:p%3A%2F%40%25@broker',
    { protocol: 'mqtts', host: 'broker', port: 8883, username: 'a@b.c', password: 'p:/@%' },
  ],
  [
    'ws://u:p@broker/mqtt',
    { protocol: 'ws', host: 'broker', port: 80, username: 'u', password: 'p', path: '/mqtt' },
  ],
];

const BAD: Array<[string, RegExp]> = [
  ['broker', /no scheme/],
  ['broker:1883', /no scheme/],
  ['', /no scheme/],
  ['//broker:1883', /no scheme/],
  ['http://broker', /unknown scheme "http"/],
  ['mqtt+unix://broker', /unknown scheme/],
  ['mqtt://', /empty host/],
  ['mqtt://:1883', /empty host/],
  ['ws:///mqtt', /empty host/],
  ['mqtt://[]:1883', /empty host/],
  ['mqtt://broker:0', /bad port "0"/],
  ['mqtt://broker:65536', /bad port "65536"/],
  ['mqtt://broker:-1', /bad port/],
  ['mqtt://broker:18x3', /bad port/],
  ['mqtt://[::1', /IPv6/],
  ['mqtt://bro ker', /not a valid URL/],
  ['mqtt://u:p%zz@broker', /percent-encoding/],
];

for (const [url, expected] of GOOD) {
  test(`parseBrokerUrl(${JSON.stringify(url)})`, () => {
    assert.deepEqual(parseBrokerUrl(url), expected);
  });
}

for (const [url, why] of BAD) {
  test(`parseBrokerUrl(${JSON.stringify(url)}) throws INVALID_URL`, () => {
    assert.throws(
      () => parseBrokerUrl(url),
      (err) => err instanceof MqttError && err.code === 'INVALID_URL' && why.test(err.message),
    );
  });
}

test('error messages never show the password', () => {
  assert.throws(
    () => parseBrokerUrl('mqtt://alice:hunter2@broker:99999'),
    (err) =>
      err instanceof MqttError && !err.message.includes('hunter2') && err.message.includes('alice:***@'),
  );
  assert.equal(redactUrl('wss://u:p@ss@host/x@y'), 'wss://u:***@host/x@y');
  assert.equal(redactUrl('mqtt://host'), 'mqtt://host');
});

test('websocketUrl rebuilds a ws URL without credentials, IPv6 in brackets', () => {
  assert.equal(websocketUrl(parseBrokerUrl('wss://u:p@broker/mqtt?x=1')), 'wss://broker:443/mqtt?x=1');
  assert.equal(websocketUrl(parseBrokerUrl('ws://[::1]:9001')), 'ws://[::1]:9001/');
});

test('linkForUrl picks the link for the scheme', () => {
  const names: Array<[string, RegExp]> = [
    ['mqtt://127.0.0.1', /^tcp 127\.0\.0\.1:1883$/],
    ['tcp://[::1]:1', /^tcp \[::1\]:1$/],
    ['mqtts://broker', /^tls broker:8883$/],
    ['ssl://broker:1', /^tls broker:1$/],
    ['ws://u:p@broker/mqtt', /^websocket ws:\/\/broker(:80)?\/mqtt$/],
    ['wss://broker', /^websocket wss:\/\/broker(:443)?\/$/],
  ];
  for (const [url, name] of names) assert.match(linkForUrl(url).name, name, url);
  assert.throws(
    () => linkForUrl('http://broker'),
    (err) => err instanceof MqttError && err.code === 'INVALID_URL',
  );
});
