import { connect as tcpConnect } from 'node:net';
import amqp from 'amqplib';
import { killAllPrograms, runPython } from '../support/python';
import {
  clientTls,
  handshake,
  offeredMechanisms,
  PASSWORD,
  programEnv,
  PROGRAMS,
  startTlsBroker,
  USER,
  type TlsBroker,
} from './support';
import { describeWith } from '../support/requires';

describeWith(['python3-pika', 'python3-amqp', 'openssl'], 'AMQPS', () => {
  let b: TlsBroker;
  beforeAll(async () => {
    // failIfNoPeerCert off: a client without a certificate may still log in with a password.
    b = await startTlsBroker();
  });
  afterAll(() => b.close());
  afterEach(() => killAllPrograms());

  const amqps = (): { host: string; amqpPort: number } => ({ host: '127.0.0.1', amqpPort: b.amqpsPort });

  describe('AMQP 0-9-1 over TLS', () => {
    test('warren start opens the AMQPS listener and logs it as amqps', () => {
      expect(b.amqpsPort).toBeGreaterThan(0);
      expect(b.log.find('listening', { protocol: 'amqps', port: b.amqpsPort })).toHaveLength(1);
    });

    test('pika publishes and gets a message over TLS (PLAIN login, client certificate presented)', async () => {
      const program = await runPython(`${PROGRAMS}/pika_tls.py`, amqps(), {
        args: ['tls.pika'],
        env: programEnv(b.pki),
      });
      expect(program.stdout).toContain('got hello over TLS');
      expect(b.log.find('connection opened', { protocol: 'amqps', user: USER }).length).toBeGreaterThan(0);
    });

    test('py-amqp publishes and gets a message over TLS', async () => {
      const program = await runPython(`${PROGRAMS}/py_amqp_tls.py`, amqps(), {
        args: ['tls.py-amqp'],
        env: programEnv(b.pki),
      });
      expect(program.stdout).toContain('got hello over TLS');
    });

    test('pika logs in with EXTERNAL as the certificate CN, with no password', async () => {
      const before = b.log.find('connection opened', { user: USER }).length;
      const program = await runPython(`${PROGRAMS}/pika_tls.py`, amqps(), {
        args: ['tls.pika-external', 'external'],
        env: { ...programEnv(b.pki), AMQP_PASSWORD: 'not used' },
      });
      expect(program.stdout).toContain('got hello over TLS');
      expect(b.log.find('connection opened', { user: USER }).length).toBe(before + 1);
    });

    test('amqplib with a client certificate and credentials.external() opens as the CN and round-trips', async () => {
      const conn = await amqp.connect(
        { protocol: 'amqps', hostname: '127.0.0.1', port: b.amqpsPort },
        { ...clientTls(b.pki, b.pki.client), credentials: amqp.credentials.external() },
      );
      try {
        const [connection] = [...b.warren.server!.broker.connections.values()].filter(
          (c) => c.user.name === USER && c.info.protocol === 'amqp',
        );
        expect(connection).toBeDefined();
        const ch = await conn.createChannel();
        const { queue } = await ch.assertQueue('', { exclusive: true });
        ch.sendToQueue(queue, Buffer.from('external'));
        const got = await new Promise<string>((resolve) =>
          ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }),
        );
        expect(got).toBe('external');
      } finally {
        await conn.close();
      }
    });

    test('EXTERNAL is offered only over TLS with a verified client certificate, in the configured order', async () => {
      const plain = tcpConnect(b.amqpPort, '127.0.0.1');
      await expect(offeredMechanisms(plain)).resolves.toBe('PLAIN AMQPLAIN');
      const anonymous = await handshake(b.amqpsPort, clientTls(b.pki));
      await expect(offeredMechanisms(anonymous)).resolves.toBe('PLAIN AMQPLAIN');
      const withCertificate = await handshake(b.amqpsPort, clientTls(b.pki, b.pki.client));
      await expect(offeredMechanisms(withCertificate)).resolves.toBe('PLAIN AMQPLAIN EXTERNAL');
    });

    test('a password login still works over TLS without a client certificate', async () => {
      const conn = await amqp.connect(
        { protocol: 'amqps', hostname: '127.0.0.1', port: b.amqpsPort, username: USER, password: PASSWORD },
        clientTls(b.pki),
      );
      await conn.close();
    });

    test('EXTERNAL with a certificate whose CN is no user is ACCESS_REFUSED, and the log says who', async () => {
      const stranger = b.pki.issueClient('mallory', 'mallory');
      await expect(
        amqp.connect(
          { protocol: 'amqps', hostname: '127.0.0.1', port: b.amqpsPort },
          { ...clientTls(b.pki, stranger), credentials: amqp.credentials.external() },
        ),
      ).rejects.toThrow(/ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL/);
      await b.log.waitFor('login refused', { user: 'mallory', mechanism: 'EXTERNAL', protocol: 'amqps' });
    });
  });
});
