import {
  CONSUMER_NAME,
  decodeEnvelope,
  encodeEnvelope,
  PublishError,
  QueueStream,
  type Delivery,
} from '@warren/cluster';
import { describeWith } from '../../../test/support/requires';
import { clusterFixture, until, type ClusterFixture } from './support';

describeWith(['nats-server'], 'QueueStream on a 3-server JetStream cluster', () => {
  let f: ClusterFixture;
  let n = 0;
  const fresh = (ackWaitMs = 30_000): Promise<QueueStream> =>
    QueueStream.ensure(f.conn, { vhost: '/', queue: `q${++n}.with dots *>`, replicas: 3, ackWaitMs });
  const body = (i: number): Buffer => Buffer.from(`message ${i}`);

  beforeAll(async () => {
    f = await clusterFixture();
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  test('a stream is created once, R3, with every limit that would cap a queue raised', async () => {
    const qs = await fresh(12_000);
    const again = await QueueStream.ensure(f.conn, {
      vhost: '/',
      queue: qs.queue,
      replicas: 5,
      ackWaitMs: 12_000,
    });
    expect(again.name).toBe(qs.name);
    const si = await f.conn.jsm.streams.info(qs.name);
    expect(si.config).toMatchObject({
      retention: 'workqueue',
      storage: 'file',
      num_replicas: 3,
      subjects: [qs.subject],
      max_msgs: -1,
      max_bytes: -1,
      discard: 'old',
    });
    expect(si.config.duplicate_window).toBe(120_000 * 1e6);
    const ci = await f.conn.jsm.consumers.info(qs.name, CONSUMER_NAME);
    expect(ci.config).toMatchObject({
      ack_policy: 'explicit',
      max_deliver: -1,
      max_ack_pending: -1,
      max_waiting: 4096,
    });
    expect(ci.config.ack_wait).toBe(12_000 * 1e6);
    expect(await qs.leader()).toMatch(/^n[123]$/);
  });

  test('ensure with another ack wait updates the shared consumer', async () => {
    const qs = await fresh(10_000);
    await QueueStream.ensure(f.conn, { vhost: '/', queue: qs.queue, replicas: 3, ackWaitMs: 20_000 });
    const ci = await f.conn.jsm.consumers.info(qs.name, CONSUMER_NAME);
    expect(ci.config.ack_wait).toBe(20_000 * 1e6);
  });

  test('a published envelope is pulled, acked, and then gone from the stream', async () => {
    const qs = await fresh();
    const env = encodeEnvelope({
      exchange: 'amq.direct',
      routingKey: 'rk',
      properties: { contentType: 'text/plain', deliveryMode: 2 },
      body: body(1),
    });
    const r = await qs.publish(env, 'm-1');
    expect(r).toEqual({ seq: 1, duplicate: false });
    expect(await qs.messageCount()).toBe(1);
    const [d, ...rest] = await qs.pull(10, { expiresMs: 1000 });
    expect(rest).toEqual([]);
    expect(d?.seq).toBe(1);
    expect(d?.redelivered).toBe(false);
    const back = decodeEnvelope(d?.body ?? Buffer.alloc(0));
    expect(back.body.toString()).toBe('message 1');
    expect(back.routingKey).toBe('rk');
    expect(await qs.unackedCount()).toBe(1);
    d?.ack();
    await until('the ack removed the message', async () => (await qs.messageCount()) === 0);
    expect(await qs.unackedCount()).toBe(0);
  });

  test('a nak redelivers the message with delivery count 2', async () => {
    const qs = await fresh();
    await qs.publish(body(1), 'a');
    const [first] = await qs.pull(1, { expiresMs: 1000 });
    expect(first?.deliveryCount).toBe(1);
    first?.nak();
    const [second] = await qs.pull(1, { expiresMs: 2000 });
    expect(second?.seq).toBe(first?.seq);
    expect(second?.deliveryCount).toBe(2);
    expect(second?.redelivered).toBe(true);
    second?.ack();
  });

  test('a nak with a delay holds the message back for that long', async () => {
    const qs = await fresh();
    await qs.publish(body(1), 'a');
    const [first] = await qs.pull(1, { expiresMs: 1000 });
    const nakedAt = Date.now();
    first?.nak(700);
    expect(await qs.pull(1, { noWait: true })).toEqual([]);
    const [again] = await qs.pull(1, { expiresMs: 3000 });
    expect(Date.now() - nakedAt).toBeGreaterThanOrEqual(600);
    expect(again?.deliveryCount).toBe(2);
    again?.ack();
  });

  test('a no-wait pull of an empty queue returns [] at once', async () => {
    const qs = await fresh();
    const started = Date.now();
    expect(await qs.pull(1, { noWait: true })).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('a message published twice with one msgId is stored once', async () => {
    const qs = await fresh();
    expect(await qs.publish(body(1), 'same')).toEqual({ seq: 1, duplicate: false });
    expect(await qs.publish(body(1), 'same')).toEqual({ seq: 1, duplicate: true });
    expect(await qs.messageCount()).toBe(1);
  });

  test('two consumers sharing the durable consumer get disjoint messages, all of them', async () => {
    const qs = await fresh();
    const other = await QueueStream.ensure(await f.connect(), {
      vhost: '/',
      queue: qs.queue,
      replicas: 3,
      ackWaitMs: 30_000,
    });
    const total = 200;
    const seen: [Set<number>, Set<number>] = [new Set(), new Set()];
    const errors: unknown[] = [];
    const handles = [qs, other].map((s, i) =>
      s.consume({
        credit: 10,
        onDelivery: (d) => {
          seen[i as 0 | 1].add(d.seq);
          d.ack();
          handles[i]?.addCredit(1);
        },
        onError: (e) => errors.push(e),
      }),
    );
    await Promise.all(Array.from({ length: total }, (_x, i) => qs.publish(body(i), `m${i}`)));
    await until('every message consumed', () => seen[0].size + seen[1].size === total);
    for (const h of handles) h.stop();
    const both = [...seen[0]].filter((s) => seen[1].has(s));
    expect(both).toEqual([]);
    expect(seen[0].size).toBeGreaterThan(0);
    expect(seen[1].size).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await until('the stream is empty', async () => (await qs.messageCount()) === 0);
  });

  test('a consume loop never holds more messages than its credit', async () => {
    const qs = await fresh();
    await Promise.all(Array.from({ length: 30 }, (_x, i) => qs.publish(body(i), `m${i}`)));
    const held: Delivery[] = [];
    let worst = 0;
    let granted = 5;
    const h = qs.consume({
      credit: 5,
      onDelivery: (d) => {
        held.push(d);
        worst = Math.max(worst, h.unacked + h.pending);
      },
    });
    await until('five delivered', () => held.length === 5);
    // The server agrees: nothing more was sent than asked for.
    await until('five unacked on the server', async () => (await qs.unackedCount()) === 5);
    expect(h.credit).toBe(0);
    expect(h.pending).toBe(0);
    granted += 3;
    h.addCredit(3);
    await until('eight delivered', () => held.length === 8);
    expect(await qs.unackedCount()).toBe(8);
    // Acks alone give no credit: the owner decides.
    for (const d of held.splice(0)) d.ack();
    expect(h.unacked).toBe(0);
    await until('acks reached the server', async () => (await qs.unackedCount()) === 0);
    expect(h.credit).toBe(0);
    h.addCredit(22);
    granted += 22;
    await until('the rest delivered', () => held.length === 22);
    expect(worst).toBeLessThanOrEqual(granted);
    for (const d of held.splice(0)) d.ack();
    h.stop();
    await until('the stream is empty', async () => (await qs.messageCount()) === 0);
  });

  test('purge and delete', async () => {
    const qs = await fresh();
    await Promise.all([1, 2, 3].map((i) => qs.publish(body(i), `m${i}`)));
    expect(await qs.purge()).toBe(3);
    expect(await qs.messageCount()).toBe(0);
    await qs.delete();
    await expect(f.conn.jsm.streams.info(qs.name)).rejects.toThrow(/stream not found/);
    // Nobody listens on the subject now: no responders, which a retry could outlast (a leader election).
    const err = await qs.publish(body(1), 'late').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err).toMatchObject({ status: 503, retryable: true });
  });

  test('a message larger than the server takes is refused at once, however long retries may go on', async () => {
    const qs = await fresh();
    const started = Date.now();
    const err = await qs
      .publish(Buffer.alloc(2 * 1024 * 1024), 'big', { retryForMs: 20_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
