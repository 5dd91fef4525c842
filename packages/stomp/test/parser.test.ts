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
    ['a stray NULL where a command should be', '\0', 'empty-command'],
    ['a NULL after heart-beats', '\n\n\0SEND\n\n\0', 'empty-command'],
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
