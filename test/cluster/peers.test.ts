import amqp, { type ChannelModel } from 'amqplib';
import { BARRIER_SUBJECT, connectCluster, HEARTBEAT_SUBJECT } from '@warren/cluster';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { describeWith } from '../support/requires';
import type { TestBroker } from '../support/warren';
import { startTestCluster, type TestCluster } from './support';

/**
 * What the nodes of a cluster tell each other over core NATS (packages/cluster/src/peers.ts).
 *
 * RabbitMQ's resource alarms are cluster-wide: a node low on memory blocks the publishers of every node, so
 * that nobody keeps feeding the cluster while one of its nodes cannot keep up. Here node a is made low on
 * memory for real (its watermark is small, and a node-local queue on it holds the bodies in its memory).
 */
describeWith(['nats-server'], 'the nodes of a two-node cluster', () => {
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

  /**
   * A third node played over raw NATS that answers every barrier request 300 ms after it is asked, and beats as
   * nodes do; resolves once a has heard of it (its disk alarm shows on a, then clears).
   */
  async function slowPeer(
    name: string,
  ): Promise<{ asked: string[]; answered: string[]; close(): Promise<void> }> {
    const conn = await connectCluster({ servers: cluster.nats.urls, name });
    const beat = (alarms: string[]): void =>
      conn.nc.publish(HEARTBEAT_SUBJECT, JSON.stringify({ node: name, alarms }));
    const asked: string[] = [];
    const answered: string[] = [];
    conn.nc.subscribe(BARRIER_SUBJECT, {
      callback: (err, msg) => {
        if (err !== null || msg.reply === undefined) return;
        const request = msg.string();
        asked.push(request);
        setTimeout(() => {
          answered.push(request);
          msg.respond(name);
        }, 300);
      },
    });
    await conn.nc.flush();
    beat(['disk']);
    await waitFor(() => a.server!.broker.alarms.remoteNodes.includes(name), 10_000, `a hearing of ${name}`);
    beat([]);
    await waitFor(() => !a.server!.broker.alarms.blocked, 10_000, `${name}'s alarm cleared on a`);
    const beating = setInterval(() => beat([]), 500);
    return {
      asked,
      answered,
      close: async () => {
        clearInterval(beating);
        await conn.close();
      },
    };
  }

  // The guarantee behind "a binding made through a routes a publish through b right after bind-ok": -ok waits
  // until every live node has applied the change. A third node that applies it late is waited for; the asker's
  // own answer (a subscriber to the barrier subject like every node) never stands in for it.
  test('declare-ok and bind-ok on a wait for every live node, a slow one too', async () => {
    const slow = await slowPeer('slow');
    try {
      const { asked, answered } = slow;
      const ch = await (await connectTo(a)).createChannel();
      await ch.assertQueue('waited-for', { durable: true });
      expect(asked.length).toBeGreaterThan(0);
      expect(answered).toEqual(asked);
      await ch.bindQueue('waited-for', 'amq.direct', 'late');
      expect(asked.length).toBeGreaterThan(1);
      expect(answered).toEqual(asked);
    } finally {
      await slow.close();
    }
  });

  // A STOMP SEND with reply-to /temp-queue/x makes the session's reply queue on the spot. The replier may be on
  // another node, so the request goes out only once every node knows that queue: the same barrier, waited for
  // before the SEND is routed (else a reply through a slower node would find no queue and be dropped).
  test("a SEND's new /temp-queue/ reply queue is known to every live node before the request is routed", async () => {
    const slow = await slowPeer('slow-stomp');
    const client = await RawClient.open(a.stompPort);
    try {
      const { asked, answered } = slow;
      const ch = await (await connectTo(a)).createChannel();
      await ch.assertQueue('stomp-requests', { durable: true });
      const before = asked.length;
      let seenAt: { asked: number; answered: number } | undefined;
      await ch.consume(
        'stomp-requests',
        (m) => {
          if (m !== null) seenAt = { asked: asked.length, answered: answered.length };
        },
        { noAck: true },
      );
      client.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
      await client.next('CONNECTED');
      client.frame(
        'SEND',
        { destination: '/amq/queue/stomp-requests', 'reply-to': '/temp-queue/replies' },
        'ping',
      );
      await waitFor(() => seenAt !== undefined, 10_000, 'the request');
      // The reply queue's claim asked the slow node, and the request came after its answer.
      expect(seenAt!.asked).toBeGreaterThan(before);
      expect(seenAt!.answered).toBe(seenAt!.asked);
    } finally {
      await client.close();
      await slow.close();
    }
  });

  // A node that has just joined knows the nodes already there: its first beat asks them, and they answer with
  // theirs. Otherwise its first claims, before their next beats, would not wait for them (and a declare-ok on
  // it could come before the others know the queue). The node already there is one played over raw NATS, with
  // a disk alarm that shows on the new node when it has heard of it, and it never beats on its own.
  test('a node that joins has heard every node already there before it serves a client', async () => {
    const elder = await connectCluster({ servers: cluster.nats.urls, name: 'elder' });
    try {
      elder.nc.subscribe(HEARTBEAT_SUBJECT, {
        callback: (err, msg) => {
          if (err === null && msg.reply !== undefined)
            msg.respond(JSON.stringify({ node: 'elder', alarms: ['disk'] }));
        },
      });
      await elder.nc.flush();
      const c = await cluster.addNode('c');
      expect(c.server!.broker.alarms.remoteNodes).toContain('elder');
    } finally {
      await elder.close();
    }
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
