import { startWarren, type TestBroker } from '../support/warren';
import { RawClient } from './support';

/*
 * stomp.max_frame_size over a real socket to a real `startServer`: RabbitMQ's default (4 MiB, rabbitmq_stomp's
 * DEFAULT_MAX_FRAME_SIZE) admits a frame just under it; a frame over the limit, default or configured, is
 * answered with an ERROR frame that says why, and only then is the connection closed.
 */

const MiB = 1024 * 1024;
const CONNECT = 'CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0';

let warren: TestBroker | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await warren?.close();
  warren = undefined;
});

async function connected(limit?: number): Promise<RawClient> {
  warren = await startWarren((config) => {
    if (limit !== undefined) config.limits.stompMaxFrameSize = limit;
  });
  const c = await RawClient.open(warren.stompPort);
  clients.push(c);
  c.raw(CONNECT);
  await c.next('CONNECTED');
  return c;
}

function send(c: RawClient, bodyBytes: number): void {
  c.frame('SEND', { destination: '/queue/big', receipt: 'sent' }, Buffer.alloc(bodyBytes, 'x'));
}

/** Expects an ERROR naming the limit, then the close, and nothing else after CONNECTED. */
async function refused(c: RawClient, limit: number): Promise<void> {
  const error = await c.next('ERROR');
  expect(error.headers.get('message')).toBe(`Frame exceeds ${limit} bytes`);
  await c.waitClosed();
  expect(c.frames.map((f) => f.command)).toEqual(['CONNECTED', 'ERROR']);
}

describe('STOMP frame size limit', () => {
  test('a SEND just under 4 MiB is accepted by default and delivered whole', async () => {
    const c = await connected();
    c.frame('SUBSCRIBE', { destination: '/queue/big', id: '0' });
    const body = 4 * MiB - 4096;
    send(c, body);
    expect((await c.next('RECEIPT')).headers.get('receipt-id')).toBe('sent');
    expect((await c.next('MESSAGE')).body.length).toBe(body);
  });

  test('a 16 MiB SEND gets ERROR, then the close, under the default limit', async () => {
    const c = await connected();
    send(c, 16 * MiB);
    await refused(c, 4 * MiB);
  });

  test('with a small configured limit, an oversize SEND gets ERROR, then the close', async () => {
    const c = await connected(64 * 1024);
    send(c, 16 * MiB);
    await refused(c, 64 * 1024);
  });
});
