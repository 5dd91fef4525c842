import amqp, { type ChannelModel } from 'amqplib';
import { waitFor } from '@warren/testkit';
import { describeWith } from '../support/requires';
import type { TestBroker } from '../support/warren';
import { startTestCluster, type TestCluster } from './support';

/**
 * RabbitMQ's resource alarms are cluster-wide: a node low on memory blocks the publishers of every node, so
 * that nobody keeps feeding the cluster while one of its nodes cannot keep up. Here node a is made low on
 * memory for real (its watermark is small, and a node-local queue on it holds the bodies in its memory).
 */
describeWith(['nats-server'], 'alarms in a two-node cluster', () => {
  let cluster: TestCluster;
  let a: TestBroker;
  let b: TestBroker;
  const opened: ChannelModel[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster(['a', 'b'], (name, config) => {
      if (name === 'a') config.limits.memoryHighWatermark = 512 * 1024;
    });
    [a, b] = cluster.nodes as [TestBroker, TestBroker];
  }, 60_000);
  afterAll(async () => {
    for (const c of opened) await c.close().catch(() => {});
    await cluster?.close();
  });

  async function connectTo(node: TestBroker): Promise<ChannelModel> {
    const conn = await amqp.connect(`amqp://guest:guest@${node.host}:${node.amqpPort}`);
    opened.push(conn);
    return conn;
  }

  test("a's memory alarm blocks a publisher on b (connection.blocked 'low on memory') until a drains", async () => {
    const publisher = await connectTo(b);
    const events: string[] = [];
    publisher.on('blocked', (reason: string) => events.push(`blocked:${reason}`));
    publisher.on('unblocked', () => events.push('unblocked'));
    const onB = await publisher.createChannel();
    const { queue: later } = await onB.assertQueue('', { exclusive: true });

    const hoarder = await connectTo(a);
    const onA = await hoarder.createChannel();
    // Auto-delete: a node-local queue, its bodies in a's memory (a replicated queue's are in JetStream).
    const hoard = 'hoard';
    await onA.assertQueue(hoard, { autoDelete: true });
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 16; i++) onA.sendToQueue(hoard, chunk);
    await waitFor(() => a.server!.broker.alarms.isRaised('memory'), 10_000, "a's memory alarm");
    await waitFor(() => b.server!.broker.alarms.blocked, 10_000, "b hearing of a's alarm");
    // b itself is fine: the alarm is a's, and b blocks its publishers for it.
    expect(b.server!.broker.alarms.isRaised('memory')).toBe(false);

    // As on one node, a connection is blocked when it publishes; what it sent waits in its socket.
    onB.sendToQueue(later, Buffer.from('sent while a was low on memory'));
    await waitFor(() => events.includes('blocked:low on memory'), 10_000, 'connection.blocked on b');

    // The hoarder is blocked too (it published); another connection to a drains the queue.
    const drainer = await (await connectTo(a)).createChannel();
    let drained = 0;
    await drainer.consume(hoard, (m) => m && drained++, { noAck: true });
    await waitFor(() => events.includes('unblocked'), 10_000, 'connection.unblocked on b');
    await waitFor(() => drained === 16, 10_000, 'the hoard drained');
    expect(await waitForGet(onB, later)).toBe('sent while a was low on memory');
  });
});

async function waitForGet(ch: amqp.Channel, queue: string): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const m = await ch.get(queue, { noAck: true });
    if (m !== false) return m.content.toString();
  }
  return undefined;
}
