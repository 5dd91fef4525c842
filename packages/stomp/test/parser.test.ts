import { StompParser, type StompFrame } from '../src';
import { cut, errorReason, frame, newRecordingParser, parse, parseChunks, type ParseEvent } from './helpers';

const heartbeat: ParseEvent = { kind: 'heartbeat' };

describe('STOMP 1.0 frames as Net::Stomp sends them', () => {
  test.each<[string, string, ParseEvent]>([
    [
      'CONNECT with login and passcode',
      'CONNECT\nlogin:guest\npasscode:guest\n\n\0',
      frame('CONNECT', [
        ['login', 'guest'],
        ['passcode', 'guest'],
      ]),
    ],
    [
      'SEND to /queue/a without content-length',
      'SEND\ndestination:/queue/a\n\nhello queue a\0',
      frame('SEND', [['destination', '/queue/a']], 'hello queue a'),
    ],
    [
      'SEND to /queue/a with content-length',
      'SEND\ndestination:/queue/a\ncontent-length:13\n\nhello queue a\0',
      frame(
        'SEND',
        [
          ['destination', '/queue/a'],
          ['content-length', '13'],
        ],
        'hello queue a',
      ),
    ],
    [
      'SUBSCRIBE with ack:client',
      'SUBSCRIBE\ndestination:/queue/foo\nack:client\n\n\0',
      frame('SUBSCRIBE', [
        ['destination', '/queue/foo'],
        ['ack', 'client'],
      ]),
    ],
    [
      'ACK by message-id',
      'ACK\nmessage-id:T_sub-0@@session-Qb7@@1\n\n\0',
      frame('ACK', [['message-id', 'T_sub-0@@session-Qb7@@1']]),
    ],
    ['DISCONNECT', 'DISCONNECT\n\n\0', frame('DISCONNECT', [])],
    [
      'BEGIN with a receipt',
      'BEGIN\ntransaction:tx1\nreceipt:77\n\n\0',
      frame('BEGIN', [
        ['transaction', 'tx1'],
        ['receipt', '77'],
      ]),
    ],
  ])('%s parses to its command, headers and body', (_name, wire, expected) => {
    expect(parse(wire)).toEqual([expected]);
  });

  test('a header value keeps every colon after the first one', () => {
    expect(parse('SEND\ndestination:/queue/a\nurl:http://x:80/\n\n\0', { version: '1.0' })).toEqual([
      frame('SEND', [
        ['destination', '/queue/a'],
        ['url', 'http://x:80/'],
      ]),
    ]);
  });

  test('header values are not trimmed', () => {
    expect(parse('SEND\ndestination: /queue/a \n\n\0')).toEqual([
      frame('SEND', [['destination', ' /queue/a ']]),
    ]);
  });

  test('backslashes in 1.0 headers are plain characters', () => {
    expect(parse('SEND\nx:a\\nb\\t\n\n\0', { version: '1.0' })).toEqual([frame('SEND', [['x', 'a\\nb\\t']])]);
  });
});

describe('STOMP 1.2 frames', () => {
  test('CRLF line ends are accepted everywhere', () => {
    expect(parse('SEND\r\ndestination:/queue/a\r\nreceipt:1\r\n\r\nhi\0\r\n', { version: '1.2' })).toEqual([
      frame(
        'SEND',
        [
          ['destination', '/queue/a'],
          ['receipt', '1'],
        ],
        'hi',
      ),
      heartbeat,
    ]);
  });

  test('escapes in names and values are decoded', () => {
    expect(
      parse('SEND\ndestination:/queue/a\nkey\\cname:a\\nb\\\\c\\rd\\c\n\n\0', { version: '1.2' }),
    ).toEqual([
      frame('SEND', [
        ['destination', '/queue/a'],
        ['key:name', 'a\nb\\c\rd:'],
      ]),
    ]);
  });

  test('STOMP 1.1 decodes \\n, \\c and \\\\ but refuses \\r', () => {
    expect(parse('SEND\nk:a\\nb\\cc\\\\\n\n\0', { version: '1.1' })).toEqual([
      frame('SEND', [['k', 'a\nb:c\\']]),
    ]);
    expect(errorReason(parse('SEND\nk:a\\rb\n\n\0', { version: '1.1' }))).toBe('bad-escape');
  });

  test.each(['CONNECT', 'STOMP'])('%s headers are never unescaped, whatever the version', (command) => {
    expect(parse(`${command}\nlogin:guest\npasscode:p\\t\\c\n\n\0`, { version: '1.2' })).toEqual([
      frame(command, [
        ['login', 'guest'],
        ['passcode', 'p\\t\\c'],
      ]),
    ]);
  });

  test('a CONNECT frame with STOMP 1.2 headers', () => {
    const wire = 'CONNECT\r\naccept-version:1.0,1.1,1.2\r\nhost:/\r\nheart-beat:10000,10000\r\n\r\n\0';
    expect(parse(wire)).toEqual([
      frame('CONNECT', [
        ['accept-version', '1.0,1.1,1.2'],
        ['host', '/'],
        ['heart-beat', '10000,10000'],
      ]),
    ]);
  });
});

describe('frame bodies', () => {
  test('a content-length body may contain NULLs', () => {
    const body = Buffer.from([1, 0, 2, 0, 0, 3]);
    const wire = Buffer.concat([Buffer.from('SEND\ncontent-length:6\n\n'), body, Buffer.from([0])]);
    expect(parse(wire)).toEqual([frame('SEND', [['content-length', '6']], body)]);
  });

  test('content-length:0 gives an empty body', () => {
    expect(parse('SEND\ncontent-length:0\n\n\0')).toEqual([frame('SEND', [['content-length', '0']])]);
  });

  test('UTF-8 headers and bodies are decoded, also when a character is split across chunks', () => {
    const wire = Buffer.from('SEND\ndestination:/queue/café\nnote:日本語\n\nhéllo wörld ✓\0', 'utf8');
    const expected = [
      frame(
        'SEND',
        [
          ['destination', '/queue/café'],
          ['note', '日本語'],
        ],
        'héllo wörld ✓',
      ),
    ];
    expect(parse(wire)).toEqual(expected);
    const inCafe = wire.indexOf('é') + 1;
    const inNote = wire.indexOf('日') + 1;
    expect(parseChunks(cut(wire, [inCafe, inNote]))).toEqual(expected);
  });

  test('the body owns its memory instead of pointing into the chunk', () => {
    const bodies: Buffer[] = [];
    const parser = new StompParser({ onFrame: (f) => bodies.push(f.body), onHeartbeat() {}, onError() {} });
    const chunk = Buffer.from('SEND\n\nscanned\0SEND\ncontent-length:7\n\ncounted\0');
    parser.feed(chunk);
    expect(bodies.map(String)).toEqual(['scanned', 'counted']);
    for (const body of bodies) {
      expect(body.buffer).not.toBe(chunk.buffer);
      expect(body.buffer.byteLength).toBe(body.length);
    }
  });
});

describe('headers', () => {
  test.each(['1.0', '1.1', '1.2'] as const)('in %s the first of repeated headers wins', (version) => {
    expect(parse('MESSAGE\nfoo:World\nfoo:Hello\nbar:1\n\n\0', { version })).toEqual([
      frame('MESSAGE', [
        ['foo', 'World'],
        ['bar', '1'],
      ]),
    ]);
  });

  test('the first content-length decides the body length', () => {
    expect(parse('SEND\ncontent-length:2\ncontent-length:5\n\nab\0')).toEqual([
      frame('SEND', [['content-length', '2']], 'ab'),
    ]);
  });

  test('a header with an empty value is kept', () => {
    expect(parse('SEND\nempty:\n\n\0')).toEqual([frame('SEND', [['empty', '']])]);
  });
});

describe('heart-beats', () => {
  test('EOLs between frames are skipped and each one is reported', () => {
    expect(parse('\n\r\nDISCONNECT\n\n\0\n\n')).toEqual([
      heartbeat,
      heartbeat,
      frame('DISCONNECT', []),
      heartbeat,
      heartbeat,
    ]);
  });

  test('a heart-beat alone is reported', () => {
    expect(parse('\n', { version: '1.1' })).toEqual([heartbeat]);
  });
});

describe('the session steering the parser', () => {
  test('markConnected from onFrame applies to the next frame of the same chunk', () => {
    const events: string[] = [];
    const parser: StompParser = new StompParser({
      onFrame: (f: StompFrame) => {
        events.push(`${f.command} ${[...f.headers.values()].join(',')}`);
        if (f.command === 'CONNECT') parser.markConnected('1.2');
      },
      onHeartbeat() {},
      onError: (e) => events.push(e.reason),
    });
    parser.feed(Buffer.from('CONNECT\nx:a\\cb\n\n\0SEND\nx:a\\cb\n\n\0'));
    expect(events).toEqual(['CONNECT a\\cb', 'SEND a:b']);
    expect(parser.negotiatedVersion).toBe('1.2');
  });

  test('destroy from onFrame stops parsing the rest of the chunk', () => {
    const commands: string[] = [];
    const parser: StompParser = new StompParser({
      onFrame: (f) => {
        commands.push(f.command);
        parser.destroy();
      },
      onHeartbeat() {},
      onError() {},
    });
    parser.feed(Buffer.from('DISCONNECT\n\n\0SEND\n\n\0'));
    parser.feed(Buffer.from('SEND\n\n\0'));
    expect(commands).toEqual(['DISCONNECT']);
    expect(parser.destroyed).toBe(true);
  });

  test('an exception thrown by a handler reaches the caller and stops the parser', () => {
    const parser = new StompParser({
      onFrame: () => {
        throw new Error('session bug');
      },
      onHeartbeat() {},
      onError() {},
    });
    expect(() => parser.feed(Buffer.from('SEND\n\n\0'))).toThrow('session bug');
    expect(parser.destroyed).toBe(true);
  });
});

describe('malformed input', () => {
  test.each<[string, string, string]>([
    ['a header line without a colon', 'SEND\ndestination\n\n\0', 'missing-colon'],
    ['a header line with an empty name', 'SEND\n:value\n\n\0', 'empty-header-name'],
    ['a non-numeric content-length', 'SEND\ncontent-length:abc\n\n\0', 'bad-content-length'],
    ['a negative content-length', 'SEND\ncontent-length:-1\n\n\0', 'bad-content-length'],
    ['a fractional content-length', 'SEND\ncontent-length:1.5\n\nx\0', 'bad-content-length'],
    ['an empty content-length', 'SEND\ncontent-length:\n\n\0', 'bad-content-length'],
    ['a padded content-length', 'SEND\ncontent-length: 1\n\nx\0', 'bad-content-length'],
    ['a body longer than its content-length', 'SEND\ncontent-length:2\n\nabc\0', 'missing-nul'],
  ])('%s is a protocol error', (_name, wire, reason) => {
    expect(errorReason(parse(wire, { version: '1.2' }))).toBe(reason);
  });

  test.each<['1.1' | '1.2', string]>([
    ['1.1', 'k:a\\tb'],
    ['1.2', 'k:a\\tb'],
    ['1.2', 'k\\x:v'],
    ['1.2', 'k:trailing\\'],
  ])('in %s the undefined escape in "%s" is a protocol error', (version, header) => {
    expect(errorReason(parse(`SEND\n${header}\n\n\0`, { version }))).toBe('bad-escape');
  });

  test('the error carries a short message and a quoted snippet of the input', () => {
    let caught: unknown;
    const failing = new StompParser({ onFrame() {}, onHeartbeat() {}, onError: (e) => (caught = e) });
    failing.feed(Buffer.from('SEND\nno colon\there\n\n\0'));
    expect(caught).toMatchObject({
      name: 'StompProtocolError',
      reason: 'missing-colon',
      message: 'Header line has no colon',
      snippet: '"no colon\\there"',
      code: 'FRAME_ERROR',
    });
  });

  test('after an error further input is refused', () => {
    const { parser, events } = newRecordingParser();
    parser.feed(Buffer.from('SEND\nbroken\n\n\0'));
    parser.feed(Buffer.from('SEND\n\n\0\n'));
    expect(events).toEqual([{ kind: 'error', reason: 'missing-colon', message: 'Header line has no colon' }]);
    expect(parser.destroyed).toBe(true);
  });
});

describe('limits', () => {
  test('a frame above the size limit is refused, counting head and body', () => {
    const limits = { stompMaxFrameSize: 20 };
    expect(parse('SEND\n\n1234567890123\0', { limits })).toEqual([frame('SEND', [], '1234567890123')]);
    expect(errorReason(parse('SEND\n\n12345678901234\0', { limits }))).toBe('frame-too-large');
    expect(errorReason(parse('SEND\nheader:1234567890123\n\n', { limits }))).toBe('frame-too-large');
  });

  test('a declared content-length above the limit is refused before the body arrives', () => {
    const events = parse('SEND\ncontent-length:100\n\n', { limits: { stompMaxFrameSize: 50 } });
    expect(errorReason(events)).toBe('frame-too-large');
  });

  test('heart-beats do not count towards the frame size', () => {
    const events = parse(`${'\n'.repeat(100)}SEND\n\n\0`, {
      version: '1.2',
      limits: { stompMaxFrameSize: 10 },
    });
    expect(events.at(-1)).toEqual(frame('SEND', []));
  });

  test('more headers than allowed are refused', () => {
    const limits = { stompMaxHeaders: 2 };
    expect(parse('SEND\na:1\nb:2\n\n\0', { limits })).toEqual([
      frame('SEND', [
        ['a', '1'],
        ['b', '2'],
      ]),
    ]);
    expect(errorReason(parse('SEND\na:1\nb:2\nc:3\n\n\0', { limits }))).toBe('too-many-headers');
  });

  test('a header line above the length limit is refused, whole or arriving in pieces', () => {
    const limits = { stompMaxHeaderLength: 8 };
    expect(parse('SEND\nab:12345\r\n\n\0', { limits })).toEqual([frame('SEND', [['ab', '12345']])]);
    const tooLong = Buffer.from('SEND\nab:123456\n\n\0');
    expect(errorReason(parse(tooLong, { limits }))).toBe('header-too-long');
    expect(errorReason(parseChunks(cut(tooLong, [6, 7, 8, 9, 10, 11, 12, 13]), { limits }))).toBe(
      'header-too-long',
    );
    // An endless line with no LF at all is refused without waiting for one.
    expect(errorReason(parseChunks([Buffer.from('SEND\nab:123456789')], { limits }))).toBe('header-too-long');
  });

  test('bytes before CONNECT completes are bounded, heart-beats included', () => {
    const limits = { stompMaxPreConnectBytes: 32 };
    expect(errorReason(parse('\n'.repeat(33), { limits }))).toBe('pre-connect-budget');
    expect(errorReason(parse('CONNECT\nlogin:a-rather-long-user-name\n\n\0', { limits }))).toBe(
      'pre-connect-budget',
    );
    expect(errorReason(parse('SEND\ncontent-length:40\n\n', { limits }))).toBe('pre-connect-budget');
  });

  test('the pre-CONNECT budget stops counting once the session marks the connection established', () => {
    const { parser, events } = newRecordingParser({ limits: { stompMaxPreConnectBytes: 32 } });
    parser.feed(Buffer.from('CONNECT\nlogin:guest\n\n\0'));
    parser.markConnected('1.2');
    parser.feed(Buffer.from(`SEND\ndestination:/queue/a\n\n${'x'.repeat(100)}\0`));
    expect(events.map((e) => e.kind)).toEqual(['frame', 'frame']);
  });
});

describe('the command line, judged when it ends', () => {
  const server = { connectCommands: ['CONNECT', 'STOMP'] } as const;

  /** Feeds `input` one octet at a time; returns the events and how many octets were fed when the error came. */
  function byteByByte(input: Buffer, options: Parameters<typeof newRecordingParser>[0]) {
    const { parser, events } = newRecordingParser(options);
    let fed = 0;
    for (let i = 0; i < input.length && !parser.destroyed; i++) {
      parser.feed(input.subarray(i, i + 1));
      fed = i + 1;
    }
    return { events, fed };
  }

  test.each<[string, Buffer]>([
    ['an HTTP request line', Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])],
    ['a frame other than CONNECT', Buffer.from('SEND\ndestination:/queue/a\n\nx\0')],
    ['a server frame', Buffer.from('CONNECTED\nversion:1.2\n\n\0')],
    ['a lower-case connect', Buffer.from('connect\n\n\0')],
    ['a CONNECT with trailing junk on its line', Buffer.from('CONNECT now\n\n\0')],
  ])('before CONNECT, %s is refused as Illegal command', (_what, input) => {
    expect(parse(input, server)).toEqual([
      { kind: 'error', reason: 'expected-connect', message: 'Illegal command' },
    ]);
  });

  test('before CONNECT, the first octet that cannot begin CONNECT or STOMP is refused without waiting for a line end', () => {
    expect(byteByByte(Buffer.from('GET / HTTP/1.1\r\n'), server).fed).toBe(1);
    expect(byteByByte(Buffer.from('\n\0\r\nCONNEKT\n'), server).fed).toBe(10);
    expect(byteByByte(Buffer.from('STOMPY\n'), server).fed).toBe(6);
    // One chunk larger than the pre-CONNECT budget: still "Illegal command", decided on the first octets.
    expect(
      errorReason(
        parse(Buffer.alloc(100_000, 0x41), { ...server, limits: { stompMaxPreConnectBytes: 1024 } }),
      ),
    ).toBe('expected-connect');
  });

  test('before CONNECT, CONNECT and STOMP are taken in any chunking, with CR LF, after heart-beats and NULLs', () => {
    const wire = Buffer.from('\r\n\0\nCONNECT\r\nlogin:guest\r\n\r\n\0');
    const expected = [heartbeat, heartbeat, frame('CONNECT', [['login', 'guest']])];
    for (let i = 1; i < wire.length; i++) expect(parseChunks(cut(wire, [i]), server)).toEqual(expected);
    expect(byteByByte(wire, server).events).toEqual(expected);
    expect(parse('STOMP\naccept-version:1.2\n\n\0', server)).toEqual([
      frame('STOMP', [['accept-version', '1.2']]),
    ]);
  });

  test('a prefix of CONNECT waits for more', () => {
    const { parser, events } = newRecordingParser(server);
    parser.feed(Buffer.from('CONN'));
    parser.feed(Buffer.from('ECT\r'));
    expect(events).toEqual([]);
    parser.feed(Buffer.from('\n\n\0'));
    expect(events).toEqual([frame('CONNECT', [])]);
  });

  test('after CONNECT an unknown but plausible command reaches the session', () => {
    const limits = { stompMaxCommandLength: 32 };
    const longest = 'X'.repeat(32);
    expect(parse(`CONNECT\n\n\0FOO\n\n\0${longest}\r\n\n\0`, { ...server, limits })).toEqual([
      frame('CONNECT', []),
      frame('FOO', []),
      frame(longest, []),
    ]);
    expect(parse('SENDé\n\n\0', { version: '1.2' })).toEqual([frame('SENDé', [])]);
    // A UTF-8 character split across chunks is judged once the line is whole.
    const wire = Buffer.from('SENDé\n\n\0');
    expect(parseChunks(cut(wire, [5]), { version: '1.2' })).toEqual([frame('SENDé', [])]);
  });

  test.each<[string, string | Buffer, string]>([
    ['a command line longer than the limit', `${'X'.repeat(33)}\n\n\0`, 'command-too-long'],
    ['a control octet in the command', 'SE\x01ND\n\n\0', 'bad-command'],
    ['a tab in the command', 'SEND\t\n\n\0', 'bad-command'],
    ['a CR inside the command', 'SE\rND\n\n\0', 'bad-command'],
    ['a DEL in the command', 'SEND\x7f\n\n\0', 'bad-command'],
    ['a NULL inside the command', 'SE\0ND\n\n\0', 'bad-command'],
    ['a command that is not UTF-8', Buffer.from([0x53, 0xff, 0xfe, 0x0a, 0x0a, 0x00]), 'bad-command'],
    ['a truncated UTF-8 sequence', Buffer.from([0x53, 0xc3, 0x0a, 0x0a, 0x00]), 'bad-command'],
  ])('after CONNECT, %s is a protocol error at once', (_what, input, reason) => {
    const limits = { stompMaxCommandLength: 32 };
    const events = parse(input, { version: '1.2', limits });
    expect(events).toHaveLength(1);
    expect(errorReason(events)).toBe(reason);
  });

  test('a command line that keeps growing without EOL hits the command limit, not the header-line limit', () => {
    const limits = { stompMaxCommandLength: 32, stompMaxHeaderLength: 64 * 1024 };
    const { events, fed } = byteByByte(Buffer.alloc(1000, 0x41), { version: '1.2', limits });
    expect(errorReason(events)).toBe('command-too-long');
    expect(fed).toBe(33);
    // In one chunk too, however large, and a CR at the limit is still taken as the start of an EOL.
    expect(errorReason(parse(Buffer.alloc(1 << 20, 0x41), { version: '1.2', limits }))).toBe(
      'command-too-long',
    );
    expect(parseChunks([Buffer.from(`${'A'.repeat(32)}\r`)], { version: '1.2', limits })).toEqual([]);
    // The default limit is 32 octets.
    expect(errorReason(parse(`${'A'.repeat(33)}`, { version: '1.2' }))).toBe('command-too-long');
  });

  test('a control octet is refused while the line is still arriving', () => {
    const { events, fed } = byteByByte(Buffer.from('SE\x02ND'), { version: '1.2' });
    expect(errorReason(events)).toBe('bad-command');
    expect(fed).toBe(3);
  });
});

describe('stray NULLs between frames', () => {
  test.each(['1.0', '1.2'] as const)('are skipped in %s, where heart-beats are reported', (version) => {
    expect(parse('\0\0\nSEND\n\n\0\0\n\0DISCONNECT\n\n\0\0', { version })).toEqual([
      heartbeat,
      frame('SEND', []),
      heartbeat,
      frame('DISCONNECT', []),
    ]);
  });

  test('count towards the pre-CONNECT budget', () => {
    expect(errorReason(parse('\0'.repeat(33), { limits: { stompMaxPreConnectBytes: 32 } }))).toBe(
      'pre-connect-budget',
    );
  });
});

describe('a command line refused the same way however it is read', () => {
  test('a NUL inside a too-long line is the control octet, whole or cut after it (found by the fuzzer)', () => {
    // "\n" "login:guest" NUL ... then the rest of a CONNECT's headers: not a command at all.
    const input = Buffer.concat([
      Buffer.from('\nlogin:guest'),
      Buffer.alloc(14),
      Buffer.from('pasaccept-version:1.2\nhost:/\n\n\0'),
    ]);
    const whole = parse(input);
    expect(errorReason(whole)).toBe('bad-command');
    for (let at = 1; at < input.length; at++) {
      expect(errorReason(parseChunks(cut(input, [at])))).toBe('bad-command');
    }
  });
});
