import {
  EMPTY_BODY,
  FRAME_END,
  HEARTBEAT,
  encodeHeaderBlock,
  escapeHeader,
  serializeFrame,
  serializeMessage,
  type StompVersion,
} from '../src';
import { frame, parse } from './helpers';

const wire = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8');

describe('serializeFrame', () => {
  test('a frame without a body is a single buffer ending in NULL', () => {
    const chunks = serializeFrame('RECEIPT', [['receipt-id', '77']], EMPTY_BODY, '1.2');
    expect(chunks).toHaveLength(1);
    expect(wire(chunks)).toBe('RECEIPT\nreceipt-id:77\n\n\0');
  });

  test('a frame with a body is head, the body itself and NULL, with content-length set', () => {
    const body = Buffer.from('hello queue a');
    const chunks = serializeFrame('MESSAGE', [['destination', '/queue/a']], body, '1.0');
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(body);
    expect(chunks[2]).toBe(FRAME_END);
    expect(wire(chunks)).toBe('MESSAGE\ndestination:/queue/a\ncontent-length:13\n\nhello queue a\0');
  });

  test("the caller's content-length is replaced by the body's real size", () => {
    const chunks = serializeFrame(
      'ERROR',
      [
        ['content-length', '999'],
        ['message', 'boom'],
      ],
      Buffer.from('abc'),
      '1.2',
    );
    expect(wire(chunks)).toBe('ERROR\nmessage:boom\ncontent-length:3\n\nabc\0');
  });

  test('a body containing NULLs survives, since content-length is always written', () => {
    const body = Buffer.from([0, 1, 0]);
    expect(parse(Buffer.concat(serializeFrame('MESSAGE', [], body, '1.2')), { version: '1.2' })).toEqual([
      frame('MESSAGE', [['content-length', '3']], body),
    ]);
  });

  test('CONNECTED is never escaped, whatever the version', () => {
    const chunks = serializeFrame(
      'CONNECTED',
      [
        ['version', '1.2'],
        ['server', 'Warren/0.1.0 (a:b\\c)'],
      ],
      EMPTY_BODY,
      '1.2',
    );
    expect(wire(chunks)).toBe('CONNECTED\nversion:1.2\nserver:Warren/0.1.0 (a:b\\c)\n\n\0');
  });

  test('UTF-8 headers and bodies are written as UTF-8', () => {
    const chunks = serializeFrame('MESSAGE', [['destination', '/queue/café']], Buffer.from('✓'), '1.2');
    expect(Buffer.concat(chunks)).toEqual(
      Buffer.from('MESSAGE\ndestination:/queue/café\ncontent-length:3\n\n✓\0', 'utf8'),
    );
  });
});

describe('header escaping by version', () => {
  test.each<[StompVersion, string, string]>([
    ['1.2', 'a:b\nc\\d\re', 'a\\cb\\nc\\\\d\\re'],
    ['1.1', 'a:b\nc\\d', 'a\\cb\\nc\\\\d'],
    // 1.1 has no escape for CR; a CR not followed by LF is data.
    ['1.1', 'a\rb', 'a\rb'],
    // 1.0 has no escapes at all: colons and backslashes go as they are, line breaks cannot and become spaces.
    ['1.0', 'a:b\\c', 'a:b\\c'],
    ['1.0', 'a\nb\rc', 'a b c'],
  ])('in %s %j is written as %j', (version, text, encoded) => {
    expect(escapeHeader(text, version, false)).toBe(encoded);
  });

  test.each<StompVersion>(['1.1', '1.2'])('in %s the escaped header reads back as written', (version) => {
    const value = version === '1.2' ? 'a:b\nc\\d\re' : 'a:b\nc\\d';
    const chunks = serializeFrame('MESSAGE', [['we:ird', value]], EMPTY_BODY, version);
    expect(parse(Buffer.concat(chunks), { version })).toEqual([frame('MESSAGE', [['we:ird', value]])]);
  });

  test('a 1.0 header cannot inject a header line', () => {
    const chunks = serializeFrame('MESSAGE', [['note', 'x\nmessage-id:forged']], EMPTY_BODY, '1.0');
    expect(parse(Buffer.concat(chunks))).toEqual([frame('MESSAGE', [['note', 'x message-id:forged']])]);
  });
});

describe('the MESSAGE fast path', () => {
  const messageHeaders: [string, string][] = [
    ['destination', '/queue/a'],
    ['content-type', 'text/plain'],
    ['subscription', 'forged'],
  ];

  test('a subscriber MESSAGE is its own head, the shared block, the body and NULL', () => {
    const body = Buffer.from('hello');
    const shared = encodeHeaderBlock(messageHeaders, body.length, '1.2');
    const chunks = serializeMessage(
      [
        ['subscription', 'sub-0'],
        ['message-id', 'm1'],
        ['ack', 'a1'],
      ],
      shared,
      body,
      '1.2',
    );
    expect(chunks).toHaveLength(4);
    expect(chunks[1]).toBe(shared);
    expect(chunks[2]).toBe(body);
    expect(wire(chunks)).toBe(
      'MESSAGE\nsubscription:sub-0\nmessage-id:m1\nack:a1\n' +
        'destination:/queue/a\ncontent-type:text/plain\nsubscription:forged\ncontent-length:5\n\nhello\0',
    );
  });

  test('the shared block is reused for every subscriber and their own headers win', () => {
    const body = Buffer.from('payload');
    const shared = encodeHeaderBlock(messageHeaders, body.length, '1.1');
    for (const id of ['s1', 's2', 's3']) {
      const chunks = serializeMessage([['subscription', id]], shared, body, '1.1');
      const [parsed] = parse(Buffer.concat(chunks), { version: '1.1' });
      expect(parsed).toEqual(
        frame(
          'MESSAGE',
          [
            ['subscription', id],
            ['destination', '/queue/a'],
            ['content-type', 'text/plain'],
            ['content-length', '7'],
          ],
          body,
        ),
      );
    }
  });

  test('a MESSAGE with an empty body has no content-length and no body chunk', () => {
    const shared = encodeHeaderBlock([['destination', '/queue/a']], 0, '1.2');
    const chunks = serializeMessage([['subscription', 's']], shared, EMPTY_BODY, '1.2');
    expect(chunks).toHaveLength(3);
    expect(wire(chunks)).toBe('MESSAGE\nsubscription:s\ndestination:/queue/a\n\n\0');
  });

  test('the fast path writes the same bytes as serializeFrame', () => {
    const body = Buffer.from('same');
    const perSubscriber: [string, string][] = [['subscription', 'x:y']];
    const fast = serializeMessage(perSubscriber, encodeHeaderBlock(messageHeaders, 4, '1.2'), body, '1.2');
    const slow = serializeFrame('MESSAGE', [...perSubscriber, ...messageHeaders], body, '1.2');
    expect(Buffer.concat(fast)).toEqual(Buffer.concat(slow));
  });
});

test('a heart-beat is a single LF', () => {
  expect(HEARTBEAT).toEqual(Buffer.from('\n'));
});
