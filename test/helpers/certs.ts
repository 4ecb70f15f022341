// Throwaway PKI for TLS tests, made with the `openssl` CLI: a CA, a server
// certificate for localhost / 127.0.0.1 and a client certificate for mutual
// TLS, plus an unrelated CA for "untrusted certificate" tests.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths (PEM files) and contents of a generated test PKI. */
export interface TestCerts {
  /** Directory holding every file below. */
  dir: string;
  /** CA certificate that signed the server and client certificates. */
  caFile: string;
  /** Server certificate: CN=localhost, SAN DNS:localhost, IP:127.0.0.1, ::1. */
  certFile: string;
  /** Server private key (unencrypted). */
  keyFile: string;
  /** Client certificate (CN=steadfast-test-client) signed by the CA. */
  clientCertFile: string;
  /** Client private key (unencrypted). */
  clientKeyFile: string;
  /** A second, unrelated self-signed CA: verifying against it must fail. */
  otherCaFile: string;
  /** Contents of `caFile`. */
  ca: string;
  /** Contents of `certFile`. */
  cert: string;
  /** Contents of `keyFile`. */
  key: string;
  /** Contents of `clientCertFile`. */
  clientCert: string;
  /** Contents of `clientKeyFile`. */
  clientKey: string;
  /** Contents of `otherCaFile`. */
  otherCa: string;
}

const cache = new Map<string, Promise<TestCerts>>();
let defaultDir: string | undefined;

/** Key type for every key: P-256 is quick to generate and what brokers accept. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
/** Validity in days; the files are thrown away with the test run. */
const DAYS = '7';

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

async function selfSignedCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    DAYS,
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

async function signedLeaf(dir: string, name: string, cn: string, ext: string): Promise<void> {
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(dir, [
    'req',
    '-new',
    ...NEW_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
    '-days',
    DAYS,
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
}

async function generate(dir: string): Promise<TestCerts> {
  mkdirSync(dir, { recursive: true });
  await selfSignedCa(dir, 'ca', 'steadfast-test-ca');
  await selfSignedCa(dir, 'other-ca', 'steadfast-untrusted-ca');
  await signedLeaf(
    dir,
    'server',
    'localhost',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyAgreement',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '',
    ].join('\n'),
  );
  await signedLeaf(
    dir,
    'client',
    'steadfast-test-client',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyAgreement',
      'extendedKeyUsage=clientAuth',
      '',
    ].join('\n'),
  );
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');
  return {
    dir,
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    otherCaFile: file('other-ca.crt'),
    ca: read('ca.crt'),
    cert: read('server.crt'),
    key: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    otherCa: read('other-ca.crt'),
  };
}

/**
 * Generates (once per process and directory) a throwaway CA, a server
 * certificate for `localhost` / `127.0.0.1` and a CA-signed client certificate.
 * Later calls with the same directory return the same result.
 *
 * @param dir where to write the PEM files; default a fresh temporary
 *   directory shared by the whole process and removed when it exits.
 */
export function makeCerts(dir?: string): Promise<TestCerts> {
  let target: string;
  if (dir === undefined) {
    if (defaultDir === undefined) {
      defaultDir = mkdtempSync(join(tmpdir(), 'steadfast-certs-'));
      const created = defaultDir;
      process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    }
    target = defaultDir;
  } else {
    target = resolve(dir);
  }
  let pending = cache.get(target);
  if (pending === undefined) {
    pending = generate(target);
    cache.set(target, pending);
    pending.catch(() => cache.delete(target));
  }
  return pending;
}
