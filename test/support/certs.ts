import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test PKIs made with Debian's `openssl` at test time, in a temp dir the caller removes with `remove()`.
 * Keys are EC P-256: quick to generate, and every client under test (OpenSSL, Node) speaks it.
 */

/** A certificate and its key, as PEM files. */
export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestPki {
  readonly dir: string;
  /** The CA the broker trusts for client certificates (and that signed the server's). */
  readonly caFile: string;
  /** CN=localhost, SAN DNS:localhost and IP:127.0.0.1. */
  readonly server: KeyPair;
  /** Signed by the trusted CA, CN = the user name given to createPki. */
  readonly client: KeyPair;
  /** CN = the same user, but signed by a CA the broker does not trust. */
  readonly otherCaClient: KeyPair;
  readonly otherCaFile: string;
  /** Signed by the trusted CA, valid only during a day in 2020. */
  readonly expiredClient: KeyPair;
  /** Another server certificate for the same names (a fresh key and serial): what a rotation installs. */
  issueServer(name: string): KeyPair;
  /** A client certificate from the trusted CA for another CN. */
  issueClient(name: string, commonName: string): KeyPair;
  remove(): void;
}

/** The serial number (upper-case hex, as Node's X509Certificate reports it) of a PEM certificate file. */
export function serialOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).serialNumber;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA. */
function makeCa(dir: string, name: string): KeyPair {
  const pair = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.keyFile, '-out', pair.certFile, '-days', '2', '-subj', `/CN=Warren test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  return pair;
}

/** A key and a signing request for `subject`. */
function makeRequest(dir: string, name: string, subject: string): { csr: string; keyFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  openssl(dir, [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', csr, '-subj', subject,
  ]); // prettier-ignore
  return { csr, keyFile };
}

/** Signs a request with `ca`, valid from now for two days; `extensions` is an openssl extension section. */
function sign(dir: string, ca: KeyPair, name: string, subject: string, extensions: string): KeyPair {
  const { csr, keyFile } = makeRequest(dir, name, subject);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, extensions);
  const certFile = join(dir, `${name}.pem`);
  openssl(dir, [
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', freshSerial(),
    '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile,
  ]); // prettier-ignore
  return { certFile, keyFile };
}

let serials = 0;
/** Distinct serials in one run, so a reissued certificate is told apart by its serial alone. */
function freshSerial(): string {
  return `0x${(Date.now() * 1000 + ++serials).toString(16)}`;
}

const SERVER_EXT = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

/**
 * A client certificate that expired long ago. `openssl x509 -days` cannot date a certificate in the past and
 * this OpenSSL (3.0) has no -not_before/-not_after, so `openssl ca` signs it with explicit dates; it needs a
 * minimal CA database of its own.
 */
function signExpired(dir: string, ca: KeyPair, name: string, subject: string): KeyPair {
  const { csr, keyFile } = makeRequest(dir, name, subject);
  const db = join(dir, `${name}-db`);
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), `${freshSerial().slice(2).padStart(16, '0')}\n`);
  const config = join(db, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${join(db, 'index.txt')}`,
      `serial = ${join(db, 'serial')}`,
      `new_certs_dir = ${db}`,
      'default_md = sha256',
      'policy = any_name',
      'x509_extensions = client_ext',
      '[any_name]',
      'commonName = supplied',
      '[client_ext]',
      CLIENT_EXT,
    ].join('\n'),
  );
  const certFile = join(dir, `${name}.pem`);
  openssl(dir, [
    'ca', '-batch', '-notext', '-config', config, '-cert', ca.certFile, '-keyfile', ca.keyFile,
    '-in', csr, '-out', certFile, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z',
  ]); // prettier-ignore
  return { certFile, keyFile };
}

/** Creates the CA, server and client certificates a TLS test needs; `user` is the client certificates' CN. */
export function createPki(user: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'warren-pki-'));
  const ca = makeCa(dir, 'ca');
  const otherCa = makeCa(dir, 'other-ca');
  const subject = `/CN=${user}/O=Warren tests`;
  return {
    dir,
    caFile: ca.certFile,
    server: sign(dir, ca, 'server', '/CN=localhost', SERVER_EXT),
    client: sign(dir, ca, 'client', subject, CLIENT_EXT),
    otherCaClient: sign(dir, otherCa, 'other-ca-client', subject, CLIENT_EXT),
    otherCaFile: otherCa.certFile,
    expiredClient: signExpired(dir, ca, 'expired-client', subject),
    issueServer: (name) => sign(dir, ca, name, '/CN=localhost', SERVER_EXT),
    issueClient: (name, commonName) => sign(dir, ca, name, `/CN=${commonName}/O=Warren tests`, CLIENT_EXT),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
