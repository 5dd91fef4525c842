import { Message, type MessageProperties } from '@warren/core';
import {
  destinationOf,
  headersFromProperties,
  parseDestination,
  propertiesFromSend,
  selectorValue,
  StompFailure,
} from '../src';

const noTemp = (r: string): string => (r.startsWith('/reply-queue/') ? r.slice(13) : r);

describe('destinations', () => {
  it.each([
    ['foo', { kind: 'queue', name: 'foo' }],
    ['/queue/a', { kind: 'queue', name: 'a' }],
    ['/amq/queue/q', { kind: 'amq-queue', name: 'q' }],
    ['/topic/a.b.#', { kind: 'topic', key: 'a.b.#' }],
    ['/topic/', { kind: 'topic', key: '' }],
    ['/exchange/amq.fanout', { kind: 'exchange', exchange: 'amq.fanout', key: '' }],
    ['/temp-queue/t', { kind: 'temp-queue', name: 't' }],
    ['/reply-queue/amq.gen-1', { kind: 'reply-queue', name: 'amq.gen-1' }],
  ])('%s parses as %p', (text, expected) => {
    expect(parseDestination(text)).toEqual(expected);
  });

  it.each(['', '/', '/bogus/x', '/temp-queue/'])('%p is an Unknown destination', (text) => {
    expect(() => parseDestination(text)).toThrow(expect.objectContaining({ message: 'Unknown destination' }));
  });

  // RabbitMQ's own STOMP suite (errors.py): the body names what follows the type's word.
  it.each([
    ['/queue', "'' is not a valid queue destination\n"],
    ['/queue/', "'/' is not a valid queue destination\n"],
    ['/queue/bah/baz', "'/bah/baz' is not a valid queue destination\n"],
    ['/topic', "'' is not a valid topic destination\n"],
    ['/topic/bah/baz', "'/bah/baz' is not a valid topic destination\n"],
    ['/exchange', "'' is not a valid exchange destination\n"],
    ['/exchange/', "'/' is not a valid exchange destination\n"],
    ['/exchange/bah/baz/boo', "'/bah/baz/boo' is not a valid exchange destination\n"],
    ['/exchange//foo', "'//foo' is not a valid exchange destination\n"],
    ['/amq/queue/', "'/' is not a valid amq/queue destination\n"],
  ])('%p is an Invalid destination: %p', (text, body) => {
    expect(() => parseDestination(text)).toThrow(
      expect.objectContaining({ message: 'Invalid destination', detail: body }),
    );
  });

  it('names a delivered message by where it was published, as RabbitMQ does', () => {
    expect(destinationOf('', 'q')).toBe('/queue/q');
    expect(destinationOf('amq.topic', 'a.b')).toBe('/topic/a.b');
    expect(destinationOf('logs', '')).toBe('/exchange/logs');
    expect(destinationOf('logs', 'k')).toBe('/exchange/logs/k');
  });
});

describe('the header <-> property table', () => {
  const sendHeaders = new Map([
    ['destination', '/queue/x'],
    ['receipt', 'r'],
    ['content-type', 'application/json'],
    ['content-encoding', 'gzip'],
    ['persistent', 'true'],
    ['priority', '7'],
    ['correlation-id', 'c-1'],
    ['reply-to', '/reply-queue/rq'],
    ['expiration', '60000'],
    ['amqp-message-id', 'm-1'],
    ['timestamp', '1700000000'],
    ['type', 'order'],
    ['user-id', 'guest'],
    ['app-id', 'shop'],
    ['x-custom', 'v'],
  ]);

  it('maps every SEND header onto its property and the rest onto the headers table', () => {
    expect(propertiesFromSend(sendHeaders, noTemp)).toEqual({
      contentType: 'application/json',
      contentEncoding: 'gzip',
      deliveryMode: 2,
      priority: 7,
      correlationId: 'c-1',
      replyTo: 'rq',
      expiration: '60000',
      messageId: 'm-1',
      timestamp: 1700000000,
      type: 'order',
      userId: 'guest',
      appId: 'shop',
      headers: { 'x-custom': 'v' },
    });
  });

  it('maps the properties back to the same headers, in RabbitMQ order', () => {
    const back = headersFromProperties(propertiesFromSend(sendHeaders, noTemp));
    expect(back).toEqual([
      ['x-custom', 'v'],
      ['app-id', 'shop'],
      ['user-id', 'guest'],
      ['type', 'order'],
      ['timestamp', '1700000000'],
      ['amqp-message-id', 'm-1'],
      ['expiration', '60000'],
      ['reply-to', '/reply-queue/rq'],
      ['correlation-id', 'c-1'],
      ['priority', '7'],
      ['persistent', 'true'],
      ['content-encoding', 'gzip'],
      ['content-type', 'application/json'],
    ]);
  });

  it('shows AMQP header values STOMP can carry as text and skips the rest', () => {
    const p: MessageProperties = {
      headers: {
        n: 5,
        big: 7n,
        b: false,
        s: 'x',
        nul: null,
        bytes: Buffer.from('z'),
        list: [1],
        table: { a: 1 },
      },
      deliveryMode: 1,
    };
    expect(headersFromProperties(p)).toEqual([
      ['n', '5'],
      ['big', '7'],
      ['b', 'false'],
      ['s', 'x'],
    ]);
  });

  it('takes message-id on SEND as amqp-message-id', () => {
    expect(propertiesFromSend(new Map([['message-id', 'legacy']]), noTemp).messageId).toBe('legacy');
  });

  const from = (name: string, value: string): MessageProperties =>
    propertiesFromSend(new Map([[name, value]]), noTemp);

  it.each<[string, string, MessageProperties]>([
    ['persistent', 'true', { deliveryMode: 2 }],
    ['persistent', 'True', { deliveryMode: 2 }],
    ['persistent', 'TRUE', { deliveryMode: 2 }],
    ['persistent', 'false', {}],
    ['persistent', 'False', {}],
    ['priority', '0', { priority: 0 }],
    ['priority', '255', { priority: 255 }],
    ['priority', ' 5 ', { priority: 5 }],
    ['timestamp', '0', { timestamp: 0 }],
    ['timestamp', ' 1700000000', { timestamp: 1700000000 }],
    ['timestamp', '9007199254740991', { timestamp: Number.MAX_SAFE_INTEGER }],
    ['expiration', '0', { expiration: '0' }],
    ['expiration', '999999999999999', { expiration: '999999999999999' }],
    ['content-type', 'x'.repeat(255), { contentType: 'x'.repeat(255) }],
    ['app-id', 'é'.repeat(127), { appId: 'é'.repeat(127) }],
    ['reply-to', `/reply-queue/${'q'.repeat(255)}`, { replyTo: 'q'.repeat(255) }],
    ['n'.repeat(255), 'v', { headers: { ['n'.repeat(255)]: 'v' } }],
    ['long-value', 'v'.repeat(100_000), { headers: { 'long-value': 'v'.repeat(100_000) } }],
  ])('takes %s:%s', (name, value, expected) => {
    expect(from(name, value)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['persistent', 'yes', /expected true or false/],
    ['persistent', '1', /expected true or false/],
    ['persistent', '', /expected true or false/],
    ['persistent', ' true', /expected true or false/],
    ['priority', '256', /0 to 255/],
    ['priority', '-1', /0 to 255/],
    ['priority', '+1', /0 to 255/],
    ['priority', '1.0', /0 to 255/],
    ['priority', 'high', /0 to 255/],
    ['priority', '', /0 to 255/],
    ['timestamp', 'now', /seconds since the epoch/],
    ['timestamp', '-1', /seconds since the epoch/],
    ['timestamp', '9007199254740992', /seconds since the epoch/],
    ['expiration', '-1', /milliseconds/],
    ['expiration', ' 5', /milliseconds/],
    ['expiration', '1e3', /milliseconds/],
    ['expiration', '1'.repeat(16), /milliseconds/],
    ...['content-type', 'content-encoding', 'correlation-id', 'amqp-message-id', 'message-id', 'type'].map(
      (name): [string, string, RegExp] => [name, 'x'.repeat(256), /longer than 255 bytes/],
    ),
    ['user-id', 'é'.repeat(128), /longer than 255 bytes/],
    ['app-id', 'x'.repeat(1000), /longer than 255 bytes/],
    ['reply-to', `/queue/${'q'.repeat(250)}`, /longer than 255 bytes/],
    ['n'.repeat(256), 'v', /Header name .* longer than 255 bytes/],
  ])('refuses %s:%s with ERROR Invalid header', (name, value, detail) => {
    let failure: unknown;
    try {
      from(name, value);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(StompFailure);
    expect((failure as StompFailure).message).toBe('Invalid header');
    expect((failure as StompFailure).detail).toMatch(detail);
    expect((failure as StompFailure).fatal).toBe(false);
  });

  it('keeps a header named __proto__ as a header, not as the prototype of the table', () => {
    const p = from('__proto__', 'v');
    expect(Object.keys(p.headers ?? {})).toEqual(['__proto__']);
    expect(headersFromProperties(p)).toEqual([['__proto__', 'v']]);
  });

  it('creates no temp queue for a SEND it refuses', () => {
    const made: string[] = [];
    const resolve = (r: string): string => {
      made.push(r);
      return 'amq.gen-1';
    };
    const headers = new Map([
      ['reply-to', '/temp-queue/t'],
      ['priority', 'high'],
    ]);
    expect(() => propertiesFromSend(headers, resolve)).toThrow(StompFailure);
    expect(made).toEqual([]);
  });

  it('lets selectors read mapped properties, JMS names and application headers', () => {
    const msg = Message.fromProperties(
      '',
      'q',
      { priority: 3, deliveryMode: 2, contentType: 'text/plain', headers: { color: 'red', n: 5n } },
      Buffer.alloc(0),
    );
    expect(selectorValue(msg, 'priority')).toBe(3);
    expect(selectorValue(msg, 'JMSPriority')).toBe(3);
    expect(selectorValue(msg, 'JMSDeliveryMode')).toBe('PERSISTENT');
    expect(selectorValue(msg, 'content-type')).toBe('text/plain');
    expect(selectorValue(msg, 'color')).toBe('red');
    expect(selectorValue(msg, 'n')).toBe(5);
    expect(selectorValue(msg, 'absent')).toBeNull();
  });
});
