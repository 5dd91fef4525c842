import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';
import { waitFor } from '@warren/testkit';

let broker: TestBroker;
let conn: ChannelModel;
let ch: Channel;
let n = 0;
const unique = (base: string): string => `${base}.${process.pid}.${++n}`;

beforeAll(async () => {
  broker = await startWarren();
});
afterAll(async () => {
  await broker.close();
});
beforeEach(async () => {
  conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
  ch = await conn.createChannel();
});
afterEach(async () => {
  await conn.close().catch(() => {});
});

function collect(
  channel: Channel,
  queue: string,
  options: amqp.Options.Consume = {},
): Promise<{ tag: string; messages: ConsumeMessage[] }> {
  const messages: ConsumeMessage[] = [];
  return channel
    .consume(queue, (m) => m && messages.push(m), options)
    .then((r) => ({ tag: r.consumerTag, messages }));
}

/** Polls queue.declare (passive) until the queue holds `count` ready messages: publishes are asynchronous. */
async function queued(channel: Channel, queue: string, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { messageCount } = await channel.checkQueue(queue);
    if (messageCount === count) return;
    if (Date.now() > deadline)
      throw new Error(`queue ${queue} has ${messageCount} messages, expected ${count}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('AMQP methods through amqplib', () => {
  test('connection.start announces Warren and the RabbitMQ capabilities clients look for', () => {
    const props = (conn.connection as unknown as { serverProperties: Record<string, unknown> })
      .serverProperties;
    expect(props['product']).toBe(againstExternalBroker ? 'RabbitMQ' : 'Warren');
    expect(props['capabilities']).toMatchObject({
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      consumer_priorities: true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: true,
    });
  });

  test('queue declare, passive check, purge and delete report counts', async () => {
    const q = unique('q');
    expect(await ch.assertQueue(q, { durable: false })).toEqual({
      queue: q,
      messageCount: 0,
      consumerCount: 0,
    });
    ch.sendToQueue(q, Buffer.from('a'));
    ch.sendToQueue(q, Buffer.from('b'));
    await queued(ch, q, 2);
    expect(await ch.checkQueue(q)).toEqual({ queue: q, messageCount: 2, consumerCount: 0 });
    expect(await ch.purgeQueue(q)).toEqual({ messageCount: 2 });
    ch.sendToQueue(q, Buffer.from('c'));
    expect(await ch.deleteQueue(q)).toEqual({ messageCount: 1 });
  });

  test('a server-named exclusive queue is amq.gen-...', async () => {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    expect(queue).toMatch(/^amq\.gen-/);
  });

  test('exchanges: declare, bind, route by topic, unbind, delete', async () => {
    const x = unique('x');
    const q = unique('q');
    await ch.assertExchange(x, 'topic', { durable: false });
    await ch.checkExchange(x);
    await ch.assertQueue(q);
    await ch.bindQueue(q, x, 'stock.*.nyse');
    const { messages } = await collect(ch, q, { noAck: true });
    ch.publish(x, 'stock.usd.nyse', Buffer.from('in'));
    ch.publish(x, 'stock.eur.lse', Buffer.from('out'));
    await waitFor(() => messages.length === 1, 5000, 'one routed message');
    expect(messages[0]?.content.toString()).toBe('in');
    expect(messages[0]?.fields).toMatchObject({
      exchange: x,
      routingKey: 'stock.usd.nyse',
      redelivered: false,
    });
    await ch.unbindQueue(q, x, 'stock.*.nyse');
    ch.publish(x, 'stock.usd.nyse', Buffer.from('unbound'));
    await ch.deleteExchange(x);
    await expect(ch.checkQueue(q)).resolves.toMatchObject({ messageCount: 0 });
  });

  test('exchange-to-exchange bindings route through', async () => {
    const a = unique('a');
    const b = unique('b');
    const q = unique('q');
    await ch.assertExchange(a, 'direct');
    await ch.assertExchange(b, 'fanout');
    await ch.bindExchange(b, a, 'k');
    await ch.assertQueue(q);
    await ch.bindQueue(q, b, '');
    ch.publish(a, 'k', Buffer.from('via a'));
    await queued(ch, q, 1);
    await ch.unbindExchange(b, a, 'k');
    ch.publish(a, 'k', Buffer.from('not any more'));
    const got = await ch.get(q, { noAck: true });
    expect(got && got.content.toString()).toBe('via a');
    expect(await ch.get(q)).toBe(false);
  });

  test('every basic property and header table type survives the round trip', async () => {
    const q = unique('props');
    await ch.assertQueue(q);
    const ts = Math.floor(Date.now() / 1000);
    ch.sendToQueue(q, Buffer.from('{"x":1}'), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: {
        str: 'text',
        int: 42,
        neg: -7,
        big: 2 ** 40,
        float: 1.5,
        bool: true,
        nested: { a: [1, 'two'] },
      },
      deliveryMode: 2,
      priority: 3,
      correlationId: 'corr-1',
      replyTo: 'replies',
      expiration: '60000',
      messageId: 'msg-1',
      timestamp: ts,
      type: 'order.created',
      userId: 'guest',
      appId: 'tests',
    });
    await queued(ch, q, 1);
    const got = await ch.get(q, { noAck: true });
    expect(got).not.toBe(false);
    const p = (got as amqp.GetMessage).properties;
    expect(p).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      priority: 3,
      correlationId: 'corr-1',
      replyTo: 'replies',
      expiration: '60000',
      messageId: 'msg-1',
      timestamp: ts,
      type: 'order.created',
      userId: 'guest',
      appId: 'tests',
    });
    expect(p.headers).toEqual({
      str: 'text',
      int: 42,
      neg: -7,
      big: 2 ** 40,
      float: 1.5,
      bool: true,
      nested: { a: [1, 'two'] },
    });
  });

  test('basic.get returns the remaining count, get-empty when there is nothing', async () => {
    const q = unique('get');
    await ch.assertQueue(q);
    expect(await ch.get(q)).toBe(false);
    ch.sendToQueue(q, Buffer.from('1'));
    ch.sendToQueue(q, Buffer.from('2'));
    await queued(ch, q, 2);
    const first = await ch.get(q);
    expect(first && first.fields.messageCount).toBe(1);
    if (first) ch.ack(first);
  });

  test('prefetch holds deliveries until acks free credit; ack multiple settles up to the tag', async () => {
    const q = unique('prefetch');
    await ch.assertQueue(q);
    await ch.prefetch(2);
    const { messages } = await collect(ch, q);
    for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await waitFor(() => messages.length === 2, 5000, 'two in flight');
    await expect(ch.checkQueue(q)).resolves.toMatchObject({ messageCount: 3 });
    ch.ack(messages[1] as ConsumeMessage, true);
    await waitFor(() => messages.length === 4, 5000, 'two more');
    expect(messages.map((m) => m.content.toString())).toEqual(['0', '1', '2', '3']);
  });

  test('nack with requeue redelivers (redelivered=true); reject without requeue drops', async () => {
    const q = unique('nack');
    await ch.assertQueue(q);
    const { messages } = await collect(ch, q);
    ch.sendToQueue(q, Buffer.from('again'));
    await waitFor(() => messages.length === 1, 5000, 'first delivery');
    ch.nack(messages[0] as ConsumeMessage, false, true);
    await waitFor(() => messages.length === 2, 5000, 'redelivery');
    expect(messages[1]?.fields.redelivered).toBe(true);
    ch.reject(messages[1] as ConsumeMessage, false);
    await expect(ch.checkQueue(q)).resolves.toMatchObject({ messageCount: 0 });
  });

  test('basic.recover redelivers everything unacked', async () => {
    const q = unique('recover');
    await ch.assertQueue(q);
    const { messages } = await collect(ch, q);
    ch.sendToQueue(q, Buffer.from('x'));
    await waitFor(() => messages.length === 1, 5000, 'delivery');
    await ch.recover();
    await waitFor(() => messages.length === 2, 5000, 'redelivery');
    expect(messages[1]?.fields.redelivered).toBe(true);
  });

  test('cancel stops deliveries; the consumer tag is echoed in cancel-ok', async () => {
    const q = unique('cancel');
    await ch.assertQueue(q);
    const { tag, messages } = await collect(ch, q, { noAck: true, consumerTag: 'my-tag' });
    expect(tag).toBe('my-tag');
    await ch.cancel(tag);
    ch.sendToQueue(q, Buffer.from('nobody'));
    await queued(ch, q, 1);
    expect(messages).toHaveLength(0);
  });

  test('deleting a consumed queue sends the consumer a basic.cancel', async () => {
    const q = unique('doomed');
    await ch.assertQueue(q);
    let cancelled = false;
    await ch.consume(q, (m) => {
      if (m === null) cancelled = true;
    });
    const other = await conn.createChannel();
    await other.deleteQueue(q);
    await waitFor(() => cancelled, 5000, 'server-sent cancel');
  });

  test('a mandatory message with no route comes back as basic.return 312 NO_ROUTE', async () => {
    const returned = new Promise<ConsumeMessage>((resolve) => ch.once('return', resolve));
    ch.publish('amq.direct', 'nowhere', Buffer.from('lost?'), { mandatory: true, messageId: 'm1' });
    const r = await returned;
    expect(r.fields).toMatchObject({
      replyCode: 312,
      replyText: 'NO_ROUTE',
      exchange: 'amq.direct',
      routingKey: 'nowhere',
    });
    expect(r.content.toString()).toBe('lost?');
    expect(r.properties.messageId).toBe('m1');
  });

  test('publisher confirms: every publish is acked; reject-publish overflow is nacked', async () => {
    const cc = await conn.createConfirmChannel();
    const q = unique('confirm');
    await cc.assertQueue(q, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const results = await Promise.all(
      ['kept', 'refused'].map(
        (body) =>
          new Promise<string>((resolve) =>
            cc.sendToQueue(q, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack')),
          ),
      ),
    );
    expect(results).toEqual(['ack', 'nack']);
    for (let i = 0; i < 100; i++) cc.sendToQueue(q + '-none', Buffer.from(String(i)));
    await cc.waitForConfirms();
  });

  test('consumer priorities: the higher x-priority consumer is served first', async () => {
    const q = unique('prio');
    await ch.assertQueue(q);
    const high = await conn.createChannel();
    await high.prefetch(1);
    await ch.prefetch(1);
    const low = await collect(ch, q);
    const hi = await collect(high, q, { priority: 10 });
    ch.sendToQueue(q, Buffer.from('1'));
    await waitFor(() => hi.messages.length === 1, 5000, 'high gets the first');
    expect(low.messages).toHaveLength(0);
  });

  test('direct reply-to: requests carry a private reply queue and replies come straight back', async () => {
    const q = unique('rpc');
    await ch.assertQueue(q);
    const server = await conn.createChannel();
    await server.consume(q, (m) => {
      if (!m) return;
      server.sendToQueue(m.properties.replyTo as string, Buffer.from(`re:${m.content.toString()}`), {
        correlationId: m.properties.correlationId as string,
      });
      server.ack(m);
    });
    const replies: ConsumeMessage[] = [];
    await ch.consume('amq.rabbitmq.reply-to', (m) => m && replies.push(m), { noAck: true });
    ch.sendToQueue(q, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c1' });
    await waitFor(() => replies.length === 1, 5000, 'reply');
    expect(replies[0]?.content.toString()).toBe('re:ping');
    expect(replies[0]?.properties.correlationId).toBe('c1');
  });

  test('a large message is split into body frames and reassembled both ways', async () => {
    const q = unique('big');
    await ch.assertQueue(q);
    const body = Buffer.alloc(1_000_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    ch.sendToQueue(q, body);
    const { messages } = await collect(ch, q, { noAck: true });
    await waitFor(() => messages.length === 1, 10000, 'big message');
    expect(messages[0]?.content.equals(body)).toBe(true);
  });

  test('an empty body is a message too', async () => {
    const q = unique('empty');
    await ch.assertQueue(q);
    ch.sendToQueue(q, Buffer.alloc(0), { type: 'ping' });
    const { messages } = await collect(ch, q, { noAck: true });
    await waitFor(() => messages.length === 1, 5000, 'empty message');
    expect(messages[0]?.content.length).toBe(0);
    expect(messages[0]?.properties.type).toBe('ping');
  });

  test('closing a channel with unacked deliveries requeues them for another consumer', async () => {
    const q = unique('requeue');
    await ch.assertQueue(q);
    const worker = await conn.createChannel();
    const w = await collect(worker, q);
    ch.sendToQueue(q, Buffer.from('work'));
    await waitFor(() => w.messages.length === 1, 5000, 'worker got it');
    await worker.close();
    const { messages } = await collect(ch, q);
    await waitFor(() => messages.length === 1, 5000, 'redelivered to the other');
    expect(messages[0]?.fields.redelivered).toBe(true);
  });
});
