import type {
  Client as StompClient,
  IFrame,
  IMessage,
  IStompSocket,
  StompConfig,
} from '@stomp/stompjs' with {
  'resolution-mode': 'import',
};
import { WebSocket } from 'ws';
import { startWsBroker, STOMP_PROTOCOLS, waitFor, type WsBroker } from './support';

// stompjs is an ES module with a CommonJS bundle; tests compile to CommonJS, so it is required and typed by its
// ES declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require('@stomp/stompjs') as { Client: typeof StompClient };
type Client = StompClient;

let b: WsBroker;
const clients: Client[] = [];
beforeAll(async () => {
  b = await startWsBroker({ serverName: 'Warren/test' });
});
afterAll(() => b.close());
afterEach(async () => {
  for (const c of clients.splice(0)) await c.deactivate();
});

let n = 0;
const unique = (base: string): string => `${base}-${++n}`;

interface Connected {
  client: Client;
  connected: IFrame;
  socket: WebSocket;
  /** stompjs's debug lines: `<<< PONG` for every server heart-beat. */
  log: string[];
}

/**
 * An activated @stomp/stompjs client over the `ws` package, as the stompjs docs show for Node, resolved once
 * CONNECTED arrives.
 */
async function client(config: StompConfig = {}): Promise<Connected> {
  let connected: IFrame | undefined;
  let socket: WebSocket | undefined;
  const log: string[] = [];
  const c = new Client({
    webSocketFactory: () => {
      socket = new WebSocket(b.url, STOMP_PROTOCOLS);
      return socket as unknown as IStompSocket;
    },
    connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    reconnectDelay: 0,
    debug: (line) => log.push(line),
    onConnect: (frame) => (connected = frame),
    ...config,
  });
  clients.push(c);
  c.activate();
  await waitFor(() => connected !== undefined, 'stompjs to connect');
  return { client: c, connected: connected as IFrame, socket: socket as WebSocket, log };
}

describe('@stomp/stompjs over WebSocket (the way browser apps use Web-STOMP)', () => {
  it('connects to /ws with the v12.stomp subprotocol and negotiates STOMP 1.2', async () => {
    const { connected, socket } = await client();
    expect(socket.protocol).toBe('v12.stomp');
    expect(connected.headers['version']).toBe('1.2');
    expect(connected.headers['server']).toBe('Warren/test');
    expect(connected.headers['session']).toMatch(/^session-/);
  });

  it('sends and receives a message with its headers and a receipt', async () => {
    const { client: c } = await client();
    const q = unique('/queue/ws-js');
    const got: IMessage[] = [];
    c.subscribe(q, (m) => got.push(m), { id: 'sub-1' });
    let receipted = false;
    c.watchForReceipt('r-1', () => (receipted = true));
    c.publish({ destination: q, body: 'héllo 🐇', headers: { receipt: 'r-1', colour: 'teal:blue' } });
    await waitFor(() => got.length === 1 && receipted, 'the message and the receipt');
    const m = got[0] as IMessage;
    expect(m.body).toBe('héllo 🐇');
    expect(m.headers['colour']).toBe('teal:blue');
    expect(m.headers['subscription']).toBe('sub-1');
    expect(m.headers['destination']).toBe(q);
  });

  it('delivers a binary body with NUL bytes intact, as a binary WebSocket message', async () => {
    const { client: c, socket } = await client();
    // stompjs hands every body out as bytes; the socket shows what kind of WebSocket message carried it.
    const kinds: string[] = [];
    socket.on('message', (_data, binary: boolean) => kinds.push(binary ? 'binary' : 'text'));
    const q = unique('/queue/ws-bin');
    const got: IMessage[] = [];
    c.subscribe(q, (m) => got.push(m));
    const body = new Uint8Array([0, 1, 2, 0, 0xff, 0xfe, 0xc3, 0x28, 0]);
    c.publish({ destination: q, binaryBody: body, headers: { 'content-type': 'application/octet-stream' } });
    c.publish({ destination: q, body: 'text after it' });
    await waitFor(() => got.length === 2, 'both messages');
    const m = got[0] as IMessage;
    expect([...m.binaryBody]).toEqual([...body]);
    expect(got[1]?.body).toBe('text after it');
    expect(kinds).toEqual(['binary', 'text']);
    expect(m.headers['content-length']).toBe(String(body.length));
  });

  it('acks and nacks in client-individual mode', async () => {
    const { client: c } = await client();
    const name = unique('ws-ack');
    const got: IMessage[] = [];
    c.subscribe(`/queue/${name}`, (m) => got.push(m), { ack: 'client-individual' });
    c.publish({ destination: `/queue/${name}`, body: 'one' });
    await waitFor(() => got.length === 1, 'the first delivery');
    (got[0] as IMessage).nack();
    await waitFor(() => got.length === 2, 'the redelivery');
    expect(got[1]?.headers['redelivered']).toBe('true');
    (got[1] as IMessage).ack();
    await waitFor(() => b.queue(name)?.unackedCount === 0, 'the ack to settle');
    expect(b.queue(name)?.messageCount).toBe(0);
  });

  it('acks cumulatively in client mode', async () => {
    const { client: c } = await client();
    const name = unique('ws-cumulative');
    const got: IMessage[] = [];
    c.subscribe(`/queue/${name}`, (m) => got.push(m), { ack: 'client' });
    for (const body of ['a', 'b', 'c']) c.publish({ destination: `/queue/${name}`, body });
    await waitFor(() => got.length === 3, 'three deliveries');
    expect(b.queue(name)?.unackedCount).toBe(3);
    (got[2] as IMessage).ack();
    await waitFor(() => b.queue(name)?.unackedCount === 0, 'one ACK to settle all three');
  });

  it('commits and aborts transactions, sends and acks alike', async () => {
    const { client: c } = await client();
    const topic = unique('/topic/ws.tx');
    const got: string[] = [];
    c.subscribe(topic, (m) => got.push(m.body));
    const aborted = c.begin();
    c.publish({ destination: topic, body: 'no', headers: { transaction: aborted.id } });
    aborted.abort();
    const committed = c.begin();
    c.publish({ destination: topic, body: 'yes', headers: { transaction: committed.id } });
    committed.commit();
    await waitFor(() => got.length === 1, 'the committed message');
    expect(got).toEqual(['yes']);

    const name = unique('ws-tx-ack');
    const acked: IMessage[] = [];
    c.subscribe(`/queue/${name}`, (m) => acked.push(m), { ack: 'client-individual' });
    c.publish({ destination: `/queue/${name}`, body: 'x' });
    await waitFor(() => acked.length === 1, 'the delivery');
    const tx = c.begin();
    (acked[0] as IMessage).ack({ transaction: tx.id });
    let receipted = false;
    c.watchForReceipt('commit-1', () => (receipted = true));
    expect(b.queue(name)?.unackedCount).toBe(1);
    tx.commit();
    c.publish({ destination: `/queue/${name}-probe`, body: '', headers: { receipt: 'commit-1' } });
    await waitFor(() => receipted, 'a receipt after the COMMIT');
    expect(b.queue(name)?.unackedCount).toBe(0);
  });

  it('fans a topic out to every subscriber, on one connection and on two', async () => {
    const one = await client();
    const two = await client();
    const topic = unique('/topic/ws.fan');
    const got: string[] = [];
    one.client.subscribe(topic, (m) => got.push(`one-a:${m.body}`));
    one.client.subscribe(topic, (m) => got.push(`one-b:${m.body}`));
    let ready = false;
    two.client.watchForReceipt('sub-two', () => (ready = true));
    two.client.subscribe(topic, (m) => got.push(`two:${m.body}`), { receipt: 'sub-two' });
    await waitFor(() => ready, 'the second connection to subscribe');
    one.client.publish({ destination: topic, body: 'hi' });
    await waitFor(() => got.length === 3, 'three deliveries');
    expect(got.sort()).toEqual(['one-a:hi', 'one-b:hi', 'two:hi']);
  });

  it('filters a subscription with a JMS selector', async () => {
    const { client: c } = await client();
    const topic = unique('/topic/ws.sel');
    const got: string[] = [];
    c.subscribe(topic, (m) => got.push(m.body), { selector: "n > 1 AND colour = 'red'" });
    c.publish({ destination: topic, body: 'n1', headers: { n: '1', colour: 'red' } });
    c.publish({ destination: topic, body: 'n2', headers: { n: '2', colour: 'red' } });
    c.publish({ destination: topic, body: 'blue', headers: { n: '5', colour: 'blue' } });
    c.publish({ destination: topic, body: 'end', headers: { n: '99', colour: 'red' } });
    await waitFor(() => got.includes('end'), 'the last message');
    expect(got).toEqual(['n2', 'end']);
  });

  it('stays connected through heart-beats both ways while idle', async () => {
    const { client: c, log } = await client({ heartbeatIncoming: 100, heartbeatOutgoing: 100 });
    await waitFor(() => log.filter((l) => l === '<<< PONG').length >= 8, 'eight server heart-beats');
    expect(c.connected).toBe(true);
    expect(b.ws.sessions.size).toBeGreaterThanOrEqual(1);
  });

  it('reassembles frames that stompjs splits over many small WebSocket messages', async () => {
    const { client: c } = await client({ splitLargeFrames: true, maxWebSocketChunkSize: 7 });
    const q = unique('/queue/ws-split');
    const got: IMessage[] = [];
    c.subscribe(q, (m) => got.push(m));
    const body = 'a body far longer than seven characters, so it crosses many messages';
    c.publish({ destination: q, body, headers: { 'x-note': 'split' } });
    await waitFor(() => got.length === 1, 'the split message');
    expect(got[0]?.body).toBe(body);
    expect(got[0]?.headers['x-note']).toBe('split');
  });

  it('sends every frame as a binary WebSocket message when the client forces it', async () => {
    const { client: c } = await client({ forceBinaryWSFrames: true });
    const q = unique('/queue/ws-force-binary');
    const got: IMessage[] = [];
    c.subscribe(q, (m) => got.push(m));
    c.publish({ destination: q, body: 'over binary frames' });
    await waitFor(() => got.length === 1, 'the message');
    expect(got[0]?.body).toBe('over binary frames');
  });

  it('reports an ERROR for a subscription to a queue that does not exist', async () => {
    let error: IFrame | undefined;
    const { client: c } = await client({ onStompError: (f) => (error = f) });
    c.subscribe(`/amq/queue/${unique('missing')}`, () => {});
    await waitFor(() => error !== undefined, 'the ERROR frame');
    expect(error?.headers['message']).toBe('not_found');
  });
});
