import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import amqp from 'amqplib';
import { chosenNode, startNatsCluster, type NatsCluster } from '@warren/cluster';
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
  let n = 0;

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

  test('a bounded queue it was chosen to trim is trimmed by the other node once its heartbeats stop', async () => {
    const name = `victim-${++n}`;
    const node = await startNodeProcess(nats, name, join(dataDir, name));
    victim = node.child;
    // A queue whose trims fall to the victim while it lives (one node trims each bounded queue).
    let i = 0;
    while (chosenNode(['survivor', name], '/', `bounded-${i}`) !== name) i++;
    const queue = `bounded-${i}`;
    const onSurvivor = await amqp.connect(`amqp://guest:guest@${survivor.host}:${survivor.amqpPort}`);
    try {
      const ch = await onSurvivor.createConfirmChannel();
      await ch.assertQueue(queue, { durable: true, arguments: { 'x-max-length': 3 } });
      const send = async (bodies: string[]): Promise<void> => {
        for (const b of bodies) ch.sendToQueue(queue, Buffer.from(b), { persistent: true });
        await ch.waitForConfirms();
      };
      // While the victim lives it trims what the survivor's publishes put over the limit.
      await send(['m0', 'm1', 'm2', 'm3']);
      await waitFor(
        async () => (await ch.checkQueue(queue)).messageCount === 3,
        10_000,
        'trimmed by the victim',
      );
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim!.once('exit', resolve));
      // Published while the survivor still counts the victim alive: nobody trims these until it stops counting.
      await send(['m4', 'm5']);
      await waitFor(
        async () => (await ch.checkQueue(queue)).messageCount === 3,
        20_000,
        'trimmed by the survivor once the victim went silent',
      );
      const kept: string[] = [];
      await ch.consume(queue, (m) => m && kept.push(m.content.toString()), { noAck: true });
      await waitFor(() => kept.length === 3, 10_000, 'the three kept');
      expect(kept).toEqual(['m3', 'm4', 'm5']);
    } finally {
      await onSurvivor.close();
    }
  }, 60_000);
});
