import { startBrokerChild } from './broker-child';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { RawClient } from '../stomp-clients/support';
import { startDurableBroker, type DurableBroker } from './durable-broker';

/*
 * Quorum queues over the wire, on a journal: declared from AMQP and from STOMP headers, refused as RabbitMQ
 * refuses them, x-delivery-limit and x-delivery-count seen by real clients, and every message kept (transient
 * ones too) across a clean restart and a kill -9.
 */
const QUORUM = { 'x-queue-type': 'quorum' };

let dir: string;
let broker: DurableBroker | undefined;
const connections: ChannelModel[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-quorum-'));
});
afterEach(async () => {
  for (const c of connections.splice(0)) await c.close().catch(() => {});
  await broker?.close();
  broker = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function confirmChannel(port: number): Promise<ConfirmChannel> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  conn.on('error', () => {});
  connections.push(conn);
  const ch = await conn.createConfirmChannel();
  ch.on('error', () => {});
  return ch;
}

/** Declares `queue` with `args` on a fresh channel and returns the server's close text, or 'ok'. */
async function declareOutcome(port: number, options: amqp.Options.AssertQueue): Promise<string> {
  const ch = await confirmChannel(port);
  try {
    await ch.assertQueue('q', options);
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('quorum queues over AMQP', () => {
  test('declared durable from amqplib; non-durable, exclusive, auto-delete and priorities refused with 406', async () => {
    broker = await startDurableBroker(dir);
    const port = broker.amqpPort;
    expect(await declareOutcome(port, { durable: false, arguments: QUORUM })).toMatch(
      /PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '\/'/,
    );
    expect(await declareOutcome(port, { durable: true, exclusive: true, arguments: QUORUM })).toMatch(
      /PRECONDITION_FAILED - invalid property 'exclusive-owner'/,
    );
    expect(await declareOutcome(port, { durable: true, autoDelete: true, arguments: QUORUM })).toMatch(
      /PRECONDITION_FAILED - invalid property 'auto-delete'/,
    );
    expect(
      await declareOutcome(port, { durable: true, arguments: { ...QUORUM, 'x-max-priority': 5 } }),
    ).toMatch(/invalid arg 'x-max-priority' for queue 'q' in vhost '\/' of queue type rabbit_quorum_queue/);
    expect(await declareOutcome(port, { durable: true, arguments: QUORUM })).toBe('ok');
    const ch = await confirmChannel(port);
    expect(await ch.checkQueue('q')).toMatchObject({ queue: 'q', messageCount: 0 });
  });

  test('a poison message is redelivered with x-delivery-count, then dead-lettered past x-delivery-limit', async () => {
    broker = await startDurableBroker(dir);
    const ch = await confirmChannel(broker.amqpPort);
    await ch.assertQueue('poison-dlq', { durable: true });
    await ch.assertQueue('jobs', {
      durable: true,
      arguments: { ...QUORUM, 'x-delivery-limit': 2 },
      deadLetterExchange: '',
      deadLetterRoutingKey: 'poison-dlq',
    });
    ch.sendToQueue('jobs', Buffer.from('crash me'));
    await ch.waitForConfirms();
    await ch.prefetch(1);
    const seen: (number | undefined)[] = [];
    await ch.consume('jobs', (m) => {
      if (m === null) return;
      seen.push(m.properties.headers?.['x-delivery-count'] as number | undefined);
      ch.nack(m, false, true);
    });
    let dead: amqp.GetMessage | false = false;
    const deadline = Date.now() + 5000;
    while (dead === false && Date.now() < deadline) dead = await ch.get('poison-dlq', { noAck: true });
    expect(dead).not.toBe(false);
    expect(seen).toEqual([undefined, 1, 2]);
    const deaths = (dead as amqp.GetMessage).properties.headers?.['x-death'];
    expect(deaths?.[0]).toMatchObject({ queue: 'jobs', reason: 'delivery_limit', count: 1 });
  });

  test('transient messages in a quorum queue survive a clean restart, in order', async () => {
    broker = await startDurableBroker(dir);
    let ch = await confirmChannel(broker.amqpPort);
    await ch.assertQueue('kept', { durable: true, arguments: QUORUM });
    for (let i = 0; i < 100; i++) ch.sendToQueue('kept', Buffer.from(String(i)), { deliveryMode: 1 });
    await ch.waitForConfirms();
    for (const c of connections.splice(0)) await c.close();
    await broker.close();

    broker = await startDurableBroker(dir);
    ch = await confirmChannel(broker.amqpPort);
    expect((await ch.checkQueue('kept')).messageCount).toBe(100);
    const got: number[] = [];
    for (;;) {
      const m = await ch.get('kept', { noAck: true });
      if (m === false) break;
      got.push(Number(m.content.toString()));
    }
    expect(got).toEqual([...Array(100).keys()]);
  });
});

describe('quorum queues over STOMP', () => {
  test("RabbitMQ's x_queue_type_quorum scenario: a durable topic subscription on a named quorum queue gets an AMQP publish", async () => {
    broker = await startDurableBroker(dir);
    const stomp = await RawClient.open(broker.stompPort);
    try {
      stomp.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
      await stomp.next('CONNECTED');
      stomp.frame('SUBSCRIBE', {
        destination: '/topic/quorum-queue-test',
        'x-queue-name': 'my-quorum-queue',
        'x-queue-type': 'quorum',
        durable: 'True',
        'auto-delete': 'False',
        id: '1234',
        receipt: 'sub',
      });
      await stomp.next('RECEIPT');
      const ch = await confirmChannel(broker.amqpPort);
      expect(await ch.checkQueue('my-quorum-queue')).toMatchObject({ consumerCount: 1 });
      ch.publish('', 'my-quorum-queue', Buffer.from('Hello World!'));
      await ch.waitForConfirms();
      const msg = await stomp.next('MESSAGE');
      expect(msg.body.toString()).toBe('Hello World!');
      expect(stomp.frames.filter((f) => f.command === 'ERROR')).toEqual([]);
      expect(broker.broker.getVhost('/')!.queues.get('my-quorum-queue')!.settings.type).toBe('quorum');
    } finally {
      stomp.close();
    }
  });

  test('a quorum queue refused from STOMP headers is an ERROR naming the rule', async () => {
    broker = await startDurableBroker(dir);
    const stomp = await RawClient.open(broker.stompPort);
    try {
      stomp.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
      await stomp.next('CONNECTED');
      // A non-durable topic subscription is exclusive and auto-delete: no quorum queue can be that.
      stomp.frame('SUBSCRIBE', { destination: '/topic/t', 'x-queue-type': 'quorum', id: '1' });
      const error = await stomp.next('ERROR');
      expect(error.headers.get('message')).toMatch(/PRECONDITION_FAILED|precondition/i);
      expect(error.body.toString()).toMatch(/invalid property 'auto-delete'/);
    } finally {
      stomp.close();
    }
  });
});

test('kill -9 during publishes to a quorum queue: every confirmed transient message is there, in order, once', async () => {
  let child = await startBrokerChild(dir);
  const ch = await confirmChannel(child.amqpPort);
  await ch.assertQueue('qq', { durable: true, arguments: QUORUM });
  for (let i = 0; i < 2000; i++) ch.sendToQueue('qq', Buffer.from(String(i)), { deliveryMode: 1 });
  await ch.waitForConfirms();
  // More in flight, unconfirmed, when the process dies.
  for (let i = 2000; i < 2200; i++) ch.sendToQueue('qq', Buffer.from(String(i)), { deliveryMode: 1 });
  child.proc.kill('SIGKILL');
  await child.exited;
  for (const c of connections.splice(0)) await c.close().catch(() => {});

  child = await startBrokerChild(dir);
  try {
    const after = await confirmChannel(child.amqpPort);
    const got: number[] = [];
    for (;;) {
      const m = await after.get('qq', { noAck: true });
      if (m === false) break;
      got.push(Number(m.content.toString()));
    }
    expect(got.slice(0, 2000)).toEqual([...Array(2000).keys()]);
    // Whatever of the unconfirmed tail made it is in order and not duplicated.
    expect(got.slice(2000)).toEqual([...Array(got.length - 2000).keys()].map((i) => 2000 + i));
  } finally {
    for (const c of connections.splice(0)) await c.close().catch(() => {});
    child.proc.kill('SIGKILL');
    await child.exited;
  }
});
