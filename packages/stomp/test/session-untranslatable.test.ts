import { Message, type Broker, type Logger, type PropertiesDecoder } from '@warren/core';
import { header, SessionClient, startBroker } from './session-helpers';

let broker: Broker;
/** What the broker logged: the core rejects untranslatable deliveries, counts them and warns. */
let logged: Logged[];
beforeEach(async () => {
  logged = [];
  broker = await startBroker({ logger: recordingLogger(logged) });
});
afterEach(async () => {
  await broker.close();
});

/** Raw properties that fail to decode when the STOMP side asks for them, as malformed bytes from a peer would. */
const broken: PropertiesDecoder = {
  format: 'test-broken',
  decode(): never {
    throw new Error('malformed raw properties');
  },
};

function publish(routingKey: string, body: string, bad = false, exchange = ''): void {
  const msg = bad
    ? Message.fromRaw(exchange, routingKey, Buffer.from([0xff, 0xff]), broken, {}, Buffer.from(body))
    : Message.fromProperties(exchange, routingKey, { headers: { n: body } }, Buffer.from(body));
  broker.vhosts.get('/')?.publish(exchange, msg, { routed: 0, rejected: 0 });
}

interface Logged {
  level: string;
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it is given, children included. */
function recordingLogger(into: Logged[]): Logger {
  const make = (bindings: object): Logger => ({
    error: (obj, msg) => into.push({ level: 'error', obj: { ...bindings, ...obj }, msg }),
    warn: (obj, msg) => into.push({ level: 'warn', obj: { ...bindings, ...obj }, msg }),
    info: () => {},
    debug: () => {},
    child: (more) => make({ ...bindings, ...more }),
  });
  return make({});
}

describe('a message that cannot be translated for a STOMP subscriber', () => {
  it.each(['client', 'client-individual', 'auto'])(
    'is settled without reaching an ack:%s subscriber, counted and logged, and the next messages arrive',
    (ack) => {
      const c = new SessionClient(broker);
      c.connect();
      c.frame('SUBSCRIBE', { destination: '/queue/u', id: 's', ack });
      publish('u', 'good-1');
      publish('u', 'bad', true);
      publish('u', 'good-2');
      expect(c.messages()).toEqual(['good-1', 'good-2']);
      expect(c.of('ERROR')).toHaveLength(0);
      expect(c.transport.closed).toBe(false);
      expect(broker.counters.untranslatable).toBe(1);
      const warn = logged.filter((l) => l.level === 'warn');
      expect(warn).toHaveLength(1);
      expect(warn[0]?.obj).toMatchObject({ queue: 'u', connection: c.session.connection?.id });
      // Nothing of the bad message is left behind: not ready, not unacked.
      const q = broker.vhosts.get('/')?.queues.get('u');
      if (ack !== 'auto') for (const m of c.of('MESSAGE')) c.frame('ACK', { id: header(m, 'ack') ?? '' });
      expect(q?.messageCount).toBe(0);
      expect(q?.unackedCount).toBe(0);
      // The session still works.
      c.frame('SEND', { destination: '/queue/u', receipt: 'r' }, 'good-3');
      expect(header(c.last(), 'receipt-id')).toBe('r');
      expect(c.messages()).toEqual(['good-1', 'good-2', 'good-3']);
    },
  );

  it('does not stall a shared queue behind a selector subscriber', () => {
    const c = new SessionClient(broker);
    c.connect();
    c.frame('SUBSCRIBE', { destination: '/queue/sel', id: 's', ack: 'client', selector: "n LIKE 'good%'" });
    publish('sel', 'bad', true);
    publish('sel', 'good-1');
    expect(c.messages()).toEqual(['good-1']);
    expect(broker.counters.untranslatable).toBe(1);
  });

  it('leaves every subscriber of a fan-out to carry on', () => {
    const a = new SessionClient(broker);
    const b = new SessionClient(broker);
    for (const c of [a, b]) {
      c.connect();
      c.frame('SUBSCRIBE', { destination: '/topic/fan', id: 't' });
    }
    publish('fan', 'bad', true, 'amq.topic');
    publish('fan', 'good', false, 'amq.topic');
    for (const c of [a, b]) {
      expect(c.messages()).toEqual(['good']);
      expect(c.transport.closed).toBe(false);
    }
    expect(broker.counters.untranslatable).toBe(2);
  });

  function withDeadLetters(c: SessionClient): void {
    c.frame('SUBSCRIBE', {
      destination: '/queue/with-dlx',
      id: 's',
      ack: 'client',
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'dead',
    });
    c.frame('SUBSCRIBE', { destination: '/queue/dead', id: 'd', ack: 'client' });
  }

  it('goes to the dead-letter exchange when its queue has one and its properties can be rewritten', () => {
    // Properties that fail the first time they are read (while the MESSAGE is built) and decode after: the
    // reject then dead-letters the message as usual, x-death and all.
    let reads = 0;
    const flaky: PropertiesDecoder = {
      format: 'test-flaky',
      decode: () => {
        if (reads++ === 0) throw new Error('transient');
        return { headers: { n: 'flaky' } };
      },
    };
    const c = new SessionClient(broker);
    c.connect();
    withDeadLetters(c);
    const msg = Message.fromRaw('', 'with-dlx', Buffer.from([0]), flaky, {}, Buffer.from('flaky'));
    broker.vhosts.get('/')?.publish('', msg, { routed: 0, rejected: 0 });
    publish('with-dlx', 'good');
    const bySubscription = (id: string): string[] =>
      c
        .of('MESSAGE')
        .filter((m) => header(m, 'subscription') === id)
        .map((m) => m.body.toString());
    expect(bySubscription('s')).toEqual(['good']);
    expect(bySubscription('d')).toEqual(['flaky']);
    const dead = c.of('MESSAGE').find((m) => header(m, 'subscription') === 'd');
    expect(header(dead, 'x-first-death-reason')).toBe('rejected');
    expect(broker.counters.untranslatable).toBe(1);
  });

  it('is dropped, and says so, when it cannot be dead-lettered because its properties never decode', () => {
    const c = new SessionClient(broker);
    c.connect();
    withDeadLetters(c);
    publish('with-dlx', 'bad', true);
    publish('with-dlx', 'good');
    expect(c.messages()).toEqual(['good']);
    expect(c.transport.closed).toBe(false);
    expect(broker.counters.untranslatable).toBe(1);
    expect(logged.find((l) => l.level === 'error')).toMatchObject({
      obj: { queue: 'with-dlx', reason: 'rejected' },
      msg: 'dead-lettering a message failed; it is dropped',
    });
    // Only "good" is held, waiting for its ACK; the bad one left the queue for good.
    const q = broker.vhosts.get('/')?.queues.get('with-dlx');
    expect(q?.unackedCount).toBe(1);
    expect(q?.messageCount).toBe(0);
  });
});
