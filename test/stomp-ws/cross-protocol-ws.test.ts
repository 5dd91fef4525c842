import { connect, type Socket } from 'node:net';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { serializeFrame, StompParser, type StompFrame } from '@warren/stomp';
import { RawWsClient, startWsBroker, waitFor, type WsBroker } from './support';

let b: WsBroker;
let conn: ChannelModel;
let ch: Channel;
const open: { close(): void }[] = [];
beforeAll(async () => {
  b = await startWsBroker();
});
afterAll(() => b.close());
beforeEach(async () => {
  conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.amqpPort}`);
  ch = await conn.createChannel();
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await conn.close().catch(() => {});
});

let n = 0;
const unique = (base: string): string => `${base}-${++n}`;

async function ws(): Promise<RawWsClient> {
  const c = await RawWsClient.connected(b.url);
  open.push(c);
  return c;
}

/** A STOMP client over plain TCP, just enough for these tests. */
async function tcp(): Promise<{
  frames: StompFrame[];
  send(cmd: string, h: Record<string, string>, body?: string | Buffer): void;
}> {
  const socket: Socket = connect(b.stompPort, '127.0.0.1');
  open.push({ close: () => socket.destroy() });
  const frames: StompFrame[] = [];
  const parser = new StompParser({
    onFrame: (f) => {
      if (f.command === 'CONNECTED') parser.markConnected('1.2');
      frames.push(f);
    },
    onHeartbeat: () => {},
    onError: (e) => {
      throw e;
    },
  });
  socket.on('data', (d: Buffer) => parser.feed(d));
  socket.on('error', () => {});
  const send = (cmd: string, h: Record<string, string>, body: string | Buffer = ''): void => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    for (const chunk of serializeFrame(cmd, Object.entries(h), bytes, '1.2')) socket.write(chunk);
  };
  send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  await waitFor(() => frames.some((f) => f.command === 'CONNECTED'), 'CONNECTED over TCP');
  return { frames, send };
}

function consumeOne(queue: string): Promise<ConsumeMessage> {
  return new Promise((resolve) => {
    void ch.consume(queue, (m) => m && resolve(m), { noAck: true });
  });
}

describe('WebSocket, STOMP/TCP and AMQP clients share one broker', () => {
  it('an AMQP publish to amq.topic reaches a WebSocket subscriber with its properties as headers', async () => {
    const c = await ws();
    const key = unique('ws.news');
    c.frame('SUBSCRIBE', { id: 's', destination: `/topic/${key}`, receipt: 'ready' });
    await c.next('RECEIPT');
    ch.publish('amq.topic', key, Buffer.from('from amqp'), {
      contentType: 'text/plain',
      correlationId: 'c-1',
      headers: { tenant: 'acme' },
    });
    const m = await c.next('MESSAGE');
    expect(m.body.toString()).toBe('from amqp');
    expect(m.headers.get('content-type')).toBe('text/plain');
    expect(m.headers.get('correlation-id')).toBe('c-1');
    expect(m.headers.get('tenant')).toBe('acme');
    expect(m.headers.get('destination')).toBe(`/topic/${key}`);
  });

  it('a WebSocket SEND reaches an AMQP consumer with its headers as properties', async () => {
    const q = unique('ws-to-amqp');
    await ch.assertQueue(q);
    const got = consumeOne(q);
    const c = await ws();
    c.frame(
      'SEND',
      {
        destination: `/amq/queue/${q}`,
        'content-type': 'application/json',
        persistent: 'true',
        'x-tenant': 'acme',
      },
      '{"n":1}',
    );
    const m = await got;
    expect(m.content.toString()).toBe('{"n":1}');
    expect(m.properties.contentType).toBe('application/json');
    expect(m.properties.deliveryMode).toBe(2);
    expect(m.properties.headers?.['x-tenant']).toBe('acme');
  });

  it('a binary AMQP body reaches a WebSocket subscriber byte for byte, in a binary message', async () => {
    const c = await ws();
    const q = unique('amqp-binary');
    c.frame('SUBSCRIBE', { id: 's', destination: `/queue/${q}`, receipt: 'ready' });
    await c.next('RECEIPT');
    const body = Buffer.from([0, 0xff, 0x80, 0, 0x41]);
    ch.sendToQueue(q, body);
    const m = await c.next('MESSAGE');
    expect(m.body.equals(body)).toBe(true);
    expect(c.messages[c.messages.length - 1]?.binary).toBe(true);
  });

  it('messages cross both ways between WebSocket and STOMP over TCP', async () => {
    const w = await ws();
    const t = await tcp();
    const toWs = unique('/queue/to-ws');
    const toTcp = unique('/queue/to-tcp');
    w.frame('SUBSCRIBE', { id: 'w', destination: toWs, receipt: 'w-ready' });
    t.send('SUBSCRIBE', { id: 't', destination: toTcp, receipt: 't-ready' });
    await w.next('RECEIPT');
    await waitFor(() => t.frames.some((f) => f.command === 'RECEIPT'), 'the TCP subscription');
    t.send('SEND', { destination: toWs, colour: 'green' }, 'tcp → ws');
    w.frame('SEND', { destination: toTcp, colour: 'blue' }, 'ws → tcp');
    const atWs = await w.next('MESSAGE');
    await waitFor(() => t.frames.some((f) => f.command === 'MESSAGE'), 'the message over TCP');
    const atTcp = t.frames.find((f) => f.command === 'MESSAGE') as StompFrame;
    expect([atWs.body.toString(), atWs.headers.get('colour')]).toEqual(['tcp → ws', 'green']);
    expect([atTcp.body.toString(), atTcp.headers.get('colour')]).toEqual(['ws → tcp', 'blue']);
  });

  it('a WebSocket client answers an AMQP request through reply-to', async () => {
    const service = unique('ws-service');
    const c = await ws();
    c.frame('SUBSCRIBE', { id: 's', destination: `/queue/${service}`, receipt: 'ready' });
    await c.next('RECEIPT');
    const { queue: replies } = await ch.assertQueue('', { exclusive: true });
    const reply = consumeOne(replies);
    ch.sendToQueue(service, Buffer.from('ping?'), { replyTo: replies, correlationId: 'rpc-1' });
    const request = await c.next('MESSAGE');
    expect(request.headers.get('reply-to')).toBe(`/reply-queue/${replies}`);
    c.frame(
      'SEND',
      { destination: request.headers.get('reply-to') ?? '', 'correlation-id': 'rpc-1' },
      'pong!',
    );
    const answer = await reply;
    expect(answer.content.toString()).toBe('pong!');
    expect(answer.properties.correlationId).toBe('rpc-1');
  });
});
