import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { startWarren, type TestBroker } from '../support/warren';

let broker: TestBroker;
let conn: ChannelModel;
let ch: Channel;
let n = 0;
const unique = (base: string): string => `${base}-${process.pid}-${++n}`;

beforeAll(async () => {
  broker = await startWarren();
});
afterAll(() => broker.close());
beforeEach(async () => {
  conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
  ch = await conn.createChannel();
});
afterEach(() => conn.close().catch(() => {}));

async function stomp(): Promise<RawClient> {
  const c = await RawClient.open(broker.stompPort);
  c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  await c.next('CONNECTED');
  return c;
}

async function consumeOne(queue: string): Promise<ConsumeMessage> {
  return new Promise((resolve) => {
    void ch.consume(queue, (m) => m && resolve(m), { noAck: true });
  });
}

describe('STOMP and AMQP share one broker', () => {
  test('a STOMP SEND reaches an AMQP consumer with every mapped header as its AMQP property', async () => {
    const q = unique('to-amqp');
    await ch.assertQueue(q);
    const s = await stomp();
    s.frame(
      'SEND',
      {
        destination: `/amq/queue/${q}`,
        'content-type': 'application/json',
        'content-encoding': 'utf-8',
        persistent: 'true',
        priority: '7',
        'correlation-id': 'corr-9',
        'reply-to': '/reply-queue/answers',
        expiration: '60000',
        'amqp-message-id': 'msg-42',
        timestamp: '1700000000',
        type: 'order.created',
        'user-id': 'guest',
        'app-id': 'shop',
        'x-tenant': 'acme',
        note: 'a colon: and a\nnewline, escaped on the wire',
        receipt: 'r1',
      },
      '{"id":1}',
    );
    await s.next('RECEIPT');
    const m = await consumeOne(q);
    expect(m.content.toString()).toBe('{"id":1}');
    expect(m.properties).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      priority: 7,
      correlationId: 'corr-9',
      replyTo: 'answers',
      expiration: '60000',
      messageId: 'msg-42',
      timestamp: 1700000000,
      type: 'order.created',
      userId: 'guest',
      appId: 'shop',
    });
    expect(m.properties.headers).toMatchObject({
      'x-tenant': 'acme',
      note: 'a colon: and a\nnewline, escaped on the wire',
    });
    for (const stompOnly of ['destination', 'receipt', 'content-length', 'transaction']) {
      expect(m.properties.headers).not.toHaveProperty(stompOnly);
    }
    s.close();
  });

  test('an AMQP publish reaches a STOMP subscriber with every property as its STOMP header', async () => {
    const q = unique('to-stomp');
    await ch.assertQueue(q);
    const s = await stomp();
    s.frame('SUBSCRIBE', { id: 'sub-1', destination: `/amq/queue/${q}`, ack: 'auto', receipt: 'subscribed' });
    await s.next('RECEIPT');
    ch.sendToQueue(q, Buffer.from('hello\0binary'), {
      contentType: 'text/plain',
      contentEncoding: 'identity',
      deliveryMode: 2,
      priority: 4,
      correlationId: 'c-1',
      replyTo: 'amq.gen-reply',
      expiration: '30000',
      messageId: 'm-1',
      timestamp: 1700000001,
      type: 'greeting',
      userId: 'guest',
      appId: 'amqp-app',
      headers: { 'x-region': 'eu', count: 3, flag: true },
    });
    const f = await s.next('MESSAGE');
    const h = Object.fromEntries(f.headers);
    expect(f.body.toString()).toBe('hello\0binary');
    expect(h).toMatchObject({
      subscription: 'sub-1',
      // RabbitMQ names the message's own route (default exchange, key q), not the subscription's form.
      destination: `/queue/${q}`,
      'content-type': 'text/plain',
      'content-encoding': 'identity',
      persistent: 'true',
      priority: '4',
      'correlation-id': 'c-1',
      'reply-to': '/reply-queue/amq.gen-reply',
      expiration: '30000',
      'amqp-message-id': 'm-1',
      timestamp: '1700000001',
      type: 'greeting',
      'user-id': 'guest',
      'app-id': 'amqp-app',
      'x-region': 'eu',
      count: '3',
      flag: 'true',
      'content-length': '12',
    });
    s.close();
  });

  test('RPC from STOMP to an AMQP server: reply-to /temp-queue comes back to the requester', async () => {
    const rpc = unique('rpc');
    await ch.assertQueue(rpc);
    await ch.consume(rpc, (m) => {
      if (!m) return;
      ch.sendToQueue(m.properties.replyTo as string, Buffer.from(`pong:${m.content.toString()}`), {
        correlationId: m.properties.correlationId as string,
      });
      ch.ack(m);
    });
    const s = await stomp();
    s.frame(
      'SEND',
      { destination: `/amq/queue/${rpc}`, 'reply-to': '/temp-queue/replies', 'correlation-id': 'q1' },
      'ping',
    );
    const reply = await s.next('MESSAGE');
    expect(reply.body.toString()).toBe('pong:ping');
    expect(reply.headers.get('correlation-id')).toBe('q1');
    expect(reply.headers.get('subscription')).toBe('/temp-queue/replies');
    s.close();
  });

  test('RPC from AMQP to a STOMP server: the STOMP side replies to /reply-queue/<queue>', async () => {
    const rpc = unique('rpc-stomp');
    const s = await stomp();
    s.frame('SUBSCRIBE', {
      id: 'server',
      destination: `/queue/${rpc}`,
      ack: 'client-individual',
      receipt: 'ready',
    });
    await s.next('RECEIPT');
    const { queue: replyQueue } = await ch.assertQueue('', { exclusive: true });
    const replies: ConsumeMessage[] = [];
    await ch.consume(replyQueue, (m) => m && replies.push(m), { noAck: true });
    ch.sendToQueue(rpc, Buffer.from('21'), { replyTo: replyQueue, correlationId: 'a1' });

    const request = await s.next('MESSAGE');
    expect(request.headers.get('reply-to')).toBe(`/reply-queue/${replyQueue}`);
    s.frame(
      'SEND',
      {
        destination: request.headers.get('reply-to') as string,
        'correlation-id': request.headers.get('correlation-id') as string,
      },
      '42',
    );
    s.frame('ACK', { id: request.headers.get('ack') as string });
    await waitFor(() => replies.length === 1, 10000, 'the reply');
    expect(replies[0]?.content.toString()).toBe('42');
    expect(replies[0]?.properties.correlationId).toBe('a1');
    s.close();
  });

  test('a STOMP selector filters an AMQP-fed queue, leaving the rest to other consumers', async () => {
    const q = unique('orders');
    await ch.assertQueue(q);
    const eu = await stomp();
    eu.frame('SUBSCRIBE', {
      id: 'eu',
      destination: `/amq/queue/${q}`,
      ack: 'client-individual',
      selector: "region = 'eu' AND amount > 100",
      receipt: 'ok',
    });
    await eu.next('RECEIPT');
    const orders = [
      { region: 'us', amount: 500 },
      { region: 'eu', amount: 50 },
      { region: 'eu', amount: 150 },
      { region: 'eu', amount: 900 },
    ];
    orders.forEach((o, i) => ch.sendToQueue(q, Buffer.from(`order-${i}`), { headers: o }));
    await waitFor(
      () => eu.frames.filter((f) => f.command === 'MESSAGE').length === 2,
      10000,
      'two eu orders',
    );
    expect(eu.frames.filter((f) => f.command === 'MESSAGE').map((f) => f.body.toString())).toEqual([
      'order-2',
      'order-3',
    ]);
    // The orders the selector refused are still queued, in order, for anyone else.
    const rest: string[] = [];
    await ch.consume(q, (m) => m && rest.push(m.content.toString()), { noAck: true });
    await waitFor(() => rest.length === 2, 10000, 'the other orders');
    expect(rest).toEqual(['order-0', 'order-1']);
    eu.close();
  });

  test('a topic published over AMQP reaches STOMP /topic subscribers, and STOMP /topic sends reach AMQP bindings', async () => {
    const s = await stomp();
    s.frame('SUBSCRIBE', { id: 't', destination: '/topic/stock.*.nyse', receipt: 'sub' });
    await s.next('RECEIPT');
    ch.publish('amq.topic', 'stock.ibm.nyse', Buffer.from('IBM 180'));
    ch.publish('amq.topic', 'stock.ibm.lse', Buffer.from('not this'));
    const m = await s.next('MESSAGE');
    expect(m.body.toString()).toBe('IBM 180');
    expect(m.headers.get('destination')).toBe('/topic/stock.ibm.nyse');

    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'alerts.#');
    s.frame('SEND', { destination: '/topic/alerts.disk.full', receipt: 'sent' }, 'disk full');
    await s.next('RECEIPT', 2);
    const got = await consumeOne(queue);
    expect(got.content.toString()).toBe('disk full');
    expect(got.fields.routingKey).toBe('alerts.disk.full');
    s.close();
  });
});

describe('validated user-id, as RabbitMQ does it', () => {
  test('AMQP: a user_id other than the authenticated user is 406 PRECONDITION_FAILED', async () => {
    const c = await conn.createChannel();
    c.on('error', () => {});
    const closed = new Promise<Error>((resolve) => c.once('error', resolve));
    c.sendToQueue('anything', Buffer.from('x'), { userId: 'someone-else' });
    expect((await closed).message).toMatch(
      /PRECONDITION_FAILED - user_id property set to 'someone-else' but authenticated user was 'guest'/,
    );
  });

  test('STOMP: a user-id header other than the login is an ERROR', async () => {
    const s = await stomp();
    s.frame('SEND', { destination: '/queue/anything', 'user-id': 'someone-else' }, 'x');
    const e = await s.next('ERROR');
    // RabbitMQ's STOMP ERROR: the short reason in `message`, the details in the body.
    expect(e.headers.get('message')).toBe('precondition_failed');
    expect(e.body.toString()).toMatch(
      /user_id property set to 'someone-else' but authenticated user was 'guest'/,
    );
    s.close();
  });
});
