import { Broker, MemoryStore, type MessageStore, type StoreOp } from '@warren/core';
import { CoreClient, settle, startBroker, waitFor } from '@warren/testkit';

describe('transactions', () => {
  let broker: Broker;
  let c: CoreClient;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
    c.declareQueue('q');
  });
  afterEach(() => broker.close());

  test('publishes are invisible until commit and applied in order', () => {
    c.channel.txSelect();
    c.publish('', 'q', '1');
    c.publish('', 'q', '2');
    expect(broker.getVhost('/')!.getQueue('q').messageCount).toBe(0);
    c.channel.txCommit();
    expect(c.getAll('q')).toEqual(['1', '2']);
  });

  test('rollback drops buffered publishes and acks', () => {
    c.publish('', 'q', 'kept');
    c.channel.txSelect();
    const got = c.get('q', false)!;
    c.channel.ack(got.delivery.tag);
    c.publish('', 'q', 'dropped');
    c.channel.txRollback();
    expect(c.channel.unacked.has(got.delivery.tag)).toBe(true);
    c.channel.txCommit();
    expect(broker.getVhost('/')!.getQueue('q').messageCount).toBe(0);
    c.channel.ack(got.delivery.tag); // still ackable after rollback
    c.channel.txCommit();
    expect(c.channel.unacked.size).toBe(0);
  });

  test('acks inside a transaction take effect at commit, and cannot be given twice', () => {
    c.publish('', 'q', 'x');
    c.channel.txSelect();
    const got = c.get('q', false)!;
    c.channel.ack(got.delivery.tag);
    expect(() => c.channel.ack(got.delivery.tag)).toThrow(/unknown delivery tag/);
    expect(c.channel.unacked.size).toBe(1);
    c.channel.txCommit();
    expect(c.channel.unacked.size).toBe(0);
  });

  test('a nack with requeue in a transaction requeues at commit', () => {
    c.publish('', 'q', 'x');
    c.channel.txSelect();
    c.channel.nack(c.get('q', false)!.delivery.tag, false, true);
    expect(broker.getVhost('/')!.getQueue('q').messageCount).toBe(0);
    c.channel.txCommit();
    expect(c.getAll('q')).toEqual(['x']);
  });

  test('a transactional publish to a missing exchange fails at once', () => {
    c.channel.txSelect();
    expect(() => c.publish('nope', 'k', 'x')).toThrow("no exchange 'nope' in vhost '/'");
  });

  test('closing a channel discards its open transaction', () => {
    const ch = c.openChannel(2);
    ch.txSelect();
    c.publish('', 'q', 'never', {}, false, ch);
    ch.close();
    expect(broker.getVhost('/')!.getQueue('q').messageCount).toBe(0);
  });

  test('a transaction is bounded', async () => {
    const small = await startBroker({ limits: { maxTransactionOps: 3 } });
    const s = new CoreClient(small);
    s.declareQueue('q');
    s.channel.txSelect();
    for (let i = 0; i < 3; i++) s.publish('', 'q', String(i));
    expect(() => s.publish('', 'q', 'too many')).toThrow(/transaction exceeds 3 operations/);
    await small.close();
  });

  test('commit and rollback outside tx mode, and mixing tx with confirms, are PRECONDITION_FAILED', () => {
    expect(() => c.channel.txCommit()).toThrow('channel is not transactional');
    c.channel.txSelect();
    expect(() => c.channel.confirmSelect()).toThrow('cannot switch from tx to confirm mode');
    const ch = c.openChannel(2);
    ch.confirmSelect();
    expect(() => ch.txSelect()).toThrow('cannot switch from confirm to tx mode');
  });

  test('mandatory transactional publishes that route nowhere are returned at commit', () => {
    c.channel.txSelect();
    c.publish('amq.direct', 'nowhere', 'm', {}, true);
    expect(c.returned).toHaveLength(0);
    c.channel.txCommit();
    expect(c.returned.map((r) => r.body)).toEqual(['m']);
  });
});

/** A store whose batches become durable only when the test says so, like a slow disk. */
class GatedStore extends MemoryStore {
  readonly gates: (() => void)[] = [];
  readonly writes: StoreOp[][] = [];
  override write(ops: StoreOp[], durable: () => void): void {
    this.writes.push(ops);
    super.write(ops, () => this.gates.push(durable));
  }
}

describe('publisher confirms', () => {
  test('transient messages are confirmed at once, in one multiple ack per turn', async () => {
    const broker = await startBroker();
    const c = new CoreClient(broker);
    c.declareQueue('q');
    c.channel.confirmSelect();
    for (let i = 0; i < 5; i++) c.publish('', 'q', String(i));
    await waitFor(() => c.confirms.length > 0, 2000, 'confirms');
    expect(c.confirms).toEqual([{ seq: 5, multiple: true, ack: true }]);
    c.publish('', 'q', 'unroutable-is-still-confirmed', {}, false);
    c.publish('amq.direct', 'nowhere', 'x');
    await waitFor(() => c.confirms.length > 1, 2000, 'more confirms');
    expect(c.confirms[1]).toEqual({ seq: 7, multiple: true, ack: true });
    await broker.close();
  });

  test('a persistent message in a durable queue is confirmed only once the store has it on disk', async () => {
    const store = new GatedStore();
    const broker = await startBroker({ store });
    const c = new CoreClient(broker);
    c.declareQueue('durable', {}, { durable: true });
    c.declareQueue('transient');
    c.channel.confirmSelect();
    c.publish('', 'durable', 'p', { deliveryMode: 2 });
    c.publish('', 'transient', 't', { deliveryMode: 2 });
    await settle();
    // The transient queue's message is confirmed individually; the durable one waits for the disk.
    expect(c.confirms).toEqual([{ seq: 2, multiple: false, ack: true }]);
    store.gates.splice(0).forEach((open) => open());
    await waitFor(() => c.confirms.length === 2, 2000, 'the durable confirm');
    expect(c.confirms[1]).toEqual({ seq: 1, multiple: false, ack: true });
    await broker.close();
  });

  test('all store work of one turn is one batch', async () => {
    const store = new GatedStore();
    const broker = await startBroker({ store });
    const c = new CoreClient(broker);
    c.declareQueue('d', {}, { durable: true });
    c.channel.confirmSelect();
    await settle();
    store.gates.splice(0).forEach((open) => open());
    const before = store.writes.length;
    for (let i = 0; i < 100; i++) c.publish('', 'd', String(i), { deliveryMode: 2 });
    await settle();
    expect(store.writes.length - before).toBe(1);
    store.gates.splice(0).forEach((open) => open());
    await waitFor(() => c.confirms.length > 0, 2000, 'confirm');
    expect(c.confirms).toEqual([{ seq: 100, multiple: true, ack: true }]);
    await broker.close();
  });
});

describe('durability through the store', () => {
  test('durable topology and persistent messages survive a restart; transient ones do not', async () => {
    const store: MessageStore = new MemoryStore();
    const first = new Broker({ store });
    await first.start();
    const c = new CoreClient(first);
    c.channel.exchangeDeclare('events', 'topic', {
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    c.channel.exchangeDeclare('scratch', 'topic', {
      durable: false,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    c.declareQueue('keep', { 'x-max-length': 100 }, { durable: true });
    c.declareQueue('gone');
    c.channel.queueBind('keep', 'events', 'order.*');
    for (const m of ['p1', 'p2', 'p3'])
      c.publish('events', 'order.new', m, { deliveryMode: 2, headers: { n: m } });
    c.publish('events', 'order.new', 'transient');
    c.publish('', 'gone', 'lost', { deliveryMode: 2 });
    const held = c.get('keep', false)!; // p1 delivered, never acked
    expect(held.delivery.msg.body.toString()).toBe('p1');
    c.channel.ack(c.get('keep', false)!.delivery.tag); // p2 acked: gone for good
    await first.close();

    const second = new Broker({ store });
    await second.start();
    const v = second.getVhost('/')!;
    expect(v.exchanges.has('events')).toBe(true);
    expect(v.exchanges.has('scratch')).toBe(false);
    expect(v.queues.has('gone')).toBe(false);
    const d = new CoreClient(second);
    const a = d.get('keep', true)!.delivery;
    const b = d.get('keep', true)!.delivery;
    expect([a.msg.body.toString(), a.redelivered, a.msg.properties.headers?.['n']]).toEqual([
      'p1',
      true,
      'p1',
    ]);
    expect([b.msg.body.toString(), b.redelivered]).toEqual(['p3', false]);
    expect(d.get('keep', true)).toBeUndefined();
    // The binding survived too.
    d.publish('events', 'order.paid', 'after restart');
    expect(d.getAll('keep')).toEqual(['after restart']);
    await second.close();
    expect(store instanceof MemoryStore && store.messageCount).toBe(0);
  });

  test('users and permissions survive a restart, and the default user is created only once', async () => {
    const store = new MemoryStore();
    const first = new Broker({ store });
    await first.start();
    first.users.add('app', 's3cret');
    first.users.setPermissions('app', '/', { configure: '^app\\.', write: '.*', read: '.*' });
    first.users.delete('guest');
    await first.close();
    const second = new Broker({ store });
    await second.start();
    expect(second.users.get('guest')).toBeUndefined();
    expect(() => second.authenticate('app', 's3cret', false)).not.toThrow();
    expect(second.users.getPermissions('app', '/')).toEqual({
      configure: '^app\\.',
      write: '.*',
      read: '.*',
    });
    await second.close();
  });
});
