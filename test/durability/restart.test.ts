import amqp, { type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { RawClient } from '../stomp-clients/support';
import { startDurableBroker, type DurableBroker } from './durable-broker';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string;
let broker: DurableBroker | undefined;
let conn: ChannelModel | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-durability-'));
});
afterEach(async () => {
  await conn?.close().catch(() => {});
  conn = undefined;
  await broker?.close();
  broker = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function connect(b: DurableBroker): Promise<ConfirmChannel> {
  conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.amqpPort}`);
  conn.on('error', () => {});
  const ch = await conn.createConfirmChannel();
  // A channel closed by the server (404 on a passive declare) is an expected outcome here, not a crash.
  ch.on('error', () => {});
  return ch;
}

async function restart(): Promise<DurableBroker> {
  await conn?.close().catch(() => {});
  conn = undefined;
  await broker?.close();
  broker = await startDurableBroker(dir);
  return broker;
}

/** Sends a STOMP frame with a receipt and waits for it: the receipt of a persistent SEND means "on disk". */
async function stompSend(
  port: number,
  destination: string,
  body: string,
  persistent: boolean,
): Promise<void> {
  const c = await RawClient.open(port);
  try {
    c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    await c.next('CONNECTED');
    const headers: Record<string, string> = { destination, receipt: 'r1' };
    if (persistent) headers['persistent'] = 'true';
    c.frame('SEND', headers, body);
    await c.next('RECEIPT');
  } finally {
    c.close();
  }
}

async function drain(ch: ConfirmChannel, queue: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: false });
    if (m === false) return out;
    out.push(m);
  }
}

describe('a restart keeps what is durable and only that', () => {
  it('restores durable topology and persistent messages in order, an unacked one redelivered', async () => {
    broker = await startDurableBroker(dir);
    let ch = await connect(broker);
    await ch.assertExchange('orders', 'topic', { durable: true });
    await ch.assertQueue('orders.eu', { durable: true });
    await ch.bindQueue('orders.eu', 'orders', 'eu.#');
    await ch.assertExchange('scratch', 'fanout', { durable: false });
    await ch.assertQueue('scratch.q', { durable: false });
    await ch.bindQueue('scratch.q', 'orders', 'eu.#');
    for (let i = 1; i <= 5; i++) {
      ch.publish('orders', 'eu.de', Buffer.from(`amqp-${i}`), { persistent: true, messageId: `m${i}` });
    }
    ch.publish('orders', 'eu.fr', Buffer.from('transient'), { persistent: false });
    await ch.waitForConfirms();
    await stompSend(broker.stompPort, '/amq/queue/orders.eu', 'stomp-persistent', true);
    await stompSend(broker.stompPort, '/amq/queue/orders.eu', 'stomp-transient', false);

    // The first message is delivered and left unacked when the broker goes down.
    const first = await ch.get('orders.eu', { noAck: false });
    expect(first !== false && first.content.toString()).toBe('amqp-1');

    broker = await restart();
    ch = await connect(broker);
    await ch.checkExchange('orders');
    await ch.checkQueue('orders.eu');
    const got = await drain(ch, 'orders.eu');
    expect(got.map((m) => m.content.toString())).toEqual([
      'amqp-1',
      'amqp-2',
      'amqp-3',
      'amqp-4',
      'amqp-5',
      'stomp-persistent',
    ]);
    expect(got.map((m) => m.fields.redelivered)).toEqual([true, false, false, false, false, false]);
    expect(got[1]?.properties.messageId).toBe('m2');
    expect(got[1]?.properties.deliveryMode).toBe(2);

    // The binding survived: a new publish to the exchange still reaches the queue.
    ch.publish('orders', 'eu.it', Buffer.from('after-restart'), { persistent: true });
    await ch.waitForConfirms();
    expect((await drain(ch, 'orders.eu')).map((m) => m.content.toString())).toEqual(['after-restart']);

    // Non-durable objects are gone.
    await expect(ch.checkQueue('scratch.q')).rejects.toThrow(/404/);
    ch = await (conn as ChannelModel).createConfirmChannel();
    ch.on('error', () => {});
    await expect(ch.checkExchange('scratch')).rejects.toThrow(/404/);
  });

  it('forgets acknowledged messages and keeps the rest across two restarts', async () => {
    broker = await startDurableBroker(dir);
    let ch = await connect(broker);
    await ch.assertQueue('work', { durable: true });
    for (let i = 1; i <= 20; i++) ch.sendToQueue('work', Buffer.from(String(i)), { persistent: true });
    await ch.waitForConfirms();
    const got = await drain(ch, 'work');
    for (const m of got.slice(0, 15)) ch.ack(m);
    // amqplib sends connection.close ahead of channel frames still queued, so acks are flushed by closing
    // their channel first (close-ok comes after the server has read them).
    await ch.close();

    broker = await restart();
    broker = await restart();
    ch = await connect(broker);
    const left = await drain(ch, 'work');
    expect(left.map((m) => m.content.toString())).toEqual(['16', '17', '18', '19', '20']);
    expect(left.every((m) => m.fields.redelivered)).toBe(true);
  });
});
