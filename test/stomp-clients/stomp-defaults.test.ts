import amqp from 'amqplib';
import type { WarrenConfig } from '@warren/server';
import { startWarren, type TestBroker } from '../support/warren';
import { RawClient } from './support';

// The stomp.* settings of `warren start` (rabbitmq.conf's stomp.default_user, stomp.default_vhost and
// stomp.implicit_connect), over a real socket to the whole server.

let broker: TestBroker | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await broker?.close();
  broker = undefined;
});

async function start(configure: (config: WarrenConfig) => void): Promise<TestBroker> {
  broker = await startWarren(configure);
  return broker;
}

async function open(b: TestBroker): Promise<RawClient> {
  const c = await RawClient.open(b.stompPort);
  clients.push(c);
  return c;
}

describe('stomp.implicit_connect', () => {
  test('a first SEND is taken as from the default user: no CONNECTED, its receipt, then normal service', async () => {
    const b = await start((c) => {
      c.stomp.implicitConnect = true;
    });
    const client = await open(b);
    client.frame('SEND', { destination: '/queue/implicit', receipt: 'sent' }, 'no CONNECT needed');
    expect((await client.next('RECEIPT')).headers.get('receipt-id')).toBe('sent');
    client.frame('SUBSCRIBE', { destination: '/queue/implicit', id: 'sub' });
    const message = await client.next('MESSAGE');
    expect(message.body.toString()).toBe('no CONNECT needed');
    expect(client.frames.map((f) => f.command)).toEqual(['RECEIPT', 'MESSAGE']);
  });

  test('a first SUBSCRIBE works too, and CONNECT afterwards is refused as a second login', async () => {
    const b = await start((c) => {
      c.stomp.implicitConnect = true;
    });
    const client = await open(b);
    client.frame('SUBSCRIBE', { destination: '/queue/first', id: 'sub', receipt: 'subscribed' });
    await client.next('RECEIPT');
    client.frame('CONNECT', { login: 'guest', passcode: 'guest' });
    const error = await client.next('ERROR');
    expect(error.headers.get('message')).toBe('Unexpected frame');
  });

  test('when the default user cannot log in, the first frame gets ERROR and the connection closes', async () => {
    const b = await start((c) => {
      c.stomp.implicitConnect = true;
      c.stomp.defaultUser = { name: 'guest', password: 'wrong' };
    });
    const client = await open(b);
    client.frame('SEND', { destination: '/queue/x' }, 'refused');
    const error = await client.next('ERROR');
    expect(error.headers.get('message')).toBe('Bad CONNECT');
    await client.waitClosed();
  });

  test('off (the default), a first frame other than CONNECT is refused', async () => {
    const b = await start(() => {});
    const client = await open(b);
    client.frame('SEND', { destination: '/queue/x' }, 'too early');
    const error = await client.next('ERROR');
    expect(error.headers.get('message')).toBe('Illegal command');
    await client.waitClosed();
  });
});

describe('stomp.default_user', () => {
  test('a CONNECT without login logs in as the configured user (guest does not exist here)', async () => {
    const b = await start((c) => {
      c.defaultUser = { ...c.defaultUser, name: 'stomper', password: 'secret' };
      c.stomp.defaultUser = { name: 'stomper', password: 'secret' };
    });
    const client = await open(b);
    client.frame('CONNECT', { 'accept-version': '1.2', host: '/' });
    expect((await client.next('CONNECTED')).headers.get('version')).toBe('1.2');
  });
});

describe('stomp.default_vhost', () => {
  test('a CONNECT without a host header opens the configured vhost, where AMQP clients see its messages', async () => {
    const b = await start((c) => {
      c.defaultUser.vhost = '/stomp';
      c.stomp.defaultVhost = '/stomp';
    });
    const amqpConnection = await amqp.connect({
      hostname: b.host,
      port: b.amqpPort,
      username: 'guest',
      password: 'guest',
      vhost: '/stomp',
    });
    try {
      const channel = await amqpConnection.createChannel();
      await channel.assertQueue('inbox', { durable: false });
      const client = await open(b);
      client.frame('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest' });
      await client.next('CONNECTED');
      client.frame('SEND', { destination: '/amq/queue/inbox', receipt: 'r' }, 'to /stomp');
      await client.next('RECEIPT');
      const got = await channel.get('inbox', { noAck: true });
      expect(got === false ? undefined : got.content.toString()).toBe('to /stomp');
    } finally {
      await amqpConnection.close();
    }
  });
});
