/**
 * Half-open handshakes cannot hold the broker's sockets for ever: a client that connects and never completes
 * its AMQP handshake or its STOMP CONNECT is cut after handshakeTimeoutMs (RabbitMQ's handshake_timeout),
 * while clients that do complete it are served as usual.
 */
import { connect, type Socket } from 'node:net';
import amqp from 'amqplib';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startWarren((config) => {
    config.limits.handshakeTimeoutMs = 300;
  });
});
afterAll(() => broker.close());

/** Opens `n` sockets that each send `prefix` and then nothing; resolves once all are connected. */
async function halfOpen(
  port: number,
  n: number,
  prefix: Buffer,
): Promise<{ sockets: Socket[]; closed: () => number }> {
  let closed = 0;
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => {
            s.write(prefix);
            resolve(s);
          });
          s.on('error', reject);
          s.on('close', () => closed++);
          s.resume();
        }),
    ),
  );
  return { sockets, closed: () => closed };
}

const maybe = againstExternalBroker ? describe.skip : describe;

maybe('a flood of half-open handshakes', () => {
  test('AMQP and STOMP sockets that never finish their handshake are closed; a real client is served meanwhile', async () => {
    const amqpFlood = await halfOpen(broker.amqpPort, 200, Buffer.from('AMQP')); // half a protocol header
    const stompFlood = await halfOpen(broker.stompPort, 200, Buffer.from('CONNECT\nlogin:gu')); // half a frame
    const silent = await halfOpen(broker.amqpPort, 50, Buffer.alloc(0)); // nothing at all

    // While they hang, real clients connect and work.
    const conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const s = await RawClient.open(broker.stompPort);
    s.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    await s.next('CONNECTED');
    s.frame('SEND', { destination: `/amq/queue/${queue}`, receipt: 'r' }, 'through the flood');
    await s.next('RECEIPT');
    const got = await ch.get(queue, { noAck: true });
    expect(got && got.content.toString()).toBe('through the flood');

    await waitFor(
      () => amqpFlood.closed() === 200 && stompFlood.closed() === 200 && silent.closed() === 50,
      10_000,
      'every half-open socket to be closed by the broker',
    );
    // The completed sessions are not subject to the handshake timeout.
    expect(s.closed).toBe(false);
    await ch.checkQueue(queue);
    s.close();
    await conn.close();
  });
});
