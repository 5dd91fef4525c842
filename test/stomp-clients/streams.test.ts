import amqp, { type ChannelModel } from 'amqplib';
import type { StompFrame } from '@warren/stomp';
import { startWarren, type TestBroker } from '../support/warren';
import { RawClient, waitFor } from './support';

/*
 * Stream queues over STOMP: RabbitMQ's own x_queue_type_stream.py scenario (a /topic subscription that
 * declares a named stream, fed over AMQP), the x-stream-offset SUBSCRIBE header in RabbitMQ's forms, the
 * offset on each MESSAGE, and ack:auto refused.
 */
let broker: TestBroker;
let conn: ChannelModel;
let n = 0;
const unique = (base: string): string => `${base}-${process.pid}-${++n}`;

beforeAll(async () => {
  broker = await startWarren();
  conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
});
afterAll(async () => {
  await conn.close();
  await broker.close();
});

async function stomp(): Promise<RawClient> {
  const c = await RawClient.open(broker.stompPort);
  c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  await c.next('CONNECTED');
  return c;
}

async function declareStream(name: string, bodies: string[]): Promise<void> {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  for (const b of bodies) ch.sendToQueue(name, Buffer.from(b));
  await ch.waitForConfirms();
  await ch.close();
}

const messages = (c: RawClient): StompFrame[] => c.frames.filter((f) => f.command === 'MESSAGE');
const text = (f: StompFrame): string => f.body.toString();

describe('stream queues over STOMP', () => {
  test("RabbitMQ's x_queue_type_stream scenario: a /topic SUBSCRIBE declares the stream, AMQP feeds it", async () => {
    const c = await stomp();
    c.frame('SUBSCRIBE', {
      destination: '/topic/stream-queue-test',
      'x-queue-name': 'my-stream-queue',
      'x-queue-type': 'stream',
      durable: 'True',
      'auto-delete': 'False',
      id: '1234',
      'prefetch-count': '10',
      ack: 'client',
      receipt: 'sub',
    });
    await c.next('RECEIPT');
    const ch = await conn.createChannel();
    // The stream it declared is a stream queue, durable, as the Python test's client expects.
    expect((await ch.checkQueue('my-stream-queue')).messageCount).toBe(0);
    ch.publish('', 'my-stream-queue', Buffer.from('test'));
    const m = await c.next('MESSAGE');
    expect(text(m)).toBe('test');
    expect(m.headers.get('subscription')).toBe('1234');
    expect(m.headers.get('x-stream-offset')).toBe('0');
    c.frame('ACK', { id: m.headers.get('ack') ?? '' });
    c.frame('UNSUBSCRIBE', { id: '1234', receipt: 'unsub' });
    await c.next('RECEIPT');
    c.close();
    await ch.deleteQueue('my-stream-queue');
    await ch.close();
  });

  test.each([
    ['first', ['m0', 'm1', 'm2', 'new'], 0],
    ['last', ['m2', 'new'], 2],
    ['next', ['new'], 3],
    ['offset=1', ['m1', 'm2', 'new'], 1],
    ['timestamp=1000', ['m0', 'm1', 'm2', 'new'], 0],
    ['something-else', ['new'], 3],
  ])('SUBSCRIBE x-stream-offset:%s', async (offset, expected, firstOffset) => {
    const q = unique('stream');
    await declareStream(q, ['m0', 'm1', 'm2']);
    const c = await stomp();
    c.frame('SUBSCRIBE', {
      destination: `/amq/queue/${q}`,
      id: 's',
      ack: 'client-individual',
      'prefetch-count': '100',
      'x-stream-offset': offset,
      receipt: 'sub',
    });
    await c.next('RECEIPT');
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(q, Buffer.from('new'));
    await ch.waitForConfirms();
    await waitFor(() => messages(c).length === expected.length, `${expected.length} MESSAGE frames`);
    expect(messages(c).map(text)).toEqual(expected);
    expect(messages(c).map((f) => Number(f.headers.get('x-stream-offset')))).toEqual(
      expected.map((_, i) => firstOffset + i),
    );
    c.close();
    await ch.close();
  });

  test('prefetch-count is the credit: client acks let more through', async () => {
    const q = unique('stream');
    await declareStream(q, ['a', 'b', 'c', 'd']);
    const c = await stomp();
    c.frame('SUBSCRIBE', {
      destination: `/amq/queue/${q}`,
      id: 's',
      ack: 'client-individual',
      'prefetch-count': '2',
      'x-stream-offset': 'first',
    });
    await waitFor(() => messages(c).length === 2, 'two MESSAGE frames');
    // A receipt round trip: anything beyond the credit would have come before it.
    c.frame('SEND', { destination: `/amq/queue/${unique('other')}`, receipt: 'probe' }, 'x');
    await c.next('RECEIPT');
    expect(messages(c).map(text)).toEqual(['a', 'b']);
    c.frame('ACK', { id: messages(c)[0]?.headers.get('ack') ?? '' });
    await waitFor(() => messages(c).length === 3, 'a third MESSAGE after the ACK');
    expect(messages(c).map(text)).toEqual(['a', 'b', 'c']);
    c.close();
  });

  test('ack:auto on a stream gets the core refusal as an ERROR', async () => {
    const q = unique('stream');
    await declareStream(q, ['a']);
    const withPrefetch = await stomp();
    withPrefetch.frame('SUBSCRIBE', { destination: `/amq/queue/${q}`, id: 's', 'prefetch-count': '10' });
    const e1 = await withPrefetch.next('ERROR');
    // As RabbitMQ's STOMP says a channel error: its type in `message`, its text in the body.
    expect(e1.headers.get('message')).toBe('not_implemented');
    expect(text(e1)).toContain(`automatic acknowledgement not supported by stream queues queue '${q}'`);
    const noPrefetch = await stomp();
    noPrefetch.frame('SUBSCRIBE', { destination: `/amq/queue/${q}`, id: 's', ack: 'client' });
    const e2 = await noPrefetch.next('ERROR');
    expect(e2.headers.get('message')).toBe('precondition_failed');
    expect(text(e2)).toContain(`consumer prefetch count is not set for 'queue '${q}'`);
    withPrefetch.close();
    noPrefetch.close();
  });
  test('NACK of a stream delivery is refused as RabbitMQ refuses basic.nack', async () => {
    const q = unique('stream');
    await declareStream(q, ['a']);
    const c = await stomp();
    c.frame('SUBSCRIBE', {
      destination: `/amq/queue/${q}`,
      id: 's',
      ack: 'client-individual',
      'prefetch-count': '10',
      'x-stream-offset': 'first',
    });
    const m = await c.next('MESSAGE');
    c.frame('NACK', { id: m.headers.get('ack') ?? '' });
    const e = await c.next('ERROR');
    expect(e.headers.get('message')).toBe('not_implemented');
    expect(text(e)).toContain(`basic.nack and basic.reject not supported by stream queues queue '${q}'`);
    c.close();
  });
});
