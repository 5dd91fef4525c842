import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { RawWsClient } from '../stomp-ws/support';
import { describeWith } from '../support/requires';
import type { TestBroker } from '../support/warren';
import { startTestCluster, type TestCluster } from './support';

/**
 * Two Warren nodes on one NATS JetStream cluster (three nats-server processes): what a client does through
 * one node, a client of the other sees.
 */
describeWith(['nats-server'], 'a two-node cluster', () => {
  let cluster: TestCluster;
  let a: TestBroker;
  let b: TestBroker;
  const opened: { close(): unknown }[] = [];
  let n = 0;
  const unique = (base: string): string => `${base}-${++n}`;

  beforeAll(async () => {
    cluster = await startTestCluster(['a', 'b']);
    [a, b] = cluster.nodes as [TestBroker, TestBroker];
  }, 60_000);
  afterAll(() => cluster?.close());
  afterEach(async () => {
    for (const c of opened.splice(0)) await Promise.resolve(c.close()).catch(() => {});
  });

  async function amqpTo(node: TestBroker): Promise<{ conn: ChannelModel; ch: ConfirmChannel }> {
    const conn = await amqp.connect(`amqp://guest:guest@${node.host}:${node.amqpPort}`);
    opened.push(conn);
    return { conn, ch: await conn.createConfirmChannel() };
  }

  /** One way of sending to and receiving from a queue, over one protocol, through one node. */
  interface Side {
    send(queue: string, bodies: string[]): Promise<void>;
    receive(queue: string, count: number): Promise<string[]>;
  }

  const protocols: Record<'amqp' | 'stomp' | 'ws', (node: TestBroker) => Side> = {
    amqp: (node) => ({
      async send(queue, bodies) {
        const { ch } = await amqpTo(node);
        for (const body of bodies) ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
        await ch.waitForConfirms();
      },
      async receive(queue, count) {
        const { ch } = await amqpTo(node);
        const got: string[] = [];
        await ch.consume(queue, (m) => {
          if (m === null) return;
          got.push(m.content.toString());
          ch.ack(m);
        });
        await waitFor(() => got.length >= count, 10_000, `${count} messages from ${queue}`);
        return got;
      },
    }),
    stomp: (node) => ({
      async send(queue, bodies) {
        const c = await stompTo(node);
        bodies.forEach((body, i) =>
          c.frame('SEND', { destination: `/amq/queue/${queue}`, receipt: `r${i}` }, body),
        );
        await c.next('RECEIPT', bodies.length);
      },
      async receive(queue, count) {
        const c = await stompTo(node);
        c.frame('SUBSCRIBE', { destination: `/amq/queue/${queue}`, id: '1', ack: 'auto' });
        await c.next('MESSAGE', count);
        return c.frames.filter((f) => f.command === 'MESSAGE').map((f) => f.body.toString());
      },
    }),
    ws: (node) => ({
      async send(queue, bodies) {
        const c = await wsTo(node);
        bodies.forEach((body, i) =>
          c.frame('SEND', { destination: `/amq/queue/${queue}`, receipt: `r${i}` }, body),
        );
        await c.next('RECEIPT', bodies.length);
      },
      async receive(queue, count) {
        const c = await wsTo(node);
        c.frame('SUBSCRIBE', { destination: `/amq/queue/${queue}`, id: '1', ack: 'auto' });
        await c.next('MESSAGE', count);
        return c.framesOf('MESSAGE').map((f) => f.body.toString());
      },
    }),
  };

  async function stompTo(node: TestBroker): Promise<RawClient> {
    const c = await RawClient.open(node.stompPort);
    opened.push(c);
    c.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    await c.next('CONNECTED');
    return c;
  }

  async function wsTo(node: TestBroker): Promise<RawWsClient> {
    const c = await RawWsClient.connected(`ws://${node.host}:${node.wsPort}/ws`);
    opened.push(c);
    return c;
  }

  const pairs = (['amqp', 'stomp', 'ws'] as const).flatMap((from) =>
    (['amqp', 'stomp', 'ws'] as const).map((to) => [from, to] as const),
  );

  test.each(pairs)('%s through node a reaches %s through node b, in order', async (from, to) => {
    const queue = unique(`pair-${from}-${to}`);
    const { ch } = await amqpTo(a);
    await ch.assertQueue(queue, { durable: true });
    const bodies = Array.from({ length: 20 }, (_, i) => `${from}->${to} ${i}`);
    await protocols[from](a).send(queue, bodies);
    expect(await protocols[to](b).receive(queue, bodies.length)).toEqual(bodies);
  });

  test('competing consumers on a and b share a queue: no duplicates, none lost, never past prefetch', async () => {
    const queue = unique('compete');
    const prefetch = 5;
    const total = 300;
    const { ch: setup } = await amqpTo(a);
    await setup.assertQueue(queue, { durable: true });
    const seen: string[] = [];
    const perNode = [0, 0];
    const worstUnacked: number[] = [];
    let acked = 0;
    const consumers = await Promise.all(
      [a, b].map(async (node, i) => {
        const { ch } = await amqpTo(node);
        await ch.prefetch(prefetch);
        let unacked = 0;
        worstUnacked[i] = 0;
        await ch.consume(queue, (m) => {
          if (m === null) return;
          unacked++;
          worstUnacked[i] = Math.max(worstUnacked[i]!, unacked);
          seen.push(m.content.toString());
          perNode[i]!++;
          // Acks come a little later, so each consumer's window fills up.
          setTimeout(() => {
            unacked--;
            ch.ack(m);
            acked++;
          }, 2);
        });
        return ch;
      }),
    );
    expect(consumers).toHaveLength(2);
    const bodies = Array.from({ length: total }, (_, i) => `m${i}`);
    await protocols.amqp(a).send(queue, bodies);
    await waitFor(() => seen.length >= total, 30_000, `${total} deliveries`);
    // Every ack sent before the connections close (an ack on a closing connection throws in its timer).
    await waitFor(() => acked === seen.length, 10_000, 'every delivery acked');
    expect([...seen].sort()).toEqual([...bodies].sort());
    expect(new Set(seen).size).toBe(total);
    expect(Math.max(...worstUnacked)).toBeLessThanOrEqual(prefetch);
    // JetStream serves the nodes' waiting pulls in turn: each node's consumer had its share.
    expect(Math.min(...perNode)).toBeGreaterThan(0);
  });

  test('a binding made through a routes a publish through b right after bind-ok', async () => {
    const exchange = unique('orders');
    const queue = unique('billing');
    const { ch: onA } = await amqpTo(a);
    const { ch: onB } = await amqpTo(b);
    for (let round = 0; round < 5; round++) {
      const key = `paid.${round}`;
      await onA.assertExchange(exchange, 'direct', { durable: true });
      await onA.assertQueue(queue, { durable: true });
      await onA.bindQueue(queue, exchange, key);
      // mandatory: a publish that routes nowhere would come back as basic.return.
      const returned: string[] = [];
      onB.on('return', (m) => returned.push(m.content.toString()));
      onB.publish(exchange, key, Buffer.from(`invoice ${round}`), { mandatory: true, persistent: true });
      await onB.waitForConfirms();
      expect(returned).toEqual([]);
    }
    const got = await protocols.amqp(b).receive(queue, 5);
    expect(got).toEqual([0, 1, 2, 3, 4].map((r) => `invoice ${r}`));
  });

  test("declares are checked against the cluster's record: 406 on b for a queue a declared otherwise", async () => {
    const queue = unique('strict');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true, arguments: { 'x-max-length': 10 } });
    const { conn, ch: onB } = await amqpTo(b);
    conn.on('error', () => {});
    const closed = new Promise<Error>((resolve) => onB.once('error', resolve));
    await expect(onB.assertQueue(queue, { durable: true })).rejects.toThrow(/PRECONDITION_FAILED/);
    expect((await closed).message).toMatch(/406.*inequivalent arg 'x-max-length'/);
  });

  test('a passive declare on b finds what a declared, and NOT_FOUND for what nobody did', async () => {
    const queue = unique('passive');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true });
    await onA.sendToQueue(queue, Buffer.from('one'), { persistent: true });
    await onA.waitForConfirms();
    const { conn, ch: onB } = await amqpTo(b);
    conn.on('error', () => {});
    await expect(onB.checkQueue(queue)).resolves.toMatchObject({ queue });
    onB.on('error', () => {});
    await expect(onB.checkQueue(unique('nobody'))).rejects.toThrow(/NOT_FOUND/);
  });

  test('basic.get on b takes what was published on a; a nack on b puts it back for a, redelivered', async () => {
    const queue = unique('get');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true });
    onA.sendToQueue(queue, Buffer.from('parcel'), { persistent: true });
    await onA.waitForConfirms();
    const { ch: onB } = await amqpTo(b);
    const first = await onB.get(queue);
    expect(first && first.content.toString()).toBe('parcel');
    expect(first && first.fields.redelivered).toBe(false);
    onB.nack(first as amqp.GetMessage, false, true);
    let again: amqp.GetMessage | false = false;
    const deadline = Date.now() + 10_000;
    while (again === false && Date.now() < deadline) again = await onA.get(queue, { noAck: true });
    expect(again && again.content.toString()).toBe('parcel');
    expect(again && again.fields.redelivered).toBe(true);
  });

  test('what a no-ack consumer on b took is gone from the queue on a, and never comes again', async () => {
    const queue = unique('no-ack');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true });
    for (const body of ['one', 'two', 'three'])
      onA.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await onA.waitForConfirms();
    const { ch: onB } = await amqpTo(b);
    const got: string[] = [];
    await onB.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true });
    await waitFor(() => got.length === 3, 10_000, 'three no-ack deliveries on b');
    expect(got).toEqual(['one', 'two', 'three']);
    // Not acked in the stream, they would still be there (and come back once the ack wait ran out).
    const deadline = Date.now() + 10_000;
    let left = (await onA.checkQueue(queue)).messageCount;
    while (left > 0 && Date.now() < deadline) left = (await onA.checkQueue(queue)).messageCount;
    expect(left).toBe(0);
  });

  test('a purge on b counts what a published; a delivery held unacked on a stays, and is redelivered', async () => {
    const queue = unique('purge');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true });
    await onA.prefetch(1);
    const held: amqp.ConsumeMessage[] = [];
    const { consumerTag } = await onA.consume(queue, (m) => m && held.push(m));
    for (const body of ['held', 'x', 'y', 'z'])
      onA.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await onA.waitForConfirms();
    await waitFor(() => held.length === 1, 10_000, 'one delivery held on a');
    const { ch: onB } = await amqpTo(b);
    expect(await onB.purgeQueue(queue)).toEqual({ messageCount: 3 });
    expect((await onB.checkQueue(queue)).messageCount).toBe(0);
    await onA.cancel(consumerTag);
    onA.nack(held[0] as amqp.ConsumeMessage, false, true);
    const again = await pollGet(onB, queue);
    expect(again && again.content.toString()).toBe('held');
    expect(again && again.fields.redelivered).toBe(true);
  });

  test('a stream queue declared on a is one log: read on a and on b from any offset, at the same offsets', async () => {
    const queue = unique('log');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (const body of ['m0', 'm1', 'm2']) onA.sendToQueue(queue, Buffer.from(body));
    await onA.waitForConfirms();
    const read = async (node: TestBroker, offset: unknown): Promise<[string, unknown][]> => {
      const { ch } = await amqpTo(node);
      await ch.prefetch(10);
      const got: [string, unknown][] = [];
      await ch.consume(
        queue,
        (m) => {
          if (m === null) return;
          got.push([m.content.toString(), m.properties.headers?.['x-stream-offset']]);
          ch.ack(m);
        },
        { arguments: { 'x-stream-offset': offset } },
      );
      await waitFor(
        () => got.length === 3 - (offset === 1 ? 1 : 0),
        10_000,
        `reading from ${String(offset)}`,
      );
      return got;
    };
    expect(await read(b, 'first')).toEqual([
      ['m0', 0],
      ['m1', 1],
      ['m2', 2],
    ]);
    expect(await read(a, 1)).toEqual([
      ['m1', 1],
      ['m2', 2],
    ]);
    // Reading takes nothing away: both nodes count the whole log.
    const { ch: onB } = await amqpTo(b);
    expect((await onB.checkQueue(queue)).messageCount).toBe(3);
    expect((await onA.checkQueue(queue)).messageCount).toBe(3);
  });

  test('a message that outlived its TTL in the stream is dead-lettered as expired when b pulls it', async () => {
    const queue = unique('ttl');
    const dead = unique('ttl-dead');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(dead, { durable: true });
    await onA.assertQueue(queue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
    });
    onA.sendToQueue(queue, Buffer.from('stale'), { persistent: true, expiration: '200' });
    onA.sendToQueue(queue, Buffer.from('fresh'), { persistent: true, expiration: '60000' });
    await onA.waitForConfirms();
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the first one's TTL, not the second's
    const { ch: onB } = await amqpTo(b);
    const live: string[] = [];
    await onB.consume(queue, (m) => m && live.push(m.content.toString()), { noAck: true });
    const died: amqp.ConsumeMessage[] = [];
    await onB.consume(dead, (m) => m && died.push(m), { noAck: true });
    await waitFor(() => live.length === 1 && died.length === 1, 10_000, 'one delivered, one dead-lettered');
    expect(live).toEqual(['fresh']);
    expect(died[0]?.content.toString()).toBe('stale');
    expect(died[0]?.properties.headers?.['x-death']).toEqual([
      expect.objectContaining({ reason: 'expired', queue }),
    ]);
  });

  test('x-max-length drops the oldest (dead-lettered, reason maxlen), whichever node published', async () => {
    const queue = unique('bounded');
    const dead = unique('bounded-dead');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(dead, { durable: true });
    await onA.assertQueue(queue, {
      durable: true,
      arguments: { 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
    });
    const { ch: onB } = await amqpTo(b);
    for (const body of ['m0', 'm1']) onA.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await onA.waitForConfirms();
    for (const body of ['m2', 'm3']) onB.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await onB.waitForConfirms();
    const died: amqp.ConsumeMessage[] = [];
    await onA.consume(dead, (m) => m && died.push(m), { noAck: true });
    await waitFor(() => died.length === 2, 10_000, 'the two oldest dead-lettered');
    // One node trims, whichever published: the oldest die first.
    expect(died.map((m) => m.content.toString())).toEqual(['m0', 'm1']);
    expect(died[0]?.properties.headers?.['x-death']).toEqual([
      expect.objectContaining({ reason: 'maxlen', queue }),
    ]);
    const kept: string[] = [];
    await onB.consume(queue, (m) => m && kept.push(m.content.toString()), { noAck: true });
    await waitFor(() => kept.length === 2, 10_000, 'the two newest kept');
    expect(kept).toEqual(['m2', 'm3']);
  });

  test('x-max-length-bytes drops the oldest too, counting what the stream stores of each message', async () => {
    const queue = unique('bytes-bounded');
    const dead = unique('bytes-dead');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(dead, { durable: true });
    // Room for five 1 KiB bodies by RabbitMQ's count; the stream's envelope, subject and headers per message
    // (docs/cluster.md) make it four here.
    await onA.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-max-length-bytes': 5 * 1024,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': dead,
      },
    });
    const { ch: onB } = await amqpTo(b);
    // Five through a, then five through b: the stream's order is the order of the names.
    const names = Array.from({ length: 10 }, (_, i) => `m${i}`);
    for (const name of names.slice(0, 5))
      onA.sendToQueue(queue, Buffer.from(name.padEnd(1024, '.')), { persistent: true });
    await onA.waitForConfirms();
    for (const name of names.slice(5))
      onB.sendToQueue(queue, Buffer.from(name.padEnd(1024, '.')), { persistent: true });
    await onB.waitForConfirms();
    const nameOf = (m: amqp.ConsumeMessage): string => m.content.toString().replace(/\.+$/, '');
    const died: string[] = [];
    await onA.consume(dead, (m) => m && died.push(nameOf(m)), { noAck: true });
    // Settled: what is left and what died make the ten, and what is left is within the limit.
    let left = -1;
    await waitFor(
      async () => {
        left = (await onB.checkQueue(queue)).messageCount;
        return left + died.length === 10 && left * 1024 <= 5 * 1024;
      },
      10_000,
      'the queue trimmed to its byte limit',
    );
    expect(left).toBeGreaterThanOrEqual(4);
    const kept: string[] = [];
    await onB.consume(queue, (m) => m && kept.push(nameOf(m)), { noAck: true });
    await waitFor(() => kept.length === left, 10_000, 'the newest kept');
    // The oldest went, the newest stayed; none twice, none lost.
    expect([...died, ...kept]).toEqual(names);
  });

  test('a bounded queue fed through both nodes at once keeps exactly its limit, the newest, never redelivered', async () => {
    const queue = unique('bounded-both');
    const dead = unique('bounded-both-dead');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(dead, { durable: true });
    await onA.assertQueue(queue, {
      durable: true,
      arguments: { 'x-max-length': 5, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
    });
    const { ch: onB } = await amqpTo(b);
    const sent = { a: [] as string[], b: [] as string[] };
    for (let i = 0; i < 40; i++) {
      for (const [side, ch] of [
        ['a', onA],
        ['b', onB],
      ] as const) {
        sent[side].push(`${side}${i}`);
        ch.sendToQueue(queue, Buffer.from(`${side}${i}`), { persistent: true });
      }
    }
    await Promise.all([onA.waitForConfirms(), onB.waitForConfirms()]);
    const died: string[] = [];
    await onA.consume(dead, (m) => m && died.push(m.content.toString()), { noAck: true });
    let left = -1;
    await waitFor(
      async () => {
        left = (await onB.checkQueue(queue)).messageCount;
        return left === 5 && died.length === 75;
      },
      15_000,
      'the queue trimmed to its five newest',
    );
    const kept: amqp.ConsumeMessage[] = [];
    await onB.consume(queue, (m) => m && kept.push(m), { noAck: true });
    await waitFor(() => kept.length === 5, 10_000, 'the five kept');
    // What was kept was never delivered before: a trim that took it handed nothing back.
    expect(kept.map((m) => m.fields.redelivered)).toEqual([false, false, false, false, false]);
    // None lost, none twice, and each publisher's messages in the order it sent them, the dead ones first.
    const all = [...died, ...kept.map((m) => m.content.toString())];
    expect([...all].sort()).toEqual([...sent.a, ...sent.b].sort());
    for (const side of ['a', 'b'] as const) expect(all.filter((x) => x.startsWith(side))).toEqual(sent[side]);
  });

  test('x-max-length-bytes with reject-publish nacks what would not fit, and keeps what was confirmed', async () => {
    const queue = unique('bytes-refusing');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, {
      durable: true,
      arguments: { 'x-max-length-bytes': 3 * 1024, 'x-overflow': 'reject-publish' },
    });
    const outcomes = await Promise.all(
      Array.from(
        { length: 6 },
        (_, i) =>
          new Promise<string>((resolve) =>
            onA.sendToQueue(queue, Buffer.from(`m${i}`.padEnd(1024, '.')), { persistent: true }, (err) =>
              resolve(err === null || err === undefined ? 'ack' : 'nack'),
            ),
          ),
      ),
    );
    const acked = outcomes.filter((o) => o === 'ack').length;
    // The first ones fit, the rest are refused: never a refused one before an accepted one.
    expect(outcomes).toEqual([...Array<string>(acked).fill('ack'), ...Array<string>(6 - acked).fill('nack')]);
    expect(acked).toBeGreaterThanOrEqual(2);
    expect(acked).toBeLessThanOrEqual(3);
    const { ch: onB } = await amqpTo(b);
    expect((await onB.checkQueue(queue)).messageCount).toBe(acked);
  });

  test('direct reply-to across nodes: a client on a asks, a server on b answers to amq.rabbitmq.reply-to', async () => {
    const requests = unique('rpc');
    const { ch: server } = await amqpTo(b);
    await server.assertQueue(requests, { durable: true });
    await server.consume(requests, (m) => {
      if (m === null) return;
      server.sendToQueue(m.properties.replyTo as string, Buffer.from(`re: ${m.content.toString()}`), {
        correlationId: m.properties.correlationId as string,
      });
      server.ack(m);
    });
    const { ch: client } = await amqpTo(a);
    const replies: amqp.ConsumeMessage[] = [];
    await client.consume('amq.rabbitmq.reply-to', (m) => m && replies.push(m), { noAck: true });
    for (const n of [1, 2]) {
      client.sendToQueue(requests, Buffer.from(`q${n}`), {
        replyTo: 'amq.rabbitmq.reply-to',
        correlationId: `c${n}`,
      });
    }
    await waitFor(() => replies.length === 2, 10_000, 'both replies on a');
    expect(replies.map((m) => [m.content.toString(), m.properties.correlationId])).toEqual([
      ['re: q1', 'c1'],
      ['re: q2', 'c2'],
    ]);
  });

  test("a STOMP client's /temp-queue on a gets the reply of an AMQP server on b", async () => {
    const requests = unique('stomp-rpc');
    const { ch: server } = await amqpTo(b);
    await server.assertQueue(requests, { durable: true });
    await server.consume(requests, (m) => {
      if (m === null) return;
      server.sendToQueue(m.properties.replyTo as string, Buffer.from(`pong:${m.content.toString()}`), {
        correlationId: m.properties.correlationId as string,
      });
      server.ack(m);
    });
    const client = await stompTo(a);
    client.frame(
      'SEND',
      { destination: `/amq/queue/${requests}`, 'reply-to': '/temp-queue/replies', 'correlation-id': 'q1' },
      'ping',
    );
    const reply = await client.next('MESSAGE');
    expect(reply.body.toString()).toBe('pong:ping');
    expect(reply.headers.get('correlation-id')).toBe('q1');
    expect(reply.headers.get('subscription')).toBe('/temp-queue/replies');
  });

  async function pollGet(ch: ConfirmChannel, queue: string): Promise<amqp.GetMessage | false> {
    const deadline = Date.now() + 10_000;
    let got: amqp.GetMessage | false = false;
    while (got === false && Date.now() < deadline) got = await ch.get(queue, { noAck: true });
    return got;
  }

  test('a queue deleted through b is gone on a; its consumers there are cancelled', async () => {
    const queue = unique('short-lived');
    const { ch: onA } = await amqpTo(a);
    await onA.assertQueue(queue, { durable: true });
    let cancelled = false;
    await onA.consume(queue, (m) => {
      if (m === null) cancelled = true;
    });
    const { ch: onB } = await amqpTo(b);
    await onB.deleteQueue(queue);
    await waitFor(() => cancelled, 10_000, 'the consumer on a cancelled');
    const queues = a.server!.broker.getVhost('/')!.queues;
    expect(queues.has(queue)).toBe(false);
  });

  test("a message over NATS' max_payload is refused with a nack, and the next one goes through", async () => {
    const queue = unique('big');
    const { ch } = await amqpTo(a);
    await ch.assertQueue(queue, { durable: true });
    const results: string[] = [];
    const record = (err: unknown): void => {
      results.push(err === null || err === undefined ? 'ack' : 'nack');
    };
    ch.sendToQueue(queue, Buffer.alloc(2 * 1024 * 1024), { persistent: true }, record);
    ch.sendToQueue(queue, Buffer.from('small'), { persistent: true }, record);
    await waitFor(() => results.length === 2, 10_000, 'two confirms');
    expect(results).toEqual(['nack', 'ack']);
  });

  describe('node-local queues (exclusive, auto-delete) are reached from the other node', () => {
    test("tutorial three across nodes: a fanout on a reaches b's server-named exclusive queue", async () => {
      const exchange = unique('logs');
      const { ch: onB } = await amqpTo(b);
      await onB.assertExchange(exchange, 'fanout', { durable: false });
      const { queue } = await onB.assertQueue('', { exclusive: true });
      await onB.bindQueue(queue, exchange, '');
      const got: string[] = [];
      await onB.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true });
      const { ch: onA } = await amqpTo(a);
      await onA.assertExchange(exchange, 'fanout', { durable: false });
      for (let i = 0; i < 10; i++) onA.publish(exchange, '', Buffer.from(`log ${i}`));
      await onA.waitForConfirms();
      await waitFor(() => got.length >= 10, 10_000, 'ten log lines on b');
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `log ${i}`));
    });

    test('a STOMP /topic subscriber on b gets a SEND to that topic through a', async () => {
      const topic = unique('prices');
      const sub = await stompTo(b);
      sub.frame('SUBSCRIBE', { destination: `/topic/${topic}`, id: 's1', receipt: 'subscribed' });
      await sub.next('RECEIPT');
      const pub = await stompTo(a);
      pub.frame('SEND', { destination: `/topic/${topic}`, receipt: 'sent' }, 'EUR 1.08');
      await pub.next('RECEIPT');
      expect((await sub.next('MESSAGE')).body.toString()).toBe('EUR 1.08');
    });

    test("another node's exclusive queue is RESOURCE_LOCKED here, as another connection's is", async () => {
      const { ch: onA } = await amqpTo(a);
      const { queue } = await onA.assertQueue('', { exclusive: true });
      const { conn, ch: onB } = await amqpTo(b);
      conn.on('error', () => {});
      onB.on('error', () => {});
      await expect(onB.consume(queue, () => {})).rejects.toThrow(/RESOURCE_LOCKED/);
    });

    test('an exclusive queue leaves the other node when its connection closes', async () => {
      const { conn, ch: onA } = await amqpTo(a);
      const { queue } = await onA.assertQueue('', { exclusive: true });
      const onB = () => b.server!.broker.getVhost('/')!.queues;
      await waitFor(() => onB().has(queue), 10_000, `${queue} known on b`);
      await conn.close();
      await waitFor(() => !onB().has(queue), 10_000, `${queue} gone from b`);
    });
  });
});
