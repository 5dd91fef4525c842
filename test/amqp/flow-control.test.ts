import amqp from 'amqplib';
import { BASIC_CONSUME, BASIC_CONSUME_OK, CHANNEL_OPEN, CHANNEL_OPEN_OK } from '@warren/amqp';
import { waitFor } from '@warren/testkit';
import { RawAmqp } from '../support/raw-amqp';
import { againstExternalBroker, clusterMode, startWarren, type TestBroker } from '../support/warren';

// Both tests shrink one Warren's limits, which an external broker does not have. Nor do they hold of the test
// support's cluster: a replicated queue keeps its messages in JetStream, not in a node's memory, and the round-
// robin TCP proxy in front of the nodes adds its own socket buffers, which hold the slow consumer's backlog.
const describeWarren = againstExternalBroker || clusterMode ? describe.skip : describe;

describeWarren('back-pressure', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startWarren((config) => {
      config.limits.memoryHighWatermark = 512 * 1024;
    });
  });
  afterAll(() => broker.close());
  const url = (): string => `amqp://guest:guest@${broker.host}:${broker.amqpPort}`;

  test('over the memory watermark a publisher is blocked (connection.blocked) until consumers catch up', async () => {
    const pub = await amqp.connect(url());
    const events: string[] = [];
    pub.on('blocked', (reason: string) => events.push(`blocked:${reason}`));
    pub.on('unblocked', () => events.push('unblocked'));
    const ch = await pub.createChannel();
    await ch.assertQueue('alarm');
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 16; i++) ch.sendToQueue('alarm', chunk);
    await waitFor(() => events.includes('blocked:low on memory'), 10000, 'connection.blocked');

    // While blocked, the broker does not read this connection: a message sent now waits in the socket.
    ch.sendToQueue('alarm', Buffer.from('sent while blocked'));
    const sub = await amqp.connect(url());
    const sch = await sub.createChannel();
    const bodies: string[] = [];
    await sch.consume(
      'alarm',
      (m) => m && bodies.push(m.content.length > 100 ? 'chunk' : m.content.toString()),
      { noAck: true },
    );
    await waitFor(() => events.includes('unblocked'), 10000, 'connection.unblocked');
    await waitFor(() => bodies.includes('sent while blocked'), 10000, 'the held-back message');
    expect(bodies.filter((b) => b === 'chunk').length).toBeGreaterThanOrEqual(8);
    await pub.close();
    await sub.close();
  });

  test('a consumer that stops reading is not flooded: the broker keeps messages queued until it drains', async () => {
    // Its own broker: 12.5 MiB queued would trip the small memory watermark above and block the publisher.
    const slowBroker = await startWarren((config) => {
      config.limits.maxOutboundBytes = 256 * 1024;
    });
    try {
      await slowConsumerIsNotFlooded(slowBroker);
    } finally {
      await slowBroker.close();
    }
  });
});

async function slowConsumerIsNotFlooded(slowBroker: TestBroker): Promise<void> {
  {
    const admin = await amqp.connect(`amqp://guest:guest@${slowBroker.host}:${slowBroker.amqpPort}`);
    const ch = await admin.createChannel();
    await ch.assertQueue('slow');

    const raw = await RawAmqp.open(slowBroker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, {
      id: BASIC_CONSUME,
      ticket: 0,
      queue: 'slow',
      consumerTag: 'slow',
      noLocal: false,
      noAck: true,
      exclusive: false,
      noWait: false,
      arguments: {},
    });
    await raw.method(1, BASIC_CONSUME_OK);
    raw.socket.pause(); // the client stops reading: its receive window fills, then the broker's send buffer

    const body = Buffer.alloc(32 * 1024);
    const total = 400; // 12.5 MiB, far beyond socket buffers plus the 256 KiB outbound limit
    for (let i = 0; i < total; i++) ch.sendToQueue('slow', body);
    // The broker stops delivering once the socket backs up: most messages stay in the queue.
    let queued = 0;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      queued = (await ch.checkQueue('slow')).messageCount;
      if (queued > total / 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(queued).toBeGreaterThan(total / 2);

    // Reading again drains the queue completely.
    raw.socket.resume();
    await waitFor(() => raw.frames.filter((f) => f.type === 'body').length >= total, 20000, 'every message');
    expect((await ch.checkQueue('slow')).messageCount).toBe(0);
    raw.destroy();
    await admin.close();
  }
}

describe('listening', () => {
  test('the default bind address serves IPv4 and IPv6 loopback alike', async () => {
    if (againstExternalBroker) return;
    const b = await startWarren((config) => {
      config.amqp.host = '::';
    });
    for (const host of ['127.0.0.1', '[::1]']) {
      const c = await amqp.connect(`amqp://guest:guest@${host}:${b.amqpPort}`);
      await c.close();
    }
    await b.close();
  });
});
