import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import amqp from 'amqplib';
import { startNatsCluster, type NatsCluster } from '@warren/cluster';
import { waitFor } from '@warren/testkit';
import { describeWith } from '../support/requires';
import { startWarren, type TestBroker } from '../support/warren';
import { clusterConfig, TEST_ACK_WAIT_MS } from './support';

/** A cluster node in a child process, so that it can be killed with SIGKILL. */
async function startNodeProcess(
  nats: NatsCluster,
  name: string,
  dataDir: string,
): Promise<{ child: ChildProcess; amqpPort: number }> {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'node-process.js'), dataDir, name, String(TEST_ACK_WAIT_MS), ...nats.urls],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${name} exited with ${code} before it listened`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { child, amqpPort: (JSON.parse(line) as { amqpPort: number }).amqpPort };
}

describeWith(['nats-server'], 'a Warren node killed with SIGKILL', () => {
  let nats: NatsCluster;
  let survivor: TestBroker;
  let dataDir: string;
  let victim: ChildProcess | undefined;

  beforeAll(async () => {
    nats = await startNatsCluster({ servers: 3 });
    await nats.ready();
    survivor = await startWarren(clusterConfig(nats, 'survivor'));
    dataDir = await mkdtemp(join(tmpdir(), 'warren-victim-'));
  }, 60_000);
  afterAll(async () => {
    victim?.kill('SIGKILL');
    await survivor?.close();
    await nats?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('its 50 unacked deliveries reach a consumer on the other node, redelivered', async () => {
    const node = await startNodeProcess(nats, 'victim', dataDir);
    victim = node.child;
    const onVictim = await amqp.connect(`amqp://guest:guest@127.0.0.1:${node.amqpPort}`);
    onVictim.on('error', () => {});
    const ch = await onVictim.createConfirmChannel();
    ch.on('error', () => {});
    await ch.assertQueue('work', { durable: true });
    for (let i = 0; i < 50; i++) ch.sendToQueue('work', Buffer.from(`job ${i}`), { persistent: true });
    await ch.waitForConfirms();
    await ch.prefetch(50);
    const held: string[] = [];
    await ch.consume('work', (m) => m && held.push(m.content.toString()));
    await waitFor(() => held.length === 50, 10_000, '50 deliveries held unacked on the victim');

    const onSurvivor = await amqp.connect(`amqp://guest:guest@${survivor.host}:${survivor.amqpPort}`);
    try {
      const sch = await onSurvivor.createChannel();
      const got: { body: string; redelivered: boolean }[] = [];
      await sch.consume('work', (m) => {
        if (m === null) return;
        got.push({ body: m.content.toString(), redelivered: m.fields.redelivered });
        sch.ack(m);
      });
      victim.kill('SIGKILL');
      // The bound docs/cluster.md gives: JetStream redelivers once the dead node's ack wait runs out.
      await waitFor(() => got.length >= 50, TEST_ACK_WAIT_MS * 5, 'the 50 on the survivor');
      expect(got.map((g) => g.body).sort()).toEqual([...held].sort());
      expect(got.every((g) => g.redelivered)).toBe(true);
    } finally {
      await onSurvivor.close();
    }
  }, 60_000);
});
