import { Broker, isFieldTable, MemoryStore, type FieldTable } from '@warren/core';
import { CoreClient, startBroker, waitFor } from '@warren/testkit';

const QUORUM = { 'x-queue-type': 'quorum' };

describe('quorum queues', () => {
  let broker: Broker;
  let c: CoreClient;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
  });
  afterEach(() => broker.close());

  test('a durable, shared quorum queue is declared and re-declared; its type shows in its settings', () => {
    c.declareQueue('orders', QUORUM, { durable: true });
    expect(c.declareQueue('orders', QUORUM, { durable: true })).toBe('orders');
    expect(broker.getVhost('/')!.queues.get('orders')!.settings.type).toBe('quorum');
    expect(() => c.declareQueue('orders', {}, { durable: true })).toThrow(
      /inequivalent arg 'x-queue-type' for queue 'orders' in vhost '\/': received none but current is the value 'quorum'/,
    );
  });

  test.each([
    [{ durable: false }, "invalid property 'non-durable' for queue 'q' in vhost '/'"],
    [{ durable: true, exclusive: true }, "invalid property 'exclusive-owner' for queue 'q' in vhost '/'"],
    [{ durable: true, autoDelete: true }, "invalid property 'auto-delete' for queue 'q' in vhost '/'"],
  ])('RabbitMQ refuses a quorum queue declared %j, and so does Warren', (flags, message) => {
    expect(() => c.declareQueue('q', QUORUM, flags)).toThrow(
      expect.objectContaining({ code: 'PRECONDITION_FAILED', message }),
    );
    expect(broker.getVhost('/')!.queues.has('q')).toBe(false);
  });

  test('a server-named quorum queue is refused', () => {
    expect(() => c.declareQueue('', QUORUM, { durable: true })).toThrow(
      'Cannot declare a server-named queue for type rabbit_quorum_queue',
    );
  });

  test.each([
    ['x-max-priority', 10],
    ['x-queue-mode', 'lazy'],
    ['x-max-age', '1D'],
  ])('the classic or stream argument %s is refused for a quorum queue', (arg, value) => {
    expect(() => c.declareQueue('q', { ...QUORUM, [arg]: value }, { durable: true })).toThrow(
      `invalid arg '${arg}' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue`,
    );
  });

  test('x-delivery-limit on a classic queue is refused, as RabbitMQ does', () => {
    expect(() => c.declareQueue('q', { 'x-delivery-limit': 3 }, { durable: true })).toThrow(
      "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue",
    );
  });

  test('a redelivery carries x-delivery-count: the times the queue handed the message out before', () => {
    c.declareQueue('q', QUORUM, { durable: true });
    const q = broker.getVhost('/')!.queues.get('q')!;
    c.publish('', 'q', 'job');
    const seen: [boolean, FieldTable | undefined][] = [];
    c.channel.consume(
      'q',
      { prefetch: 1 },
      {
        deliver: (d) => seen.push([d.redelivered, q.deliveryHeaders(d)]),
        cancelledByBroker: () => {},
      },
    );
    for (const tag of [1, 2]) c.channel.nack(tag, false, true);
    expect(seen).toEqual([
      [false, undefined],
      [true, { 'x-delivery-count': 1 }],
      [true, { 'x-delivery-count': 2 }],
    ]);
  });

  test('past x-delivery-limit a returned message is dead-lettered with reason delivery_limit', () => {
    c.declareQueue('dead', {}, { durable: true });
    c.declareQueue(
      'work',
      { ...QUORUM, 'x-delivery-limit': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' },
      { durable: true },
    );
    c.publish('', 'work', 'poison');
    const { received } = c.consume('work', { prefetch: 1 });
    // Delivered, returned twice within the limit, delivered a third time; the third return is one too many.
    for (let i = 0; i < 3; i++) c.channel.nack(received[i]!.tag, false, true);
    expect(received).toHaveLength(3);
    expect(broker.getVhost('/')!.queues.get('work')!.messageCount).toBe(0);
    const dead = c.get('dead', true)!;
    expect(dead.delivery.msg.body.toString()).toBe('poison');
    const deaths = dead.delivery.msg.properties.headers!['x-death'] as FieldTable[];
    expect(deaths.filter(isFieldTable).map((d) => [d['queue'], d['reason']])).toEqual([
      ['work', 'delivery_limit'],
    ]);
    expect(broker.deadLettered.atMostOnce.delivery_limit).toBe(1);
  });

  test('a delivery limit of 0 dead-letters at the first return, also when the consumer goes away', () => {
    c.declareQueue('work', { ...QUORUM, 'x-delivery-limit': 0 }, { durable: true });
    c.publish('', 'work', 'once');
    const other = new CoreClient(broker);
    const { received } = other.consume('work', { prefetch: 1 });
    expect(received).toHaveLength(1);
    other.close();
    expect(broker.getVhost('/')!.queues.get('work')!.messageCount).toBe(0);
    expect(broker.deadLettered.disabled.delivery_limit).toBe(1);
  });
});

describe('quorum queues keep every message', () => {
  test('a transient message in a quorum queue is confirmed once stored and survives a restart', async () => {
    const store = new MemoryStore();
    const first = new Broker({ store });
    await first.start();
    const c = new CoreClient(first);
    c.declareQueue('q', QUORUM, { durable: true });
    c.declareQueue('classic', {}, { durable: true });
    c.channel.confirmSelect();
    c.publish('', 'q', 'transient but kept', { deliveryMode: 1 });
    c.publish('', 'classic', 'transient and gone', { deliveryMode: 1 });
    await waitFor(() => c.confirms.some((x) => x.seq === 2), 2000, 'confirms');
    expect(c.confirms.every((x) => x.ack)).toBe(true);
    await first.close();

    const second = new Broker({ store });
    await second.start();
    const d = new CoreClient(second);
    expect(second.getVhost('/')!.queues.get('q')!.settings.type).toBe('quorum');
    expect(d.getAll('q')).toEqual(['transient but kept']);
    expect(d.getAll('classic')).toEqual([]);
    await second.close();
  });
});
