import amqp, { type ChannelModel } from 'amqplib';
import type { Broker } from '@warren/core';
import { RawClient } from '../stomp-clients/support';
import { RawWsClient } from '../stomp-ws/support';
import { startWarren, type TestBroker } from '../support/warren';

// Live administration seen from real clients: amqplib over AMQP and a raw STOMP socket, against Warren's own
// listeners. What an operator changes in the core (permissions, users, a forced close) reaches an open
// connection at its next operation, in RabbitMQ's words.

const ALL = { configure: '.*', write: '.*', read: '.*' };

let server: TestBroker;
let broker: Broker;

beforeAll(async () => {
  server = await startWarren();
  broker = server.server!.broker;
});
afterAll(() => server.close());

function amqpUrl(user: string, password: string): string {
  return `amqp://${user}:${password}@${server.host}:${server.amqpPort}`;
}

/** Runs `op` on a fresh channel and returns the error that closed it. */
async function channelError(conn: ChannelModel, op: (ch: amqp.Channel) => Promise<unknown>): Promise<Error> {
  const ch = await conn.createChannel();
  const closed = new Promise<Error>((resolve) => ch.on('error', resolve));
  await op(ch).catch(() => {});
  return closed;
}

/**
 * An amqplib connection and the error its 'close' event carries: amqplib reports a server's connection.close
 * there (and 320 CONNECTION_FORCED, which it does not count as fatal, nowhere else).
 */
async function openAmqp(
  user: string,
  password: string,
): Promise<{ conn: ChannelModel; closed: Promise<Error | undefined> }> {
  const conn = await amqp.connect(amqpUrl(user, password));
  conn.on('error', () => {});
  const closed = new Promise<Error | undefined>((resolve) => conn.on('close', resolve));
  return { conn, closed };
}

async function openStomp(login: string, passcode: string): Promise<RawClient> {
  const c = await RawClient.open(server.stompPort);
  c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login, passcode });
  await c.next('CONNECTED');
  return c;
}

let seq = 0;
/** A fresh user with all permissions on '/', so tests do not share state. */
function freshUser(): string {
  const name = `user${++seq}`;
  broker.users.add(name, 'pw');
  broker.users.setPermissions(name, '/', ALL);
  return name;
}

test('no configure right on a queue: 403 over AMQP (queue.declare) and an ERROR over STOMP (SUBSCRIBE)', async () => {
  const user = freshUser();
  broker.users.setPermissions(user, '/', { configure: '^mine\\.', write: '.*', read: '.*' });
  const { conn } = await openAmqp(user, 'pw');
  const err = await channelError(conn, (ch) => ch.assertQueue('theirs'));
  expect(err.message).toContain(
    `403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - access to queue 'theirs' in vhost '/' refused for user '${user}'"`,
  );
  await conn.close();

  const stomp = await openStomp(user, 'pw');
  stomp.frame('SUBSCRIBE', { id: '1', destination: '/queue/theirs' });
  const error = await stomp.next('ERROR');
  expect(error.headers.get('message')).toBe('access_refused');
  expect(error.body.toString()).toBe(
    `ACCESS_REFUSED - access to queue 'theirs' in vhost '/' refused for user '${user}'`,
  );
  await stomp.waitClosed();
});

test('a topic permission refuses a STOMP SEND to /topic/secret.x and a SUBSCRIBE to /topic/secret.#, allows others', async () => {
  const user = freshUser();
  broker.users.setTopicPermissions(user, '/', {
    exchange: 'amq.topic',
    write: '^public\\.',
    read: '^public\\.',
  });
  const reader = await openStomp(user, 'pw');
  reader.frame('SUBSCRIBE', { id: 'pub', destination: '/topic/public.#', receipt: 'r1' });
  await reader.next('RECEIPT');
  const writer = await openStomp(user, 'pw');
  writer.frame('SEND', { destination: '/topic/public.news', receipt: 'r2' }, 'hello');
  await writer.next('RECEIPT');
  expect((await reader.next('MESSAGE')).body.toString()).toBe('hello');

  writer.frame('SEND', { destination: '/topic/secret.x' }, 'psst');
  const refusedSend = await writer.next('ERROR');
  expect(refusedSend.body.toString()).toBe(
    `ACCESS_REFUSED - write access to topic 'secret.x' in exchange 'amq.topic' in vhost '/' refused for user '${user}'`,
  );
  reader.frame('SUBSCRIBE', { id: 'sec', destination: '/topic/secret.#' });
  const refusedSubscribe = await reader.next('ERROR');
  expect(refusedSubscribe.body.toString()).toBe(
    `ACCESS_REFUSED - read access to topic 'secret.#' in exchange 'amq.topic' in vhost '/' refused for user '${user}'`,
  );
  await Promise.all([reader.waitClosed(), writer.waitClosed()]);
});

test('a permission change applies to an open AMQP connection at its next operation', async () => {
  const user = freshUser();
  const { conn } = await openAmqp(user, 'pw');
  const ch = await conn.createChannel();
  await ch.assertQueue('live-perm', { exclusive: true });
  broker.users.setPermissions(user, '/', { configure: '', write: '.*', read: '.*' });
  const err = await channelError(conn, (c) => c.assertQueue('live-perm-2', { exclusive: true }));
  expect(err.message).toMatch(/ACCESS_REFUSED - access to queue 'live-perm-2'/);
  // Given back, the same connection may declare again.
  broker.users.setPermissions(user, '/', ALL);
  const again = await conn.createChannel();
  await expect(again.assertQueue('live-perm-2', { exclusive: true })).resolves.toMatchObject({
    queue: 'live-perm-2',
  });
  await conn.close();
});

test("deleting a user closes its AMQP (320) and STOMP (ERROR) connections with RabbitMQ's reason", async () => {
  const user = freshUser();
  const bystander = freshUser();
  const { closed } = await openAmqp(user, 'pw');
  const stomp = await openStomp(user, 'pw');
  const other = await openAmqp(bystander, 'pw');
  expect(broker.deleteUser(user)).toBe(true);
  const err = (await closed) as (Error & { code?: number }) | undefined;
  expect(err?.code).toBe(320);
  expect(err?.message).toContain(`CONNECTION_FORCED - user '${user}' is deleted`);
  const error = await stomp.next('ERROR');
  expect(error.headers.get('message')).toBe('connection_forced');
  expect(error.body.toString()).toBe(`CONNECTION_FORCED - user '${user}' is deleted`);
  await stomp.waitClosed();
  // Someone else's connection carries on, and the deleted user cannot come back.
  await expect(other.conn.createChannel()).resolves.toBeDefined();
  await other.conn.close();
  await expect(amqp.connect(amqpUrl(user, 'pw'))).rejects.toThrow(/ACCESS_REFUSED/);
});

test('forceClose from the core: amqplib sees 320 and the reason, a STOMP client an ERROR carrying it', async () => {
  const user = freshUser();
  const { conn, closed } = await openAmqp(user, 'pw');
  // The connection's name is RabbitMQ's, from both ends of the client's own socket.
  const socket = (conn.connection as unknown as { stream: { localPort: number } }).stream;
  const name = `127.0.0.1:${socket.localPort} -> 127.0.0.1:${server.amqpPort}`;
  const core = broker.findConnection(name);
  expect(core?.user.name).toBe(user);
  core?.forceClose('Closed via management plugin');
  const err = (await closed) as (Error & { code?: number }) | undefined;
  expect(err?.code).toBe(320);
  expect(err?.message).toContain('CONNECTION_FORCED - Closed via management plugin');
  expect(broker.findConnection(name)).toBeUndefined();

  const stomp = await openStomp(user, 'pw');
  const stompCore = [...broker.connections.values()].find(
    (c) => c.info.protocol === 'stomp' && c.user.name === user,
  );
  expect(stompCore?.name).toMatch(
    new RegExp(`^127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${server.stompPort}$`),
  );
  stompCore?.forceClose('maintenance window');
  const error = await stomp.next('ERROR');
  expect(error.headers.get('message')).toBe('connection_forced');
  expect(error.body.toString()).toBe('CONNECTION_FORCED - maintenance window');
  await stomp.waitClosed();
});

test('forceClose of a Web-STOMP connection: the ERROR with the reason, then the WebSocket closes', async () => {
  const user = freshUser();
  const client = await RawWsClient.connected(`ws://${server.host}:${server.wsPort}/ws`, {
    login: user,
    passcode: 'pw',
  });
  const core = [...broker.connections.values()].find(
    (c) => c.info.protocol === 'stomp-ws' && c.user.name === user,
  );
  expect(core?.name).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${server.wsPort}$`));
  core?.forceClose('Closed via management plugin');
  const error = await client.next('ERROR');
  expect(error.headers.get('message')).toBe('connection_forced');
  expect(error.body.toString()).toBe('CONNECTION_FORCED - Closed via management plugin');
  await client.waitClosed();
});

test('a permission change applies to an open STOMP connection at its next frame', async () => {
  const user = freshUser();
  const stomp = await openStomp(user, 'pw');
  stomp.frame('SEND', { destination: '/queue/live-stomp', receipt: 'first' }, 'one');
  await stomp.next('RECEIPT');
  broker.users.setPermissions(user, '/', { configure: '.*', write: '', read: '.*' });
  stomp.frame('SEND', { destination: '/queue/live-stomp' }, 'two');
  expect((await stomp.next('ERROR')).body.toString()).toBe(
    `ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user '${user}'`,
  );
  await stomp.waitClosed();
});

test('per-connection traffic counters move with real traffic', async () => {
  const user = freshUser();
  const { conn } = await openAmqp(user, 'pw');
  const ch = await conn.createConfirmChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.from('counted'));
  await ch.waitForConfirms();
  const core = [...broker.connections.values()].find((c) => c.user.name === user);
  expect(core?.stats.published).toBe(1);
  expect(core?.stats.recvOct).toBeGreaterThan(0);
  expect(core?.stats.sendOct).toBeGreaterThan(0);
  expect(core?.stats.recvCnt).toBeGreaterThan(0);
  await conn.close();
});
