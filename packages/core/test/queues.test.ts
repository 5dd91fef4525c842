import { isFieldTable, type Broker, type FieldTable } from '@warren/core';
import { CoreClient, startBroker, waitFor } from '@warren/testkit';

describe('queues', () => {
  let broker: Broker;
  let c: CoreClient;

  beforeEach(async () => {
    broker = await startBroker();
    c = new CoreClient(broker);
  });
  afterEach(() => broker.close());

  const vhost = () => broker.getVhost('/')!;

  test('an empty name declares a server-named amq.gen- queue, different each time', () => {
    const a = c.declareQueue('', {}, { exclusive: true });
    const b = c.declareQueue('', {}, { exclusive: true });
    expect(a).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(b).not.toBe(a);
  });

  test('re-declaring with other flags or arguments is PRECONDITION_FAILED naming the difference', () => {
    c.declareQueue('task_queue', {}, { durable: true });
    expect(() => c.declareQueue('task_queue', {}, { durable: false })).toThrow(
      "inequivalent arg 'durable' for queue 'task_queue' in vhost '/': received 'false' but current is 'true'",
    );
    expect(() => c.declareQueue('task_queue', { 'x-max-length': 10 }, { durable: true })).toThrow(
      /inequivalent arg 'x-max-length' for queue 'task_queue' in vhost '\/': received the value '10' of type 'long' but current is none/,
    );
    expect(() => c.declareQueue('task_queue', {}, { durable: true })).not.toThrow();
  });

  test('passive declare reports counts, and NOT_FOUND for a missing queue', () => {
    c.declareQueue('q');
    c.publish('', 'q', 'one');
    expect(
      c.channel.queueDeclare(
        'q',
        { durable: false, exclusive: false, autoDelete: false, arguments: {} },
        true,
      ),
    ).toEqual({
      queue: 'q',
      messageCount: 1,
      consumerCount: 0,
    });
    expect(() =>
      c.channel.queueDeclare(
        'nope',
        { durable: false, exclusive: false, autoDelete: false, arguments: {} },
        true,
      ),
    ).toThrow("no queue 'nope' in vhost '/'");
  });

  test('queue names starting amq. are reserved', () => {
    expect(() => c.declareQueue('amq.mine')).toThrow(
      "queue name 'amq.mine' contains reserved prefix 'amq.*'",
    );
  });

  test.each<[FieldTable, RegExp]>([
    [{ 'x-message-ttl': -1 }, /invalid arg 'x-message-ttl'.*value_negative/],
    [{ 'x-expires': 0 }, /invalid arg 'x-expires'.*value_zero/],
    [{ 'x-max-length': 'ten' }, /invalid arg 'x-max-length'.*unacceptable_type/],
    [{ 'x-overflow': 'explode' }, /invalid arg 'x-overflow'/],
    [{ 'x-max-priority': 256 }, /invalid arg 'x-max-priority'/],
    [{ 'x-dead-letter-routing-key': 'k' }, /routing_key_but_no_dlx_defined/],
    [
      { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'k'.repeat(256) },
      /routing_key_too_long/,
    ],
    [{ 'x-queue-type': 'lazy' }, /invalid arg 'x-queue-type'.*unsupported queue type 'lazy'/],
    [
      { 'x-queue-type': 'quorum', 'x-max-priority': 5 },
      /'x-max-priority'.*of queue type rabbit_quorum_queue/,
    ],
  ])('invalid queue arguments are refused: %j', (args, message) => {
    expect(() => c.declareQueue('bad', args)).toThrow(
      expect.objectContaining({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(message) }),
    );
    expect(vhost().queues.has('bad')).toBe(false);
  });

  test('an exclusive queue is RESOURCE_LOCKED to other connections and deleted with its owner', () => {
    const q = c.declareQueue('', {}, { exclusive: true });
    const other = new CoreClient(broker);
    expect(() => other.consume(q)).toThrow(
      expect.objectContaining({ code: 'RESOURCE_LOCKED', replyCode: 405 }),
    );
    expect(() => other.get(q, true)).toThrow(/cannot obtain exclusive access to locked queue/);
    c.close();
    expect(vhost().queues.has(q)).toBe(false);
  });

  test('an auto-delete queue is deleted when its last consumer goes, not before it had one', () => {
    c.declareQueue('temp', {}, { autoDelete: true });
    expect(vhost().queues.has('temp')).toBe(true);
    const a = c.consume('temp').consumer;
    const b = c.consume('temp').consumer;
    c.channel.cancel(a.tag);
    expect(vhost().queues.has('temp')).toBe(true);
    c.channel.cancel(b.tag);
    expect(vhost().queues.has('temp')).toBe(false);
  });

  test('x-expires deletes a queue left unused, but not while it has a consumer', async () => {
    c.declareQueue('short', { 'x-expires': 30 });
    c.declareQueue('watched', { 'x-expires': 30 });
    const { consumer } = c.consume('watched');
    await waitFor(() => !vhost().queues.has('short'), 2000, 'short to expire');
    expect(vhost().queues.has('watched')).toBe(true);
    c.channel.cancel(consumer.tag);
    await waitFor(() => !vhost().queues.has('watched'), 2000, 'watched to expire after its consumer left');
  });

  test('purge drops ready messages but not unacked ones, and reports the count', () => {
    c.declareQueue('q');
    for (const m of ['a', 'b', 'c']) c.publish('', 'q', m);
    const got = c.get('q', false);
    expect(c.channel.queuePurge('q')).toBe(2);
    c.channel.reject(got!.delivery.tag, true);
    expect(c.getAll('q')).toEqual(['a']);
  });

  test('delete if-empty and if-unused refuse, plain delete reports the dropped count and is idempotent', () => {
    c.declareQueue('q');
    c.publish('', 'q', 'x');
    expect(() => c.channel.queueDelete('q', false, true)).toThrow("queue 'q' in vhost '/' not empty");
    const { consumer } = c.consume('q', { noAck: false });
    c.publish('', 'q', 'y');
    expect(() => c.channel.queueDelete('q', true, false)).toThrow("queue 'q' in vhost '/' in use");
    c.channel.cancel(consumer.tag);
    c.channel.recover();
    expect(c.channel.queueDelete('q')).toBe(2);
    expect(c.channel.queueDelete('q')).toBe(0);
  });

  test('deleting a consumed queue cancels its consumers from the broker side', () => {
    c.declareQueue('q');
    const { consumer } = c.consume('q');
    const other = new CoreClient(broker);
    other.channel.queueDelete('q');
    expect(c.cancelledByBroker).toEqual([consumer.tag]);
    expect(c.channel.consumers.size).toBe(0);
  });

  describe('TTL', () => {
    test('x-message-ttl drops messages nobody consumed in time', async () => {
      c.declareQueue('q', { 'x-message-ttl': 20 });
      c.publish('', 'q', 'stale');
      await waitFor(() => vhost().getQueue('q').messageCount === 0, 2000, 'expiry');
      c.publish('', 'q', 'fresh');
      expect(c.getAll('q')).toEqual(['fresh']);
    });

    test('x-message-ttl=0 delivers to a waiting consumer and drops otherwise', () => {
      c.declareQueue('now', { 'x-message-ttl': 0 });
      c.publish('', 'now', 'nobody waiting');
      expect(vhost().getQueue('now').messageCount).toBe(0);
      const { received } = c.consume('now');
      c.publish('', 'now', 'taken at once');
      expect(received.map((r) => r.body)).toEqual(['taken at once']);
    });

    test('per-message expiration applies, the smaller of message and queue TTL wins', async () => {
      c.declareQueue('q', { 'x-message-ttl': 60000 });
      c.publish('', 'q', 'short', { expiration: '10' });
      c.publish('', 'q', 'long');
      await waitFor(() => vhost().getQueue('q').messageCount === 1, 2000, 'the short one to expire');
      expect(c.getAll('q')).toEqual(['long']);
    });

    test('an expiration that is not a non-negative integer is refused', () => {
      c.declareQueue('q');
      expect(() => c.publish('', 'q', 'x', { expiration: '-5' })).toThrow(
        expect.objectContaining({ code: 'PRECONDITION_FAILED' }),
      );
      expect(() => c.publish('', 'q', 'x', { expiration: 'soon' })).toThrow(/invalid expiration/);
    });
  });

  describe('max length', () => {
    test('drop-head (the default) keeps the newest messages', () => {
      c.declareQueue('q', { 'x-max-length': 2 });
      for (const m of ['1', '2', '3', '4']) c.publish('', 'q', m);
      expect(c.getAll('q')).toEqual(['3', '4']);
    });

    test('x-max-length-bytes counts body bytes', () => {
      c.declareQueue('q', { 'x-max-length-bytes': 10 });
      for (const m of ['aaaa', 'bbbb', 'cccc']) c.publish('', 'q', m);
      expect(c.getAll('q')).toEqual(['bbbb', 'cccc']);
    });

    test('reject-publish refuses new messages, nacking them for a confirming publisher', async () => {
      c.declareQueue('q', { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
      c.channel.confirmSelect();
      c.publish('', 'q', 'kept');
      c.publish('', 'q', 'refused');
      await waitFor(() => c.confirms.length === 2, 2000, 'two confirms');
      expect(c.confirms).toEqual([
        { seq: 1, multiple: false, ack: true },
        { seq: 2, multiple: false, ack: false },
      ]);
      expect(c.getAll('q')).toEqual(['kept']);
    });

    test('unacked messages do not count against the limit', () => {
      c.declareQueue('q', { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
      c.publish('', 'q', 'first');
      c.get('q', false);
      c.publish('', 'q', 'second');
      expect(vhost().getQueue('q').messageCount).toBe(1);
    });
  });

  describe('dead-lettering', () => {
    function withDlx(args: FieldTable = {}): void {
      c.channel.exchangeDeclare('dlx', 'fanout', {
        durable: false,
        autoDelete: false,
        internal: false,
        arguments: {},
      });
      c.declareQueue('dead');
      c.channel.queueBind('dead', 'dlx', '');
      c.declareQueue('work', { 'x-dead-letter-exchange': 'dlx', ...args });
    }
    const deaths = (props: { headers?: FieldTable }): FieldTable[] =>
      (props.headers?.['x-death'] as unknown[]).filter((d): d is FieldTable => isFieldTable(d as never));

    test('a rejected message goes to the dead-letter exchange with an x-death record', () => {
      withDlx();
      c.publish('', 'work', 'bad', { headers: { keep: 'me' } });
      const got = c.get('work', false)!;
      c.channel.reject(got.delivery.tag, false);
      const { received } = c.consume('dead');
      expect(received).toHaveLength(1);
      const props = received[0]!.properties;
      expect(props.headers?.['keep']).toBe('me');
      expect(deaths(props)).toEqual([
        expect.objectContaining({
          count: 1,
          reason: 'rejected',
          queue: 'work',
          exchange: '',
          'routing-keys': ['work'],
        }),
      ]);
      expect(props.headers?.['x-first-death-reason']).toBe('rejected');
      expect(props.headers?.['x-first-death-queue']).toBe('work');
    });

    test('expired messages are dead-lettered with reason expired and lose their expiration', async () => {
      withDlx();
      c.publish('', 'work', 'late', { expiration: '5' });
      const { received } = c.consume('dead');
      await waitFor(() => received.length === 1, 2000, 'dead letter');
      const props = received[0]!.properties;
      expect(props.expiration).toBeUndefined();
      expect(deaths(props)[0]).toMatchObject({ reason: 'expired', 'original-expiration': '5' });
    });

    test('messages dropped by max-length are dead-lettered with reason maxlen', () => {
      withDlx({ 'x-max-length': 1 });
      c.publish('', 'work', 'old');
      c.publish('', 'work', 'new');
      expect(c.getAll('dead')).toEqual(['old']);
    });

    test('x-dead-letter-routing-key replaces the routing key', () => {
      c.declareQueue('parking');
      c.declareQueue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'parking' });
      c.publish('', 'work', 'park me');
      c.channel.reject(c.get('work', false)!.delivery.tag, false);
      expect(c.getAll('parking')).toEqual(['park me']);
    });

    test('dying twice in the same queue for the same reason increments count', () => {
      // work -> (reject) -> retry (ttl 0, dlx back to work) -> work: the classic retry loop.
      c.declareQueue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' });
      c.declareQueue('retry', {
        'x-message-ttl': 0,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'work',
      });
      c.publish('', 'work', 'again');
      for (let i = 0; i < 2; i++) c.channel.reject(c.get('work', false)!.delivery.tag, false);
      const last = c.get('work', true)!;
      const d = deaths(last.delivery.msg.properties);
      expect(d.map((x) => [x['queue'], x['reason'], x['count']])).toEqual([
        ['retry', 'expired', 2],
        ['work', 'rejected', 2],
      ]);
    });

    test('a dead-letter cycle without any rejection drops the message instead of looping', () => {
      c.declareQueue('loop', {
        'x-message-ttl': 0,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'loop',
      });
      c.publish('', 'loop', 'spin');
      expect(vhost().getQueue('loop').messageCount).toBe(0);
    });

    test('a dead-letter exchange that does not exist drops the message', () => {
      c.declareQueue('work', { 'x-dead-letter-exchange': 'missing' });
      c.publish('', 'work', 'x');
      c.channel.reject(c.get('work', false)!.delivery.tag, false);
      expect(vhost().getQueue('work').messageCount).toBe(0);
    });
  });

  test('x-max-priority serves higher priorities first, capping priorities above the maximum', () => {
    c.declareQueue('p', { 'x-max-priority': 5 });
    c.publish('', 'p', 'low-1', { priority: 1 });
    c.publish('', 'p', 'none');
    c.publish('', 'p', 'high', { priority: 5 });
    c.publish('', 'p', 'huge', { priority: 200 });
    c.publish('', 'p', 'low-2', { priority: 1 });
    expect(c.getAll('p')).toEqual(['high', 'huge', 'low-1', 'low-2', 'none']);
  });

  test('without x-max-priority, priorities are ignored', () => {
    c.declareQueue('fifo');
    c.publish('', 'fifo', 'a', { priority: 1 });
    c.publish('', 'fifo', 'b', { priority: 9 });
    expect(c.getAll('fifo')).toEqual(['a', 'b']);
  });
});
