// The management API over TLS (RabbitMQ's management.ssl.port): the shared tls.* certificate, Basic auth as
// over plain HTTP, and a client that does not trust the certificate refused at the handshake.
import { request } from 'node:https';
import { clientTls, startTlsBroker, type TlsBroker } from './support';
import { describeWith } from '../support/requires';

describeWith(['openssl'], 'HTTPS management', () => {
  let b: TlsBroker;
  let port: number;
  beforeAll(async () => {
    // Client certificates are asked for (verifyPeer) but not required, as a browser has none.
    b = await startTlsBroker((config) => {
      config.https.host = '127.0.0.1';
      config.https.port = 0;
      config.tls.failIfNoPeerCert = false;
    });
    port = b.warren.server?.listeners.find((l) => l.name === 'https')?.address.port ?? 0;
  });
  afterAll(() => b.close());

  function get(
    path: string,
    options: { ca?: Buffer; auth?: string },
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          servername: 'localhost',
          ca: options.ca,
          headers:
            options.auth === undefined
              ? {}
              : { authorization: `Basic ${Buffer.from(options.auth).toString('base64')}` },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('serves the API with the broker certificate and Basic auth', async () => {
    expect(port).toBeGreaterThan(0);
    const ca = clientTls(b.pki).ca as Buffer;
    const overview = await get('/api/overview', { ca, auth: 'guest:guest' });
    expect(overview.status).toBe(200);
    expect(JSON.parse(overview.body)).toMatchObject({ product_name: 'Warren' });
    expect((await get('/api/overview', { ca })).status).toBe(401);
  });

  test('a client that does not trust the certificate fails its handshake', async () => {
    await expect(get('/api/overview', { auth: 'guest:guest' })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });
});
