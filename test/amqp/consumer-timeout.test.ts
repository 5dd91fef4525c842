import amqp from 'amqplib';
import { RawClient } from '../stomp-clients/support';
import { startWarren, type TestBroker } from '../support/warren';

/*
 * consumer_timeout through the real server (limits.consumerTimeoutMs, rabbitmq.conf's consumer_timeout):
 * amqplib sees its channel closed with 406 and RabbitMQ's text, the message goes to the next consumer, and the
 * same connection's other channels carry on; a STOMP session (one channel) gets an ERROR and is closed.
 */
let broker: TestBroker;
beforeAll(async () => {
  broker = await startWarren((config) => {
    config.limits.consumerTimeoutMs = 200;
  });
});
afterAll(() => broker.close());

test('AMQP: a delivery left unacked past consumer_timeout closes its channel with 406; the message is redelivered', async () => {
  const conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
  try {
    const slow = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => slow.on('error', resolve));
    const other = await conn.createChannel();
    await other.assertQueue('ct-jobs');
    other.sendToQueue('ct-jobs', Buffer.from('job'));
    await slow.prefetch(1);
    await slow.consume('ct-jobs', () => {}); // never acks
    const err = await closed;
    expect(err.message).toMatch(
      /PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out\. Timeout value used: 200 ms\./,
    );
    const again = await other.get('ct-jobs', { noAck: true });
    expect(again !== false && again.content.toString()).toBe('job');
    expect(again !== false && again.fields.redelivered).toBe(true);
  } finally {
    await conn.close();
  }
});

test('STOMP: a client-ack subscription that never acks gets an ERROR naming the timeout, and the connection closes', async () => {
  const c = await RawClient.open(broker.stompPort);
  try {
    c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    await c.next('CONNECTED');
    c.frame('SUBSCRIBE', { destination: '/queue/ct-stomp', id: 's', ack: 'client' });
    c.frame('SEND', { destination: '/queue/ct-stomp' }, 'x');
    await c.next('MESSAGE');
    const error = await c.next('ERROR');
    expect(error.headers.get('message')).toBe('precondition_failed');
    expect(error.body.toString()).toMatch(/delivery acknowledgement on channel 1 timed out/);
    await c.waitClosed();
  } finally {
    c.close();
  }
});
