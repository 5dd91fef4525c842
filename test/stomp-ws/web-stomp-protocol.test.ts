import { request } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { WebSocket } from 'ws';
import { RawWsClient, startWsBroker, type WsBroker } from './support';

let b: WsBroker;
const open: RawWsClient[] = [];
beforeAll(async () => {
  b = await startWsBroker();
});
afterAll(() => b.close());
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

let n = 0;
const unique = (base: string): string => `${base}-${++n}`;

async function connected(): Promise<RawWsClient> {
  const c = await RawWsClient.connected(b.url);
  open.push(c);
  return c;
}

async function opened(protocols?: string[]): Promise<RawWsClient> {
  const c = await RawWsClient.open(b.url, protocols);
  open.push(c);
  return c;
}

describe('the WebSocket handshake', () => {
  it('answers with the highest STOMP subprotocol the client offers', async () => {
    expect((await opened(['v10.stomp', 'v12.stomp', 'v11.stomp'])).ws.protocol).toBe('v12.stomp');
    expect((await opened(['v10.stomp', 'v11.stomp'])).ws.protocol).toBe('v11.stomp');
    expect((await opened(['mqtt', 'v10.stomp'])).ws.protocol).toBe('v10.stomp');
  });

  it('accepts a client offering no subprotocol, and STOMP negotiation picks the version', async () => {
    const c = await opened([]);
    expect(c.ws.protocol).toBe('');
    c.frame('CONNECT', { 'accept-version': '1.1,1.2', login: 'guest', passcode: 'guest' });
    expect((await c.next('CONNECTED')).headers.get('version')).toBe('1.2');
  });

  it('lets STOMP negotiation decide the version whatever subprotocol was chosen', async () => {
    const c = await opened(['v12.stomp']);
    c.frame('CONNECT', { 'accept-version': '1.1', login: 'guest', passcode: 'guest' });
    expect((await c.next('CONNECTED')).headers.get('version')).toBe('1.1');
  });

  it('refuses an upgrade on any other path with 404', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.wsPort}/stomp`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });

  it('answers a plain GET on the WebSocket path with 426 Upgrade Required', async () => {
    expect((await get('/ws')).status).toBe(426);
  });
});

describe('STOMP frames in WebSocket messages', () => {
  it('parses a frame cut into one WebSocket message per byte', async () => {
    const c = await opened();
    const bytes = c.bytes('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest' });
    for (let i = 0; i < bytes.length; i++) c.send(bytes.subarray(i, i + 1), i % 2 === 0);
    await c.next('CONNECTED');
    const q = unique('/queue/split');
    c.frame('SUBSCRIBE', { id: 's', destination: q });
    const send = c.bytes('SEND', { destination: q }, Buffer.from([0x61, 0, 0x62]));
    c.send(send.subarray(0, 5));
    c.send(send.subarray(5, 20), true);
    c.send(send.subarray(20));
    const m = await c.next('MESSAGE');
    expect([...m.body]).toEqual([0x61, 0, 0x62]);
  });

  it('handles several frames carried in one WebSocket message, text or binary', async () => {
    const c = await connected();
    const q = unique('/queue/packed');
    const packed = Buffer.concat([
      c.bytes('SUBSCRIBE', { id: 's', destination: q }),
      c.bytes('SEND', { destination: q }, 'one'),
      Buffer.from('\n'),
      c.bytes('SEND', { destination: q }, 'two'),
      c.bytes('SEND', { destination: q, receipt: 'r' }, 'three'),
    ]);
    c.send(packed, false);
    await c.next('RECEIPT');
    await c.next('MESSAGE', 3);
    expect(c.framesOf('MESSAGE').map((f) => f.body.toString())).toEqual(['one', 'two', 'three']);
    c.send(
      Buffer.concat([
        c.bytes('SEND', { destination: q }, 'four'),
        c.bytes('SEND', { destination: q }, 'five'),
      ]),
      true,
    );
    await c.next('MESSAGE', 5);
    expect(
      c
        .framesOf('MESSAGE')
        .map((f) => f.body.toString())
        .slice(3),
    ).toEqual(['four', 'five']);
  });

  it('sends each frame as one text message, and a body that is not UTF-8 as a binary one', async () => {
    const c = await connected();
    const q = unique('/queue/kinds');
    c.frame('SUBSCRIBE', { id: 's', destination: q });
    c.frame('SEND', { destination: q }, 'plain text ✓');
    await c.next('MESSAGE');
    // Sent binary too: a text message must be UTF-8 (RFC 6455 §8.1), or ws closes with 1007.
    c.frame('SEND', { destination: q }, Buffer.from([0xff, 0x00, 0xfe]), true);
    await c.next('MESSAGE', 2);
    const kinds = c.messages.map((m) => (m.binary ? 'binary' : 'text'));
    // CONNECTED, MESSAGE (UTF-8), MESSAGE (binary body): one STOMP frame per WebSocket message.
    expect(kinds).toEqual(['text', 'text', 'binary']);
    expect(c.messages.every((m) => m.data[m.data.length - 1] === 0)).toBe(true);
    expect(isUtf8(c.messages[1]?.data ?? Buffer.alloc(0))).toBe(true);
  });

  it('sends a large message as one WebSocket message that arrives whole', async () => {
    const c = await connected();
    const q = unique('/queue/large');
    c.frame('SUBSCRIBE', { id: 's', destination: q });
    const body = Buffer.alloc(1024 * 1024, 'x');
    c.frame('SEND', { destination: q }, body);
    const m = await c.next('MESSAGE');
    expect(m.body.equals(body)).toBe(true);
    expect(c.messages).toHaveLength(2);
    expect(c.messages[1]?.binary).toBe(false);
  });

  it('answers a command it does not know with ERROR and keeps the session', async () => {
    const c = await connected();
    c.send('FOO\n\n\0');
    const error = await c.next('ERROR');
    expect(error.headers.get('message')).toBe('Bad command');
    c.frame('SEND', { destination: unique('/queue/after-error'), receipt: 'still-here' });
    expect((await c.next('RECEIPT')).headers.get('receipt-id')).toBe('still-here');
  });

  it('answers a malformed frame with ERROR and closes the WebSocket with 1000', async () => {
    const c = await connected();
    c.send('SEND\ndestination:/queue/x\nbad header line without colon\n\n\0');
    await c.next('ERROR');
    await c.waitClosed();
    expect(c.closeCode).toBe(1000);
    expect(c.closeReason).toBe('STOMP died');
  });

  it('refuses a frame before CONNECT with ERROR and closes', async () => {
    const c = await opened();
    c.frame('SEND', { destination: '/queue/x' }, 'early');
    expect((await c.next('ERROR')).headers.get('message')).toBe('Illegal command');
    await c.waitClosed();
  });

  it('closes with a receipt on DISCONNECT', async () => {
    const c = await connected();
    c.frame('DISCONNECT', { receipt: 'bye' });
    expect((await c.next('RECEIPT')).headers.get('receipt-id')).toBe('bye');
    await c.waitClosed();
    expect(c.closeCode).toBe(1000);
  });
});

/** GET over plain HTTP: status, headers and body. */
function get(path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: b.wsPort, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the demo page', () => {
  it('is served at / with its script, stylesheet and the stompjs browser bundle; other paths are 404', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('<meta name="warren-ws-path" content="/ws" />');
    const app = await get('/app.js');
    expect(app.type).toMatch(/^text\/javascript/);
    expect((await get('/style.css')).status).toBe(200);
    const bundle = await get('/vendor/stomp.umd.min.js');
    expect(bundle.status).toBe(200);
    expect(bundle.body).toContain('StompJs');
    expect((await get('/nothing-here')).status).toBe(404);
    expect((await get('/../package.json')).status).toBe(404);
  });
});
