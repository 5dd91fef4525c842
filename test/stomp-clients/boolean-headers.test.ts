import { RawClient, startStompBroker, waitFor, type StompTestBroker } from './support';

/*
 * Boolean headers read in any letter case, over a raw socket: Python clients send str(True), "True", and some
 * send "TRUE"; RabbitMQ takes "True" as well as "true". Every header Warren reads as a boolean goes through one
 * helper, so requeue, persistent, durable, auto-delete and x-single-active-consumer all agree.
 */

let b: StompTestBroker;
const clients: RawClient[] = [];
beforeEach(async () => {
  b = await startStompBroker();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await b.close();
});

async function connected(): Promise<RawClient> {
  const c = await RawClient.open(b.port);
  clients.push(c);
  c.raw('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
  await c.next('CONNECTED');
  return c;
}

/** Sends a frame asking for a receipt and waits for it: the broker has acted on the frame. */
async function done(
  c: RawClient,
  command: string,
  headers: Record<string, string>,
  body = '',
): Promise<void> {
  const receipt = `r${c.frames.length}`;
  c.frame(command, { ...headers, receipt }, body);
  await waitFor(
    () => c.frames.some((f) => f.command === 'RECEIPT' && f.headers.get('receipt-id') === receipt),
    `RECEIPT ${receipt}`,
  );
}

const stompSubscriptionQueues = (): string[] =>
  [...(b.broker.vhosts.get('/')?.queues.keys() ?? [])].filter((q) => q.startsWith('stomp-subscription-'));

describe('boolean STOMP headers in any letter case', () => {
  test.each([
    ['False', false],
    ['FALSE', false],
    ['false', false],
    ['True', true],
    ['TRUE', true],
  ])('NACK requeue:%s requeues: %p', async (requeue, requeued) => {
    const c = await connected();
    await done(c, 'SUBSCRIBE', { destination: '/queue/n', id: 's', ack: 'client-individual' });
    c.frame('SEND', { destination: '/queue/n' }, 'first');
    const first = await c.next('MESSAGE');
    await done(c, 'NACK', { id: first.headers.get('ack') ?? '', requeue });
    // A requeued message goes back to the head of the queue: it would be the next MESSAGE, before "second".
    c.frame('SEND', { destination: '/queue/n' }, 'second');
    const next = await c.next('MESSAGE', 2);
    expect(next.body.toString()).toBe(requeued ? 'first' : 'second');
  });

  test('SEND persistent:TRUE makes the message persistent', async () => {
    const c = await connected();
    await done(c, 'SUBSCRIBE', { destination: '/queue/p', id: 's' });
    c.frame('SEND', { destination: '/queue/p', persistent: 'TRUE' }, 'kept');
    expect((await c.next('MESSAGE')).headers.get('persistent')).toBe('true');
  });

  test('SEND persistent:yes is refused, not silently transient', async () => {
    const c = await connected();
    c.frame('SEND', { destination: '/queue/p', persistent: 'yes' }, 'x');
    expect((await c.next('ERROR')).headers.get('message')).toBe('Invalid header');
  });

  test('a durable:True topic subscription outlives the connection; UNSUBSCRIBE durable:True ends it', async () => {
    const first = await connected();
    await done(first, 'SUBSCRIBE', { destination: '/topic/t', id: 'd', durable: 'True' });
    first.frame('DISCONNECT');
    await first.waitClosed();
    expect(stompSubscriptionQueues()).toHaveLength(1);

    const publisher = await connected();
    await done(publisher, 'SEND', { destination: '/topic/t' }, 'while away');
    const back = await connected();
    await done(back, 'SUBSCRIBE', { destination: '/topic/t', id: 'd', durable: 'True' });
    expect((await back.next('MESSAGE')).body.toString()).toBe('while away');

    await done(back, 'UNSUBSCRIBE', { id: 'd', durable: 'TRUE' });
    expect(stompSubscriptionQueues()).toEqual([]);
  });

  test('auto-delete:TRUE makes a durable:true topic subscription end with its connection', async () => {
    const c = await connected();
    await done(c, 'SUBSCRIBE', { destination: '/topic/t', id: 'd', durable: 'true', 'auto-delete': 'TRUE' });
    expect(stompSubscriptionQueues()).toHaveLength(1);
    c.frame('DISCONNECT');
    await c.waitClosed();
    await waitFor(() => stompSubscriptionQueues().length === 0, 'the subscription queue to go');
  });

  test('x-single-active-consumer:True declares a single-active-consumer queue', async () => {
    const c = await connected();
    await done(c, 'SUBSCRIBE', { destination: '/queue/sac', id: 's', 'x-single-active-consumer': 'True' });
    expect(b.queue('sac')?.options.arguments['x-single-active-consumer']).toBe(true);
  });
});
