// `warren start` as an operator runs it with TLS: certificates from the environment, AMQPS on a free port, and
// SIGHUP after a renewal. The new certificate is served to the next handshake; a connection opened before
// the reload keeps working; the log file is reopened by the same signal.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { ALL_PORTS_FREE, portOf, warrenSandbox } from '../../packages/server/test/warren-process';
import { createPki, serialOf, type TestPki } from '../support/certs';
import { describeWith } from '../support/requires';
import { clientTls, handshake } from './support';

describeWith(['openssl'], 'warren start with TLS', () => {
  const sandbox = warrenSandbox('warren-tls-cli-');
  let pki: TestPki;
  beforeAll(() => {
    pki = createPki('alice');
  });
  afterAll(() => pki.remove());

  async function servedSerial(port: number): Promise<string> {
    const socket = await handshake(port, clientTls(pki));
    const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
    socket.destroy();
    return serial;
  }

  test('SIGHUP rereads renewed certificates: new handshakes get them, open connections stay', async () => {
    const proc = sandbox.spawn(['start', ...ALL_PORTS_FREE, '--amqps-port', '0'], {
      WARREN_DATA_DIR: join(sandbox.dir, 'data'),
      WARREN_TLS_CERT_FILE: pki.server.certFile,
      WARREN_TLS_KEY_FILE: pki.server.keyFile,
      WARREN_TLS_CA_FILE: pki.caFile,
    });
    await proc.waitForLine('warren started');
    const port = portOf(proc, 'amqps');
    expect(await servedSerial(port)).toBe(serialOf(pki.server.certFile));

    const conn = await amqp.connect(
      { protocol: 'amqps', hostname: '127.0.0.1', port, username: 'guest', password: 'guest' },
      clientTls(pki),
    );
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });

    const next = pki.issueServer('renewed');
    copyFileSync(next.certFile, pki.server.certFile);
    copyFileSync(next.keyFile, pki.server.keyFile);
    proc.child.kill('SIGHUP');
    // By the signal, not by the file watcher (which would notice the new files a second or two later).
    expect(await proc.waitForLine('TLS certificates reloaded')).toMatchObject({ trigger: 'SIGHUP' });
    expect(await servedSerial(port)).toBe(serialOf(next.certFile));

    // The connection from before the reload still carries messages.
    ch.sendToQueue(queue, Buffer.from('after the reload'));
    let got: amqp.GetMessage | false = false;
    while (got === false) got = await ch.get(queue, { noAck: true });
    expect(got.content.toString()).toBe('after the reload');
    await conn.close();

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
