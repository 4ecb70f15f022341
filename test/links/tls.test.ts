import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MqttError } from '../../src/errors.ts';
import { tlsLink } from '../../src/links/tls.ts';
import { makeCerts } from '../helpers/certs.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';
import { runLinkConformance } from './link.case.ts';
import { connectPacket, Recorder } from './mqtt-bytes.ts';

const certs = await makeCerts();
const host = '127.0.0.1';

runLinkConformance({
  name: 'tls (CA verification)',
  brokerOptions: { tls: true },
  port: (broker) => broker.tlsPort!,
  makeLink: (port, { connectTimeout }) => tlsLink({ host, port, ca: certs.ca, connectTimeout }),
  handshake: true,
});

runLinkConformance({
  name: 'tls (mutual TLS)',
  brokerOptions: { requireClientCert: true },
  port: (broker) => broker.tlsPort!,
  makeLink: (port, { connectTimeout }) =>
    tlsLink({ host, port, ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, connectTimeout }),
  handshake: true,
});

describe('tls: certificate problems', () => {
  let broker: MosquittoBroker;
  before(async () => {
    broker = await startMosquitto({ requireClientCert: true });
  });
  after(() => broker?.stop());
  const TEST = { timeout: 30_000 };
  const mtls = { host, ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };

  /** Asserts a LINK_ERROR that says "certificate" and carries the TLS error as cause. */
  function certificateError(err: unknown): boolean {
    assert.ok(err instanceof MqttError && err.code === 'LINK_ERROR', String(err));
    assert.match(err.message, /certificate/);
    assert.ok(err.cause instanceof Error, 'cause is the TLS error');
    return true;
  }

  it('a broker certificate from another CA rejects with LINK_ERROR', TEST, async () => {
    const link = tlsLink({ ...mtls, port: broker.tlsPort!, ca: certs.otherCa });
    await assert.rejects(link.open(new Recorder()), certificateError);
  });

  it('a host name the certificate does not cover rejects with LINK_ERROR', TEST, async () => {
    const link = tlsLink({ ...mtls, port: broker.tlsPort!, servername: 'not-the-broker.example' });
    await assert.rejects(link.open(new Recorder()), certificateError);
  });

  it('rejectUnauthorized: false accepts a certificate from another CA', TEST, async (t) => {
    const link = tlsLink({ ...mtls, port: broker.tlsPort!, ca: certs.otherCa, rejectUnauthorized: false });
    const connection = await link.open(new Recorder());
    t.after(() => connection.close());
  });

  it(
    'without a client certificate the broker refuses: open rejects or the link closes with an error',
    TEST,
    async () => {
      const rec = new Recorder();
      const link = tlsLink({ host, port: broker.tlsPort!, ca: certs.ca });
      // TLS 1.3 completes the client's side of the handshake before the server
      // has checked the client certificate, so the refusal may come after open.
      try {
        const connection = await link.open(rec);
        connection.write(connectPacket('no-client-cert'));
        await rec.until('close', () => rec.closes.length > 0);
        assert.equal(rec.chunks.length, 0, 'no CONNACK');
        certificateError(rec.closes[0]);
      } catch (err) {
        if (rec.closes.length > 0) throw err;
        certificateError(err);
      }
    },
  );
});
