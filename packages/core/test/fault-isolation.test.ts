import { Message, UntranslatableMessage, type Broker } from '../src';
import { CoreClient, startBroker, waitFor } from '@warren/testkit';

let broker: Broker;
beforeEach(async () => {
  broker = await startBroker();
});
afterEach(() => broker.close());

function persistent(body: string): Message {
  return Message.fromProperties('', 'q', { deliveryMode: 2 }, Buffer.from(body));
}

/** A queue `name` whose rejected messages go to `name`.dlq through a fanout dead-letter exchange. */
function queueWithDeadLetters(c: CoreClient, name: string): string {
  c.channel.exchangeDeclare(`${name}.dlx`, 'fanout', {
    durable: false,
    autoDelete: false,
    internal: false,
    arguments: {},
  });
  c.declareQueue(`${name}.dlq`);
  c.channel.queueBind(`${name}.dlq`, `${name}.dlx`, '');
  return c.declareQueue(name, { 'x-dead-letter-exchange': `${name}.dlx` });
}

describe('a delivery that throws is contained in its own connection', () => {
  test('the publisher never sees the consumer’s error; only the consumer’s connection closes', () => {
    const admin = new CoreClient(broker);
    queueWithDeadLetters(admin, 'work');
    admin.declareQueue('other');
    const broken = new CoreClient(broker);
    const faults: unknown[] = [];
    broken.connection.onFault = (err) => {
      faults.push(err);
      broken.connection.close();
    };
    broken.channel.consume(
      'work',
      {},
      {
        deliver: () => {
          throw new Error('sink exploded');
        },
        cancelledByBroker: () => {},
      },
    );
    const healthy = new CoreClient(broker);
    const { received } = healthy.consume('other');

    const publisher = new CoreClient(broker);
    expect(() => publisher.publish('', 'work', 'poison for this sink')).not.toThrow();
    publisher.publish('', 'other', 'for the healthy one');

    expect(faults).toHaveLength(1);
    expect((faults[0] as Error).message).toBe('sink exploded');
    expect(broken.connection.closed).toBe(true);
    expect(publisher.connection.closed).toBe(false);
    expect(healthy.connection.closed).toBe(false);
    expect(received.map((r) => r.body)).toEqual(['for the healthy one']);
    // The message that made the sink throw does not go back to the queue to hit the next consumer.
    expect(admin.getAll('work.dlq')).toEqual(['poison for this sink']);
    expect(admin.getAll('work')).toEqual([]);
    expect(broker.counters.deliveryFailures).toBe(1);
  });

  test('other unacked deliveries of the failed connection go back to the queue for the next consumer', () => {
    const admin = new CoreClient(broker);
    queueWithDeadLetters(admin, 'jobs');
    const broken = new CoreClient(broker);
    let calls = 0;
    broken.channel.consume(
      'jobs',
      {},
      {
        deliver: () => {
          if (++calls === 3) throw new Error('third one breaks it');
        },
        cancelledByBroker: () => {},
      },
    );
    const publisher = new CoreClient(broker);
    for (const body of ['a', 'b', 'c', 'd']) publisher.publish('', 'jobs', body);
    expect(broken.connection.closed).toBe(true);
    expect(admin.getAll('jobs.dlq')).toEqual(['c']);
    // a and b were delivered and not acked: requeued when the connection closed; d was never delivered.
    expect(admin.getAll('jobs')).toEqual(['a', 'b', 'd']);
  });

  test('an untranslatable message is rejected and the consumer carries on with the next one', () => {
    const admin = new CoreClient(broker);
    queueWithDeadLetters(admin, 'mixed');
    const consumer = new CoreClient(broker);
    const got: string[] = [];
    consumer.channel.consume(
      'mixed',
      { noAck: true },
      {
        deliver: (d) => {
          const body = d.msg.body.toString();
          if (body.startsWith('odd')) throw new UntranslatableMessage('this protocol cannot say it');
          got.push(body);
        },
        cancelledByBroker: () => {},
      },
    );
    const publisher = new CoreClient(broker);
    for (const body of ['one', 'odd-two', 'three']) publisher.publish('', 'mixed', body);
    expect(got).toEqual(['one', 'three']);
    expect(consumer.connection.closed).toBe(false);
    expect(admin.getAll('mixed.dlq')).toEqual(['odd-two']);
    expect(broker.counters.untranslatable).toBe(1);
    expect(broker.counters.deliveryFailures).toBe(0);
  });

  test('a delivery from an expiry timer that throws is contained too (nothing reaches the event loop)', async () => {
    const admin = new CoreClient(broker);
    admin.declareQueue('ttl', { 'x-message-ttl': 20, 'x-dead-letter-exchange': 'amq.fanout' });
    admin.declareQueue('expired');
    admin.channel.queueBind('expired', 'amq.fanout', '');
    const broken = new CoreClient(broker);
    broken.channel.consume(
      'expired',
      {},
      {
        deliver: () => {
          throw new Error('breaks inside a timer');
        },
        cancelledByBroker: () => {},
      },
    );
    new CoreClient(broker).publish('', 'ttl', 'expires unread');
    // The expiry timer dead-letters it into 'expired', whose consumer throws: inside the queue's timer.
    await waitFor(() => broken.connection.closed, 2000, 'the broken consumer to be closed');
    expect(broker.counters.deliveryFailures).toBe(1);
    expect(admin.connection.closed).toBe(false);
  });
});

describe('store callbacks are guarded per connection', () => {
  test('a confirm sink that throws closes its own connection, and other publishers still get confirms', async () => {
    new CoreClient(broker).declareQueue('durable-q', {}, { durable: true });
    const broken = new CoreClient(broker);
    broken.connection.onFault = () => broken.connection.close();
    const brokenChannel = broken.connection.openChannel(2, {
      returned: () => {},
      confirmed: () => {
        throw new Error('confirm sink exploded');
      },
    });
    brokenChannel.confirmSelect();
    const good = new CoreClient(broker);
    good.channel.confirmSelect();

    brokenChannel.publish('', persistent('from the broken one'));
    good.channel.publish('', persistent('from the good one'));
    await waitFor(() => good.confirms.length > 0, 2000, 'the good publisher’s confirm');
    expect(good.confirms[0]).toMatchObject({ seq: 1, ack: true });
    await waitFor(() => broken.connection.closed, 2000, 'the broken publisher to be closed');
    expect(good.connection.closed).toBe(false);
  });
});

describe('exclusive queues per connection', () => {
  test('a connection that declares and deletes reply queues one per request holds none of them afterwards', () => {
    const c = new CoreClient(broker);
    for (let i = 0; i < 1000; i++) {
      const q = c.declareQueue('', {}, { exclusive: true });
      c.channel.queueDelete(q);
    }
    expect(c.connection.ownedQueues).toBe(0);
  });

  test('past maxQueuesPerConnection a declare is refused with 406 and the connection keeps working', async () => {
    const small = await startBroker({ limits: { maxQueuesPerConnection: 3 } });
    const c = new CoreClient(small);
    for (let i = 0; i < 3; i++) c.declareQueue('', {}, { exclusive: true });
    expect(() => c.declareQueue('', {}, { exclusive: true })).toThrow(/maxQueuesPerConnection/);
    expect(() => c.declareQueue('shared-ok')).not.toThrow();
    expect(new CoreClient(small).declareQueue('', {}, { exclusive: true })).toMatch(/^amq\.gen-/);
    await small.close();
  });
});
