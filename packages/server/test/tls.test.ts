import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { silentLogger } from '@warren/core';
import { createPki, type TestPki } from '../../../test/support/certs';
import {
  ConfigError,
  defaultConfig,
  loadConfig,
  secureContextOptions,
  startServer,
  TlsEndpoint,
  tlsSettings,
  type WarrenConfig,
} from '../src';
import { describeWith } from '../../../test/support/requires';

describeWith(['openssl'], 'TLS settings and endpoints', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createPki('alice');
  });
  afterAll(() => pki.remove());

  function configWithCertificates(): WarrenConfig {
    const config = defaultConfig();
    config.tls.certFile = pki.server.certFile;
    config.tls.keyFile = pki.server.keyFile;
    config.tls.caFile = pki.caFile;
    return config;
  }

  describe('TLS settings', () => {
    test('a TLS listener without a certificate or key is a startup error naming the setting', () => {
      const config = defaultConfig();
      expect(() => tlsSettings(config, 'amqps')).toThrow(
        new ConfigError('the amqps listener needs a certificate: set tls.certFile'),
      );
      config.tls.certFile = pki.server.certFile;
      expect(() => tlsSettings(config, 'stomps')).toThrow(
        'the stomps listener needs a private key: set tls.keyFile',
      );
      expect(() => tlsSettings(defaultConfig(), 'wss')).toThrow('set wss.certFile or tls.certFile');
    });

    test('warren start with amqps on and no certificate fails, naming the setting', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
      try {
        const config = defaultConfig();
        config.dataDir = dataDir;
        for (const l of [config.amqp, config.stomp, config.ws])
          Object.assign(l, { host: '127.0.0.1', port: 0 });
        config.amqps = { host: '127.0.0.1', port: 0 };
        await expect(startServer(config)).rejects.toThrow(
          'the amqps listener needs a certificate: set tls.certFile',
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    test('wss takes each of its files from wss.* when set, else from tls.*', () => {
      const config = configWithCertificates();
      config.wss.certFile = '/srv/ws.pem';
      const settings = tlsSettings(config, 'wss');
      expect(settings.files).toEqual({
        certFile: '/srv/ws.pem',
        keyFile: pki.server.keyFile,
        caFile: pki.caFile,
        password: null,
      });
      expect(settings.sources).toEqual({ certFile: 'wss', keyFile: 'tls', caFile: 'tls', password: 'tls' });
      // The other listeners never read wss.*.
      expect(tlsSettings(config, 'amqps').files.certFile).toBe(pki.server.certFile);
    });

    test("versions map RabbitMQ's names onto Node's minVersion and maxVersion; ciphers join with ':'", () => {
      const config = configWithCertificates();
      config.tls.versions = ['tlsv1.3', 'tlsv1.2'];
      config.tls.ciphers = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384'];
      const options = secureContextOptions(tlsSettings(config, 'amqps'));
      expect(options).toMatchObject({
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.3',
        ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
      });
      const defaults = secureContextOptions(tlsSettings(configWithCertificates(), 'amqps'));
      expect(defaults).not.toHaveProperty('minVersion');
      expect(defaults).not.toHaveProperty('ciphers');
    });

    test('unknown versions and mechanisms are refused when the configuration loads', () => {
      const load = (env: Record<string, string>) => () => loadConfig({ flags: {}, env, cwd: tmpdir() });
      expect(load({ WARREN_TLS_VERSIONS: 'tlsv1.2,sslv3' })).toThrow(
        'WARREN_TLS_VERSIONS: expected a list of tlsv1, tlsv1.1, tlsv1.2, tlsv1.3',
      );
      expect(load({ WARREN_AUTH_MECHANISMS: 'PLAIN,CRAM-MD5' })).toThrow(
        /expected a list of PLAIN, AMQPLAIN, EXTERNAL/,
      );
      expect(
        loadConfig({ flags: {}, env: { WARREN_AUTH_MECHANISMS: 'external,plain' } }).authMechanisms,
      ).toEqual(['EXTERNAL', 'PLAIN']);
    });

    test('an encrypted key needs its passphrase; a wrong one, or an unreadable file, names the setting', () => {
      const encrypted = join(pki.dir, 'server-encrypted.key');
      execFileSync('openssl', [
      'pkey', '-in', pki.server.keyFile, '-aes256', '-passout', 'pass:s3cret', '-out', encrypted,
    ]); // prettier-ignore
      const config = configWithCertificates();
      config.tls.keyFile = encrypted;
      expect(() => secureContextOptions(tlsSettings(config, 'amqps'))).toThrow(ConfigError);
      config.tls.password = 's3cret';
      expect(secureContextOptions(tlsSettings(config, 'amqps')).passphrase).toBe('s3cret');
      config.tls.caFile = join(pki.dir, 'missing.pem');
      expect(() => secureContextOptions(tlsSettings(config, 'amqps'))).toThrow(
        /^tls\.caFile: cannot read .*missing\.pem: ENOENT/,
      );
    });
  });

  describe('TlsEndpoint', () => {
    /** A server made by the endpoint, as AMQPS makes it; resolves with its port and the sockets it admitted. */
    async function serve(
      config: WarrenConfig,
    ): Promise<{ port: number; admitted: TLSSocket[]; close(): void }> {
      const endpoint = new TlsEndpoint(tlsSettings(config, 'amqps'), silentLogger, 0);
      const admitted: TLSSocket[] = [];
      const server = endpoint.createServer({}, (socket) => admitted.push(socket as TLSSocket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        port: (server.address() as AddressInfo).port,
        admitted,
        close: () => {
          for (const s of admitted) s.destroy();
          server.close();
        },
      };
    }

    const clients: TLSSocket[] = [];
    afterEach(() => {
      for (const c of clients.splice(0)) c.destroy();
    });

    /** Resolves with the protocol version of a completed handshake, or 'error <code>'. Kept open until afterEach. */
    function tryHandshake(port: number, options: object): Promise<string> {
      return new Promise((resolve) => {
        const ca = readFileSync(pki.caFile);
        const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options });
        clients.push(socket);
        socket.once('secureConnect', () => resolve(socket.getProtocol() ?? ''));
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
      });
    }

    test('tls.versions is enforced: a TLS 1.2-only client cannot reach a TLS 1.3-only listener', async () => {
      const config = configWithCertificates();
      config.tls.versions = ['tlsv1.3'];
      const s = await serve(config);
      try {
        expect(await tryHandshake(s.port, {})).toBe('TLSv1.3');
        expect(await tryHandshake(s.port, { maxVersion: 'TLSv1.2' })).toMatch(/^error ERR_SSL_/);
      } finally {
        s.close();
      }
    });

    test('verifyPeer without failIfNoPeerCert admits a client without a certificate but not one with a bad one', async () => {
      const config = configWithCertificates();
      config.tls.verifyPeer = true;
      const s = await serve(config);
      try {
        await tryHandshake(s.port, {});
        await tryHandshake(s.port, {
          cert: readFileSync(pki.otherCaClient.certFile),
          key: readFileSync(pki.otherCaClient.keyFile),
        });
        await tryHandshake(s.port, {
          cert: readFileSync(pki.client.certFile),
          key: readFileSync(pki.client.keyFile),
        });
        // The two good ones reach the protocol; the wrong-CA one never does.
        const deadline = Date.now() + 5000;
        while (s.admitted.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        expect(s.admitted.map((socket) => socket.authorized)).toEqual([false, true]);
      } finally {
        s.close();
      }
    });
  });
});
