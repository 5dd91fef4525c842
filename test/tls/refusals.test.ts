import { connect as tcpConnect } from 'node:net';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { killAllPrograms, startPython } from '../support/python';
import {
  clientTls,
  handshake,
  programEnv,
  PROGRAMS,
  startTlsBroker,
  untilClosed,
  type TlsBroker,
} from './support';
import { describeWith } from '../support/requires';

describeWith(['python3-pika', 'openssl'], 'TLS refusals', () => {
  // verify_peer with fail_if_no_peer_cert: every client must present a certificate from the trusted CA.
  let b: TlsBroker;
  let before: ChannelModel;
  let channel: Channel;
  beforeAll(async () => {
    b = await startTlsBroker((config) => {
      config.tls.failIfNoPeerCert = true;
    });
    // Connected before any refusal, and must not notice any of them.
    before = await amqp.connect(
      { protocol: 'amqps', hostname: '127.0.0.1', port: b.amqpsPort },
      { ...clientTls(b.pki, b.pki.client), credentials: amqp.credentials.external() },
    );
    channel = await before.createChannel();
  });
  afterAll(async () => {
    await before.close();
    await b.close();
  });
  afterEach(() => killAllPrograms());

  /** The line the broker logs for a refused peer, found by the client's own port. */
  function refusal(listener: string, localPort: number, reason: string) {
    return b.log.waitFor('TLS handshake failed', { listener, remote: `127.0.0.1:${localPort}`, reason });
  }

  /** A TLS client that completes its side of the handshake, says `hello` and records what it gets back. */
  async function refusedAfterHandshake(port: number, identity: Parameters<typeof clientTls>[1]) {
    const socket = await handshake(port, clientTls(b.pki, identity));
    const { localPort = 0 } = socket;
    const closed = untilClosed(socket);
    socket.write('AMQP\x00\x00\x09\x01');
    return { localPort, answer: await closed };
  }

  /** A client that speaks plain text to a TLS port. */
  function plainText(port: number, text: string): Promise<{ localPort: number; answer: Buffer }> {
    let localPort = 0;
    const socket = tcpConnect(port, '127.0.0.1', () => {
      localPort = socket.localPort ?? 0;
      socket.write(text);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    return new Promise((resolve) =>
      socket.once('close', () => resolve({ localPort, answer: Buffer.concat(chunks) })),
    );
  }

  describe('TLS refusals, each logged with the listener, the peer and the reason', () => {
    test('pika with a client certificate from another CA is refused: unknown ca', async () => {
      const program = startPython(
        `${PROGRAMS}/pika_tls.py`,
        { host: '127.0.0.1', amqpPort: b.amqpsPort },
        { args: ['tls.refused'], env: programEnv(b.pki, b.pki.otherCaClient) },
      );
      const status = await program.waitForExit();
      expect(status.code).not.toBe(0);
      expect(program.stdout.join('\n')).not.toContain('got');
      const line = await b.log.waitFor('TLS handshake failed', { listener: 'amqps', reason: 'unknown ca' });
      expect(line.level).toBe('warn');
      expect(line.fields['remote']).toMatch(/^127\.0\.0\.1:\d+$/);
    });

    test('an expired client certificate is refused before the protocol sees a byte', async () => {
      const { localPort, answer } = await refusedAfterHandshake(b.amqpsPort, b.pki.expiredClient);
      expect(answer).toHaveLength(0); // no connection.start
      await refusal('amqps', localPort, 'certificate has expired');
    });

    test('a client without a certificate is refused (fail_if_no_peer_cert)', async () => {
      const { localPort, answer } = await refusedAfterHandshake(b.stompsPort, undefined);
      expect(answer).toHaveLength(0);
      await refusal('stomps', localPort, 'no client certificate');
    });

    test('a wrong-CA certificate on wss is refused before any HTTP is read', async () => {
      const { localPort, answer } = await refusedAfterHandshake(b.wssPort, b.pki.otherCaClient);
      expect(answer).toHaveLength(0);
      await refusal('wss', localPort, 'unknown ca');
    });

    test('plain AMQP on the AMQPS port is refused: wrong version number', async () => {
      const { localPort, answer } = await plainText(b.amqpsPort, 'AMQP\x00\x00\x09\x01');
      expect(answer.toString('latin1')).not.toContain('AMQP');
      const line = await refusal('amqps', localPort, 'wrong version number');
      expect(line.level).toBe('info');
    });

    test('plain STOMP on the STOMP-over-TLS port is refused', async () => {
      const { localPort, answer } = await plainText(b.stompsPort, 'CONNECT\naccept-version:1.2\n\n\x00');
      expect(answer.toString('latin1')).not.toContain('CONNECTED');
      // OpenSSL reads a first line starting "CONNE" as an HTTPS proxy's CONNECT.
      await refusal('stomps', localPort, 'https proxy request');
    });

    test('plain HTTP on the wss port is refused: http request', async () => {
      const { localPort, answer } = await plainText(b.wssPort, 'GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(answer.toString('latin1')).not.toContain('HTTP/1.1');
      await refusal('wss', localPort, 'http request');
    });

    test('the client connected before every refusal still publishes and consumes', async () => {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('still here'));
      const got = await new Promise<string>((resolve) =>
        channel.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }),
      );
      expect(got).toBe('still here');
    });
  });
});
