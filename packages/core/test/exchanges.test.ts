import { WarrenError, type Broker } from '@warren/core';
import { CoreClient, startBroker } from '@warren/testkit';

const flags = { durable: false, autoDelete: false, internal: false, arguments: {} };

describe('exchanges', () => {
  let broker: Broker;
  let c: CoreClient;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
  });
  afterEach(() => broker.close());

  function bound(exchange: string, type: string, bindings: Record<string, string[]>): void {
    c.channel.exchangeDeclare(exchange, type, flags);
    for (const [queue, keys] of Object.entries(bindings)) {
      c.declareQueue(queue);
      for (const key of keys) c.channel.queueBind(queue, exchange, key);
    }
  }

  test('the default exchange delivers to the queue named by the routing key', () => {
    c.declareQueue('hello');
    c.publish('', 'hello', 'Hello World!');
    c.publish('', 'nobody', 'lost');
    expect(c.getAll('hello')).toEqual(['Hello World!']);
  });

  test('the default exchange cannot be declared, bound to or deleted', () => {
    c.declareQueue('q');
    expect(() => c.channel.exchangeDeclare('', 'direct', flags)).toThrow(/default exchange/);
    expect(() => c.channel.queueBind('q', '', 'q')).toThrow(/default exchange/);
    expect(() => c.channel.exchangeDelete('')).toThrow(WarrenError);
  });

  test('direct routing follows seed 001: orange to Q1, black and green to Q2, anything else dropped', () => {
    bound('direct_logs', 'direct', { Q1: ['orange'], Q2: ['black', 'green'] });
    for (const key of ['orange', 'black', 'green', 'blue']) c.publish('direct_logs', key, key);
    expect(c.getAll('Q1')).toEqual(['orange']);
    expect(c.getAll('Q2')).toEqual(['black', 'green']);
  });

  test('a queue bound twice with the same key to a direct exchange gets the message once', () => {
    bound('d', 'direct', { q: ['k', 'k'] });
    c.channel.queueBind('q', 'amq.direct', 'k');
    c.channel.exchangeBind('d', 'amq.direct', 'k');
    c.publish('d', 'k', 'once');
    c.publish('amq.direct', 'k', 'once more');
    expect(c.getAll('q')).toEqual(['once', 'once more']);
  });

  test('fanout delivers to every bound queue whatever the routing key', () => {
    bound('logs', 'fanout', { a: [''], b: ['ignored'], c: [] });
    c.publish('logs', 'anything', 'info: hello');
    expect(c.getAll('a')).toEqual(['info: hello']);
    expect(c.getAll('b')).toEqual(['info: hello']);
    expect(c.getAll('c')).toEqual([]);
  });

  // Seed 001, "Topics": Q1 binds *.orange.*, Q2 binds *.*.rabbit and lazy.#.
  test.each([
    ['quick.orange.rabbit', true, true],
    ['lazy.orange.elephant', true, true],
    ['quick.orange.fox', true, false],
    ['lazy.brown.fox', false, true],
    ['lazy.pink.rabbit', false, true],
    ['quick.brown.fox', false, false],
    ['orange', false, false],
    ['quick.orange.male.rabbit', false, false],
    ['lazy.orange.male.rabbit', false, true],
  ])('topic routing of the animal table: %s reaches Q1=%s Q2=%s', (key, q1, q2) => {
    bound('topic_logs', 'topic', { Q1: ['*.orange.*'], Q2: ['*.*.rabbit', 'lazy.#'] });
    c.publish('topic_logs', key, key);
    expect(c.getAll('Q1')).toEqual(q1 ? [key] : []);
    expect(c.getAll('Q2')).toEqual(q2 ? [key] : []); // lazy.pink.rabbit matches two bindings, arrives once
  });

  test.each([
    ['#', ['', 'a', 'a.b.c'], []],
    ['a.#', ['a', 'a.b', 'a.b.c'], ['b', 'ab']],
    ['#.a', ['a', 'x.a', 'x.y.a'], ['a.x']],
    ['a.#.b', ['a.b', 'a.x.b', 'a.x.y.b'], ['a', 'b', 'a.b.c']],
    ['*', ['a'], ['a.b', '']],
    ['a.*.#', ['a.b', 'a.b.c'], ['a']],
    ['#.#', ['', 'a', 'a.b'], []],
    ['a..b', ['a..b'], ['a.b', 'a.x.b']],
    ['', [''], ['a']],
  ])('topic binding %s matches %j and not %j', (pattern, yes, no) => {
    bound('t', 'topic', { q: [pattern] });
    for (const key of [...yes, ...no]) c.publish('t', key, key);
    expect(c.getAll('q')).toEqual(yes);
  });

  test('a topic binding removed stops routing, and the routing cache does not remember it', () => {
    bound('t', 'topic', { q: ['stock.#'] });
    c.publish('t', 'stock.usd', 'before');
    c.channel.queueUnbind('q', 't', 'stock.#');
    c.publish('t', 'stock.usd', 'after');
    expect(c.getAll('q')).toEqual(['before']);
  });

  test('headers exchange: x-match all needs every pair, any needs one, x- keys are ignored', () => {
    c.channel.exchangeDeclare('h', 'headers', flags);
    c.declareQueue('all');
    c.declareQueue('any');
    c.declareQueue('withx');
    c.declareQueue('present');
    c.channel.queueBind('all', 'h', '', { 'x-match': 'all', format: 'pdf', type: 'report' });
    c.channel.queueBind('any', 'h', '', { 'x-match': 'any', format: 'pdf', type: 'report' });
    c.channel.queueBind('withx', 'h', '', { 'x-match': 'all-with-x', 'x-tenant': 'acme' });
    c.channel.queueBind('present', 'h', '', { format: null });
    c.publish('h', '', 'both', { headers: { format: 'pdf', type: 'report' } });
    c.publish('h', '', 'one', { headers: { format: 'pdf', type: 'log' } });
    c.publish('h', '', 'none', { headers: { format: 'zip' } });
    c.publish('h', '', 'tenant', { headers: { 'x-tenant': 'acme' } });
    c.publish('h', '', 'bare');
    expect(c.getAll('all')).toEqual(['both']);
    expect(c.getAll('any')).toEqual(['both', 'one']);
    expect(c.getAll('withx')).toEqual(['tenant']);
    expect(c.getAll('present')).toEqual(['both', 'one', 'none']);
  });

  test('headers exchange compares numbers by value whatever their width', () => {
    c.channel.exchangeDeclare('h', 'headers', flags);
    c.declareQueue('q');
    c.channel.queueBind('q', 'h', '', { n: 42 });
    c.publish('h', '', 'bigint', { headers: { n: 42n } });
    c.publish('h', '', 'other', { headers: { n: 43 } });
    expect(c.getAll('q')).toEqual(['bigint']);
  });

  test('headers exchange: a string argument matches only that string, not its bytes or its number', () => {
    c.channel.exchangeDeclare('h', 'headers', flags);
    c.declareQueue('q');
    c.channel.queueBind('q', 'h', '', { n: '42' });
    c.publish('h', '', 'string', { headers: { n: '42' } });
    c.publish('h', '', 'number', { headers: { n: 42 } });
    c.publish('h', '', 'bytes', { headers: { n: Buffer.from('42') } });
    expect(c.getAll('q')).toEqual(['string']);
  });

  test('headers exchange: 100-key bindings route on all 100 (all) or any one (any), among 1,000 headers', () => {
    c.channel.exchangeDeclare('h', 'headers', flags);
    c.declareQueue('all');
    c.declareQueue('any');
    const args: Record<string, string> = {};
    for (let k = 0; k < 100; k++) args[`k${k}`] = `v${k}`;
    c.channel.queueBind('all', 'h', '', { ...args, 'x-match': 'all' });
    c.channel.queueBind('any', 'h', '', { ...args, 'x-match': 'any' });
    const many: Record<string, string> = {};
    for (let k = 0; k < 1000; k++) many[`k${k}`] = `v${k}`;
    c.publish('h', '', 'every', { headers: many });
    c.publish('h', '', 'last wrong', { headers: { ...many, k99: 'x' } });
    c.publish('h', '', 'only last', { headers: { k99: 'v99' } });
    c.publish('h', '', 'none', { headers: { k1000: 'v1000' } });
    expect(c.getAll('all')).toEqual(['every']);
    expect(c.getAll('any')).toEqual(['every', 'last wrong', 'only last']);
  });

  test('headers binding with a bad x-match is refused with PRECONDITION_FAILED', () => {
    c.channel.exchangeDeclare('h', 'headers', flags);
    c.declareQueue('q');
    expect(() => c.channel.queueBind('q', 'h', '', { 'x-match': 'most' })).toThrow(
      expect.objectContaining({ code: 'PRECONDITION_FAILED' }),
    );
  });

  test('amq.* exchanges are pre-declared with their types, and new amq.* names are refused', () => {
    const v = broker.getVhost('/');
    expect([...(v?.exchanges.values() ?? [])].map((x) => [x.name, x.type])).toEqual([
      ['', 'direct'],
      ['amq.direct', 'direct'],
      ['amq.fanout', 'fanout'],
      ['amq.topic', 'topic'],
      ['amq.headers', 'headers'],
      ['amq.match', 'headers'],
    ]);
    expect(() =>
      c.channel.exchangeDeclare('amq.direct', 'direct', { ...flags, durable: true }),
    ).not.toThrow();
    expect(() => c.channel.exchangeDeclare('amq.custom', 'direct', flags)).toThrow(/reserved prefix/);
  });

  test('re-declaring an exchange with another type is PRECONDITION_FAILED; an unknown type is COMMAND_INVALID', () => {
    c.channel.exchangeDeclare('logs', 'fanout', flags);
    expect(() => c.channel.exchangeDeclare('logs', 'direct', flags)).toThrow(
      "inequivalent arg 'type' for exchange 'logs' in vhost '/': received 'direct' but current is 'fanout'",
    );
    try {
      c.channel.exchangeDeclare('x', 'x-weird', flags);
      throw new Error('no error');
    } catch (e) {
      expect(e).toMatchObject({ code: 'COMMAND_INVALID', replyCode: 503, scope: 'connection' });
    }
  });

  test('passive declare of a missing exchange is NOT_FOUND with RabbitMQ text', () => {
    expect(() => c.channel.exchangeDeclare('nope', 'direct', flags, true)).toThrow(
      "no exchange 'nope' in vhost '/'",
    );
  });

  test('exchange-to-exchange bindings route through, without loops', () => {
    c.channel.exchangeDeclare('a', 'topic', flags);
    c.channel.exchangeDeclare('b', 'fanout', flags);
    c.declareQueue('q');
    c.channel.exchangeBind('b', 'a', 'x.#');
    c.channel.exchangeBind('a', 'b', ''); // a cycle: a -> b -> a
    c.channel.queueBind('q', 'b', '');
    c.publish('a', 'x.y', 'through');
    c.publish('a', 'z', 'not matched');
    expect(c.getAll('q')).toEqual(['through']);
  });

  test('an exchange with an alternate exchange hands it what it cannot route', () => {
    c.channel.exchangeDeclare('unrouted', 'fanout', flags);
    c.declareQueue('lost+found');
    c.channel.queueBind('lost+found', 'unrouted', '');
    c.channel.exchangeDeclare('main', 'direct', {
      ...flags,
      arguments: { 'alternate-exchange': 'unrouted' },
    });
    c.declareQueue('known');
    c.channel.queueBind('known', 'main', 'k');
    c.publish('main', 'k', 'routed', {}, true);
    c.publish('main', 'other', 'alternate', {}, true);
    expect(c.getAll('known')).toEqual(['routed']);
    expect(c.getAll('lost+found')).toEqual(['alternate']);
    expect(c.returned).toEqual([]); // routed via the AE counts as routed
  });

  test('a mandatory message that reaches no queue is returned with 312 NO_ROUTE; a plain one is dropped', () => {
    c.publish('amq.direct', 'nowhere', 'm', {}, true);
    c.publish('amq.direct', 'nowhere', 'plain');
    expect(c.returned).toEqual([{ body: 'm', replyCode: 312, routingKey: 'nowhere' }]);
  });

  test('publishing to an internal exchange is refused; routing through it works', () => {
    c.channel.exchangeDeclare('inner', 'fanout', { ...flags, internal: true });
    c.declareQueue('q');
    c.channel.queueBind('q', 'inner', '');
    c.channel.exchangeBind('inner', 'amq.fanout', '');
    expect(() => c.publish('inner', '', 'direct')).toThrow(/cannot publish to internal exchange 'inner'/);
    c.publish('amq.fanout', '', 'via amq.fanout');
    expect(c.getAll('q')).toEqual(['via amq.fanout']);
  });

  test('publishing to a missing exchange is NOT_FOUND on the channel', () => {
    expect(() => c.publish('missing', 'k', 'x')).toThrow(
      expect.objectContaining({ replyCode: 404, scope: 'channel' }),
    );
  });

  test('an auto-delete exchange goes away when its last binding is removed', () => {
    c.channel.exchangeDeclare('temp', 'direct', { ...flags, autoDelete: true });
    c.declareQueue('q');
    c.channel.queueBind('q', 'temp', 'a');
    c.channel.queueBind('q', 'temp', 'b');
    c.channel.queueUnbind('q', 'temp', 'a');
    expect(broker.getVhost('/')?.exchanges.has('temp')).toBe(true);
    c.channel.queueUnbind('q', 'temp', 'b');
    expect(broker.getVhost('/')?.exchanges.has('temp')).toBe(false);
  });

  test('deleting an exchange removes its bindings; if-unused refuses while it has some', () => {
    bound('x', 'direct', { q: ['k'] });
    expect(() => c.channel.exchangeDelete('x', true)).toThrow("exchange 'x' in vhost '/' in use");
    c.channel.exchangeDelete('x');
    expect(() => c.publish('x', 'k', 'm')).toThrow(/no exchange/);
    expect(broker.getVhost('/')?.getQueue('q').bindings.size).toBe(0);
    expect(() => c.channel.exchangeDelete('x')).not.toThrow(); // idempotent
  });

  test('deleting a queue removes its bindings from every exchange', () => {
    bound('t', 'topic', { q: ['#'] });
    c.channel.queueDelete('q');
    c.declareQueue('q');
    c.publish('t', 'a', 'after re-create');
    expect(c.getAll('q')).toEqual([]);
  });
});
