import {
  claimInOrder,
  queueNameFor,
  WarrenError,
  type Broker,
  type Channel,
  type TopologyAuthority,
  type TopologyChange,
} from '@warren/core';
import { CoreClient, startBroker } from '@warren/testkit';

/** An authority that records each claim and settles it when the test says so. */
class Recording implements TopologyAuthority {
  readonly changes: TopologyChange[] = [];
  private readonly settle: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  claim(change: TopologyChange): Promise<void> {
    this.changes.push(change);
    return new Promise<void>((resolve, reject) => this.settle.push({ resolve, reject }));
  }
  resolve(i = this.settle.length - 1): void {
    this.settle[i]?.resolve();
  }
  reject(e: unknown, i = this.settle.length - 1): void {
    this.settle[i]?.reject(e);
  }
}

const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
const xopts = { durable: true, autoDelete: false, internal: false, arguments: {} };

describe('topology claims', () => {
  let broker: Broker;
  let c: CoreClient;
  let ch: Channel;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
    ch = c.channel;
  });
  afterEach(() => broker.close());
  const vhost = () => broker.getVhost('/')!;

  describe('without an authority (a single node)', () => {
    test('every claim helper applies at once and returns no promise', () => {
      expect(broker.topologyAuthority).toBeUndefined();
      expect(ch.claims.exchangeDeclare('x', 'direct', xopts)).toBeUndefined();
      const declared = ch.claims.queueDeclare('q', plain);
      expect(declared).toEqual({ queue: 'q', messageCount: 0, consumerCount: 0 });
      expect(ch.claims.queueBind('q', 'x', 'k')).toBeUndefined();
      expect(vhost().queues.get('q')?.bindings.size).toBe(1);
      expect(ch.claims.exchangeBind('amq.fanout', 'x', 'k')).toBeUndefined();
      expect(ch.claims.exchangeUnbind('amq.fanout', 'x', 'k')).toBeUndefined();
      expect(ch.claims.queueUnbind('q', 'x', 'k')).toBeUndefined();
      expect(vhost().queues.get('q')?.bindings.size).toBe(0);
      expect(ch.claims.queueDelete('q')).toBe(0);
      expect(ch.claims.exchangeDelete('x')).toBeUndefined();
      expect(vhost().exchanges.has('x')).toBe(false);
      expect(broker.topologyClaim({ kind: 'delete-exchange', vhost: '/', name: 'x', ifUnused: false })).toBe(
        undefined,
      );
      expect(broker.claimImportDefinitions({ queues: [] })).toBeUndefined();
    });

    test('errors are thrown as before, synchronously', () => {
      ch.claims.queueDeclare('q', { ...plain, durable: true });
      expect(() => ch.claims.queueDeclare('q', plain)).toThrow("inequivalent arg 'durable'");
      expect(() => ch.claims.queueDeclare('nope', plain, true)).toThrow("no queue 'nope'");
    });
  });

  describe('with an authority', () => {
    let authority: Recording;
    beforeEach(() => {
      authority = new Recording();
      broker.topologyAuthority = authority;
    });

    test('a queue declare claims the change, applies nothing until it resolves, then declares locally', async () => {
      const pending = ch.claims.queueDeclare('q', {
        ...plain,
        durable: true,
        arguments: { 'x-max-length': 5 },
      });
      expect(pending).toBeInstanceOf(Promise);
      expect(authority.changes).toEqual([
        {
          kind: 'declare-queue',
          vhost: '/',
          name: 'q',
          durable: true,
          exclusive: false,
          autoDelete: false,
          arguments: { 'x-max-length': 5 },
          passive: false,
          owner: { connection: ch.connection.id, node: undefined },
        },
      ]);
      expect(vhost().queues.has('q')).toBe(false);
      authority.resolve();
      await expect(pending).resolves.toEqual({ queue: 'q', messageCount: 0, consumerCount: 0 });
      expect(vhost().queues.get('q')?.options.durable).toBe(true);
    });

    test('the local apply after the claim is idempotent: the authority may have applied it here already', async () => {
      const pending = ch.claims.queueDeclare('q', plain);
      const bind = () => ch.claims.queueBind('q', 'amq.direct', 'k');
      // What a cluster's authority does on every node before it resolves: the change is made here too.
      const mine = vhost().declareQueue('q', plain, undefined);
      authority.resolve();
      await pending;
      expect(vhost().queues.get('q')).toBe(mine);
      const bound = bind();
      vhost().bind('amq.direct', mine, 'k', {});
      authority.resolve();
      await bound;
      expect(mine.bindings.size).toBe(1);
      expect(() => ch.claims.queueBind('missing', 'amq.direct', 'k')).toThrow("no queue 'missing'");
    });

    test('local checks still throw synchronously, before any claim', () => {
      expect(() => ch.claims.queueDeclare('amq.mine', plain)).toThrow("reserved prefix 'amq.*'");
      expect(() => ch.claims.exchangeDeclare('x', 'nonsense', xopts)).toThrow(
        "unknown exchange type 'nonsense'",
      );
      expect(() => ch.claims.queueDeclare('q', { ...plain, arguments: { 'x-max-length': 'ten' } })).toThrow(
        /x-max-length/,
      );
      expect(() => ch.claims.queueBind('missing', 'amq.direct', 'k')).toThrow("no queue 'missing'");
      expect(() => ch.claims.exchangeDelete('amq.direct')).toThrow('operation not permitted');
      expect(authority.changes).toEqual([]);
    });

    test('equivalence with the locally known queue is checked before the claim', async () => {
      const made = ch.claims.queueDeclare('q', { ...plain, durable: true });
      authority.resolve();
      await made;
      expect(() => ch.claims.queueDeclare('q', plain)).toThrow("inequivalent arg 'durable'");
      expect(authority.changes).toHaveLength(1);
    });

    test('a rejection propagates as the WarrenError the authority gave, and nothing is applied', async () => {
      const pending = ch.claims.exchangeDeclare('x', 'topic', xopts);
      authority.reject(new WarrenError('PRECONDITION_FAILED', "inequivalent arg 'type' for exchange 'x'"));
      await expect(pending).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', replyCode: 406 });
      expect(vhost().exchanges.has('x')).toBe(false);
    });

    test('a server-named queue is named before its claim, and the claim and the declare name the same', async () => {
      const pending = ch.claims.queueDeclare('', { ...plain, exclusive: true });
      const change = authority.changes[0] as Extract<TopologyChange, { kind: 'declare-queue' }>;
      expect(change.name).toMatch(/^amq\.gen-/);
      authority.resolve();
      expect((await pending).queue).toBe(change.name);
      expect(vhost().queues.get(change.name)?.owner).toBe(ch.connection);
      expect(() => queueNameFor('', { 'x-queue-type': 'stream' }, false)).toThrow('server-named');
    });

    test('bindings and deletes carry their whole change', async () => {
      broker.topologyAuthority = undefined;
      ch.queueDeclare('q', plain);
      ch.exchangeDeclare('x', 'direct', xopts);
      broker.topologyAuthority = authority;
      const bound = ch.claims.queueBind('q', 'x', 'rk', { a: 1 });
      expect(authority.changes.at(-1)).toEqual({
        kind: 'bind',
        vhost: '/',
        source: 'x',
        destination: 'q',
        destinationKind: 'queue',
        routingKey: 'rk',
        arguments: { a: 1 },
      });
      authority.resolve();
      await bound;
      expect(vhost().queues.get('q')?.bindings.size).toBe(1);
      const xb = ch.claims.exchangeBind('amq.fanout', 'x', 'rk');
      expect(authority.changes.at(-1)).toMatchObject({ kind: 'bind', destinationKind: 'exchange' });
      authority.resolve();
      await xb;
      const deleted = ch.claims.queueDelete('q', true, false);
      expect(authority.changes.at(-1)).toMatchObject({ kind: 'delete-queue', name: 'q', ifUnused: true });
      authority.resolve();
      await expect(deleted).resolves.toBe(0);
      expect(vhost().queues.has('q')).toBe(false);
    });

    test('a channel closed while its claim is pending applies nothing', async () => {
      const pending = ch.claims.queueDeclare('lonely', { ...plain, exclusive: true });
      ch.connection.close();
      authority.resolve();
      await expect(pending).rejects.toMatchObject({ code: 'CHANNEL_ERROR' });
      expect(vhost().queues.has('lonely')).toBe(false);
    });

    test('a definitions import is validated now, claimed in order, applied after', async () => {
      expect(() => broker.claimImportDefinitions({ queues: [{ name: 7 }] })).toThrow(/definitions/);
      expect(authority.changes).toEqual([]);
      const pending = broker.claimImportDefinitions({
        vhosts: [{ name: 'v2' }],
        queues: [{ name: 'dq', vhost: 'v2', durable: true, auto_delete: false, arguments: {} }],
      });
      expect(authority.changes).toEqual([{ kind: 'put-record', record: { kind: 'vhost', name: 'v2' } }]);
      authority.resolve(0);
      await new Promise((r) => setImmediate(r));
      expect(authority.changes[1]).toMatchObject({
        kind: 'declare-queue',
        vhost: 'v2',
        name: 'dq',
        owner: undefined,
      });
      authority.resolve(1);
      await pending;
      expect(broker.getVhost('v2')?.queues.has('dq')).toBe(true);
    });

    test('claimInOrder claims one change after another and stops at a rejection', async () => {
      const changes: TopologyChange[] = [
        { kind: 'delete-exchange', vhost: '/', name: 'a', ifUnused: false },
        { kind: 'delete-exchange', vhost: '/', name: 'b', ifUnused: false },
        { kind: 'delete-exchange', vhost: '/', name: 'c', ifUnused: false },
      ];
      const done = claimInOrder(authority, changes);
      expect(authority.changes).toHaveLength(1);
      authority.resolve(0);
      await new Promise((r) => setImmediate(r));
      expect(authority.changes).toHaveLength(2);
      authority.reject(new WarrenError('NOT_FOUND', 'gone'), 1);
      await expect(done).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(authority.changes).toHaveLength(2);
    });
  });
});
