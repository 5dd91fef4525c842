/**
 * An exception while serving one connection closes that connection and nothing else. The broker is made to
 * fail on purpose (a delivery sink of one client's connection throws) and real clients around it check that
 * they never notice.
 */
import amqp, { type ChannelModel } from 'amqplib';
import type { AmqpConnection, AmqpListener } from '@warren/amqp';
import type { StompListener, StompSession } from '@warren/stomp';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';

let broker: TestBroker;
let n = 0;
const unique = (base: string): string => `${base}.${process.pid}.${++n}`;
const url = (): string => `amqp://guest:guest@${broker.host}:${broker.amqpPort}`;

beforeAll(async () => {
  broker = await startWarren();
});
afterAll(() => broker.close());

function listener<T>(name: string): T {
  const l = broker.server?.listeners.find((x) => x.name === name);
  if (l === undefined) throw new Error(`no ${name} listener`);
  return l as unknown as T;
}

/** The broker's side of an amqplib connection, found by the client's local port. */
function serverSideOf(conn: ChannelModel): AmqpConnection {
  const stream = (conn as unknown as { connection: { stream: { localPort: number } } }).connection.stream;
  const found = [...listener<AmqpListener>('amqp').connections].find(
    (c) => c.transport.remotePort === stream.localPort,
  );
  if (found === undefined) throw new Error('server side of the connection not found');
  return found;
}

async function stompClient(): Promise<RawClient> {
  const c = await RawClient.open(broker.stompPort);
  c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  await c.next('CONNECTED');
  return c;
}

const maybe = againstExternalBroker ? describe.skip : describe;

maybe('one connection failing inside the broker', () => {
  test('an AMQP consumer whose delivery throws is closed with 541; publisher and other consumers carry on', async () => {
    const q = unique('shared-work');
    const dlq = unique('dead');
    const setup = await amqp.connect(url());
    const sch = await setup.createChannel();
    await sch.assertQueue(dlq, { durable: false });
    await sch.assertQueue(q, { durable: false, deadLetterExchange: '', deadLetterRoutingKey: dlq });

    const victim = await amqp.connect(url());
    const closed = new Promise<Error>((resolve) => victim.on('error', resolve));
    const vch = await victim.createChannel();
    await vch.consume(q, () => {}, { noAck: false });
    // Break the broker's side of this one connection: its channel's delivery sink throws.
    const side = serverSideOf(victim);
    const channel = side.channels.get(1);
    if (channel === undefined) throw new Error('channel 1 not found');
    channel.deliver = () => {
      throw new Error('injected failure in one connection');
    };

    const bystander = await amqp.connect(url());
    const bch = await bystander.createChannel();
    const other = unique('other');
    await bch.assertQueue(other, { durable: false });
    const seen: string[] = [];
    await bch.consume(other, (m) => m && seen.push(m.content.toString()), { noAck: true });

    const publisher = await amqp.connect(url());
    const pch = await publisher.createConfirmChannel();
    pch.sendToQueue(q, Buffer.from('hits the broken sink'));
    for (let i = 0; i < 10; i++) pch.sendToQueue(other, Buffer.from(`m${i}`));
    await pch.waitForConfirms();

    const err = await closed;
    expect(err.message).toMatch(/541/);
    await waitFor(() => seen.length === 10, 5000, 'the bystander’s messages');
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    // The publisher's connection is untouched: it still publishes and gets confirms.
    pch.sendToQueue(other, Buffer.from('after'));
    await pch.waitForConfirms();
    await waitFor(() => seen.length === 11, 5000, 'a message after the failure');
    // The message that broke the sink went to the dead-letter queue, not back to the queue's next consumer.
    expect((await sch.checkQueue(dlq)).messageCount).toBe(1);
    expect((await sch.checkQueue(q)).messageCount).toBe(0);
    for (const c of [setup, bystander, publisher]) await c.close();
  });

  test('a STOMP subscriber whose delivery throws gets an ERROR; another STOMP subscriber carries on', async () => {
    const q = unique('stomp-work');
    const victim = await stompClient();
    victim.frame('SUBSCRIBE', { id: 'v', destination: `/queue/${q}`, ack: 'client', receipt: 's' });
    await victim.next('RECEIPT');
    const sessions = [...listener<StompListener>('stomp').sessions] as StompSession[];
    // The newest session is the victim's (sessions are kept in connection order).
    const side = sessions[sessions.length - 1] as StompSession;
    side.writeMessage = () => {
      throw new Error('injected failure in one session');
    };

    const bystander = await stompClient();
    const other = unique('stomp-other');
    bystander.frame('SUBSCRIBE', { id: 'b', destination: `/queue/${other}`, receipt: 's' });
    await bystander.next('RECEIPT');

    const publisher = await stompClient();
    publisher.frame('SEND', { destination: `/queue/${q}` }, 'hits the broken session');
    publisher.frame('SEND', { destination: `/queue/${other}`, receipt: 'p' }, 'for the bystander');
    await publisher.next('RECEIPT');

    const error = await victim.next('ERROR');
    expect(error.headers.get('message')).toBe('Internal error');
    await victim.waitClosed();
    const msg = await bystander.next('MESSAGE');
    expect(msg.body.toString()).toBe('for the bystander');
    expect(publisher.closed).toBe(false);
    expect(bystander.closed).toBe(false);
    for (const c of [bystander, publisher]) c.close();
  });
});
