import type { Client as StompClient, IMessage, IStompSocket } from '@stomp/stompjs' with {
  'resolution-mode': 'import',
};
import { WebSocket } from 'ws';
import { WarrenError, type Broker, type Connection } from '@warren/core';
import { HeldAuthority } from '../support/held-authority';
import { RawClient, waitFor } from '../stomp-clients/support';
import { startWarren, type TestBroker } from '../support/warren';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require('@stomp/stompjs') as { Client: typeof StompClient };

// Topology claims over STOMP and STOMP over WebSocket: a frame that implies a declare or bind waits for its
// claims, and so does every frame after it on the session.

const MAX_PARKED = 64 * 1024;

let broker: TestBroker;
let core: Broker;
let authority: HeldAuthority;
const raws: RawClient[] = [];
let n = 0;
const unique = (base: string): string => `${base}-${process.pid}-${++n}`;

beforeAll(async () => {
  broker = await startWarren((config) => {
    config.limits.maxParkedBytes = MAX_PARKED;
  });
  core = (broker.server as NonNullable<TestBroker['server']>).broker;
  authority = HeldAuthority.install(core);
});
afterAll(async () => {
  await broker.close();
});
beforeEach(() => {
  authority.hold = true;
});
afterEach(() => {
  authority.releaseAll();
  for (const c of raws.splice(0)) c.close();
});

async function connected(): Promise<RawClient> {
  const c = await RawClient.open(broker.stompPort);
  raws.push(c);
  c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  await c.next('CONNECTED');
  return c;
}

const depth = (name: string): number => core.getVhost('/')?.queues.get(name)?.messageCount ?? -1;
const commands = (c: RawClient): string[] =>
  c.frames.map((f) => (f.command === 'RECEIPT' ? `RECEIPT:${f.headers.get('receipt-id')}` : f.command));

test('SUBSCRIBE to /queue/x waits for its declare claim; its RECEIPT, and what the session sent after it, come after', async () => {
  const q = unique('sq');
  const c = await connected();
  c.frame('SUBSCRIBE', { id: 's1', destination: `/queue/${q}`, receipt: 'r-sub' });
  c.frame('SEND', { destination: `/queue/${q}`, receipt: 'r-send' }, 'hello');
  const claim = await authority.next('declare-queue');
  expect(claim.change).toMatchObject({ kind: 'declare-queue', name: q, durable: true, exclusive: false });
  // The session is parked: another client's frames are answered, this one's are not.
  const other = await connected();
  other.frame('SEND', { destination: '/topic/nowhere', receipt: 'r-other' }, 'x');
  await other.next('RECEIPT');
  expect(commands(c)).toEqual(['CONNECTED']);
  expect(core.getVhost('/')?.queues.has(q)).toBe(false);

  claim.release();
  await c.next('RECEIPT', 2);
  expect(commands(c)).toEqual(['CONNECTED', 'RECEIPT:r-sub', 'MESSAGE', 'RECEIPT:r-send']);
  const message = c.frames.find((f) => f.command === 'MESSAGE');
  expect(message?.body.toString()).toBe('hello');
});

test('a SEND that declares /queue/x first routes once the claim is released', async () => {
  const q = unique('sendq');
  const c = await connected();
  c.frame('SEND', { destination: `/queue/${q}`, receipt: 'r1' }, 'one');
  c.frame('SEND', { destination: `/queue/${q}`, receipt: 'r2' }, 'two');
  const claim = await authority.next('declare-queue');
  expect(depth(q)).toBe(-1);
  claim.release();
  await c.next('RECEIPT', 2);
  expect(commands(c)).toEqual(['CONNECTED', 'RECEIPT:r1', 'RECEIPT:r2']);
  expect(depth(q)).toBe(2);
});

test('a rejected claim is an ERROR naming the frame, and the frames parked behind it are dropped', async () => {
  const q = unique('refused');
  const target = unique('target');
  authority.hold = false;
  const setup = await connected();
  setup.frame('SEND', { destination: `/queue/${target}`, receipt: 'made' }, 'setup');
  await setup.next('RECEIPT');
  authority.hold = true;
  const c = await connected();
  c.frame('SUBSCRIBE', { id: 's1', destination: `/queue/${q}`, receipt: 'r-sub' });
  c.frame('SEND', { destination: `/queue/${target}`, receipt: 'r-send' }, 'must not arrive');
  const claim = await authority.next('declare-queue');
  claim.reject(new WarrenError('PRECONDITION_FAILED', `inequivalent arg 'durable' for queue '${q}'`));
  const error = await c.next('ERROR');
  expect(error.headers.get('message')).toBe('precondition_failed');
  expect(error.headers.get('receipt-id')).toBe('r-sub');
  await c.waitClosed();
  expect(commands(c)).toEqual(['CONNECTED', 'ERROR']);
  expect(depth(target)).toBe(1);
});

test('parking past maxParkedBytes stops reading the session until its claim settles', async () => {
  const q = unique('flood');
  const c = await connected();
  c.frame('SUBSCRIBE', { id: 's1', destination: `/queue/${q}`, ack: 'client' });
  const body = Buffer.alloc(16 * 1024, 0x62);
  const count = 64;
  for (let i = 0; i < count; i++) c.frame('SEND', { destination: `/queue/${q}` }, body);
  c.frame('SEND', { destination: `/queue/${q}`, receipt: 'last' }, 'end');
  const claim = await authority.next('declare-queue');
  const server = newestConnection();
  await waitFor(() => server.stats.recvOct > MAX_PARKED, 'the parked bytes to pass the bound');
  await new Promise((r) => setTimeout(r, 200));
  expect(server.stats.recvOct).toBeLessThan(count * body.length);
  claim.release();
  await c.next('RECEIPT');
  await waitFor(
    () => c.frames.filter((f) => f.command === 'MESSAGE').length === count + 1,
    'every parked SEND to be delivered',
  );
});

test('STOMP over WebSocket (stompjs): a /topic SUBSCRIBE claims its queue, then its binding, before its RECEIPT', async () => {
  const key = unique('news');
  const received: IMessage[] = [];
  let ready = false;
  const client = new Client({
    webSocketFactory: () =>
      new WebSocket(`ws://${broker.host}:${broker.wsPort}/ws`, ['v12.stomp']) as unknown as IStompSocket,
    connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    reconnectDelay: 0,
    onConnect: () => (ready = true),
  });
  client.activate();
  try {
    await waitFor(() => ready, 'stompjs to connect');
    let receipted = false;
    client.watchForReceipt('sub-1', () => (receipted = true));
    client.subscribe(`/topic/${key}`, (m) => received.push(m), { id: 't1', receipt: 'sub-1' });
    const declare = await authority.next('declare-queue');
    expect(declare.change).toMatchObject({ exclusive: true, autoDelete: true, durable: false });
    declare.release();
    const bind = await authority.next('bind');
    expect(bind.change).toMatchObject({ source: 'amq.topic', routingKey: key, destinationKind: 'queue' });
    expect(receipted).toBe(false);
    bind.release();
    await waitFor(() => receipted, 'the SUBSCRIBE receipt');
    client.publish({ destination: `/topic/${key}`, body: 'through the claimed binding' });
    await waitFor(() => received.length === 1, 'the message');
    expect(received[0]?.body).toBe('through the claimed binding');
  } finally {
    await client.deactivate();
  }
});

function newestConnection(): Connection {
  let newest: Connection | undefined;
  for (const c of core.connections.values()) if (newest === undefined || c.id > newest.id) newest = c;
  if (newest === undefined) throw new Error('no connection');
  return newest;
}
