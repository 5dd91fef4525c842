import { createHash } from 'node:crypto';
import { Broker, DefinitionsError, MemoryStore, type Definitions } from '@warren/core';
import { CoreClient, startBroker } from '@warren/testkit';

const ALL = { configure: '.*', write: '.*', read: '.*' };

/** RabbitMQ's layout, built here from its description: base64(salt ++ hash(salt ++ password)). */
function rabbitHash(algorithm: 'md5' | 'sha512', password: string): string {
  const salt = Buffer.from([0x90, 0x8d, 0xc6, 0x0a]);
  return Buffer.concat([salt, createHash(algorithm).update(salt).update(password).digest()]).toString(
    'base64',
  );
}

describe('users, live', () => {
  let broker: Broker;

  beforeEach(async () => {
    broker = await startBroker();
    broker.users.add('app', 'pw', ['monitoring']);
    broker.users.setPermissions('app', '/', ALL);
  });
  afterEach(() => broker.close());

  test('changePassword and setTags take effect at once; the old password no longer logs in', () => {
    broker.users.changePassword('app', 'new');
    expect(() => broker.authenticate('app', 'pw', true)).toThrow(/Login was refused/);
    expect(broker.authenticate('app', 'new', true).name).toBe('app');
    broker.users.setTags('app', ['administrator', 'management']);
    expect(broker.users.get('app')?.tags).toEqual(['administrator', 'management']);
    expect(() => broker.users.changePassword('nobody', 'x')).toThrow("no user 'nobody'");
  });

  test("users imported with RabbitMQ's SHA-512 and MD5 hashes log in with their passwords", () => {
    broker.users.addHashed('s512', rabbitHash('sha512', 'five'), [], 'rabbit_password_hashing_sha512');
    broker.users.addHashed('m5', rabbitHash('md5', 'six'), [], 'rabbit_password_hashing_md5');
    expect(broker.authenticate('s512', 'five', true).name).toBe('s512');
    expect(broker.authenticate('m5', 'six', true).name).toBe('m5');
    expect(() => broker.authenticate('m5', 'five', true)).toThrow(/Login was refused/);
    // A passwordless user (empty hash) cannot log in with any password.
    broker.users.addHashed('nopass', '', []);
    expect(() => broker.authenticate('nopass', '', true)).toThrow(/Login was refused/);
  });

  test('clearPermissions refuses the next operation of an open connection and new connections', () => {
    const c = new CoreClient(broker, { user: 'app', password: 'pw' });
    c.declareQueue('q');
    c.publish('', 'q', 'one');
    expect(broker.users.clearPermissions('app', '/')).toBe(true);
    expect(() => c.publish('', 'q', 'two')).toThrow(
      "access to exchange 'amq.default' in vhost '/' refused for user 'app'",
    );
    expect(() => new CoreClient(broker, { user: 'app', password: 'pw' })).toThrow(
      "access to vhost '/' refused for user 'app'",
    );
  });

  test('topic permissions: publish checks the routing key, bind the binding key, on topic exchanges only', () => {
    broker.users.setTopicPermissions('app', '/', {
      exchange: 'amq.topic',
      write: '^public\\.',
      read: '^public\\.',
    });
    const c = new CoreClient(broker, { user: 'app', password: 'pw' });
    c.declareQueue('q');
    c.publish('amq.topic', 'public.news', 'ok');
    expect(() => c.publish('amq.topic', 'secret.plans', 'no')).toThrow(
      expect.objectContaining({
        code: 'ACCESS_REFUSED',
        message:
          "write access to topic 'secret.plans' in exchange 'amq.topic' in vhost '/' refused for user 'app'",
      }),
    );
    expect(() => c.channel.queueBind('q', 'amq.topic', 'secret.#')).toThrow(
      "read access to topic 'secret.#' in exchange 'amq.topic' in vhost '/' refused for user 'app'",
    );
    c.channel.queueBind('q', 'amq.topic', 'public.#');
    // No topic permission for another exchange, and none is checked on a direct exchange.
    c.publish('amq.direct', 'secret.plans', 'direct is not a topic exchange');
    c.channel.exchangeDeclare('t2', 'topic', {
      durable: false,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    c.publish('t2', 'secret.plans', 'no topic permission on t2');
    expect(broker.users.clearTopicPermissions('app', '/', 'amq.topic')).toBe(true);
    c.publish('amq.topic', 'secret.plans', 'allowed once cleared');
    expect(broker.users.listTopicPermissions()).toEqual([]);
  });

  test('topic permission patterns expand {username} and {vhost}', () => {
    broker.users.setTopicPermissions('app', '/', {
      exchange: 'amq.topic',
      write: '^u\\.{username}\\.',
      read: '',
    });
    const c = new CoreClient(broker, { user: 'app', password: 'pw' });
    c.publish('amq.topic', 'u.app.x', 'mine');
    expect(() => c.publish('amq.topic', 'u.other.x', 'theirs')).toThrow(/write access to topic 'u.other.x'/);
    expect(broker.users.listTopicPermissions()[0]?.write).toBe('^u\\.{username}\\.');
  });

  test("deleteUser closes its connections with RabbitMQ's reason and forgets its permissions", () => {
    const c = new CoreClient(broker, { user: 'app', password: 'pw' });
    const reasons: string[] = [];
    c.connection.onForcedClose = (err) => {
      reasons.push(err.replyText);
      c.connection.close();
    };
    const guest = new CoreClient(broker);
    expect(broker.deleteUser('app')).toBe(true);
    expect(reasons).toEqual(["CONNECTION_FORCED - user 'app' is deleted"]);
    expect(c.connection.closed).toBe(true);
    expect(guest.connection.closed).toBe(false);
    expect(broker.users.getPermissions('app', '/')).toBeUndefined();
    expect(broker.deleteUser('app')).toBe(false);
  });

  test('deleteVhost closes its connections with "vhost \'v\' is deleted" and drops its permissions', () => {
    broker.addVhost('v', { description: 'gone soon' });
    broker.users.setPermissions('app', 'v', ALL);
    const c = new CoreClient(broker, { user: 'app', password: 'pw', vhost: 'v' });
    let reason = '';
    c.connection.onForcedClose = (err) => {
      reason = err.message;
      c.connection.close();
    };
    broker.deleteVhost('v');
    expect(reason).toBe("vhost 'v' is deleted");
    expect(broker.connections.has(c.connection.id)).toBe(false);
    expect(broker.users.getPermissions('app', 'v')).toBeUndefined();
  });
});

describe('connections and counters', () => {
  let broker: Broker;
  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(() => broker.close());

  test('a connection is named as RabbitMQ names it and found by that name', () => {
    const user = broker.authenticate('guest', 'guest', true);
    const v4 = broker.connect(user, '/', {
      protocol: 'amqp',
      remoteAddress: '::ffff:127.0.0.1',
      remotePort: 54321,
      localAddress: '::ffff:127.0.0.1',
      localPort: 5672,
    });
    const v6 = broker.connect(user, '/', {
      protocol: 'amqp',
      remoteAddress: '::1',
      remotePort: 40000,
      localAddress: '::1',
      localPort: 5672,
    });
    expect(v4.name).toBe('127.0.0.1:54321 -> 127.0.0.1:5672');
    expect(v6.name).toBe('[::1]:40000 -> [::1]:5672');
    expect(broker.findConnection('[::1]:40000 -> [::1]:5672')).toBe(v6);
    expect(broker.findConnection('nope')).toBeUndefined();
  });

  test('forceClose without a protocol hook closes the connection; its default reason is the management one', () => {
    const c = new CoreClient(broker);
    let said = '';
    c.connection.onForcedClose = (err) => {
      said = err.replyText;
      c.connection.close();
    };
    c.connection.forceClose();
    expect(said).toBe('CONNECTION_FORCED - Closed via management plugin');
    const plain = new CoreClient(broker);
    plain.connection.forceClose('bye');
    expect(plain.connection.closed).toBe(true);
  });

  test('channel, connection, exchange and broker counters follow publishes, deliveries, acks, redeliveries', () => {
    const c = new CoreClient(broker);
    c.declareQueue('q');
    c.channel.queueBind('q', 'amq.direct', 'k');
    c.publish('amq.direct', 'k', 'a');
    c.publish('amq.direct', 'nowhere', 'b');
    const { received } = c.consume('q');
    c.channel.nack(received[0]!.tag, false, true);
    c.channel.ack(received[1]!.tag);
    expect(c.channel.stats).toEqual({ published: 2, delivered: 2, acked: 1, redelivered: 1 });
    expect(c.connection.stats).toMatchObject({ published: 2, delivered: 2 });
    expect(broker.stats).toEqual({ published: 2, delivered: 2, acked: 1, redelivered: 1 });
    expect(broker.vhosts.get('/')?.exchanges.get('amq.direct')?.stats).toEqual({
      publishIn: 2,
      publishOut: 1,
    });
  });
});

describe('definitions', () => {
  let broker: Broker;
  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(() => broker.close());

  const defs = (): Record<string, unknown> => ({
    rabbit_version: '3.10.8',
    users: [
      {
        name: 'ann',
        password_hash: rabbitHash('sha512', 'pw'),
        hashing_algorithm: 'rabbit_password_hashing_sha512',
        tags: 'administrator,management',
      },
    ],
    vhosts: [
      {
        name: 'shop',
        description: 'the shop',
        tags: ['prod'],
        metadata: { description: 'the shop', tags: ['prod'], default_queue_type: 'classic' },
      },
    ],
    permissions: [{ user: 'ann', vhost: 'shop', ...ALL }],
    topic_permissions: [{ user: 'ann', vhost: 'shop', exchange: 'amq.topic', write: '^a', read: '^a' }],
    policies: [{ vhost: 'shop', name: 'p', pattern: '.*', definition: { 'max-length': 1 } }],
    exchanges: [
      {
        name: 'orders',
        vhost: 'shop',
        type: 'topic',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'amq.topic',
        vhost: 'shop',
        type: 'topic',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    queues: [
      { name: 'eu', vhost: 'shop', durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } },
    ],
    bindings: [
      {
        source: 'orders',
        vhost: 'shop',
        destination: 'eu',
        destination_type: 'queue',
        routing_key: 'eu.*',
        arguments: {},
      },
    ],
  });

  test('an import applies users, vhosts, permissions and topology; importing it again changes nothing', () => {
    broker.importDefinitions(defs());
    broker.importDefinitions(defs());
    expect(broker.authenticate('ann', 'pw', true).tags).toEqual(['administrator', 'management']);
    const shop = broker.vhosts.get('shop');
    expect(shop?.metadata).toEqual({ description: 'the shop', tags: ['prod'], defaultQueueType: 'classic' });
    expect(shop?.queues.get('eu')?.options.arguments).toEqual({ 'x-max-length': 10 });
    const c = new CoreClient(broker, { user: 'ann', password: 'pw', vhost: 'shop' });
    c.publish('orders', 'eu.1', 'routed');
    expect(c.getAll('eu')).toEqual(['routed']);
    expect(broker.users.listTopicPermissions()).toEqual([
      { user: 'ann', vhost: 'shop', exchange: 'amq.topic', write: '^a', read: '^a' },
    ]);
  });

  test('a bad file changes nothing, and the error names the bad item', () => {
    const bad = defs();
    (bad['queues'] as unknown[]).push({
      name: 'ttl',
      vhost: 'shop',
      durable: true,
      arguments: { 'x-message-ttl': -1 },
    });
    const before = JSON.stringify(broker.exportDefinitions());
    expect(() => broker.importDefinitions(bad)).toThrow(DefinitionsError);
    expect(() => broker.importDefinitions(bad)).toThrow(/queues\[1\] 'ttl': invalid arg 'x-message-ttl'/);
    expect(JSON.stringify(broker.exportDefinitions())).toBe(before);
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { users: [{ name: 'x', password_hash: 'abc=', hashing_algorithm: 'rabbit_password_hashing_sha1' }] },
        /users\[0\] 'x': unknown hashing_algorithm/,
      ],
      [{ permissions: [{ user: 'ghost', vhost: '/', ...ALL }] }, /permissions\[0\] 'ghost': no user 'ghost'/],
      [
        { permissions: [{ user: 'guest', vhost: '/', configure: '(', write: '', read: '' }] },
        /configure is not a regular expression/,
      ],
      [
        { exchanges: [{ name: 'x', vhost: '/', type: 'weird' }] },
        /exchanges\[0\] 'x': unknown exchange type 'weird'/,
      ],
      [
        {
          bindings: [
            {
              source: 'amq.direct',
              vhost: '/',
              destination: 'missing',
              destination_type: 'queue',
              routing_key: '',
            },
          ],
        },
        /no queue 'missing' in vhost '\/'/,
      ],
      [{ queues: [{ name: 'q', vhost: 'nowhere' }] }, /queues\[0\] 'q': no vhost 'nowhere'/],
      [{ queues: 'not a list' }, /queues: expected an array/],
    ];
    for (const [file, message] of cases) expect(() => broker.importDefinitions(file)).toThrow(message);
    expect(JSON.stringify(broker.exportDefinitions())).toBe(before);
  });

  test('an existing queue with other arguments is refused as inequivalent', () => {
    new CoreClient(broker).declareQueue('q', { 'x-max-length': 5 }, { durable: true });
    expect(() =>
      broker.importDefinitions({
        queues: [{ name: 'q', vhost: '/', durable: true, arguments: { 'x-max-length': 6 } }],
      }),
    ).toThrow(/queues\[0\] 'q': inequivalent arg 'x-max-length'/);
  });

  test("export is RabbitMQ's shape, without built-in exchanges, exclusive or server-named queues", () => {
    broker.importDefinitions(defs());
    const c = new CoreClient(broker, { vhost: '/' });
    c.declareQueue('', {}, { exclusive: true });
    c.declareQueue('mine', {}, { exclusive: true });
    c.declareQueue('plain', {}, { durable: true });
    c.channel.queueBind('plain', 'amq.topic', 'x.#');
    const out: Definitions = broker.exportDefinitions();
    expect(out.users?.find((u) => u.name === 'ann')).toEqual({
      name: 'ann',
      password_hash: expect.any(String),
      hashing_algorithm: 'rabbit_password_hashing_sha512',
      tags: ['administrator', 'management'],
      limits: {},
    });
    expect(out.vhosts).toContainEqual({ name: '/' });
    expect(out.queues.map((q) => `${q.vhost}/${q.name}`).sort()).toEqual(['//plain', 'shop/eu']);
    expect(out.exchanges.map((x) => x.name)).toEqual(['orders']);
    expect(out.bindings).toContainEqual({
      source: 'amq.topic',
      vhost: '/',
      destination: 'plain',
      destination_type: 'queue',
      routing_key: 'x.#',
      arguments: {},
    });
    // What was exported imports into a fresh broker as the same definitions.
    return startBroker().then(async (other) => {
      other.importDefinitions(out);
      const again = other.exportDefinitions();
      expect(again.queues).toEqual(out.queues);
      expect(again.bindings).toEqual(out.bindings);
      expect(() => other.authenticate('ann', 'pw', true)).not.toThrow();
      await other.close();
    });
  });

  test('a vhost-scoped import ignores the vhost fields and the users; a scoped export leaves vhost out', () => {
    broker.addVhost('staging');
    broker.importDefinitions(
      {
        users: [{ name: 'ignored', password_hash: '' }],
        queues: [{ name: 'q', vhost: 'elsewhere', durable: true, auto_delete: false, arguments: {} }],
        bindings: [
          {
            source: 'amq.fanout',
            vhost: 'elsewhere',
            destination: 'q',
            destination_type: 'queue',
            routing_key: '',
          },
        ],
      },
      'staging',
    );
    expect(broker.users.get('ignored')).toBeUndefined();
    const out = broker.exportDefinitions('staging');
    expect(out.users).toBeUndefined();
    expect(out.queues).toEqual([{ name: 'q', durable: true, auto_delete: false, arguments: {} }]);
    expect(out.bindings).toEqual([
      { source: 'amq.fanout', destination: 'q', destination_type: 'queue', routing_key: '', arguments: {} },
    ]);
    expect(() => broker.importDefinitions({}, 'absent')).toThrow("vhost 'absent' does not exist");
  });
});

describe('every administrative change survives a restart', () => {
  test('users, hashes, tags, permissions, topic permissions, vhost metadata; deletions stay deleted', async () => {
    const store = new MemoryStore();
    const first = new Broker({ store });
    await first.start();
    first.users.addHashed('old', rabbitHash('md5', 'md5pw'), ['x'], 'rabbit_password_hashing_md5');
    first.users.add('app', 'pw');
    first.users.changePassword('app', 'pw2');
    first.users.setTags('app', ['monitoring']);
    first.addVhost('v', { description: 'desc', tags: ['t'] });
    first.users.setPermissions('app', 'v', ALL);
    first.users.setPermissions('app', '/', ALL);
    first.users.clearPermissions('app', '/');
    first.users.setTopicPermissions('app', 'v', { exchange: 'amq.topic', write: 'w', read: 'r' });
    first.users.setTopicPermissions('app', 'v', { exchange: 'other', write: 'w', read: 'r' });
    first.users.clearTopicPermissions('app', 'v', 'other');
    first.users.setPermissions('guest', 'v', ALL);
    first.deleteUser('guest');
    await first.close();

    const second = new Broker({ store });
    await second.start();
    expect(second.authenticate('old', 'md5pw', true).hashingAlgorithm).toBe('rabbit_password_hashing_md5');
    expect(() => second.authenticate('app', 'pw', true)).toThrow(/Login was refused/);
    expect(second.authenticate('app', 'pw2', true).tags).toEqual(['monitoring']);
    expect(second.vhosts.get('v')?.metadata).toEqual({
      description: 'desc',
      tags: ['t'],
      defaultQueueType: undefined,
    });
    expect(second.users.listPermissions()).toEqual([{ user: 'app', vhost: 'v', permission: ALL }]);
    expect(second.users.listTopicPermissions()).toEqual([
      { user: 'app', vhost: 'v', exchange: 'amq.topic', write: 'w', read: 'r' },
    ]);
    expect(second.users.get('guest')).toBeUndefined();
    await second.close();
  });
});
