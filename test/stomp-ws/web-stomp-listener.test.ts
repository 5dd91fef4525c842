import { WebSocket } from 'ws';
import { RawWsClient, startWsOnly, STOMP_PROTOCOLS, waitFor, type WsOnly } from './support';

let b: WsOnly | undefined;
const open: RawWsClient[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await b?.close();
  b = undefined;
});

async function connected(url: string, headers: Record<string, string> = {}): Promise<RawWsClient> {
  const c = await RawWsClient.connected(url, headers);
  open.push(c);
  return c;
}

/** The HTTP status a WebSocket upgrade got: 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(url, STOMP_PROTOCOLS, { headers });
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    ws.on('error', () => resolve(-1));
  });
}

describe('listener options', () => {
  it('takes upgrades only from allowed origins, and from clients that send no Origin', async () => {
    b = await startWsOnly({ allowedOrigins: ['https://app.example.com'] });
    expect(await upgradeStatus(b.url, { Origin: 'https://app.example.com' })).toBe(101);
    expect(await upgradeStatus(b.url, { Origin: 'https://evil.example.net' })).toBe(403);
    expect(await upgradeStatus(b.url, {})).toBe(101);
  });

  it('sends every frame as a binary message when binaryFrames is set', async () => {
    b = await startWsOnly({ binaryFrames: true });
    const c = await connected(b.url);
    c.frame('SUBSCRIBE', { id: 's', destination: '/queue/all-binary' });
    c.frame('SEND', { destination: '/queue/all-binary' }, 'text, sent as binary');
    expect((await c.next('MESSAGE')).body.toString()).toBe('text, sent as binary');
    expect(c.messages.map((m) => m.binary)).toEqual([true, true]);
  });

  it('negotiates permessage-deflate only when compression is configured', async () => {
    b = await startWsOnly();
    expect((await connected(b.url)).ws.extensions).toBe('');
    await b.close();
    b = await startWsOnly({ compression: true });
    const c = await connected(b.url);
    expect(c.ws.extensions).toBe('permessage-deflate');
    c.frame('SUBSCRIBE', { id: 's', destination: '/queue/deflated' });
    const body = 'squeeze me '.repeat(2000);
    c.frame('SEND', { destination: '/queue/deflated' }, body);
    expect((await c.next('MESSAGE')).body.toString()).toBe(body);
  });

  it('bounds a WebSocket message by the STOMP frame limit: ERROR just over it, close 1009 far over it', async () => {
    b = await startWsOnly({ limits: { stompMaxFrameSize: 4096 } });
    const c = await connected(b.url);
    c.frame('SEND', { destination: '/queue/big' }, Buffer.alloc(8192, 'a'));
    expect((await c.next('ERROR')).headers.get('message')).toMatch(/frame/i);
    await c.waitClosed();

    const d = await connected(b.url);
    d.send(Buffer.alloc(200 * 1024, 'a'));
    await d.waitClosed();
    expect(d.closeCode).toBe(1009);
  });

  it('closes every WebSocket with 1001 when the listener shuts down', async () => {
    b = await startWsOnly();
    const one = await connected(b.url);
    const two = await RawWsClient.open(b.url);
    open.push(two);
    await b.close();
    await one.waitClosed();
    await two.waitClosed();
    expect([one.closeCode, two.closeCode]).toEqual([1001, 1001]);
  });

  it('keeps a silent client alive past its heart-beat deadline while it answers pings', async () => {
    // A throttled background tab: its heart-beat timer does not fire, but its browser answers pings.
    // The session's deadline is 300 ms + 1 s of grace; eight pings come at least 300 ms apart, over 2.4 s.
    // (Below the default 1 s floor for heart-beats, so the test need not wait eight seconds.)
    b = await startWsOnly({ limits: { stompMinHeartbeatMs: 100 } });
    const c = await connected(b.url, { 'heart-beat': '300,0' });
    await waitFor(() => c.pings >= 8, 'eight pings (past two heart-beat deadlines)');
    expect(c.closeCode).toBeUndefined();
    expect(b.ws.sessions.size).toBe(1);
  });

  it('with pingKeepalive off counts STOMP heart-beats only, as RabbitMQ: a silent client is dropped though it would pong', async () => {
    b = await startWsOnly({ limits: { stompMinHeartbeatMs: 100 }, pingKeepalive: false });
    const c = await connected(b.url, { 'heart-beat': '300,0' });
    await c.waitClosed();
    expect(c.pings).toBe(0);
    expect(b.ws.sessions.size).toBe(0);
  });

  it('drops a client that neither sends heart-beats nor answers pings', async () => {
    b = await startWsOnly();
    const c = await RawWsClient.open(b.url, STOMP_PROTOCOLS, { autoPong: false });
    open.push(c);
    c.frame('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest', 'heart-beat': '300,0' });
    await c.next('CONNECTED');
    await c.waitClosed();
    expect(c.pings).toBeGreaterThan(0);
    expect(b.ws.sessions.size).toBe(0);
  });

  it('stops delivering to a client that stops reading, and delivers the rest once it reads again', async () => {
    b = await startWsOnly({ limits: { maxOutboundBytes: 64 * 1024 } });
    const reader = await connected(b.url);
    const publisher = await connected(b.url);
    const q = 'slow-reader';
    reader.frame('SUBSCRIBE', { id: 's', destination: `/queue/${q}`, receipt: 'subscribed' });
    await reader.next('RECEIPT');
    reader.ws.pause();
    const body = Buffer.alloc(64 * 1024, 'm');
    const count = 320; // 20 MiB: far more than the loopback socket buffers hold
    for (let i = 0; i < count; i++) publisher.frame('SEND', { destination: `/queue/${q}` }, body);
    publisher.frame('SEND', { destination: '/queue/slow-reader-done', receipt: 'all-sent' });
    await publisher.next('RECEIPT');
    await waitFor(() => (b?.queue(q)?.messageCount ?? 0) > 0, 'messages to wait in the queue');
    const waiting = b.queue(q)?.messageCount ?? 0;
    expect(waiting).toBeGreaterThan(count / 2);

    reader.ws.resume();
    await reader.next('MESSAGE', count);
    expect(b.queue(q)?.messageCount).toBe(0);
  });

  it('serves hundreds of connections at once and forgets each one as it closes', async () => {
    b = await startWsOnly();
    const clients = await Promise.all(Array.from({ length: 300 }, () => RawWsClient.connected(b?.url ?? '')));
    open.push(...clients);
    expect(b.ws.sessions.size).toBe(300);
    for (const c of clients) c.frame('SUBSCRIBE', { id: 's', destination: '/topic/everyone', receipt: 'in' });
    await Promise.all(clients.map((c) => c.next('RECEIPT')));
    clients[0]?.frame('SEND', { destination: '/topic/everyone' }, 'hello, all of you');
    await waitFor(() => clients.every((c) => c.framesOf('MESSAGE').length === 1), 'every client to get it');
    for (const c of clients) c.ws.close();
    await waitFor(() => b?.ws.sessions.size === 0 && b.broker.connections.size === 0, 'every session to end');
  });
});
