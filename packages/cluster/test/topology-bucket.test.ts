import { Kvm } from '@nats-io/kv';
import { recordKey, TopologyBucket, TopologyConflict, type TopologyChange } from '@warren/cluster';
import type { TopologyRecord } from '@warren/core';
import { describeWith } from '../../../test/support/requires';
import { clusterFixture, until, type ClusterFixture } from './support';

const queue = (name: string, args: Record<string, bigint | string> = {}): TopologyRecord => ({
  kind: 'queue',
  vhost: '/',
  name,
  durable: true,
  autoDelete: false,
  arguments: args,
});

describeWith(['nats-server'], 'TopologyBucket on a 3-server JetStream cluster', () => {
  let f: ClusterFixture;
  let bucket: TopologyBucket;
  let n = 0;
  const fresh = (): Promise<TopologyBucket> =>
    TopologyBucket.open(f.conn, { replicas: 3, bucket: `topo-${++n}` });

  beforeAll(async () => {
    f = await clusterFixture();
    bucket = await TopologyBucket.open(f.conn, { replicas: 5 });
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  test('the bucket keeps one value per key, on three replicas (five asked, capped at the cluster)', async () => {
    const si = await f.conn.jsm.streams.info('KV_warren-topology');
    expect(si.config.num_replicas).toBe(3);
    expect(si.config.max_msgs_per_subject).toBe(1);
  });

  test('create stores a record; a second create of the key is a conflict that says what won', async () => {
    const r = queue('orders', { 'x-max-length': 10n });
    const key = recordKey(r);
    const rev = await bucket.create(key, r);
    expect(await bucket.get(key)).toEqual({ record: r, revision: rev });
    const err = await bucket.create(key, queue('orders', { 'x-max-length': 20n })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopologyConflict);
    expect(err).toMatchObject({ key, stored: r, revision: rev });
  });

  test('update is compare-and-set on the revision', async () => {
    const key = recordKey(queue('cas'));
    const r1 = await bucket.create(key, queue('cas'));
    const r2 = await bucket.update(key, queue('cas', { 'x-queue-mode': 'lazy' }), r1);
    expect(r2).toBeGreaterThan(r1);
    const stale = await bucket
      .update(key, queue('cas', { 'x-queue-mode': 'default' }), r1)
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(TopologyConflict);
    expect((stale as TopologyConflict).revision).toBe(r2);
    expect((await bucket.get(key))?.record).toEqual(queue('cas', { 'x-queue-mode': 'lazy' }));
  });

  test('delete removes the record; create after delete works again', async () => {
    const key = recordKey(queue('gone'));
    await bucket.put(key, queue('gone'));
    await bucket.delete(key);
    expect(await bucket.get(key)).toBeUndefined();
    await bucket.create(key, queue('gone'));
    expect((await bucket.get(key))?.record).toEqual(queue('gone'));
  });

  test('get of a key never written is undefined', async () => {
    expect(await bucket.get(recordKey(queue('never')))).toBeUndefined();
  });

  test('a watch delivers the current values, is caught up, then sees every change from another node', async () => {
    const b = await fresh();
    const records = ['a', 'b.c', 'd e'].map((q) => queue(q));
    for (const r of records) await b.put(recordKey(r), r);
    await b.delete(recordKey(records[2] as TopologyRecord));
    const seen: TopologyChange[] = [];
    const w = await b.watch((c) => seen.push(c));
    await w.caughtUp;
    expect(seen.map((c) => [c.key, c.record?.kind])).toEqual([
      [recordKey(records[0] as TopologyRecord), 'queue'],
      [recordKey(records[1] as TopologyRecord), 'queue'],
      [recordKey(records[2] as TopologyRecord), undefined],
    ]);
    const other = await TopologyBucket.open(await f.connect(), { replicas: 3, bucket: `topo-${n}` });
    const x: TopologyRecord = {
      kind: 'exchange',
      vhost: '/',
      name: 'events',
      type: 'topic',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: { 'alternate-exchange': 'ae' },
    };
    const rev = await other.create(recordKey(x), x);
    await until('the watch saw the new exchange', () => seen.some((c) => c.revision === rev));
    expect(seen.at(-1)).toEqual({ key: recordKey(x), record: x, revision: rev });
    await other.delete(recordKey(x));
    await until(
      'the watch saw the delete',
      () => seen.at(-1)?.record === undefined && seen.at(-1)?.key === recordKey(x),
    );
    w.stop();
  });

  test('a watch of an empty bucket is caught up at once', async () => {
    const b = await fresh();
    const w = await b.watch(() => undefined);
    await w.caughtUp;
    w.stop();
  });

  test('a value that does not decode is reported and skipped, the watch goes on', async () => {
    const b = await fresh();
    // Another writer (an older node, an operator with the nats CLI) put something that is not a record.
    const kv = await new Kvm(f.conn.js).open(`topo-${n}`);
    await kv.put('q._2f.bad', 'not json');
    const errors: unknown[] = [];
    const seen: TopologyChange[] = [];
    const w = await b.watch(
      (c) => seen.push(c),
      (e) => errors.push(e),
    );
    await w.caughtUp;
    await b.put(recordKey(queue('good')), queue('good'));
    await until('the good value arrived', () => seen.length === 1);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/q\._2f\.bad/);
    w.stop();
  });
});
