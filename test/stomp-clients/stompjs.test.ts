import type { Client as StompClient, IFrame, IMessage, IStompSocket } from '@stomp/stompjs' with {
  'resolution-mode': 'import',
};

// Both packages are ES modules with CommonJS bundles; tests compile to CommonJS, so they are required, typed by
// the ES declarations (stompjs) or by hand (tcp-wrapper ships no CommonJS declarations).
/* eslint-disable @typescript-eslint/no-require-imports */
const { Client } = require('@stomp/stompjs') as { Client: typeof StompClient };
const { TCPWrapper } = require('@stomp/tcp-wrapper') as {
  TCPWrapper: new (host: string, port: number) => IStompSocket;
};
/* eslint-enable @typescript-eslint/no-require-imports */
type Client = StompClient;
import { startStompBroker, waitFor, type StompTestBroker } from './support';

let b: StompTestBroker;
const clients: Client[] = [];
beforeEach(async () => {
  b = await startStompBroker({ serverName: 'Warren/test' });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.deactivate();
  await b.close();
});

/** An activated @stomp/stompjs client over TCP, resolved once CONNECTED arrives. */
async function client(options: { heartbeat?: number } = {}): Promise<{ client: Client; connected: IFrame }> {
  let connected: IFrame | undefined;
  const c = new Client({
    webSocketFactory: () => new TCPWrapper('127.0.0.1', b.port),
    connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
    heartbeatIncoming: options.heartbeat ?? 0,
    heartbeatOutgoing: options.heartbeat ?? 0,
    reconnectDelay: 0,
    onConnect: (frame) => (connected = frame),
  });
  clients.push(c);
  c.activate();
  await waitFor(() => connected !== undefined, 'stompjs to connect');
  return { client: c, connected: connected as IFrame };
}

describe('@stomp/stompjs over TCP', () => {
  it('negotiates 1.2 and sees the server header', async () => {
    const { connected } = await client();
    expect(connected.headers['version']).toBe('1.2');
    expect(connected.headers['server']).toBe('Warren/test');
  });

  it('publishes and subscribes with headers, binary bodies and receipts', async () => {
    const { client: c } = await client();
    const got: IMessage[] = [];
    c.subscribe('/queue/js', (m) => got.push(m), { id: 'js-1' });
    let receipted = false;
    c.watchForReceipt('r-1', () => (receipted = true));
    const body = new Uint8Array([0, 1, 2, 0, 255]);
    c.publish({
      destination: '/queue/js',
      binaryBody: body,
      headers: { receipt: 'r-1', 'content-type': 'application/octet-stream', colour: 'teal:blue' },
    });
    await waitFor(() => got.length === 1 && receipted, 'the message and the receipt');
    const m = got[0] as IMessage;
    expect([...m.binaryBody]).toEqual([...body]);
    expect(m.headers['colour']).toBe('teal:blue');
    expect(m.headers['content-type']).toBe('application/octet-stream');
    expect(m.headers['subscription']).toBe('js-1');
    expect(m.headers['destination']).toBe('/queue/js');
  });

  it('acks and nacks in client-individual mode', async () => {
    const { client: c } = await client();
    const got: IMessage[] = [];
    c.subscribe('/queue/js-ack', (m) => got.push(m), { id: 'a', ack: 'client-individual' });
    c.publish({ destination: '/queue/js-ack', body: 'one' });
    await waitFor(() => got.length === 1, 'the first delivery');
    (got[0] as IMessage).nack();
    await waitFor(() => got.length === 2, 'the redelivery');
    expect(got[1]?.headers['redelivered']).toBe('true');
    (got[1] as IMessage).ack();
    await waitFor(() => b.queue('js-ack')?.unackedCount === 0, 'the ack to settle');
    expect(b.queue('js-ack')?.messageCount).toBe(0);
  });

  it('commits and aborts transactions', async () => {
    const { client: c } = await client();
    const got: string[] = [];
    c.subscribe('/topic/js.tx', (m) => got.push(m.body), { id: 't' });
    const aborted = c.begin();
    c.publish({ destination: '/topic/js.tx', body: 'no', headers: { transaction: aborted.id } });
    aborted.abort();
    const committed = c.begin();
    c.publish({ destination: '/topic/js.tx', body: 'yes', headers: { transaction: committed.id } });
    committed.commit();
    await waitFor(() => got.length === 1, 'the committed message');
    expect(got).toEqual(['yes']);
  });

  it('stays connected through heart-beats both ways while idle', async () => {
    const { client: c } = await client({ heartbeat: 100 });
    const start = Date.now();
    await waitFor(() => Date.now() - start > 800, 'several heart-beat intervals');
    expect(c.connected).toBe(true);
    expect(b.broker.connections.size).toBe(1);
  });

  it('filters a topic subscription with a JMS selector', async () => {
    const { client: c } = await client();
    const got: string[] = [];
    c.subscribe('/topic/js.sel', (m) => got.push(m.body), { id: 's', selector: 'n > 1' });
    for (const n of [1, 2, 3])
      c.publish({ destination: '/topic/js.sel', body: `n${n}`, headers: { n: String(n) } });
    c.publish({ destination: '/topic/js.sel', body: 'end', headers: { n: '99' } });
    await waitFor(() => got.includes('end'), 'the last message');
    expect(got).toEqual(['n2', 'n3', 'end']);
  });
});
