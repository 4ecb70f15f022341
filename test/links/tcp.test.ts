import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MqttError } from '../../src/errors.ts';
import { tcpLink } from '../../src/links/tcp.ts';
import { runLinkConformance } from './link.case.ts';
import { Recorder } from './mqtt-bytes.ts';

runLinkConformance({
  name: 'tcp',
  makeLink: (port, { connectTimeout }) => tcpLink({ host: '127.0.0.1', port, connectTimeout }),
});

test('tcp: a host name that does not resolve rejects with LINK_ERROR', { timeout: 30_000 }, async () => {
  const link = tcpLink({ host: 'no-such-broker.invalid', port: 1883 });
  await assert.rejects(link.open(new Recorder()), (err) => {
    assert.ok(err instanceof MqttError && err.code === 'LINK_ERROR', String(err));
    assert.match(String((err.cause as { code?: string }).code), /ENOTFOUND|EAI_AGAIN/);
    return true;
  });
});

test('tcp: the name shows host and port, IPv6 in brackets', () => {
  assert.equal(tcpLink({ host: '::1', port: 1883 }).name, 'tcp [::1]:1883');
  assert.equal(tcpLink({ host: 'broker', port: 1 }).name, 'tcp broker:1');
});
