import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { defaultConfig, startServer, type ServerHandle, type WarrenConfig } from '@warren/server';
import { RawClient } from '../stomp-clients/support';
import { RecordingLogger } from '../support/recording-logger';

// A definitions file exported from a real RabbitMQ 3.10 (see fixtures/README.md) loads into Warren: its users
// log in with their passwords over AMQP and STOMP, its queues exist with their arguments, its bindings route,
// and all of it survives a restart on the journal.

const FIXTURE = join(__dirname, 'fixtures', 'rabbitmq-3.10-definitions.json');

let dataDir: string;
let server: ServerHandle | undefined;

async function start(logger?: RecordingLogger): Promise<ServerHandle> {
  const config: WarrenConfig = defaultConfig();
  config.dataDir = dataDir;
  for (const l of [config.amqp, config.stomp, config.ws, config.http, config.prometheus]) {
    l.port = 0;
    l.host = '127.0.0.1';
  }
  server = await startServer(config, logger === undefined ? {} : { logger });
  return server;
}

function portOf(s: ServerHandle, name: string): number {
  return s.listeners.find((l) => l.name === name)?.address.port ?? 0;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warren-defs-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

test("RabbitMQ's export: users log in over AMQP and STOMP, queues keep their arguments, bindings route", async () => {
  const logger = new RecordingLogger();
  const s = await start(logger);
  const defs: unknown = JSON.parse(await readFile(FIXTURE, 'utf8'));
  s.broker.importDefinitions(defs);
  // The file's policy is accepted and reported as ignored.
  expect(logger.lines.some((l) => l.msg === 'definitions: policies ignored (Warren has none yet)')).toBe(
    true,
  );

  const amqpPort = portOf(s, 'amqp');
  const alice = await amqp.connect(`amqp://alice:alice-secret@127.0.0.1:${amqpPort}/fixture`);
  const ch = await alice.createConfirmChannel();
  ch.publish('orders', 'order.eu.42', Buffer.from('an order'));
  await ch.waitForConfirms();
  const got = await ch.get('orders.eu', { noAck: true });
  expect(got && got.content.toString()).toBe('an order');
  // The queue's arguments came along: a client declaring them again is fine, one with another is refused.
  const args = { 'x-message-ttl': 60000, 'x-dead-letter-exchange': 'orders.dlx', 'x-max-length': 1000 };
  await expect(ch.assertQueue('orders.eu', { durable: true, arguments: args })).resolves.toBeDefined();
  const check = await alice.createChannel();
  const refused = new Promise<Error>((resolve) => check.on('error', resolve));
  const other = { ...args, 'x-max-length': 5 };
  check.assertQueue('orders.eu', { durable: true, arguments: other }).catch(() => {});
  expect((await refused).message).toMatch(/inequivalent arg 'x-max-length'/);
  const queue = s.broker.vhosts.get('fixture')?.queues.get('orders.eu');
  expect(queue?.options.arguments).toEqual({
    'x-dead-letter-exchange': 'orders.dlx',
    'x-max-length': 1000,
    'x-message-ttl': 60000,
  });
  await alice.close();

  // bob's password works over STOMP; his topic permission from the file is enforced.
  const bob = await RawClient.open(portOf(s, 'stomp'));
  bob.frame('CONNECT', { 'accept-version': '1.2', host: 'fixture', login: 'bob', passcode: 'bob-secret' });
  await bob.next('CONNECTED');
  bob.frame('SEND', { destination: '/topic/public.hello', receipt: 'ok' }, 'hi');
  await bob.next('RECEIPT');
  bob.frame('SEND', { destination: '/topic/private.hello' }, 'no');
  expect((await bob.next('ERROR')).body.toString()).toBe(
    "ACCESS_REFUSED - write access to topic 'private.hello' in exchange 'amq.topic' in vhost 'fixture' refused for user 'bob'",
  );
  await bob.waitClosed();
  await expect(amqp.connect(`amqp://bob:wrong@127.0.0.1:${amqpPort}/fixture`)).rejects.toThrow(
    /ACCESS.REFUSED/,
  );
});

test('imported definitions survive a restart on the journal, and importing the file again changes nothing', async () => {
  const first = await start();
  const defs: unknown = JSON.parse(await readFile(FIXTURE, 'utf8'));
  first.broker.importDefinitions(defs);
  const exported = JSON.stringify(first.broker.exportDefinitions());
  await first.close();

  const second = await start();
  expect(JSON.stringify(second.broker.exportDefinitions())).toBe(exported);
  second.broker.importDefinitions(defs);
  expect(JSON.stringify(second.broker.exportDefinitions())).toBe(exported);
  const alice = await amqp.connect(`amqp://alice:alice-secret@127.0.0.1:${portOf(second, 'amqp')}/fixture`);
  const ch = await alice.createChannel();
  await expect(ch.checkQueue('orders.dead')).resolves.toMatchObject({ queue: 'orders.dead' });
  await alice.close();
});
