import amqp from 'amqplib';
import { waitFor } from '@warren/testkit';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';

// Shrinks Warren's per-queue memory budget, which an external broker does not have.
const describeWarren = againstExternalBroker ? describe.skip : describe;

const COUNT = 3000;
const body = (i: number): string => `${String(i).padStart(6, '0')}:${'y'.repeat(1017)}`;

/** amqplib against a durable queue whose backlog is mostly on disk: basic.get and consume see every message. */
describeWarren('a durable queue paged out to the journal, through AMQP', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startWarren((config) => {
      config.limits.queueResidentBytes = 32 * 1024;
    });
  });
  afterAll(() => broker.close());

  test('basic.get and a consumer get every message in order', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('paged', { durable: true });
    for (let i = 0; i < COUNT; i++) ch.sendToQueue('paged', Buffer.from(body(i)), { persistent: true });
    await ch.waitForConfirms();
    const queue = broker.server?.broker.getVhost('/')?.queues.get('paged');
    expect(queue?.ready.pagedCount).toBeGreaterThan(COUNT * 0.9);

    const got: string[] = [];
    for (let i = 0; i < 100; i++) {
      const m = await ch.get('paged', { noAck: true });
      if (m === false) throw new Error(`get-empty after ${i} gets`);
      got.push(m.content.toString());
    }
    await ch.prefetch(100);
    await ch.consume('paged', (m) => {
      if (m === null) return;
      got.push(m.content.toString());
      ch.ack(m);
    });
    await waitFor(() => got.length === COUNT, 20000, 'every message');
    expect(got).toEqual(Array.from({ length: COUNT }, (_, i) => body(i)));
    expect((await ch.checkQueue('paged')).messageCount).toBe(0);
    await conn.close();
  });
});
