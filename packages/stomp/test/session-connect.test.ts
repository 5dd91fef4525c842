import type { Broker } from '@warren/core';
import { header, SessionClient, startBroker, waitFor } from './session-helpers';

let broker: Broker;
beforeEach(async () => {
  broker = await startBroker();
});
afterEach(async () => {
  await broker.close();
});

describe('CONNECT negotiation', () => {
  it('treats a CONNECT without accept-version as STOMP 1.0 and answers with server, session, heart-beat, version', () => {
    const c = new SessionClient(broker);
    const f = c.connect({ login: 'guest', passcode: 'guest' });
    expect([...f.headers.keys()]).toEqual(['server', 'session', 'heart-beat', 'version']);
    expect(header(f, 'version')).toBe('1.0');
    expect(header(f, 'server')).toBe('Warren/test');
    expect(header(f, 'heart-beat')).toBe('0,0');
    expect(header(f, 'session')).toMatch(/^session-[A-Za-z0-9_-]{22}$/);
  });

  it('picks the highest version both sides speak', () => {
    const c = new SessionClient(broker);
    expect(
      header(c.connect({ 'accept-version': '1.0,1.1', login: 'guest', passcode: 'guest' }), 'version'),
    ).toBe('1.1');
    const d = new SessionClient(broker);
    expect(
      header(d.connect({ 'accept-version': '1.1, 1.2 ,2.0', login: 'guest', passcode: 'guest' }), 'version'),
    ).toBe('1.2');
  });

  it('accepts STOMP as a synonym of CONNECT', () => {
    const c = new SessionClient(broker);
    c.frame('STOMP', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    expect(c.last()?.command).toBe('CONNECTED');
  });

  it('refuses a client with no version in common with ERROR Version mismatch, then closes', () => {
    const c = new SessionClient(broker);
    c.frame('CONNECT', { 'accept-version': '2.0,3.1', login: 'guest', passcode: 'guest' });
    const e = c.lastError();
    expect(header(e, 'message')).toBe('Version mismatch');
    expect(header(e, 'version')).toBe('1.0,1.1,1.2');
    expect(e?.body.toString()).toContain('Supported versions are 1.0,1.1,1.2');
    expect(c.transport.ended).toBe(true);
  });

  it('refuses bad credentials with ERROR Bad CONNECT and closes; the broker keeps serving others', () => {
    const c = new SessionClient(broker);
    c.frame('CONNECT', { login: 'guest', passcode: 'wrong' });
    expect(header(c.lastError(), 'message')).toBe('Bad CONNECT');
    expect(c.lastError()?.body.toString()).toBe("Access refused for user 'guest'\n");
    expect(c.transport.ended).toBe(true);
    expect(broker.connections.size).toBe(0);
    new SessionClient(broker).connect();
    expect(broker.connections.size).toBe(1);
  });

  it('refuses guest from a non-loopback address, as RabbitMQ does', () => {
    const c = new SessionClient(broker, {}, '10.1.2.3');
    c.frame('CONNECT', { login: 'guest', passcode: 'guest' });
    expect(header(c.lastError(), 'message')).toBe('Bad CONNECT');
  });

  it('logs in as the default user when CONNECT carries no login', () => {
    const c = new SessionClient(broker);
    c.frame('CONNECT', {});
    expect(c.last()?.command).toBe('CONNECTED');
    const strict = new SessionClient(broker, { defaultLogin: null });
    strict.frame('CONNECT', {});
    expect(header(strict.lastError(), 'message')).toBe('Bad CONNECT');
  });

  it('uses host as the vhost when it names one and falls back to the default vhost otherwise', () => {
    broker.addVhost('v2');
    broker.users.setPermissions('guest', 'v2', { configure: '.*', write: '.*', read: '.*' });
    const a = new SessionClient(broker);
    a.connect({ 'accept-version': '1.2', host: 'v2', login: 'guest', passcode: 'guest' });
    expect(a.session.connection?.vhost.name).toBe('v2');
    for (const host of ['localhost', '127.0.0.1', 'broker.example.com']) {
      const b = new SessionClient(broker);
      b.connect({ 'accept-version': '1.2', host, login: 'guest', passcode: 'guest' });
      expect(b.session.connection?.vhost.name).toBe('/');
    }
  });

  it("with unknownHost 'refuse' takes host as the vhost and refuses one that does not exist, in RabbitMQ's words", () => {
    const c = new SessionClient(broker, { unknownHost: 'refuse' });
    c.frame('CONNECT', { 'accept-version': '1.1', host: '//', login: 'guest', passcode: 'guest' });
    expect(header(c.lastError(), 'message')).toBe('Bad CONNECT');
    expect(c.lastError()?.body.toString()).toBe("Virtual host '//' access denied");
    expect(c.transport.ended).toBe(true);
    const ok = new SessionClient(broker, { unknownHost: 'refuse' });
    ok.connect({ 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    expect(ok.session.connection?.vhost.name).toBe('/');
    const noHost = new SessionClient(broker, { unknownHost: 'refuse' });
    noHost.connect({ 'accept-version': '1.2', login: 'guest', passcode: 'guest' });
    expect(noHost.session.connection?.vhost.name).toBe('/');
  });

  it('refuses a vhost the user may not use with the same words', () => {
    broker.addVhost('private');
    const c = new SessionClient(broker);
    c.frame('CONNECT', { 'accept-version': '1.2', host: 'private', login: 'guest', passcode: 'guest' });
    expect(c.lastError()?.body.toString()).toBe("Virtual host 'private' access denied");
  });

  it('refuses any frame before CONNECT with ERROR Illegal command', () => {
    const c = new SessionClient(broker);
    c.frame('SEND', { destination: '/queue/a' }, 'x');
    expect(header(c.lastError(), 'message')).toBe('Illegal command');
    expect(c.lastError()?.body.toString()).toBe('You must log in using CONNECT first, not "SEND"');
    expect(c.transport.ended).toBe(true);
  });

  it.each<[string, string | Buffer]>([
    ['an HTTP request', 'GET / HTTP/1.1\r\nHost: localhost:61613\r\n\r\n'],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])],
    ['binary garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef])],
  ])('answers %s before CONNECT with one ERROR Illegal command and closes at once', (_what, input) => {
    const c = new SessionClient(broker);
    c.raw(input);
    expect(c.of('ERROR')).toHaveLength(1);
    expect(header(c.lastError(), 'message')).toBe('Illegal command');
    expect(c.lastError()?.body.toString()).toMatch(/^You must log in using CONNECT first, not "/);
    expect(c.transport.ended).toBe(true);
    expect(broker.connections.size).toBe(0);
  });

  it('refuses more than the pre-CONNECT budget with ERROR and closes', () => {
    const c = new SessionClient(broker, { limits: { stompMaxPreConnectBytes: 64 } });
    c.raw('CONNECT\nlogin:guest\n' + 'x-pad:' + 'y'.repeat(100) + '\n');
    expect(c.lastError()?.headers.get('message')).toMatch(/before CONNECT/);
    expect(c.transport.ended).toBe(true);
  });
});

describe('heart-beats', () => {
  it('answers heart-beat cx,cy with cy,cx as RabbitMQ does', () => {
    const c = new SessionClient(broker);
    const f = c.connect({
      'accept-version': '1.2',
      'heart-beat': '5000,7000',
      login: 'guest',
      passcode: 'guest',
    });
    expect(header(f, 'heart-beat')).toBe('7000,5000');
    c.session.shutdown();
  });

  it('never agrees to heart-beats more often than stompMinHeartbeatMs, either way', () => {
    // A storm of 1 ms heart-beats from thousands of clients would be a timer tick each every half millisecond.
    const c = new SessionClient(broker);
    const f = c.connect({ 'accept-version': '1.2', 'heart-beat': '1,1', login: 'guest', passcode: 'guest' });
    expect(header(f, 'heart-beat')).toBe('1000,1000');
    c.session.shutdown();
    const fast = new SessionClient(broker, { limits: { stompMinHeartbeatMs: 20 } });
    const g = fast.connect({
      'accept-version': '1.2',
      'heart-beat': '1,0',
      login: 'guest',
      passcode: 'guest',
    });
    expect(header(g, 'heart-beat')).toBe('0,20');
    fast.session.shutdown();
  });

  it('sends an EOL when nothing else was written for the negotiated interval', async () => {
    const c = new SessionClient(broker);
    c.connect({ 'accept-version': '1.2', 'heart-beat': '0,30', login: 'guest', passcode: 'guest' });
    await waitFor(() => c.heartbeats >= 2, 3000, 'two server heart-beats');
    c.session.shutdown();
  });

  it('drops a peer silent for its interval plus the grace margin, and keeps one that sends any byte', async () => {
    const silent = new SessionClient(broker, { heartbeatGraceMs: 50 });
    silent.connect({ 'accept-version': '1.2', 'heart-beat': '50,0', login: 'guest', passcode: 'guest' });
    // A wider margin for the one that must survive: it sends a byte every 10 ms, far inside 200 + 200.
    const chatty = new SessionClient(broker, { heartbeatGraceMs: 200 });
    chatty.connect({ 'accept-version': '1.2', 'heart-beat': '200,0', login: 'guest', passcode: 'guest' });
    const started = Date.now();
    // Not EOLs: a SEND split into single bytes is liveness too.
    const bytes = Buffer.from('SEND\ndestination:/queue/hb\n\nkeepalive\0');
    let i = 0;
    const timer = setInterval(
      () => chatty.raw(bytes.subarray(i % bytes.length, (i++ % bytes.length) + 1)),
      10,
    );
    try {
      await waitFor(() => silent.transport.destroyed, 3000, 'the silent peer to be dropped');
      // ...and past the chatty peer's own deadline, so its survival means something.
      await waitFor(() => Date.now() - started > 600, 3000, "the chatty peer's deadline to pass");
      expect(chatty.transport.closed).toBe(false);
      expect(silent.session.closed).toBe(true);
    } finally {
      clearInterval(timer);
      chatty.session.shutdown();
    }
  });

  it('refuses a malformed heart-beat header', () => {
    const c = new SessionClient(broker);
    c.frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': 'soon', login: 'guest', passcode: 'guest' });
    expect(header(c.lastError(), 'message')).toBe('Invalid header');
  });
});

describe('errors after CONNECT', () => {
  it('answers an unknown command with ERROR Bad command and keeps the session', () => {
    const c = new SessionClient(broker);
    c.connect();
    c.frame('FOO');
    expect(header(c.lastError(), 'message')).toBe('Bad command');
    c.frame('SEND', { destination: '/queue/a', receipt: 'r1' });
    expect(header(c.last(), 'receipt-id')).toBe('r1');
  });

  it("answers the seed's SEND without destination with ERROR Missing destination", () => {
    const c = new SessionClient(broker);
    c.connect({ login: 'guest', passcode: 'guest' });
    c.raw('SEND\n\nHello queue a!\0');
    const e = c.lastError();
    expect(header(e, 'message')).toBe('Missing destination');
    expect(e?.body.toString()).toBe(`"SEND" must include a 'destination' header\n`);
  });

  it('names the receipt of the frame that failed in ERROR receipt-id', () => {
    const c = new SessionClient(broker);
    c.connect();
    c.frame('SUBSCRIBE', { destination: '/bogus/x', receipt: 'r-9' });
    expect(header(c.lastError(), 'receipt-id')).toBe('r-9');
    expect(header(c.lastError(), 'message')).toBe('Unknown destination');
  });

  it("closes the session on a core error, as a channel error closes RabbitMQ's", () => {
    const c = new SessionClient(broker);
    c.connect();
    c.frame('SUBSCRIBE', { destination: '/amq/queue/nonexistent', id: '1' });
    expect(header(c.lastError(), 'message')).toBe('not_found');
    expect(c.lastError()?.body.toString()).toBe("NOT_FOUND - no queue 'nonexistent' in vhost '/'");
    expect(c.transport.ended).toBe(true);
    expect(broker.connections.size).toBe(0);
  });

  it('closes with ERROR when a frame breaks the frame-size limit', () => {
    const c = new SessionClient(broker, { limits: { stompMaxFrameSize: 1024 } });
    c.connect();
    c.frame('SEND', { destination: '/queue/big' }, Buffer.alloc(2000, 1));
    expect(header(c.lastError(), 'message')).toMatch(/Frame exceeds 1024 bytes/);
    expect(c.transport.ended).toBe(true);
  });

  it('closes with ERROR when a frame has too many headers or too long a header', () => {
    const many = new SessionClient(broker, { limits: { stompMaxHeaders: 5 } });
    many.connect();
    many.raw('SEND\n' + Array.from({ length: 6 }, (_, i) => `h${i}:v\n`).join('') + '\n\0');
    expect(header(many.lastError(), 'message')).toMatch(/more than 5 headers/);
    const long = new SessionClient(broker, { limits: { stompMaxHeaderLength: 100 } });
    long.connect();
    long.raw(`SEND\nh:${'v'.repeat(200)}\n\n\0`);
    expect(header(long.lastError(), 'message')).toMatch(/exceeds 100 bytes/);
    expect(long.transport.ended).toBe(true);
  });

  it('closes with ERROR when a command line is no command at all: too long, control octets, not UTF-8', () => {
    for (const [input, message] of [
      [`${'A'.repeat(40)}\n\n\0`, 'Command line exceeds 32 bytes'],
      ['A'.repeat(40), 'Command line exceeds 32 bytes'],
      ['SE\x07ND\n\n\0', 'Command line holds a control octet'],
      [Buffer.from([0x53, 0xc0, 0xaf, 0x0a, 0x0a, 0x00]), 'Command is not UTF-8'],
    ] as const) {
      const c = new SessionClient(broker);
      c.connect();
      c.raw(input);
      expect(c.of('ERROR')).toHaveLength(1);
      expect(header(c.lastError(), 'message')).toBe(message);
      expect(c.transport.ended).toBe(true);
    }
  });

  it('answers an unknown but plausible command with ERROR Bad command and stays open', () => {
    const c = new SessionClient(broker);
    c.connect();
    c.raw('FLY\n\n\0');
    expect(header(c.lastError(), 'message')).toBe('Bad command');
    c.frame('SEND', { destination: '/queue/after', receipt: 'r' }, 'x');
    expect(header(c.last(), 'receipt-id')).toBe('r');
  });

  it('skips stray NULs between frames, before and after CONNECT', () => {
    const c = new SessionClient(broker);
    c.raw('\0\0\n');
    c.connect();
    c.raw('\0\0SEND\ndestination:/queue/nul\nreceipt:r\n\nx\0\0\0');
    expect(c.of('ERROR')).toHaveLength(0);
    expect(header(c.last(), 'receipt-id')).toBe('r');
    expect(broker.vhosts.get('/')?.queues.get('nul')?.messageCount).toBe(1);
  });

  it('answers DISCONNECT with its receipt and closes; later bytes are ignored', async () => {
    const c = new SessionClient(broker);
    c.connect();
    c.frame('DISCONNECT', { receipt: 'bye' });
    await c.waitFor(() => c.transport.ended, 'the transport to end');
    expect(header(c.last(), 'receipt-id')).toBe('bye');
    c.frame('SEND', { destination: '/queue/after' }, 'x');
    expect(broker.vhosts.get('/')?.queues.has('after')).toBe(false);
    expect(broker.connections.size).toBe(0);
  });
});
