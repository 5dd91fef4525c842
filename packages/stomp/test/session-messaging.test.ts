import { Message, type Broker } from '@warren/core';
import { CoreClient } from '@warren/testkit';
import { header, HeldStore, SessionClient, startBroker } from './session-helpers';

let broker: Broker;
beforeEach(async () => {
  broker = await startBroker();
});
afterEach(async () => {
  await broker.close();
});

function connected(version = '1.2'): SessionClient {
  const c = new SessionClient(broker);
  c.connect({ 'accept-version': version, login: 'guest', passcode: 'guest' });
  return c;
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SEND and SUBSCRIBE', () => {
  it('refuses a SUBSCRIBE whose binding key is longer than any routing key can be (255 bytes)', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: `/topic/${'w.'.repeat(20_000)}x`, id: 'long' });
    expect(header(c.lastError(), 'message')).toBe('Invalid header');
    expect([...(broker.vhosts.get('/')?.exchanges.get('amq.topic')?.bindings ?? [])]).toEqual([]);
  });

  it('delivers a 1.0 SEND to a bare name to a subscriber of that name, as Net::Stomp does it', () => {
    const c = connected('1.0');
    c.frame('SUBSCRIBE', { destination: 'foo', ack: 'client' });
    c.frame('SEND', { destination: 'foo' }, 'test message');
    const m = c.of('MESSAGE')[0];
    expect(m?.body.toString()).toBe('test message');
    expect([...(m?.headers ?? [])]).toEqual([
      ['destination', '/queue/foo'],
      ['message-id', `Q_foo@@${c.session.id}@@1`],
      ['redelivered', 'false'],
      ['content-length', '12'],
    ]);
    expect(broker.vhosts.get('/')?.queues.get('foo')?.durable).toBe(true);
  });

  it('writes subscription, destination, message-id, redelivered, ack in RabbitMQ order for 1.2 client acks', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/q', id: 's1', ack: 'client-individual' });
    c.frame('SEND', { destination: '/queue/q', 'content-type': 'text/plain' }, 'x');
    const m = c.of('MESSAGE')[0];
    const id = `T_s1@@${c.session.id}@@1`;
    expect([...(m?.headers ?? [])]).toEqual([
      ['subscription', 's1'],
      ['destination', '/queue/q'],
      ['message-id', id],
      ['redelivered', 'false'],
      ['ack', id],
      ['content-type', 'text/plain'],
      ['content-length', '1'],
    ]);
  });

  it('keeps bodies with NUL bytes intact when content-length is given', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/bin', id: '1' });
    const body = Buffer.from([0, 1, 0, 2, 0]);
    c.frame('SEND', { destination: '/queue/bin' }, body);
    expect(c.of('MESSAGE')[0]?.body).toEqual(body);
  });

  it('escapes and unescapes headers per version (1.2 \\r, 1.1 \\n \\c \\\\)', () => {
    const c = connected('1.2');
    c.frame('SUBSCRIBE', { destination: '/queue/esc', id: '1' });
    c.raw('SEND\ndestination:/queue/esc\nweird\\cname:a\\cb\\nc\\\\d\\re\n\nx\0');
    const m = c.of('MESSAGE')[0];
    expect(m?.headers.get('weird:name')).toBe('a:b\nc\\d\re');
  });

  it('routes /topic to every subscriber with its own queue, and /exchange with a key', () => {
    const a = connected();
    const b = connected();
    a.frame('SUBSCRIBE', { destination: '/topic/stocks.*', id: 'a' });
    b.frame('SUBSCRIBE', { destination: '/topic/stocks.nyse', id: 'b' });
    a.frame('SEND', { destination: '/topic/stocks.nyse' }, 'IBM');
    expect(a.messages()).toEqual(['IBM']);
    expect(b.messages()).toEqual(['IBM']);
    expect(header(a.of('MESSAGE')[0], 'destination')).toBe('/topic/stocks.nyse');
    a.frame('SUBSCRIBE', { destination: '/exchange/amq.direct/k1', id: 'e' });
    b.frame('SEND', { destination: '/exchange/amq.direct/k1' }, 'direct');
    expect(a.messages()).toEqual(['IBM', 'direct']);
    expect(header(a.of('MESSAGE')[1], 'destination')).toBe('/exchange/amq.direct/k1');
  });

  it('deletes a non-durable topic subscription queue on UNSUBSCRIBE', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/topic/t', id: 'x', 'x-queue-name': 'mine' });
    expect(broker.vhosts.get('/')?.queues.has('mine')).toBe(true);
    c.frame('UNSUBSCRIBE', { id: 'x' });
    expect(broker.vhosts.get('/')?.queues.has('mine')).toBe(false);
  });

  it('keeps a durable topic subscription across connections and removes it on UNSUBSCRIBE durable:true', () => {
    const first = connected();
    first.frame('SUBSCRIBE', {
      destination: '/topic/news',
      id: 'sub-1',
      durable: 'true',
      'auto-delete': 'false',
    });
    first.session.shutdown();
    const sender = connected();
    sender.frame('SEND', { destination: '/topic/news' }, 'while away');
    const again = connected();
    again.frame('SUBSCRIBE', {
      destination: '/topic/news',
      id: 'sub-1',
      durable: 'true',
      'auto-delete': 'false',
    });
    expect(again.messages()).toEqual(['while away']);
    const queues = (): string[] => [...(broker.vhosts.get('/')?.queues.keys() ?? [])];
    expect(queues().filter((q) => q.startsWith('stomp-subscription-'))).toHaveLength(1);
    again.frame('UNSUBSCRIBE', { id: 'sub-1', durable: 'true' });
    expect(queues().filter((q) => q.startsWith('stomp-subscription-'))).toHaveLength(0);
  });

  it('refuses a durable subscription without id', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/topic/news', durable: 'true' });
    expect(header(c.lastError(), 'message')).toBe('Missing Header');
  });

  it('never declares /amq/queue, and refuses an unknown destination type', () => {
    const c = connected();
    c.frame('SEND', { destination: '/amq/queue/absent' }, 'x');
    expect(broker.vhosts.get('/')?.queues.has('absent')).toBe(false);
    c.frame('SEND', { destination: '/foo/bar' }, 'x');
    expect(header(c.lastError(), 'message')).toBe('Unknown destination');
  });

  it('takes queue arguments and prefetch-count from SUBSCRIBE headers', () => {
    const c = connected();
    c.frame('SUBSCRIBE', {
      destination: '/queue/args',
      id: '1',
      ack: 'client',
      'prefetch-count': '2',
      'x-max-length': '10',
      'x-message-ttl': '60000',
      'x-dead-letter-exchange': 'amq.fanout',
    });
    const q = broker.vhosts.get('/')?.queues.get('args');
    expect(q?.settings.maxLength).toBe(10);
    expect(q?.settings.messageTtl).toBe(60000);
    expect(q?.settings.deadLetterExchange).toBe('amq.fanout');
    for (let i = 0; i < 5; i++) c.frame('SEND', { destination: '/queue/args' }, `m${i}`);
    expect(c.messages()).toEqual(['m0', 'm1']);
    c.frame('ACK', { id: header(c.of('MESSAGE')[1], 'ack') ?? '' });
    expect(c.messages()).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('declares a queue on first SEND with the x-* headers as its arguments, so an AMQP declare with them is equivalent', () => {
    const c = connected();
    const args = {
      'x-message-ttl': '60000',
      'x-expires': '70000',
      'x-max-length': '10',
      'x-max-length-bytes': '20000',
      'x-dead-letter-exchange': 'dead-letter-exchange',
      'x-dead-letter-routing-key': 'dead-letter-routing-key',
      'x-max-priority': '6',
    };
    c.frame('SEND', { destination: '/queue/send-args', ...args }, 'test1');
    expect(c.of('ERROR')).toEqual([]);
    const q = broker.vhosts.get('/')?.queues.get('send-args');
    expect(q?.settings).toMatchObject({ messageTtl: 60000, maxLength: 10, maxPriority: 6 });
    const numeric = Object.fromEntries(
      Object.entries(args).map(([k, v]) => [k, /^[0-9]+$/.test(v) ? Number(v) : v]),
    );
    expect(() =>
      new CoreClient(broker).channel.queueDeclare('send-args', {
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: numeric,
      }),
    ).not.toThrow();
    expect(q?.messageCount).toBe(1);
  });

  it('refuses a duplicate subscription id and closes the connection, as RabbitMQ does', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/d', id: '1' });
    c.frame('SUBSCRIBE', { destination: '/queue/d', id: '1' });
    expect(header(c.lastError(), 'message')).toBe('Duplicated subscription identifier');
    expect(c.lastError()?.body.toString()).toBe("A subscription identified by 'T_1' already exists.");
    expect(c.transport.closed).toBe(true);
  });

  it('refuses an invalid ack mode and stays open', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/d', id: '2', ack: 'sometimes' });
    expect(header(c.lastError(), 'message')).toBe('Invalid header');
    expect(c.transport.closed).toBe(false);
  });

  it('refuses a SUBSCRIBE past stompMaxSubscriptions with ERROR, temp-queue replies included, and stays open', () => {
    const c = new SessionClient(broker, { limits: { stompMaxSubscriptions: 2 } });
    c.connect();
    c.frame('SUBSCRIBE', { destination: '/queue/m1', id: '1' });
    c.frame('SEND', { destination: '/queue/m1', 'reply-to': '/temp-queue/t' }, 'x');
    const queuesBefore = broker.vhosts.get('/')?.queues.size;
    c.frame('SUBSCRIBE', { destination: '/topic/m2', id: '2', receipt: 'r2' });
    expect(header(c.lastError(), 'message')).toBe('Too many subscriptions');
    expect(header(c.lastError(), 'receipt-id')).toBe('r2');
    // Refused before the topic subscription's queue was made: nothing is left behind.
    expect(broker.vhosts.get('/')?.queues.size).toBe(queuesBefore);
    c.frame('SEND', { destination: '/queue/m1', 'reply-to': '/temp-queue/other' }, 'y');
    expect(header(c.lastError(), 'message')).toBe('Too many subscriptions');
    expect(c.of('ERROR')).toHaveLength(2);
    expect(c.transport.ended).toBe(false);
    c.frame('UNSUBSCRIBE', { id: '1' });
    c.frame('SUBSCRIBE', { destination: '/topic/m2', id: '2', receipt: 'ok' });
    expect(header(c.last(), 'receipt-id')).toBe('ok');
  });

  it('refuses at SEND, with ERROR Invalid header, what AMQP could not carry, and stays open', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/door', id: '1' });
    for (const headers of <Record<string, string>[]>[
      { destination: '/queue/door', 'content-type': 'x'.repeat(256) },
      { destination: '/queue/door', ['h'.repeat(256)]: 'v' },
      { destination: '/queue/door', persistent: 'yes' },
      { destination: '/queue/door', priority: '256' },
      { destination: `/topic/${'k'.repeat(256)}` },
      { destination: `/queue/${'q'.repeat(256)}` },
    ]) {
      const before = c.of('ERROR').length;
      c.frame('SEND', { ...headers, receipt: 'r' }, 'refused');
      expect(c.of('ERROR')).toHaveLength(before + 1);
      expect(header(c.lastError(), 'message')).toBe('Invalid header');
      expect(header(c.lastError(), 'receipt-id')).toBe('r');
    }
    expect(broker.vhosts.get('/')?.queues.has('q'.repeat(256))).toBe(false);
    expect(c.transport.ended).toBe(false);
    c.frame(
      'SEND',
      { destination: '/queue/door', 'content-type': 'x'.repeat(255), persistent: 'True' },
      'ok',
    );
    expect(c.messages()).toEqual(['ok']);
    expect(header(c.of('MESSAGE')[0], 'persistent')).toBe('true');
  });

  it('unsubscribes a 1.0 subscription without id by its destination', () => {
    const c = connected('1.0');
    c.frame('SUBSCRIBE', { destination: '/queue/u' });
    c.frame('UNSUBSCRIBE', { destination: '/queue/u', receipt: 'r' });
    expect(header(c.last(), 'receipt-id')).toBe('r');
    c.frame('SEND', { destination: '/queue/u' }, 'stays');
    expect(c.messages()).toEqual([]);
    expect(broker.vhosts.get('/')?.queues.get('u')?.messageCount).toBe(1);
  });
});

describe('acknowledgements', () => {
  function subscriber(ack: string, version = '1.2'): SessionClient {
    const c = connected(version);
    c.frame('SUBSCRIBE', { destination: '/queue/acks', id: 's', ack });
    for (let i = 1; i <= 3; i++) c.frame('SEND', { destination: '/queue/acks' }, `m${i}`);
    return c;
  }
  const q = () => broker.vhosts.get('/')?.queues.get('acks');

  it('acks cumulatively in client mode', () => {
    const c = subscriber('client');
    c.frame('ACK', { id: header(c.of('MESSAGE')[1], 'ack') ?? '' });
    expect(c.session.connection?.channels.get(1)?.unacked.size).toBe(1);
    expect(q()?.unackedCount).toBe(1);
  });

  it('acks one message in client-individual mode, by message-id in 1.1', () => {
    const c = subscriber('client-individual', '1.1');
    c.frame('ACK', { 'message-id': header(c.of('MESSAGE')[1], 'message-id') ?? '', subscription: 's' });
    expect(q()?.unackedCount).toBe(2);
  });

  it('requeues on NACK, marking the redelivery and its count, and dead-letters on NACK requeue:false', () => {
    const c = subscriber('client-individual');
    c.frame('NACK', { id: header(c.of('MESSAGE')[0], 'ack') ?? '' });
    const again = c.of('MESSAGE')[3];
    expect(again?.body.toString()).toBe('m1');
    expect(header(again, 'redelivered')).toBe('true');
    expect(header(again, 'x-delivery-count')).toBe('1');
    c.frame('NACK', { id: header(again, 'ack') ?? '', requeue: 'false' });
    expect(q()?.messageCount).toBe(0);
    expect(q()?.unackedCount).toBe(2);
  });

  it('puts unacked messages back when the session ends', () => {
    const c = subscriber('client');
    c.session.transportClosed();
    expect(q()?.messageCount).toBe(3);
  });

  it('closes with ERROR on an ACK for an unknown delivery and refuses an unparseable one', () => {
    const c = subscriber('client');
    c.frame('ACK', { id: 'nonsense' });
    expect(header(c.lastError(), 'message')).toBe('Invalid header');
    c.frame('ACK', { id: `T_s@@${c.session.id}@@99` });
    expect(header(c.lastError(), 'message')).toBe('precondition_failed');
    expect(c.transport.ended).toBe(true);
  });
});

describe('transactions', () => {
  it('applies SEND and ACK at COMMIT and drops them at ABORT', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/tx-in', id: 's', ack: 'client-individual' });
    c.frame('SEND', { destination: '/queue/tx-in' }, 'work');
    c.frame('BEGIN', { transaction: 't1' });
    c.frame('SEND', { destination: '/queue/tx-out', transaction: 't1' }, 'result');
    c.frame('ACK', { id: header(c.of('MESSAGE')[0], 'ack') ?? '', transaction: 't1' });
    const vhost = broker.vhosts.get('/');
    expect(vhost?.queues.has('tx-out')).toBe(true); // declared at SEND, filled at COMMIT
    expect(vhost?.queues.get('tx-out')?.messageCount).toBe(0);
    expect(vhost?.queues.get('tx-in')?.unackedCount).toBe(1);
    c.frame('COMMIT', { transaction: 't1', receipt: 'c' });
    expect(vhost?.queues.get('tx-out')?.messageCount).toBe(1);
    expect(vhost?.queues.get('tx-in')?.unackedCount).toBe(0);
    c.frame('BEGIN', { transaction: 't2' });
    c.frame('SEND', { destination: '/queue/tx-out', transaction: 't2' }, 'dropped');
    c.frame('ABORT', { transaction: 't2' });
    expect(vhost?.queues.get('tx-out')?.messageCount).toBe(1);
  });

  it("sends a transactional SEND's receipt after COMMIT, before COMMIT's own, and never after ABORT", () => {
    const c = connected();
    c.frame('BEGIN', { transaction: 't1' });
    for (let i = 0; i < 3; i++)
      c.frame('SEND', { destination: '/queue/tx-r', transaction: 't1', receipt: `s${i}` }, `m${i}`);
    expect(c.of('RECEIPT')).toEqual([]);
    c.frame('COMMIT', { transaction: 't1', receipt: 'commit' });
    expect(c.of('RECEIPT').map((f) => header(f, 'receipt-id'))).toEqual(['s0', 's1', 's2', 'commit']);
    c.frame('BEGIN', { transaction: 't2' });
    c.frame('SEND', { destination: '/queue/tx-r', transaction: 't2', receipt: 'aborted' }, 'x');
    c.frame('ABORT', { transaction: 't2', receipt: 'abort' });
    expect(c.of('RECEIPT').map((f) => header(f, 'receipt-id'))).toEqual([
      's0',
      's1',
      's2',
      'commit',
      'abort',
    ]);
    expect(broker.vhosts.get('/')?.queues.get('tx-r')?.messageCount).toBe(3);
  });

  it('holds the receipts of a committed persistent SEND until the store has it', async () => {
    const store = new HeldStore();
    await broker.close();
    broker = await startBroker({ store });
    const c = connected();
    c.frame('BEGIN', { transaction: 't' });
    c.frame('SEND', { destination: '/queue/tx-p', transaction: 't', persistent: 'true', receipt: 's' }, 'x');
    c.frame('COMMIT', { transaction: 't', receipt: 'c' });
    await flush();
    expect(c.of('RECEIPT')).toHaveLength(0);
    store.release();
    await c.waitFor(() => c.of('RECEIPT').length === 2, 'both receipts');
    expect(c.of('RECEIPT').map((f) => header(f, 'receipt-id'))).toEqual(['s', 'c']);
  });

  it('checks write permission at a transactional SEND, not at COMMIT', () => {
    broker.users.add('reader', 'pw');
    broker.users.setPermissions('reader', '/', { configure: '.*', write: '^$', read: '.*' });
    const c = new SessionClient(broker);
    c.connect({ 'accept-version': '1.2', login: 'reader', passcode: 'pw' });
    c.frame('BEGIN', { transaction: 't' });
    c.frame('SEND', { destination: '/topic/x', transaction: 't' }, 'x');
    expect(header(c.lastError(), 'message')).toMatch(/access_refused|Access refused/i);
  });

  it('drops open transactions at disconnect', () => {
    const c = connected();
    c.frame('BEGIN', { transaction: 't' });
    c.frame('SEND', { destination: '/queue/tx-dc', transaction: 't' }, 'never');
    c.frame('DISCONNECT');
    expect(broker.vhosts.get('/')?.queues.get('tx-dc')?.messageCount).toBe(0);
  });

  it('refuses unknown and duplicate transaction ids and a frame without transaction header', () => {
    const c = connected();
    c.frame('COMMIT', { transaction: 'nope' });
    expect(header(c.lastError(), 'message')).toBe('Bad transaction');
    c.frame('BEGIN', { transaction: 'a' });
    c.frame('BEGIN', { transaction: 'a' });
    expect(header(c.lastError(), 'message')).toBe('Bad transaction');
    c.frame('SEND', { destination: '/queue/x', transaction: 'zz' }, 'x');
    expect(header(c.lastError(), 'message')).toBe('Bad transaction');
    c.frame('BEGIN');
    expect(header(c.lastError(), 'message')).toBe('Missing transaction');
  });
});

describe('receipts', () => {
  it("writes a SUBSCRIBE's RECEIPT before the backlog it finds, as RabbitMQ orders them", () => {
    const c = connected();
    c.frame('SEND', { destination: '/queue/backlog' }, 'waiting');
    c.frame('SUBSCRIBE', { destination: '/queue/backlog', id: 's', receipt: 'sub' });
    expect(c.frames.map((f) => f.command)).toEqual(['CONNECTED', 'RECEIPT', 'MESSAGE']);
    c.frame('SEND', { destination: '/queue/backlog' }, 'later');
    expect(c.messages()).toEqual(['waiting', 'later']);
  });

  it("holds a SUBSCRIBE's backlog while its RECEIPT waits behind the store, delivering nothing into memory meanwhile", async () => {
    const store = new HeldStore();
    await broker.close();
    broker = await startBroker({ store });
    const c = connected();
    for (let i = 0; i < 1000; i++) c.frame('SEND', { destination: '/queue/deep' }, `m${i}`);
    c.frame('SEND', { destination: '/queue/durable', persistent: 'true', receipt: 'p' }, 'x');
    c.frame('SUBSCRIBE', { destination: '/queue/deep', id: 's', receipt: 'sub' });
    await flush();
    expect(c.of('MESSAGE')).toHaveLength(0);
    // At most the one delivery that found the hold; the rest wait in the queue, not in the session.
    expect(broker.vhosts.get('/')?.queues.get('deep')?.messageCount).toBeGreaterThanOrEqual(999);
    store.release();
    await c.waitFor(() => c.of('MESSAGE').length === 1000, 'the backlog');
    const commands = c.frames.map((f) => f.command).filter((x) => x !== 'CONNECTED');
    expect(commands.slice(0, 3)).toEqual(['RECEIPT', 'RECEIPT', 'MESSAGE']);
  });

  it('holds the receipt of a persistent SEND until the store has the message, and keeps receipts in order', async () => {
    const store = new HeldStore();
    await broker.close();
    broker = await startBroker({ store });
    const c = connected();
    c.frame('SEND', { destination: '/queue/durable', persistent: 'true', receipt: 'p1' }, 'x');
    c.frame('SEND', { destination: '/queue/durable', receipt: 't2' }, 'y');
    await flush();
    expect(c.of('RECEIPT')).toHaveLength(0);
    store.release();
    await c.waitFor(() => c.of('RECEIPT').length === 2, 'both receipts');
    expect(c.of('RECEIPT').map((f) => header(f, 'receipt-id'))).toEqual(['p1', 't2']);
  });

  it('answers a transient SEND to a queue at once', () => {
    const c = connected();
    c.frame('SEND', { destination: '/queue/fast', receipt: 'now' }, 'x');
    expect(header(c.last(), 'receipt-id')).toBe('now');
  });
});

describe('temp queues and reply-to', () => {
  it('gives a /temp-queue reply-to a private queue and routes the reply back to the requester', () => {
    const requester = connected();
    const responder = connected();
    responder.frame('SUBSCRIBE', { destination: '/queue/rpc', id: 'r' });
    requester.frame('SEND', { destination: '/queue/rpc', 'reply-to': '/temp-queue/answers' }, 'question');
    const request = responder.of('MESSAGE')[0];
    const replyTo = header(request, 'reply-to') ?? '';
    expect(replyTo).toMatch(/^\/reply-queue\/amq\.gen-/);
    responder.frame('SEND', { destination: replyTo }, 'answer');
    const reply = requester.of('MESSAGE')[0];
    expect(reply?.body.toString()).toBe('answer');
    expect(header(reply, 'subscription')).toBe('/temp-queue/answers');
    requester.session.transportClosed();
    expect(broker.vhosts.get('/')?.queues.has(replyTo.slice('/reply-queue/'.length))).toBe(false);
  });
});

describe('selectors', () => {
  it('delivers only matching messages on a topic subscription', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/topic/sel', id: 's', selector: "color = 'red' AND weight > 5" });
    c.frame('SEND', { destination: '/topic/sel', color: 'red', weight: '10' }, 'yes');
    c.frame('SEND', { destination: '/topic/sel', color: 'red', weight: '1' }, 'too light');
    c.frame('SEND', { destination: '/topic/sel', color: 'blue', weight: '10' }, 'wrong color');
    c.frame('SEND', { destination: '/topic/sel' }, 'no properties');
    expect(c.messages()).toEqual(['yes']);
  });

  it('leaves what a selector refuses on a shared queue for other consumers, including AMQP-fed messages', () => {
    const red = connected();
    red.frame('SUBSCRIBE', { destination: '/queue/shared', id: 'r', selector: "color = 'red'" });
    const vhost = broker.vhosts.get('/');
    const publish = (color: string, body: string): void => {
      vhost?.publish('', Message.fromProperties('', 'shared', { headers: { color } }, Buffer.from(body)), {
        routed: 0,
        rejected: 0,
      });
    };
    publish('blue', 'b1');
    publish('red', 'r1');
    // The queue looks past the blue head for a message the red subscription accepts; blue stays for others.
    expect(red.messages()).toEqual(['r1']);
    const any = connected();
    any.frame('SUBSCRIBE', { destination: '/queue/shared', id: 'a', ack: 'client' });
    expect(any.messages()).toEqual(['b1']);
    publish('red', 'r2');
    expect([...red.messages(), ...any.messages()].sort()).toEqual(['b1', 'r1', 'r2']);
    for (const f of red.of('MESSAGE')) expect(header(f, 'redelivered')).toBe('false');
  });

  it('refuses an invalid selector with ERROR Invalid selector', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/s', id: '1', selector: "a = 'unterminated" });
    expect(header(c.lastError(), 'message')).toBe('Invalid selector');
  });

  it('refuses a selector longer than selectorMaxLength with ERROR Invalid selector, quoting only its start', () => {
    const c = connected();
    const selector = `color IN (${Array.from({ length: 1000 }, (_, i) => `'c${i}'`).join(', ')})`;
    c.frame('SUBSCRIBE', { destination: '/queue/long-selector', id: '1', selector });
    const error = c.lastError();
    expect(header(error, 'message')).toBe('Invalid selector');
    expect(error?.body.toString()).toMatch(/^Selector longer than 4096 characters/);
    expect(error?.body.length).toBeLessThan(200);
    expect(broker.vhosts.get('/')?.queues.get('long-selector')?.consumerCount ?? 0).toBe(0);
  });

  it('takes selectorMaxLength from the session limits', () => {
    const c = new SessionClient(broker, { limits: { selectorMaxLength: 20 } });
    c.connect();
    c.frame('SUBSCRIBE', { destination: '/topic/short', id: 'ok', selector: "color = 'red'" });
    c.frame('SUBSCRIBE', {
      destination: '/topic/short',
      id: 'long',
      selector: "color = 'red' AND weight > 5",
    });
    expect(c.of('ERROR').map((f) => header(f, 'message'))).toEqual(['Invalid selector']);
    c.frame('SEND', { destination: '/topic/short', color: 'red' }, 'red');
    expect(c.messages()).toEqual(['red']);
  });
});

describe('back-pressure', () => {
  it('stops deliveries while the transport is full and resumes on drain', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/bp', id: '1' });
    c.transport.writable = false;
    c.frame('SEND', { destination: '/queue/bp' }, 'first');
    expect(c.session.connection?.writable).toBe(false);
    c.frame('SEND', { destination: '/queue/bp' }, 'second');
    expect(c.messages()).toEqual(['first']);
    c.transport.writable = true;
    c.session.drained();
    expect(c.messages()).toEqual(['first', 'second']);
  });

  it('writes every MESSAGE as one corked chunk list [head, block, body, NUL]', () => {
    const c = connected();
    c.frame('SUBSCRIBE', { destination: '/queue/chunks', id: '1' });
    const before = c.transport.chunks.length;
    c.frame('SEND', { destination: '/queue/chunks' }, 'body');
    const written = c.transport.chunks.slice(before);
    expect(written).toHaveLength(4);
    expect(written[2]?.toString()).toBe('body');
    expect(written[3]).toEqual(Buffer.from([0]));
    expect(c.transport.corked).toBe(0);
  });
});
