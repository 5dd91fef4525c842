import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { clusterMode, startWarren, type TestBroker } from '../support/warren';

// A cluster's stream is a JetStream stream, whose retention removes single messages, not whole segments, and
// keeps no active segment back (docs/cluster.md).
const segmentTest = clusterMode ? test.skip : test;

/*
 * Stream queues (x-queue-type=stream) over AMQP 0-9-1 with amqplib, as RabbitMQ 3.10 behaves: offsets,
 * consumer credit, refusals with their reply codes, retention.
 */
let broker: TestBroker;
let conn: ChannelModel;
let n = 0;
const unique = (base: string): string => `${base}.${process.pid}.${++n}`;
const url = (): string => `amqp://guest:guest@${broker.host}:${broker.amqpPort}`;

beforeAll(async () => {
  broker = await startWarren();
  conn = await amqp.connect(url());
});
afterAll(async () => {
  await conn.close();
  await broker.close();
});

async function declareStream(ch: Channel, args: Record<string, unknown> = {}): Promise<string> {
  const name = unique('stream');
  await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream', ...args } });
  return name;
}

/** Publishes on a confirm channel and waits for every confirm. */
async function publishAll(queue: string, bodies: string[]): Promise<void> {
  const ch = await conn.createConfirmChannel();
  for (const b of bodies) ch.sendToQueue(queue, Buffer.from(b), { persistent: false });
  await ch.waitForConfirms();
  await ch.close();
}

interface Reading {
  ch: Channel;
  got: ConsumeMessage[];
  tag: string;
}

/** A consumer on a fresh channel with prefetch `prefetch`, acking nothing unless told. */
async function read(queue: string, offset: unknown, prefetch = 100, autoAckEach = false): Promise<Reading> {
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  const got: ConsumeMessage[] = [];
  const args = offset === undefined ? {} : { 'x-stream-offset': offset };
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (m === null) return;
      got.push(m);
      if (autoAckEach) ch.ack(m);
    },
    { arguments: args },
  );
  return { ch, got, tag: consumerTag };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const bodies = (r: Reading): string[] => r.got.map((m) => m.content.toString());
const offsets = (r: Reading): unknown[] => r.got.map((m) => (m.properties.headers ?? {})['x-stream-offset']);

/** Runs `op` on its own connection and returns how the server ended the channel or the connection. */
async function refused(op: (ch: Channel) => Promise<unknown>): Promise<{ code: number; text: string }> {
  const c = await amqp.connect(url());
  c.on('error', () => {});
  const ch = await c.createChannel();
  ch.on('error', () => {});
  const closed = new Promise<{ code: number; text: string }>((resolve) => {
    const take = (e: { code?: number; message: string }): void =>
      resolve({ code: e.code ?? 0, text: e.message });
    ch.once('error', take);
    c.once('error', take);
  });
  await op(ch).catch(() => undefined);
  const result = await closed;
  await c.close().catch(() => {});
  return result;
}

describe('stream queues over AMQP', () => {
  test('consumers start at first, next, last, an offset, a long offset and a timestamp', async () => {
    const ch = await conn.createChannel();
    const q = await declareStream(ch);
    await publishAll(q, ['m0', 'm1', 'm2']);
    const first = await read(q, 'first');
    const next = await read(q, 'next');
    const byDefault = await read(q, undefined);
    const last = await read(q, 'last');
    const at1 = await read(q, 1);
    const long2 = await read(q, { '!': 'long', value: 2 });
    const past = await read(q, 1000);
    const oldStamp = await read(q, { '!': 'timestamp', value: Math.floor(Date.now() / 1000) - 3600 });
    await publishAll(q, ['m3']);
    await until(() => first.got.length === 4 && oldStamp.got.length === 4, 'first and timestamp readers');
    await until(() => next.got.length === 1 && byDefault.got.length === 1 && past.got.length === 1, 'next');
    await until(() => last.got.length === 2 && at1.got.length === 3 && long2.got.length === 2, 'the rest');
    expect(bodies(first)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(offsets(first)).toEqual([0, 1, 2, 3]);
    expect(bodies(next)).toEqual(['m3']);
    expect(bodies(byDefault)).toEqual(['m3']);
    expect(bodies(past)).toEqual(['m3']);
    expect(bodies(last)).toEqual(['m2', 'm3']);
    expect(bodies(at1)).toEqual(['m1', 'm2', 'm3']);
    expect(bodies(long2)).toEqual(['m2', 'm3']);
    expect(bodies(oldStamp)).toEqual(['m0', 'm1', 'm2', 'm3']);
    // The log kept everything: queue.declare-ok counts it.
    expect((await ch.checkQueue(q)).messageCount).toBe(4);
    await ch.close();
  });

  test('a timestamp offset and a relative "1h" start at the first message at or after the time', async () => {
    const ch = await conn.createChannel();
    const q = await declareStream(ch);
    await publishAll(q, ['before']);
    // Wait for the clock to pass into the next whole second, and then past the stream's chunk span, so every
    // message published from here on is at or after `second`.
    const second = Math.floor(Date.now() / 1000) + 1;
    await until(() => Date.now() >= second * 1000 + 150, 'the next second', 3000);
    await publishAll(q, ['after-1', 'after-2']);
    const fromStamp = await read(q, { '!': 'timestamp', value: second });
    const fromHour = await read(q, '1h');
    const fromFuture = await read(q, { '!': 'timestamp', value: second + 3600 });
    await until(() => fromStamp.got.length === 2 && fromHour.got.length === 3, 'timestamp readers');
    expect(bodies(fromStamp)).toEqual(['after-1', 'after-2']);
    expect(bodies(fromHour)).toEqual(['before', 'after-1', 'after-2']);
    await publishAll(q, ['later']);
    await until(() => fromFuture.got.length === 1, 'the future reader gets what comes next');
    expect(bodies(fromFuture)).toEqual(['later']);
    await ch.close();
  });

  test('two consumers read independently and each gets only its prefetch until it acks', async () => {
    const ch = await conn.createChannel();
    const q = await declareStream(ch);
    await publishAll(
      q,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    const slow = await read(q, 'first', 3);
    const fast = await read(q, 5, 100, true);
    await until(() => slow.got.length === 3 && fast.got.length === 5, 'both readers');
    // The slow reader is held at its credit: ask the broker something and look again.
    await slow.ch.checkQueue(q);
    expect(bodies(slow)).toEqual(['m0', 'm1', 'm2']);
    expect(bodies(fast)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
    slow.ch.ack(slow.got[2] as ConsumeMessage, true);
    await until(() => slow.got.length === 6, 'three more after the ack');
    expect(offsets(slow)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(slow.got.every((m) => !m.fields.redelivered)).toBe(true);
    // Closing a channel with unacked stream deliveries is no error, and the log keeps them all.
    await slow.ch.close();
    expect((await ch.checkQueue(q)).messageCount).toBe(10);
    await fast.ch.close();
    await ch.close();
  });

  test('consumers waiting at the tail get new appends as they arrive', async () => {
    const ch = await conn.createChannel();
    const q = await declareStream(ch);
    const a = await read(q, 'next', 10, true);
    const b = await read(q, 'next', 10, true);
    for (let i = 0; i < 3; i++) {
      await publishAll(q, [`live-${i}`]);
      await until(() => a.got.length === i + 1 && b.got.length === i + 1, `live-${i}`);
    }
    expect(bodies(a)).toEqual(['live-0', 'live-1', 'live-2']);
    expect(offsets(b)).toEqual([0, 1, 2]);
    await a.ch.close();
    await b.ch.close();
    await ch.close();
  });

  test('refusals: prefetch 0 is 406, no-ack, global qos, basic.get, purge, nack and reject are 540', async () => {
    const setup = await conn.createChannel();
    const q = await declareStream(setup);
    await publishAll(q, ['m0']);
    const where = `queue '${q}' in vhost '/'`;

    expect(await refused((ch) => ch.consume(q, () => {}, {}))).toEqual({
      code: 406,
      text: expect.stringContaining(
        `PRECONDITION_FAILED - consumer prefetch count is not set for '${where}'`,
      ),
    });
    expect(
      await refused(async (ch) => {
        await ch.prefetch(10);
        return ch.consume(q, () => {}, { noAck: true });
      }),
    ).toEqual({
      code: 540,
      text: expect.stringContaining(
        `NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues ${where}`,
      ),
    });
    expect(
      await refused(async (ch) => {
        // Consumer prefetch first: without it RabbitMQ's first refusal is the missing prefetch.
        await ch.prefetch(10);
        await ch.prefetch(10, true);
        return ch.consume(q, () => {}, {});
      }),
    ).toEqual({
      code: 540,
      text: expect.stringContaining(`NOT_IMPLEMENTED - ${where} does not support global qos`),
    });
    expect(await refused((ch) => ch.get(q))).toEqual({
      code: 540,
      text: expect.stringContaining(`NOT_IMPLEMENTED - basic.get not supported by stream queues ${where}`),
    });
    expect(await refused((ch) => ch.purgeQueue(q))).toEqual({
      code: 540,
      text: expect.stringContaining(`NOT_IMPLEMENTED - queue.purge not supported by stream queues ${where}`),
    });
    expect(
      await refused(async (ch) => {
        await ch.prefetch(10);
        await ch.consume(q, () => {}, { arguments: { 'x-stream-offset': 'tomorrow' } });
      }),
    ).toEqual({ code: 406, text: expect.stringContaining(`invalid arg 'x-stream-offset' for ${where}`) });
    for (const settle of ['nack', 'reject'] as const) {
      expect(
        await refused(async (ch) => {
          await ch.prefetch(10);
          const got = new Promise<ConsumeMessage>((resolve) => {
            void ch.consume(q, (m) => m && resolve(m), { arguments: { 'x-stream-offset': 'first' } });
          });
          const m = await got;
          if (settle === 'nack') ch.nack(m, false, true);
          else ch.reject(m, false);
        }),
      ).toEqual({
        code: 540,
        text: expect.stringContaining(
          `NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues ${where}`,
        ),
      });
    }
    // None of that changed the log.
    expect((await setup.checkQueue(q)).messageCount).toBe(1);
    await setup.close();
  });

  segmentTest(
    'retention by x-max-length-bytes removes whole oldest segments; a reader behind jumps to the first kept',
    async () => {
      const ch = await conn.createChannel();
      const q = await declareStream(ch, {
        'x-stream-max-segment-size-bytes': 1000,
        'x-max-length-bytes': 3000,
      });
      const behind = await read(q, 'first', 1);
      await until(() => behind.got.length === 0, 'the reader is registered');
      // 100-byte bodies: ten to a segment.
      const body = (i: number): string => `${String(i).padStart(4, '0')}`.padEnd(100, '.');
      await publishAll(
        q,
        Array.from({ length: 60 }, (_, i) => body(i)),
      );
      await until(() => behind.got.length === 1, 'the first delivery');
      const count = (await ch.checkQueue(q)).messageCount;
      // Removed whole: a multiple of ten is gone, and at most the byte limit plus the active segment is left.
      expect((60 - count) % 10).toBe(0);
      expect(count).toBeLessThanOrEqual(40);
      expect(count).toBeGreaterThanOrEqual(30);
      const firstKept = 60 - count;
      behind.ch.ack(behind.got[0] as ConsumeMessage);
      await until(() => behind.got.length === 2, 'the next delivery');
      expect(offsets(behind)).toEqual([0, firstKept]);
      expect(behind.got[1]?.content.toString()).toBe(body(firstKept));
      const fresh = await read(q, 'first', 100);
      await until(() => fresh.got.length === count, 'a new reader from first');
      expect(offsets(fresh)[0]).toBe(firstKept);
      await behind.ch.close();
      await fresh.ch.close();
      await ch.close();
    },
  );

  test('the management API shows a stream: type stream, messages = log length, its consumers', async () => {
    const ch = await conn.createChannel();
    const q = await declareStream(ch);
    await publishAll(q, ['a', 'b', 'c']);
    const r = await read(q, 'first', 10, true);
    await until(() => r.got.length === 3, 'the reader');
    const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
    const res = await fetch(
      `http://${broker.host}:${broker.httpPort}/api/queues/%2F/${encodeURIComponent(q)}`,
      {
        headers: { authorization: auth },
      },
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ name: q, type: 'stream', durable: true, messages: 3, consumers: 1 });
    await r.ch.close();
    await ch.close();
  });

  segmentTest('retention by x-max-age removes segments once their newest message is older', async () => {
    const ch = await conn.createChannel();
    const q = await declareStream(ch, { 'x-stream-max-segment-size-bytes': 100, 'x-max-age': '1s' });
    await publishAll(q, ['x'.repeat(100), 'y'.repeat(100)]);
    await publishAll(q, ['z'.repeat(100)]);
    expect((await ch.checkQueue(q)).messageCount).toBe(3);
    // Two segments are a second old; the active one (z) always stays.
    let lastCount = 3;
    const deadline = Date.now() + 5000;
    while (lastCount > 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      lastCount = (await ch.checkQueue(q)).messageCount;
    }
    expect(lastCount).toBe(1);
    const r = await read(q, 'first');
    await until(() => r.got.length === 1, 'the kept message');
    expect(offsets(r)).toEqual([2]);
    await r.ch.close();
    await ch.close();
  });
});
