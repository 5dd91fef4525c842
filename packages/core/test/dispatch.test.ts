import { type Broker } from '@warren/core';
import { CoreClient, settle, startBroker } from '@warren/testkit';

describe('consumers and acknowledgements', () => {
  let broker: Broker;
  let c: CoreClient;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
    c.declareQueue('task_queue', {}, { durable: true });
  });
  afterEach(() => broker.close());

  const bodies = (rs: { body: string }[]) => rs.map((r) => r.body);

  test('round-robin: consumers take turns (seed 001, work queues)', () => {
    const a = new CoreClient(broker).consume('task_queue', { noAck: true });
    const b = new CoreClient(broker).consume('task_queue', { noAck: true });
    for (const m of ['First', 'Second', 'Third', 'Fourth', 'Fifth']) c.publish('', 'task_queue', m);
    expect(bodies(a.received)).toEqual(['First', 'Third', 'Fifth']);
    expect(bodies(b.received)).toEqual(['Second', 'Fourth']);
  });

  test('prefetch 1 is fair dispatch: a busy worker gets nothing new until it acks', () => {
    const busy = new CoreClient(broker);
    busy.channel.qos(1, false);
    const slow = busy.consume('task_queue');
    const idle = new CoreClient(broker);
    idle.channel.qos(1, false);
    const fast = idle.consume('task_queue');
    for (const m of ['1', '2', '3', '4']) c.publish('', 'task_queue', m);
    expect(bodies(slow.received)).toEqual(['1']);
    expect(bodies(fast.received)).toEqual(['2']);
    idle.channel.ack(fast.received[0]!.tag);
    idle.channel.ack(fast.received[1]!.tag);
    expect(bodies(fast.received)).toEqual(['2', '3', '4']);
    expect(bodies(slow.received)).toEqual(['1']);
  });

  test('a worker that dies before acking has its message redelivered to another (seed 001)', () => {
    const dying = new CoreClient(broker);
    const d = dying.consume('task_queue');
    c.publish('', 'task_queue', 'important');
    expect(bodies(d.received)).toEqual(['important']);
    const survivor = new CoreClient(broker).consume('task_queue');
    dying.close();
    expect(survivor.received).toHaveLength(1);
    expect(survivor.received[0]).toMatchObject({ body: 'important', redelivered: true });
  });

  test('nack with requeue puts the message back at its original position, marked redelivered', () => {
    for (const m of ['a', 'b', 'c']) c.publish('', 'task_queue', m);
    const first = c.get('task_queue', false)!;
    const second = c.get('task_queue', false)!;
    c.channel.nack(second.delivery.tag, false, true);
    c.channel.nack(first.delivery.tag, false, true);
    const again = [1, 2, 3].map(() => c.get('task_queue', true)!.delivery);
    expect(again.map((d) => [d.msg.body.toString(), d.redelivered])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
    ]);
  });

  test('ack multiple settles every delivery up to the tag; tag 0 settles all', () => {
    const { received } = c.consume('task_queue');
    for (const m of ['1', '2', '3', '4']) c.publish('', 'task_queue', m);
    c.channel.ack(received[1]!.tag, true);
    expect([...c.channel.unacked.keys()]).toEqual([received[2]!.tag, received[3]!.tag]);
    c.channel.ack(0, true);
    expect(c.channel.unacked.size).toBe(0);
  });

  test('acking an unknown or already acked tag is PRECONDITION_FAILED', () => {
    const { received } = c.consume('task_queue');
    c.publish('', 'task_queue', 'x');
    c.channel.ack(received[0]!.tag);
    expect(() => c.channel.ack(received[0]!.tag)).toThrow(
      expect.objectContaining({
        code: 'PRECONDITION_FAILED',
        message: `unknown delivery tag ${received[0]!.tag}`,
      }),
    );
    expect(() => c.channel.ack(99)).toThrow('unknown delivery tag 99');
    expect(() => c.channel.ack(99, true)).toThrow('unknown delivery tag 99');
  });

  test('delivery tags are per channel and increase from 1', () => {
    const ch2 = c.openChannel(2);
    const a = c.consume('task_queue', { noAck: true });
    c.declareQueue('other');
    const b = c.consume('other', { noAck: true }, ch2);
    c.publish('', 'task_queue', 'x');
    c.publish('', 'task_queue', 'y');
    c.publish('', 'other', 'z');
    expect(a.received.map((r) => r.tag)).toEqual([1, 2]);
    expect(b.received.map((r) => r.tag)).toEqual([1]);
  });

  test('basic.get returns the remaining count, and nothing on an empty queue', () => {
    c.publish('', 'task_queue', 'a');
    c.publish('', 'task_queue', 'b');
    const got = c.get('task_queue', false)!;
    expect(got.messageCount).toBe(1);
    expect(got.delivery.msg.body.toString()).toBe('a');
    c.channel.ack(got.delivery.tag);
    c.get('task_queue', true);
    expect(c.get('task_queue', true)).toBeUndefined();
  });

  test('recover requeues every unacked delivery as redelivered', () => {
    const { received } = c.consume('task_queue');
    c.publish('', 'task_queue', 'a');
    c.publish('', 'task_queue', 'b');
    c.channel.recover();
    expect(received.map((r) => [r.body, r.redelivered])).toEqual([
      ['a', false],
      ['b', false],
      ['a', true],
      ['b', true],
    ]);
  });

  test('reject without requeue and without dead-letter exchange drops the message', () => {
    c.publish('', 'task_queue', 'bad');
    c.channel.reject(c.get('task_queue', false)!.delivery.tag, false);
    expect(broker.getVhost('/')!.getQueue('task_queue').messageCount).toBe(0);
  });

  test('cancelling a consumer keeps its unacked deliveries until ack or channel close', () => {
    const { consumer, received } = c.consume('task_queue');
    c.publish('', 'task_queue', 'held');
    c.channel.cancel(consumer.tag);
    const other = new CoreClient(broker).consume('task_queue');
    expect(other.received).toHaveLength(0);
    c.channel.ack(received[0]!.tag);
    expect(c.channel.unacked.size).toBe(0);
  });

  test('channel-wide prefetch (global qos) limits unacked across all consumers of the channel', () => {
    c.declareQueue('other');
    c.channel.qos(2, true);
    const a = c.consume('task_queue');
    const b = c.consume('other');
    for (const m of ['1', '2']) c.publish('', 'task_queue', m);
    c.publish('', 'other', 'o');
    expect(a.received.length + b.received.length).toBe(2);
    c.channel.ack(a.received[0]!.tag);
    expect(b.received.map((r) => r.body)).toEqual(['o']);
  });

  test('no-ack consumers ignore prefetch', () => {
    c.channel.qos(1, false);
    const { received } = c.consume('task_queue', { noAck: true });
    for (const m of ['1', '2', '3']) c.publish('', 'task_queue', m);
    expect(received).toHaveLength(3);
    expect(c.channel.unacked.size).toBe(0);
  });

  test('an exclusive consumer shuts others out, and cannot join a queue that has consumers', () => {
    c.consume('task_queue', { exclusive: true });
    const other = new CoreClient(broker);
    expect(() => other.consume('task_queue')).toThrow("queue 'task_queue' in vhost '/' in exclusive use");
    c.declareQueue('shared');
    other.consume('shared');
    expect(() => c.consume('shared', { exclusive: true })).toThrow(
      expect.objectContaining({ code: 'ACCESS_REFUSED' }),
    );
  });

  test('reusing a consumer tag on a channel is NOT_ALLOWED', () => {
    c.consume('task_queue', { consumerTag: 'mine' });
    expect(() => c.consume('task_queue', { consumerTag: 'mine' })).toThrow(
      expect.objectContaining({ code: 'NOT_ALLOWED', replyCode: 530 }),
    );
  });

  test('higher x-priority consumers are served first while they have credit', () => {
    const lowClient = new CoreClient(broker);
    const low = lowClient.consume('task_queue');
    const highClient = new CoreClient(broker);
    highClient.channel.qos(2, false);
    const high = highClient.consume('task_queue', { arguments: { 'x-priority': 10 } });
    for (const m of ['1', '2', '3']) c.publish('', 'task_queue', m);
    expect(bodies(high.received)).toEqual(['1', '2']);
    expect(bodies(low.received)).toEqual(['3']);
  });

  test('consumers of equal top priority take turns; a lower one gets messages only when the top ones go', () => {
    const lowClient = new CoreClient(broker);
    const low = lowClient.consume('task_queue', { noAck: true });
    const aClient = new CoreClient(broker);
    const a = aClient.consume('task_queue', { noAck: true, arguments: { 'x-priority': 5 } });
    const bClient = new CoreClient(broker);
    const b = bClient.consume('task_queue', { noAck: true, arguments: { 'x-priority': 5 } });
    for (const m of ['1', '2', '3', '4']) c.publish('', 'task_queue', m);
    expect(bodies(a.received)).toEqual(['1', '3']);
    expect(bodies(b.received)).toEqual(['2', '4']);
    aClient.close();
    c.publish('', 'task_queue', '5');
    expect(bodies(b.received)).toEqual(['2', '4', '5']);
    bClient.close();
    c.publish('', 'task_queue', '6');
    expect(bodies(low.received)).toEqual(['6']);
  });

  test('single active consumer: only the first consumer receives until it goes away', () => {
    c.declareQueue('sac', { 'x-single-active-consumer': true });
    const first = new CoreClient(broker);
    const a = first.consume('sac');
    const b = new CoreClient(broker).consume('sac');
    c.publish('', 'sac', '1');
    c.publish('', 'sac', '2');
    expect(bodies(a.received)).toEqual(['1', '2']);
    expect(b.received).toHaveLength(0);
    first.close();
    expect(bodies(b.received)).toEqual(['1', '2']);
  });

  test('a consumer whose connection cannot write gets nothing until it drains', () => {
    const { received } = c.consume('task_queue');
    c.connection.setWritable(false);
    c.publish('', 'task_queue', 'waits');
    expect(received).toHaveLength(0);
    c.connection.setWritable(true);
    expect(bodies(received)).toEqual(['waits']);
  });

  test('channel.flow off pauses deliveries, on resumes them', () => {
    const { received } = c.consume('task_queue');
    c.channel.flow(false);
    c.publish('', 'task_queue', 'paused');
    expect(received).toHaveLength(0);
    c.channel.flow(true);
    expect(bodies(received)).toEqual(['paused']);
  });

  test('a deep queue is delivered in batches that yield to I/O, without losing order', async () => {
    const { received } = c.consume('task_queue', { noAck: true });
    c.channel.flow(false);
    for (let i = 0; i < 1000; i++) c.publish('', 'task_queue', String(i));
    c.channel.flow(true);
    expect(received.length).toBe(broker.limits.dispatchBatch);
    while (received.length < 1000) await settle();
    expect(received.map((r) => Number(r.body))).toEqual([...Array(1000).keys()]);
  });

  test('the delivery count grows with each redelivery', () => {
    c.publish('', 'task_queue', 'x');
    for (let i = 1; i <= 3; i++) {
      const got = c.get('task_queue', false)!;
      expect(got.delivery.deliveryCount).toBe(i);
      c.channel.nack(got.delivery.tag, false, true);
    }
  });

  test('a filtered consumer gets only what it accepts, looking past a head it refuses', () => {
    const red = c.consume('task_queue', { accepts: (m) => m.body.toString().startsWith('red') });
    for (const m of ['blue-1', 'red-1', 'blue-2', 'red-2']) c.publish('', 'task_queue', m);
    expect(bodies(red.received)).toEqual(['red-1', 'red-2']);
    const any = new CoreClient(broker).consume('task_queue');
    expect(bodies(any.received)).toEqual(['blue-1', 'blue-2']);
  });

  test('a per-consumer prefetch overrides the channel default', () => {
    c.channel.qos(10, false);
    const one = c.consume('task_queue', { prefetch: 1 });
    for (const m of ['1', '2', '3']) c.publish('', 'task_queue', m);
    expect(bodies(one.received)).toEqual(['1']);
  });
});
