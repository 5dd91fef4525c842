import {
  CHUNK_SPAN_MS,
  MemoryStore,
  StreamQueue,
  WarrenError,
  type Broker,
  type FieldTable,
  type FieldValue,
} from '@warren/core';
import { CoreClient, settle, startBroker, waitFor } from '@warren/testkit';

const STREAM = { 'x-queue-type': 'stream' };

function streamOf(broker: Broker, name = 's'): StreamQueue {
  const q = broker.getVhost('/')?.queues.get(name);
  if (!(q instanceof StreamQueue)) throw new Error(`${name} is not a stream`);
  return q;
}

async function streamBroker(options: Parameters<typeof startBroker>[0] = {}) {
  const broker = await startBroker(options);
  const client = new CoreClient(broker);
  return { broker, client };
}

function offsetsOf(received: { delivery: { queue: { deliveryHeaders(d: never): unknown } } }[]): unknown[] {
  return received.map(
    (r) =>
      (r.delivery.queue.deliveryHeaders(r.delivery as never) as Record<string, unknown>)['x-stream-offset'],
  );
}

function refusal(fn: () => unknown): WarrenError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WarrenError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('a stream queue', () => {
  it('gives messages consecutive offsets from 0 and keeps them when consumed and acked', async () => {
    const { broker, client } = await streamBroker();
    client.declareQueue('s', STREAM, { durable: true });
    for (let i = 0; i < 5; i++) client.publish('', 's', `m${i}`);
    const a = client.consume('s', { prefetch: 10, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => a.received.length === 5);
    expect(a.received.map((r) => r.body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(offsetsOf(a.received)).toEqual([0, 1, 2, 3, 4]);
    expect(a.received.every((r) => !r.redelivered)).toBe(true);
    client.channel.ack(0, true);
    expect(streamOf(broker).messageCount).toBe(5);
    // A second consumer reads the same log from its own offset.
    const b = client.consume('s', { prefetch: 10, arguments: { 'x-stream-offset': 3 } });
    await waitFor(() => b.received.length === 2);
    expect(b.received.map((r) => r.body)).toEqual(['m3', 'm4']);
  });

  it.each<[string, FieldValue | undefined, string[]]>([
    ['first', 'first', ['m0', 'm1', 'm2', 'new']],
    ['last (the newest message)', 'last', ['m2', 'new']],
    ['next (the default)', undefined, ['new']],
    ['next', 'next', ['new']],
    ['an offset', 1, ['m1', 'm2', 'new']],
    ['a long offset', 2n, ['m2', 'new']],
    ['an offset past the end (next)', 99, ['new']],
  ])('starts a consumer at %s', async (_what, offset, expected) => {
    const { client } = await streamBroker();
    client.declareQueue('s', STREAM, { durable: true });
    for (let i = 0; i < 3; i++) client.publish('', 's', `m${i}`);
    const args: FieldTable = offset === undefined ? {} : { 'x-stream-offset': offset };
    const c = client.consume('s', { prefetch: 10, arguments: args });
    client.publish('', 's', 'new');
    await waitFor(() => c.received.length === expected.length);
    await settle();
    expect(c.received.map((r) => r.body)).toEqual(expected);
  });

  it('starts a consumer at a timestamp or a relative time at the first chunk at or after it', async () => {
    let now = 1_000_000;
    const { client } = await streamBroker({ clock: () => now });
    client.declareQueue('s', STREAM, { durable: true });
    client.publish('', 's', 'old');
    now += 2 * 3600_000; // two hours later
    client.publish('', 's', 'recent');
    now += CHUNK_SPAN_MS;
    client.publish('', 's', 'newest');
    const byDate = client.consume('s', {
      prefetch: 10,
      arguments: { 'x-stream-offset': new Date(now - 10) },
    });
    const byAge = client.consume('s', { prefetch: 10, arguments: { 'x-stream-offset': '1h' } });
    await waitFor(() => byDate.received.length === 1 && byAge.received.length === 2);
    expect(byDate.received.map((r) => r.body)).toEqual(['newest']);
    expect(byAge.received.map((r) => r.body)).toEqual(['recent', 'newest']);
  });

  it('gives each consumer its prefetch as credit and an ack gives credit back', async () => {
    const { client } = await streamBroker();
    client.declareQueue('s', STREAM, { durable: true });
    for (let i = 0; i < 5; i++) client.publish('', 's', `m${i}`);
    const c = client.consume('s', { prefetch: 2, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => c.received.length === 2);
    await settle();
    expect(c.received).toHaveLength(2);
    client.channel.ack(c.received[0]?.tag ?? 0);
    await waitFor(() => c.received.length === 3);
    await settle();
    expect(c.received.map((r) => r.body)).toEqual(['m0', 'm1', 'm2']);
  });

  it('refuses what a stream does not do, with RabbitMQ 3.10 codes and texts', async () => {
    const { broker, client } = await streamBroker();
    client.declareQueue('s', STREAM, { durable: true });
    client.publish('', 's', 'm0');
    const where = "queue 's' in vhost '/'";
    let e = refusal(() => client.consume('s', {}));
    expect([e.replyCode, e.message]).toEqual([406, `consumer prefetch count is not set for '${where}'`]);
    e = refusal(() => client.consume('s', { prefetch: 1, noAck: true }));
    expect([e.replyCode, e.message]).toEqual([
      540,
      `automatic acknowledgement not supported by stream queues ${where}`,
    ]);
    e = refusal(() => client.consume('s', { prefetch: 1, arguments: { 'x-stream-offset': 'yesterday' } }));
    expect(e.replyCode).toBe(406);
    expect(e.message).toContain("invalid arg 'x-stream-offset'");
    e = refusal(() => client.consume('s', { prefetch: 1, arguments: { 'x-priority': 5 } }));
    expect([e.replyCode, e.message]).toEqual([
      406,
      `invalid arg 'x-priority' for ${where} of queue type rabbit_stream_queue`,
    ]);
    client.declareQueue('classic');
    e = refusal(() => client.consume('classic', { arguments: { 'x-stream-offset': 'first' } }));
    expect([e.replyCode, e.message]).toEqual([
      406,
      "invalid arg 'x-stream-offset' for queue 'classic' in vhost '/' of queue type rabbit_classic_queue",
    ]);
    e = refusal(() => client.get('s', false));
    expect([e.replyCode, e.message]).toEqual([540, `basic.get not supported by stream queues ${where}`]);
    e = refusal(() => client.channel.queuePurge('s'));
    expect([e.replyCode, e.message]).toEqual([540, `queue.purge not supported by stream queues ${where}`]);
    const c = client.consume('s', { prefetch: 1, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => c.received.length === 1);
    const tag = c.received[0]?.tag ?? 0;
    e = refusal(() => client.channel.nack(tag, false, true));
    expect([e.replyCode, e.message]).toEqual([
      540,
      `basic.nack and basic.reject not supported by stream queues ${where}`,
    ]);
    e = refusal(() => client.channel.reject(tag, false));
    expect(e.replyCode).toBe(540);
    const other = new CoreClient(broker);
    other.channel.qos(10, true);
    e = refusal(() => other.consume('s', { prefetch: 1 }));
    expect([e.replyCode, e.message]).toEqual([540, `${where} does not support global qos`]);
    // A closing channel drops its unacked stream deliveries; the log keeps them.
    client.channel.close();
    expect(streamOf(broker).messageCount).toBe(1);
    expect(streamOf(broker).outstanding).toBe(0);
  });

  it('removes whole oldest segments past x-max-length-bytes; a consumer behind continues at the first kept', async () => {
    const { broker, client } = await streamBroker();
    client.declareQueue(
      's',
      { ...STREAM, 'x-stream-max-segment-size-bytes': 20, 'x-max-length-bytes': 45 },
      { durable: true },
    );
    const slow = client.consume('s', { prefetch: 1, arguments: { 'x-stream-offset': 'first' } });
    await settle();
    // 10-byte bodies: two to a segment.
    for (let i = 0; i < 10; i++) client.publish('', 's', `message-${i}`.padEnd(10, '.').slice(0, 10));
    const s = streamOf(broker);
    expect(s.segmentCount).toBeLessThanOrEqual(4);
    expect(s.logBytes).toBeLessThanOrEqual(45 + 20);
    expect(s.nextOffset).toBe(10);
    expect(s.firstOffset % 2).toBe(0);
    expect(s.messageCount).toBe(10 - s.firstOffset);
    const first = s.firstOffset;
    expect(first).toBeGreaterThan(0);
    // The slow consumer got offset 0 and then jumps to the first kept offset.
    client.channel.ack(slow.received[0]?.tag ?? 0);
    await waitFor(() => slow.received.length === 2);
    expect(offsetsOf(slow.received)).toEqual([0, first]);
  });

  it('removes segments whose newest message is older than x-max-age, on a timer too', async () => {
    let now = 1_000_000;
    const { broker, client } = await streamBroker({ clock: () => now });
    client.declareQueue(
      's',
      { ...STREAM, 'x-stream-max-segment-size-bytes': 10, 'x-max-age': '1s' },
      { durable: true },
    );
    client.publish('', 's', '0123456789'); // segment 1
    now += 500;
    client.publish('', 's', 'abcdefghij'); // segment 2 (active)
    const s = streamOf(broker);
    expect(s.segmentCount).toBe(2);
    now += 600; // segment 1's newest is 1.1 s old
    await waitFor(() => s.segmentCount === 1, 5000, 'the max-age timer');
    expect(s.firstOffset).toBe(1);
  });

  it('keeps only a resident tail of bodies in memory and reads older ones back for a consumer', async () => {
    const store = new MemoryStore();
    const { broker, client } = await streamBroker({ store, limits: { queueResidentBytes: 1000 } });
    client.declareQueue('s', STREAM, { durable: true });
    const body = 'x'.repeat(100);
    for (let i = 0; i < 100; i++) client.publish('', 's', `${String(i).padStart(3, '0')}${body}`);
    const s = streamOf(broker);
    expect(s.residentTailBytes).toBeLessThanOrEqual(1000);
    const c = client.consume('s', { prefetch: 1000, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => c.received.length === 100, 5000, 'every message');
    expect(c.received.map((r) => r.body.slice(0, 3))).toEqual(
      Array.from({ length: 100 }, (_, i) => String(i).padStart(3, '0')),
    );
    expect(offsetsOf(c.received)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('comes back after a restart with the same offsets, timestamps and segments', async () => {
    let now = 5_000_000;
    const store = new MemoryStore();
    const one = await streamBroker({ store, clock: () => now, limits: { queueResidentBytes: 25 } });
    one.client.declareQueue(
      's',
      { ...STREAM, 'x-stream-max-segment-size-bytes': 20, 'x-max-length-bytes': 45 },
      { durable: true },
    );
    for (let i = 0; i < 6; i++) {
      one.client.publish('', 's', `body-${i}`.padEnd(10, '.'));
      now += 1000;
    }
    const before = streamOf(one.broker);
    const [first, next] = [before.firstOffset, before.nextOffset];
    expect(first).toBeGreaterThan(0);
    await one.broker.persistence.flush();

    const two = await streamBroker({ store, clock: () => now, limits: { queueResidentBytes: 25 } });
    const after = streamOf(two.broker);
    expect([after.firstOffset, after.nextOffset, after.segmentCount]).toEqual([
      first,
      next,
      before.segmentCount,
    ]);
    const c = two.client.consume('s', { prefetch: 10, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => c.received.length === next - first);
    expect(c.received.map((r) => r.body)).toEqual(
      Array.from({ length: next - first }, (_, i) => `body-${first + i}`.padEnd(10, '.')),
    );
    expect(offsetsOf(c.received)).toEqual(Array.from({ length: next - first }, (_, i) => first + i));
    // Timestamps survived: from 2.5 s ago is the last two messages (published 2 s and 1 s before `now`).
    const t = two.client.consume('s', {
      prefetch: 10,
      arguments: { 'x-stream-offset': new Date(now - 2500) },
    });
    await waitFor(() => t.received.length === 2);
    expect(offsetsOf(t.received)).toEqual([next - 2, next - 1]);
  });

  it('finishes a retention a restart interrupted and drops chunk records no message starts', async () => {
    const store = new MemoryStore();
    const one = await streamBroker({ store });
    one.client.declareQueue('s', { ...STREAM, 'x-stream-max-segment-size-bytes': 20 }, { durable: true });
    // 10-byte bodies, two to a segment: segments [0, 1], [2, 3], [4].
    for (let i = 0; i < 5; i++) one.client.publish('', 's', `message-${i}.`);
    await one.broker.persistence.flush();
    // As if the broker stopped while retention removed segment [0, 1]: offset 0 settled, offset 1 not yet,
    // and the chunk record of offset 0 still there.
    const index = (streamOf(one.broker) as unknown as { index: { id(o: number): number } }).index;
    await new Promise<void>((resolve) =>
      store.write([{ op: 'settle', queue: '/\u0000s', id: index.id(0) }], resolve),
    );
    const two = await streamBroker({ store });
    const s = streamOf(two.broker);
    expect([s.firstOffset, s.nextOffset, s.messageCount, s.segmentCount]).toEqual([2, 5, 3, 2]);
    const c = two.client.consume('s', { prefetch: 10, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => c.received.length === 3);
    expect(c.received.map((r) => r.body)).toEqual(['message-2.', 'message-3.', 'message-4.']);
    expect(offsetsOf(c.received)).toEqual([2, 3, 4]);
    // The removal was finished in the store: a third start sees the same log.
    await two.broker.persistence.flush();
    const three = await streamBroker({ store });
    expect(streamOf(three.broker).firstOffset).toBe(2);
  });
  it('keeps, from offset 0, the messages of a stream stored before streams were logs (no chunk records)', async () => {
    const store = new MemoryStore();
    const queue = '/\u0000legacy';
    // A first start writes the default vhost and user; then the old broker's queue and messages.
    await (await startBroker({ store })).persistence.flush();
    await new Promise<void>((resolve) =>
      store.write(
        [
          {
            op: 'put',
            key: 'q\u0000/\u0000legacy',
            record: {
              kind: 'queue',
              vhost: '/',
              name: 'legacy',
              durable: true,
              autoDelete: false,
              arguments: { 'x-queue-type': 'stream' },
            },
          },
          ...[1, 2, 3].map((id) => ({
            op: 'enqueue' as const,
            queue,
            id,
            message: {
              id,
              exchange: '',
              routingKey: 'legacy',
              properties: {},
              body: Buffer.from(`old-${id}`),
            },
          })),
        ],
        resolve,
      ),
    );
    const one = await streamBroker({ store });
    const s = streamOf(one.broker, 'legacy');
    expect([s.firstOffset, s.nextOffset]).toEqual([0, 3]);
    const c = one.client.consume('legacy', { prefetch: 10, arguments: { 'x-stream-offset': 'first' } });
    await waitFor(() => c.received.length === 3);
    expect(c.received.map((r) => r.body)).toEqual(['old-1', 'old-2', 'old-3']);
    await one.broker.persistence.flush();
    // The chunk record written for them makes the next start the same.
    const two = await streamBroker({ store });
    expect(streamOf(two.broker, 'legacy').nextOffset).toBe(3);
  });
});
