import { copyFileSync, writeFileSync } from 'node:fs';
import amqp from 'amqplib';
import { serialOf } from '../support/certs';
import { clientTls, handshake, startTlsBroker, type TlsBroker } from './support';
import { describeWith } from '../support/requires';

describeWith(['openssl'], 'TLS certificate reload', () => {
  let b: TlsBroker;
  beforeEach(async () => {
    b = await startTlsBroker();
  });
  afterEach(() => b.close());

  /** The serial number of the certificate a new AMQPS handshake is given. */
  async function servedSerial(): Promise<string> {
    const socket = await handshake(b.amqpsPort, clientTls(b.pki));
    const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
    socket.destroy();
    return serial;
  }

  /** Installs a freshly issued server certificate over the files the broker was started with. */
  function rotateServerCertificate(): string {
    const next = b.pki.issueServer('server-next');
    copyFileSync(next.certFile, b.pki.server.certFile);
    copyFileSync(next.keyFile, b.pki.server.keyFile);
    return serialOf(next.certFile);
  }

  async function openConsumer() {
    const conn = await amqp.connect(
      { protocol: 'amqps', hostname: '127.0.0.1', port: b.amqpsPort },
      { ...clientTls(b.pki, b.pki.client), credentials: amqp.credentials.external() },
    );
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const roundTrip = async (text: string): Promise<string> => {
      ch.sendToQueue(queue, Buffer.from(text));
      for (;;) {
        const m = await ch.get(queue, { noAck: true });
        if (m !== false) return m.content.toString();
      }
    };
    return { conn, roundTrip };
  }

  describe('certificate reload', () => {
    test('reloadTls (SIGHUP) serves the new certificate to new handshakes; an open connection keeps working', async () => {
      const old = serialOf(b.pki.server.certFile);
      expect(await servedSerial()).toBe(old);
      const open = await openConsumer();
      try {
        const next = rotateServerCertificate();
        expect(b.warren.server!.reloadTls()).toBe(true);
        expect(await servedSerial()).toBe(next);
        const line = await b.log.waitFor('TLS certificates reloaded', { listener: 'amqps', serial: next });
        expect(line.level).toBe('info');
        // Every TLS listener took it.
        await b.log.waitFor('TLS certificates reloaded', { listener: 'stomps', serial: next });
        await b.log.waitFor('TLS certificates reloaded', { listener: 'wss', serial: next });
        expect(await open.roundTrip('after reload')).toBe('after reload');
      } finally {
        await open.conn.close();
      }
    });

    test('a change to the files is picked up without a signal', async () => {
      const next = rotateServerCertificate();
      await b.log.waitFor('TLS certificates reloaded', { listener: 'amqps', serial: next }, 15_000);
      expect(await servedSerial()).toBe(next);
    });

    test('a certificate that cannot be used is logged and the previous one stays', async () => {
      const old = serialOf(b.pki.server.certFile);
      writeFileSync(
        b.pki.server.certFile,
        '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n',
      );
      expect(b.warren.server!.reloadTls()).toBe(false);
      const line = await b.log.waitFor('TLS certificates not reloaded; keeping the previous ones', {
        listener: 'amqps',
      });
      expect(line.level).toBe('error');
      expect(await servedSerial()).toBe(old);
    });
  });
});
