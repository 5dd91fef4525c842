import { checkPassword, hashPassword, isLoopbackAddress, type Broker } from '@warren/core';
import { CoreClient, startBroker } from '@warren/testkit';

describe('users and permissions', () => {
  let broker: Broker;

  beforeEach(async () => {
    broker = await startBroker();
    broker.addVhost('prod');
    broker.users.add('app', 'pw');
    broker.users.setPermissions('app', '/', {
      configure: '^app\\.',
      write: '^(app\\.|amq\\.default$)',
      read: '^app\\.',
    });
  });
  afterEach(() => broker.close());

  test('passwords are stored as salted SHA-256 and checked in constant time', () => {
    const h = hashPassword('secret');
    expect(Buffer.from(h, 'base64')).toHaveLength(36);
    expect(hashPassword('secret')).not.toBe(h); // a fresh salt each time
    expect(checkPassword('secret', h)).toBe(true);
    expect(checkPassword('Secret', h)).toBe(false);
    expect(checkPassword('secret', 'garbage')).toBe(false);
  });

  test('a wrong password or unknown user is ACCESS_REFUSED at connection scope', () => {
    for (const [u, p] of [
      ['app', 'nope'],
      ['nobody', 'pw'],
    ] as const) {
      expect(() => broker.authenticate(u, p, true)).toThrow(
        expect.objectContaining({ code: 'ACCESS_REFUSED', scope: 'connection', replyCode: 403 }),
      );
    }
  });

  test('guest may log in only from loopback, other users from anywhere', () => {
    expect(() => broker.authenticate('guest', 'guest', true)).not.toThrow();
    expect(() => broker.authenticate('guest', 'guest', false)).toThrow(
      "user 'guest' can only connect via localhost",
    );
    expect(() => broker.authenticate('app', 'pw', false)).not.toThrow();
  });

  test('a login vouched for by a certificate (EXTERNAL) needs an existing user, not a password', () => {
    expect(broker.authenticateExternal('app', false).name).toBe('app');
    expect(() => broker.authenticateExternal('nobody', true)).toThrow(
      expect.objectContaining({
        code: 'ACCESS_REFUSED',
        message:
          'Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile.',
      }),
    );
    // loopback_users holds for it as for a password login.
    expect(() => broker.authenticateExternal('guest', false)).toThrow(
      "user 'guest' can only connect via localhost",
    );
    expect(broker.authenticateExternal('guest', true).name).toBe('guest');
  });

  test('opening a vhost without permissions, or a missing vhost, is NOT_ALLOWED', () => {
    const user = broker.authenticate('app', 'pw', true);
    const info = { protocol: 'test', remoteAddress: '127.0.0.1', remotePort: 0 };
    expect(() => broker.connect(user, 'prod', info)).toThrow("access to vhost 'prod' refused for user 'app'");
    expect(() => broker.connect(user, 'nope', info)).toThrow(
      expect.objectContaining({ code: 'NOT_ALLOWED', replyCode: 530 }),
    );
    broker.users.setPermissions('app', 'prod', { configure: '.*', write: '.*', read: '.*' });
    expect(() => broker.connect(user, 'prod', info)).not.toThrow();
  });

  test('configure, write and read are checked per resource, as RabbitMQ names them', () => {
    const c = new CoreClient(broker, { user: 'app', password: 'pw' });
    const flags = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
    expect(() => c.channel.queueDeclare('app.jobs', flags)).not.toThrow();
    expect(() => c.channel.queueDeclare('other', flags)).toThrow(
      "access to queue 'other' in vhost '/' refused for user 'app'",
    );
    // publishing to the default exchange is a write on amq.default
    expect(() => c.publish('', 'app.jobs', 'x')).not.toThrow();
    expect(() => c.publish('amq.fanout', '', 'x')).toThrow(
      "access to exchange 'amq.fanout' in vhost '/' refused for user 'app'",
    );
    // binding needs write on the queue and read on the exchange
    expect(() => c.channel.queueBind('app.jobs', 'amq.direct', 'k')).toThrow(
      "access to exchange 'amq.direct' in vhost '/' refused for user 'app'",
    );
    expect(() => c.consume('app.jobs')).not.toThrow();
    const admin = new CoreClient(broker);
    admin.declareQueue('private');
    expect(() => c.get('private', true)).toThrow(
      expect.objectContaining({ code: 'ACCESS_REFUSED', scope: 'channel' }),
    );
  });

  test('an empty permission regex grants nothing; regexes are unanchored', () => {
    broker.users.setPermissions('app', '/', { configure: '', write: 'app', read: '' });
    const c = new CoreClient(broker, { user: 'app', password: 'pw' });
    expect(() =>
      c.channel.queueDeclare('app', { durable: false, exclusive: false, autoDelete: false, arguments: {} }),
    ).toThrow(/refused/);
    const admin = new CoreClient(broker);
    admin.channel.exchangeDeclare('my-app-events', 'fanout', {
      durable: false,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    expect(() => c.publish('my-app-events', '', 'x')).not.toThrow();
  });
});

test('an invalid permission regex is refused with a clear error', async () => {
  const broker = await startBroker();
  expect(() =>
    broker.users.setPermissions('guest', '/', { configure: '(', write: '.*', read: '.*' }),
  ).toThrow("invalid permission regular expression '('");
  await broker.close();
});

describe('isLoopbackAddress (loopback_users may log in only from there)', () => {
  test.each(['127.0.0.1', '127.10.20.30', '::1', '::ffff:127.0.0.1'])('%s is loopback', (address) => {
    expect(isLoopbackAddress(address)).toBe(true);
  });
  test.each(['10.0.0.1', '::ffff:10.0.0.1', '::2', '1270.0.0.1', '127.0.0.1.example.com', ''])(
    '%s is not',
    (address) => {
      expect(isLoopbackAddress(address)).toBe(false);
    },
  );
  test('an in-memory transport (no address) is not', () => {
    expect(isLoopbackAddress(undefined)).toBe(false);
  });
});
