import amqp from 'amqplib';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';

// The disk is played by the test (free space it controls), which an external broker does not read.
const describeWarren = againstExternalBroker ? describe.skip : describe;

const LIMIT = 1_000_000_000;

/**
 * disk_free_limit end to end: the journal's free-space reading (here a number the test controls, in place of
 * statfs) falls below the limit, real clients publishing are blocked (AMQP connection.blocked 'low on disk',
 * STOMP reading stops), consumers carry on, and everything held back arrives once space returns.
 */
describeWarren('disk alarm (disk_free_limit)', () => {
  let broker: TestBroker;
  let free = 10 * LIMIT;
  beforeAll(async () => {
    broker = await startWarren(
      (config) => {
        config.diskFreeLimit = LIMIT;
      },
      { freeSpace: async () => free },
    );
  });
  afterAll(() => broker.close());
  const url = (): string => `amqp://guest:guest@${broker.host}:${broker.amqpPort}`;

  test('below the limit publishers are blocked, not messages dropped; they resume when space returns', async () => {
    const pub = await amqp.connect(url());
    const events: string[] = [];
    pub.on('blocked', (reason: string) => events.push(`blocked:${reason}`));
    pub.on('unblocked', () => events.push('unblocked'));
    const ch = await pub.createConfirmChannel();
    await ch.assertQueue('disk-alarm', { durable: true });

    const stomp = await RawClient.open(broker.stompPort);
    stomp.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    await stomp.next('CONNECTED');

    // The disk fills. The journal looks again after its next group commit (at most once a second) or on
    // its slow timer: publish persistently until the AMQP publisher is told it is blocked.
    free = LIMIT / 2;
    let sent = 0;
    while (!events.includes('blocked:low on disk')) {
      ch.sendToQueue('disk-alarm', Buffer.from(`before ${sent++}`), { persistent: true });
      await ch.waitForConfirms();
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (sent > 400) throw new Error('no connection.blocked within 400 publishes (20 s)');
    }

    // A STOMP publisher's SEND under the alarm is taken, then its connection is not read any more.
    stomp.frame('SEND', { destination: '/queue/disk-alarm', persistent: 'true', receipt: 'r1' }, 'stomp 1');
    await stomp.next('RECEIPT');
    stomp.frame('SEND', { destination: '/queue/disk-alarm', persistent: 'true', receipt: 'r2' }, 'stomp 2');
    ch.sendToQueue('disk-alarm', Buffer.from('amqp while blocked'), { persistent: true });

    // Consumers are not blocked: everything that got in is delivered, and nothing sent after the block.
    const sub = await amqp.connect(url());
    const sch = await sub.createChannel();
    const bodies: string[] = [];
    await sch.consume('disk-alarm', (m) => m && bodies.push(m.content.toString()), { noAck: true });
    await waitFor(() => bodies.length === sent + 1, 10000, 'the messages published before the block');
    expect(bodies).toContain('stomp 1');
    // Nothing of the blocked connections is read: a negative, so give it time to go wrong.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bodies).not.toContain('stomp 2');
    expect(bodies).not.toContain('amqp while blocked');
    expect(stomp.frames.filter((f) => f.command === 'RECEIPT')).toHaveLength(1);

    // Space returns: both publishers are read again, nothing was lost, the STOMP receipt comes.
    free = 10 * LIMIT;
    await waitFor(() => events.includes('unblocked'), 15000, 'connection.unblocked');
    await waitFor(
      () => bodies.includes('stomp 2') && bodies.includes('amqp while blocked'),
      10000,
      'the messages held back by the block',
    );
    const receipt = await stomp.next('RECEIPT', 2);
    expect(receipt.headers.get('receipt-id')).toBe('r2');
    expect(events.filter((e) => e.startsWith('blocked'))).toEqual(['blocked:low on disk']);

    stomp.close();
    await sub.close();
    await pub.close();
  });
});
