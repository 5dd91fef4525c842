import { RawClient, startStompBroker, waitFor, type StompTestBroker } from './support';

let b: StompTestBroker;
const clients: RawClient[] = [];
beforeEach(async () => {
  b = await startStompBroker({ serverName: 'Warren/test', limits: { stompMaxFrameSize: 128 * 1024 } });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await b.close();
});

async function open(): Promise<RawClient> {
  const c = await RawClient.open(b.port);
  clients.push(c);
  return c;
}

const CONNECT_10 = 'CONNECT\nlogin:guest\npasscode:guest\n\n\0';

/** Resolves with `promise`, or fails the test once `ms` have passed: waiting on an event, never on time alone. */
async function withDeadline(promise: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
const sessionOf = (c: RawClient): string => c.frames[0]?.headers.get('session') ?? '';

describe('STOMP 1.0 frames on a raw socket (seed 004)', () => {
  it('answers CONNECT with exactly the 1.0 CONNECTED frame', async () => {
    const c = await open();
    c.raw(CONNECT_10);
    await c.next('CONNECTED');
    expect(c.text).toBe(
      `CONNECTED\nserver:Warren/test\nsession:${sessionOf(c)}\nheart-beat:0,0\nversion:1.0\n\n\0`,
    );
  });

  it('delivers a SEND without content-length up to its NUL and a counted one with NULs inside', async () => {
    const c = await open();
    c.raw(CONNECT_10 + 'SUBSCRIBE\ndestination:/queue/a\n\n\0');
    c.raw('SEND\ndestination:/queue/a\n\nhello queue a\0');
    c.raw('SEND\ndestination:/queue/a\ncontent-length:5\n\na\0b\0c\0');
    const first = await c.next('MESSAGE');
    const second = await c.next('MESSAGE', 2);
    expect(first.body.toString()).toBe('hello queue a');
    expect(second.body).toEqual(Buffer.from('a\0b\0c'));
    const s = sessionOf(c);
    expect(c.text).toContain(
      `MESSAGE\ndestination:/queue/a\nmessage-id:Q_/queue/a@@${s}@@1\nredelivered:false\ncontent-length:13\n\nhello queue a\0`,
    );
  });

  it('acks with message-id, answers receipts, runs a transaction, and disconnects', async () => {
    const c = await open();
    c.raw(
      CONNECT_10 + 'SUBSCRIBE\ndestination:/queue/b\nack:client\n\n\0SEND\ndestination:/queue/b\n\nwork\0',
    );
    const m = await c.next('MESSAGE');
    c.raw('BEGIN\ntransaction:tx1\n\n\0');
    c.raw(`ACK\nmessage-id:${m.headers.get('message-id') ?? ''}\ntransaction:tx1\n\n\0`);
    c.raw('SEND\ndestination:/queue/done\ntransaction:tx1\n\ndone\0');
    c.raw('COMMIT\ntransaction:tx1\nreceipt:committed\n\n\0');
    const r = await c.next('RECEIPT');
    expect(r.headers.get('receipt-id')).toBe('committed');
    expect(b.queue('b')?.unackedCount).toBe(0);
    expect(b.queue('done')?.messageCount).toBe(1);
    c.raw('DISCONNECT\nreceipt:bye\n\n\0');
    await c.waitClosed();
    expect(c.text.endsWith('RECEIPT\nreceipt-id:bye\n\n\0')).toBe(true);
  });

  it('accepts CRLF line ends and repeated headers (first wins) from a 1.2 client', async () => {
    const c = await open();
    c.raw('CONNECT\r\naccept-version:1.2\r\nlogin:guest\r\npasscode:guest\r\n\r\n\0');
    await c.next('CONNECTED');
    c.raw('SUBSCRIBE\r\nid:0\r\ndestination:/queue/crlf\r\n\r\n\0');
    c.raw('SEND\r\ndestination:/queue/crlf\r\nfoo:first\r\nfoo:second\r\n\r\nbody\0');
    const m = await c.next('MESSAGE');
    expect(m.headers.get('foo')).toBe('first');
    expect(m.body.toString()).toBe('body');
  });
});

describe('every ERROR case on a raw socket', () => {
  const cases: [string, string, string, boolean][] = [
    ['a frame before CONNECT', 'SEND\ndestination:/queue/a\n\nx\0', 'Illegal command', true],
    ['bad credentials', 'CONNECT\nlogin:guest\npasscode:nope\n\n\0', 'Bad CONNECT', true],
    ['an unknown user', 'CONNECT\nlogin:mallory\npasscode:x\n\n\0', 'Bad CONNECT', true],
    [
      'no common version',
      'CONNECT\naccept-version:9.9\nlogin:guest\npasscode:guest\n\n\0',
      'Version mismatch',
      true,
    ],
    ['an unknown command', `${CONNECT_10}FOO\n\n\0`, 'Bad command', false],
    ['a SEND without destination', `${CONNECT_10}SEND\n\nHello queue a!\0`, 'Missing destination', false],
    ['a SUBSCRIBE without destination', `${CONNECT_10}SUBSCRIBE\nid:1\n\n\0`, 'Missing destination', false],
    [
      'an unknown destination type',
      `${CONNECT_10}SEND\ndestination:/nope/x\n\nx\0`,
      'Unknown destination',
      false,
    ],
    [
      'a SEND carrying message-id, which only the broker sets',
      `${CONNECT_10}SEND\ndestination:a\nmessage-id:1\n\nx\0`,
      'Invalid header',
      false,
    ],
    [
      'a queue name with a slash (RabbitMQ refuses it)',
      `${CONNECT_10}SEND\ndestination:/queue/bah/baz\n\nx\0`,
      'Invalid destination',
      false,
    ],
    [
      'an exchange destination with more than exchange and key',
      `${CONNECT_10}SUBSCRIBE\nid:1\ndestination:/exchange/bah/baz/boo\n\n\0`,
      'Invalid destination',
      false,
    ],
    [
      'a duplicate subscription id',
      `${CONNECT_10}SUBSCRIBE\nid:7\ndestination:/queue/dup\n\n\0SUBSCRIBE\nid:7\ndestination:/queue/dup\n\n\0`,
      'Duplicated subscription identifier',
      true,
    ],
    ['an unknown transaction', `${CONNECT_10}COMMIT\ntransaction:none\n\n\0`, 'Bad transaction', false],
    [
      'a duplicate transaction',
      `${CONNECT_10}BEGIN\ntransaction:t\n\n\0BEGIN\ntransaction:t\n\n\0`,
      'Bad transaction',
      false,
    ],
    ['an ACK without message-id', `${CONNECT_10}ACK\n\n\0`, 'Invalid header', false],
    [
      'an ACK of an unknown delivery',
      `${CONNECT_10}ACK\nmessage-id:T_x@@s@@42\n\n\0`,
      'precondition_failed',
      true,
    ],
    ['a missing queue', `${CONNECT_10}SUBSCRIBE\ndestination:/amq/queue/ghost\n\n\0`, 'not_found', true],
    [
      'a bad selector',
      `${CONNECT_10}SUBSCRIBE\ndestination:/queue/s\nselector:a ==\n\n\0`,
      'Invalid selector',
      false,
    ],
    [
      'a bad header escape (1.2)',
      'CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0SEND\ndestination:/queue/a\nh:\\t\n\n\0',
      'Undefined escape sequence in header',
      true,
    ],
    [
      'a bad content-length',
      `${CONNECT_10}SEND\ndestination:/queue/a\ncontent-length:ten\n\nx\0`,
      'Invalid content-length',
      true,
    ],
    [
      'a frame above the size limit',
      `${CONNECT_10}SEND\ndestination:/queue/a\n\n${'x'.repeat(140000)}\0`,
      'Frame exceeds 131072 bytes',
      true,
    ],
    [
      'a command line that is no command',
      `${CONNECT_10}${'X'.repeat(40)}\n\n\0`,
      'Command line exceeds 32 bytes',
      true,
    ],
  ];

  // Titled by what is sent and the ERROR message expected; the bytes themselves stay out of the title.
  const titled = cases.map(([what, input, message, closes]) => [what, message, input, closes] as const);
  it.each(titled)('answers %s with ERROR %p', async (_what, message, input, closes) => {
    const c = await open();
    c.raw(input);
    const e = await c.next('ERROR');
    expect(e.headers.get('message')).toBe(message);
    expect(e.headers.get('content-type')).toBe('text/plain');
    if (closes) {
      await c.waitClosed();
    } else {
      // The session survives a frame that broke nothing, as in RabbitMQ: a receipt still comes back.
      c.raw('SEND\ndestination:/queue/after\nreceipt:still-here\n\nx\0');
      expect((await c.next('RECEIPT')).headers.get('receipt-id')).toBe('still-here');
    }
    // The process and other clients are unaffected.
    const other = await open();
    other.raw(CONNECT_10);
    await other.next('CONNECTED');
  });

  it.each<[string, Buffer]>([
    ['binary garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x10, 0x80])],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')],
  ])(
    'answers %s before CONNECT with ERROR Illegal command and closes without waiting for more',
    async (_what, bytes) => {
      const c = await open();
      const closed = new Promise<void>((resolve) => c.onClose(resolve));
      // Far less than any budget, and no line end in the garbage: only its first octets can have decided.
      c.raw(bytes);
      const e = await c.next('ERROR');
      expect(e.headers.get('message')).toBe('Illegal command');
      await withDeadline(closed, 10000, 'the server to close the connection');
      expect(c.frames.map((f) => f.command)).toEqual(['ERROR']);
    },
  );

  it('skips a stray NUL between frames, as RabbitMQ does', async () => {
    const c = await open();
    c.raw(`\0${CONNECT_10}\0\0SEND\ndestination:/queue/nul\nreceipt:r\n\nx\0\0`);
    expect((await c.next('RECEIPT')).headers.get('receipt-id')).toBe('r');
    expect(c.frames.map((f) => f.command)).toEqual(['CONNECTED', 'RECEIPT']);
  });

  it('closes a connection that sends more than 64 KiB before CONNECT', async () => {
    const c = await open();
    c.raw(`CONNECT\nlogin:guest\npadding:${'p'.repeat(70 * 1024)}`);
    const e = await c.next('ERROR');
    expect(e.headers.get('message')).toMatch(/before CONNECT/);
    await c.waitClosed();
  });

  it('drops a client that stops heart-beating and closes its core connection', async () => {
    await b.close();
    b = await startStompBroker({ heartbeatGraceMs: 100 });
    const quiet = await open();
    quiet.raw('CONNECT\naccept-version:1.2\nheart-beat:100,0\nlogin:guest\npasscode:guest\n\n\0');
    await quiet.next('CONNECTED');
    await quiet.waitClosed();
    await waitFor(() => b.broker.connections.size === 0, 'the core connection to close');
  });
});
