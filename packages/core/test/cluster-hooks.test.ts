import {
  Message,
  Queue,
  ResourceAlarms,
  type Broker,
  type QueueEntry,
  type TopologyRecord,
} from '@warren/core';
import { CoreClient, startBroker } from '@warren/testkit';

/** The hooks a cluster node uses to keep this broker in step with the others and its queues elsewhere. */
describe('cluster hooks of the core', () => {
  let broker: Broker;
  let c: CoreClient;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
  });
  afterEach(() => broker.close());

  const exchange: TopologyRecord = {
    kind: 'exchange',
    vhost: '/',
    name: 'orders',
    type: 'direct',
    durable: true,
    autoDelete: false,
    internal: false,
    arguments: {},
  };
  const queue: TopologyRecord = {
    kind: 'queue',
    vhost: '/',
    name: 'billing',
    durable: true,
    autoDelete: false,
    arguments: { 'x-max-length': 100 },
  };
  const binding: TopologyRecord = {
    kind: 'binding',
    vhost: '/',
    source: 'orders',
    destinationKind: 'queue',
    destination: 'billing',
    routingKey: 'paid',
    arguments: {},
  };

  describe('applyRecord: a change made on another node', () => {
    test('put records make an exchange, a queue and a binding that route here', () => {
      for (const r of [exchange, queue, binding]) broker.applyRecord('put', r);
      c.publish('orders', 'paid', 'invoice 1');
      expect(c.getAll('billing')).toEqual(['invoice 1']);
      expect(broker.getVhost('/')!.queues.get('billing')!.settings.maxLength).toBe(100);
    });

    test('hearing the same records again changes nothing (a node hears its own changes back)', () => {
      for (const r of [exchange, queue, binding]) broker.applyRecord('put', r);
      c.publish('orders', 'paid', 'kept');
      for (const r of [exchange, queue, binding]) broker.applyRecord('put', r);
      c.publish('orders', 'paid', 'once');
      expect(c.getAll('billing')).toEqual(['kept', 'once']);
    });

    test('delete records unbind, then remove the queue and the exchange', () => {
      for (const r of [exchange, queue, binding]) broker.applyRecord('put', r);
      broker.applyRecord('delete', binding);
      c.publish('orders', 'paid', 'unrouted');
      expect(c.getAll('billing')).toEqual([]);
      broker.applyRecord('delete', queue);
      broker.applyRecord('delete', exchange);
      const v = broker.getVhost('/')!;
      expect(v.queues.has('billing')).toBe(false);
      expect(v.exchanges.has('orders')).toBe(false);
    });

    test('a transient exchange or queue of the cluster stays transient here', () => {
      broker.applyRecord('put', { ...exchange, durable: false });
      broker.applyRecord('put', { ...queue, durable: false });
      const v = broker.getVhost('/')!;
      expect(v.exchanges.get('orders')!.durable).toBe(false);
      expect(v.queues.get('billing')!.durable).toBe(false);
      expect(() => c.declareQueue('billing', { 'x-max-length': 100 }, { durable: false })).not.toThrow();
    });

    test('vhosts, users and permissions follow put and delete', () => {
      broker.applyRecord('put', { kind: 'vhost', name: 'shop', description: 'the shop', tags: ['prod'] });
      expect(broker.getVhost('shop')!.metadata.description).toBe('the shop');
      const hash = broker.users.get('guest')!.passwordHash;
      broker.applyRecord('put', { kind: 'user', name: 'ann', passwordHash: hash, tags: ['monitoring'] });
      broker.applyRecord('put', {
        kind: 'permission',
        user: 'ann',
        vhost: 'shop',
        configure: '',
        write: 'orders',
        read: '.*',
      });
      expect(broker.users.getPermissions('ann', 'shop')).toEqual({
        configure: '',
        write: 'orders',
        read: '.*',
      });
      expect(broker.authenticate('ann', 'guest', true).tags).toEqual(['monitoring']);
      broker.applyRecord('delete', {
        kind: 'permission',
        user: 'ann',
        vhost: 'shop',
        configure: '',
        write: '',
        read: '',
      });
      expect(broker.users.getPermissions('ann', 'shop')).toBeUndefined();
      broker.applyRecord('delete', { kind: 'user', name: 'ann', passwordHash: hash, tags: [] });
      expect(broker.users.get('ann')).toBeUndefined();
      broker.applyRecord('delete', { kind: 'vhost', name: 'shop' });
      expect(broker.getVhost('shop')).toBeUndefined();
    });
  });

  describe('queueFactory: queues kept elsewhere', () => {
    /** A queue that counts what it is handed and what leaves it, as a replicated queue would forward them. */
    class CountingQueue extends Queue {
      readonly released: string[] = [];
      pushed(msg: Message, deliveredBefore: number, publishedAt = this.vhost.now()): QueueEntry {
        return this.admit(msg, deliveredBefore, publishedAt);
      }
      protected override release(entry: QueueEntry): void {
        this.released.push(entry.msg.body.toString());
        super.release(entry);
      }
    }

    test('declares get the factory queue, streams too; undefined answers stay local', () => {
      broker.queueFactory = (host, name, options, settings, owner) =>
        name.startsWith('local.') ? undefined : new CountingQueue(host, name, options, settings, owner);
      c.declareQueue('replicated', {}, { durable: true });
      c.declareQueue('local.one');
      c.declareQueue('log', { 'x-queue-type': 'stream' }, { durable: true });
      c.declareQueue('local.log', { 'x-queue-type': 'stream' }, { durable: true });
      const queues = broker.getVhost('/')!.queues;
      expect(queues.get('replicated')).toBeInstanceOf(CountingQueue);
      expect(queues.get('local.one')).not.toBeInstanceOf(CountingQueue);
      expect(queues.get('log')).toBeInstanceOf(CountingQueue);
      expect(queues.get('local.log')!.constructor.name).toBe('StreamQueue');
    });

    test('admit hands a message kept elsewhere to a consumer, redelivered when delivered before', () => {
      let made: CountingQueue | undefined;
      broker.queueFactory = (host, name, options, settings, owner) =>
        (made = new CountingQueue(host, name, options, settings, owner));
      c.declareQueue('replicated', {}, { durable: true });
      const { received } = c.consume('replicated', { noAck: false });
      made!.pushed(Message.fromProperties('', 'replicated', {}, Buffer.from('from the stream')), 1);
      expect(received.map((r) => [r.body, r.redelivered])).toEqual([['from the stream', true]]);
      c.channel.ack(received[0]!.tag);
      expect(made!.released).toEqual(['from the stream']);
    });

    test('a message admitted after its TTL ran out elsewhere is dead-lettered as expired, not delivered', () => {
      let made: CountingQueue | undefined;
      broker.queueFactory = (host, name, options, settings, owner) =>
        name === 'replicated' ? (made = new CountingQueue(host, name, options, settings, owner)) : undefined;
      c.declareQueue('dead');
      c.declareQueue(
        'replicated',
        { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' },
        { durable: true },
      );
      const { received } = c.consume('replicated', { noAck: false });
      const now = broker.getVhost('/')!.now();
      made!.pushed(Message.fromProperties('', 'replicated', {}, Buffer.from('stale')), 0, now - 5000);
      made!.pushed(Message.fromProperties('', 'replicated', {}, Buffer.from('fresh')), 0, now - 10);
      expect(received.map((r) => r.body)).toEqual(['fresh']);
      expect(made!.released).toEqual(['stale']);
      const dead = c.consume('dead', { noAck: true }).received;
      expect(dead.map((r) => r.body)).toEqual(['stale']);
      expect(dead[0]!.properties.headers?.['x-death']).toEqual([
        expect.objectContaining({ reason: 'expired', queue: 'replicated' }),
      ]);
    });
  });

  test("the cluster alarm blocks publishers with RabbitMQ's reason style", () => {
    broker.alarms.set('cluster', true);
    expect(broker.alarms.blocked).toBe(true);
    expect(broker.alarms.reason).toBe('cluster unreachable');
    broker.alarms.set('memory', true);
    expect(broker.alarms.reason).toBe('low on memory; cluster unreachable');
    broker.alarms.set('cluster', false);
    expect(broker.alarms.reason).toBe('low on memory');
  });
});

describe("another node's alarms (a cluster's alarms are cluster-wide)", () => {
  test("block this node's publishers with that node's reason, and clear with it", () => {
    const alarms = new ResourceAlarms();
    const changes: boolean[] = [];
    alarms.onChange((blocked) => changes.push(blocked));
    alarms.setRemote('b', ['memory']);
    expect([alarms.blocked, alarms.reason, alarms.isRaised('memory')]).toEqual([
      true,
      'low on memory',
      false,
    ]);
    alarms.set('disk', true);
    expect(alarms.reason).toBe('low on memory & disk');
    expect(alarms.localResources).toEqual(['disk']);
    alarms.set('disk', false);
    alarms.setRemote('b', []);
    expect(alarms.blocked).toBe(false);
    expect(changes).toEqual([true, false]);
    alarms.setRemote('c', ['cluster']); // only memory and disk travel: 'cluster' is each node's own
    expect(alarms.blocked).toBe(false);
  });
});
