import type { Broker, WarrenError } from '@warren/core';
import { CoreClient, startBroker, waitFor } from '@warren/testkit';

describe('consumer_timeout', () => {
  let broker: Broker;
  afterEach(() => broker.close());

  test('a channel that holds a delivery unacked past the timeout is closed with 406; the message goes to another consumer', async () => {
    broker = await startBroker({ limits: { consumerTimeoutMs: 100 } });
    const failures: WarrenError[] = [];
    const slow = new CoreClient(broker);
    const ch = slow.connection.openChannel(2, {
      returned: () => {},
      confirmed: () => {},
      closedByBroker: (err) => {
        failures.push(err);
        ch.close();
      },
    });
    slow.declareQueue('jobs');
    slow.publish('', 'jobs', 'job');
    const { received } = slow.consume('jobs', { prefetch: 1 }, ch);
    expect(received).toHaveLength(1);

    await waitFor(() => failures.length > 0, 5000, 'the consumer timeout');
    expect(failures[0]).toMatchObject({
      code: 'PRECONDITION_FAILED',
      message:
        'delivery acknowledgement on channel 2 timed out. Timeout value used: 100 ms. This timeout value can be configured, see consumers doc guide to learn more',
    });
    const other = new CoreClient(broker);
    const got = other.get('jobs', false);
    expect(got?.delivery.msg.body.toString()).toBe('job');
    expect(got?.delivery.redelivered).toBe(true);
    // The slow client's other channel is untouched.
    expect(slow.channel.closed).toBe(false);
  });

  test('a consumer that acks in time is never closed, however long the channel lives', async () => {
    broker = await startBroker({ limits: { consumerTimeoutMs: 300 } });
    const failures: WarrenError[] = [];
    const c = new CoreClient(broker);
    const ch = c.connection.openChannel(2, {
      returned: () => {},
      confirmed: () => {},
      closedByBroker: (err) => failures.push(err),
    });
    c.declareQueue('steady');
    const { received } = c.consume('steady', { prefetch: 1 }, ch);
    // Each message is held 10 ms and acked: the channel always has a delivery outstanding, never the same one
    // for long. Forty rounds span more than a timeout.
    for (let i = 0; i < 40; i++) {
      c.publish('', 'steady', `m${i}`);
      await waitFor(() => received.length === i + 1, 2000, `delivery ${i}`);
      await new Promise((r) => setTimeout(r, 10));
      ch.ack(received[i]!.tag);
    }
    expect(failures).toEqual([]);
    expect(ch.closed).toBe(false);
  });

  test('without closedByBroker (a STOMP session is one channel) the timeout closes the connection as an operator would', async () => {
    broker = await startBroker({ limits: { consumerTimeoutMs: 60 } });
    const c = new CoreClient(broker);
    const forced: WarrenError[] = [];
    c.connection.onForcedClose = (err) => {
      forced.push(err);
      c.connection.close();
    };
    c.declareQueue('q');
    c.publish('', 'q', 'x');
    expect(c.get('q', false)).toBeDefined();
    await waitFor(() => forced.length > 0, 5000, 'the forced close');
    expect(forced[0]?.message).toMatch(/^delivery acknowledgement on channel 1 timed out/);
    expect(broker.getVhost('/')!.queues.get('q')!.messageCount).toBe(1);
  });
});
