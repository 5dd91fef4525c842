import { MemoryStore, type Broker, type BrokerOptions, type Queue } from '@warren/core';
import { CoreClient, startBroker, waitFor } from '@warren/testkit';
import { BLOCK_CAPACITY } from '../src/paged-block';

/**
 * A durable queue far over its memory budget keeps its backlog as blocks of columns, not objects: what a
 * user sees of it (order, priorities, TTL, max-length, purge, restarts) must be what it was with objects.
 * Bodies are 6 bytes; the budget keeps 4 messages' worth in memory, so nearly all are paged out.
 */
const BUDGET = 24;
/** Three full blocks and part of a fourth. */
const COUNT = BLOCK_CAPACITY * 3 + 500;
const body = (i: number): string => String(i).padStart(6, '0');
const bodies = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, k) => body(from + k));
const PERSISTENT = { deliveryMode: 2 };

async function start(store: MemoryStore, options: BrokerOptions = {}): Promise<[Broker, CoreClient]> {
  const broker = await startBroker({ store, limits: { queueResidentBytes: BUDGET }, ...options });
  return [broker, new CoreClient(broker)];
}

const queueOf = (broker: Broker, name: string): Queue => broker.getVhost('/')?.queues.get(name) as Queue;

/** Consumes (acking each) until `expected` deliveries; returns bodies and redelivered flags in order. */
async function consume(client: CoreClient, queue: string, expected: number): Promise<string[]> {
  client.channel.qos(100, false);
  const { received } = client.consume(queue);
  const out: string[] = [];
  await waitFor(
    () => {
      for (const r of received.splice(0)) {
        out.push(r.redelivered ? `${r.body}*` : r.body);
        client.channel.ack(r.tag);
      }
      return out.length >= expected;
    },
    20000,
    `${expected} deliveries`,
  );
  return out;
}

async function getAll(client: CoreClient, queue: string): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    const r = await client.getAsync(queue, true);
    if (r === undefined) return got;
    got.push(r.delivery.msg.body.toString());
  }
}

describe('a paged-out backlog held in blocks', () => {
  test('is delivered in publish order, transient messages in their places between blocks', async () => {
    const store = new MemoryStore();
    const [broker, client] = await start(store);
    client.declareQueue('q', {}, { durable: true });
    for (let i = 0; i < COUNT; i++) client.publish('', 'q', body(i), i % 1000 === 999 ? {} : PERSISTENT);
    const queue = queueOf(broker, 'q');
    expect(queue.messageCount).toBe(COUNT);
    expect(queue.ready.pagedCount).toBeGreaterThan(COUNT - 20);
    expect(await consume(client, 'q', COUNT)).toEqual(bodies(0, COUNT));
    await waitFor(() => store.messageCount === 0, 5000, 'every message settled in the store');
    expect(broker.memory.used).toBe(0);
    await broker.close();
  });

  test('serves priority levels highest first, each in publish order', async () => {
    const [broker, client] = await start(new MemoryStore());
    client.declareQueue('prio', { 'x-max-priority': 2 }, { durable: true });
    // Priority 3 is above the maximum: it counts as 2.
    const priorityOf = (i: number): number => [0, 1, 2, 3][i % 4] as number;
    for (let i = 0; i < COUNT; i++) {
      client.publish('', 'prio', body(i), { ...PERSISTENT, priority: priorityOf(i) });
    }
    const level = (i: number): number => Math.min(2, priorityOf(i));
    const expected = bodies(0, COUNT).sort((a, b) => level(Number(b)) - level(Number(a)) || (a < b ? -1 : 1));
    expect(await consume(client, 'prio', COUNT)).toEqual(expected);
    await broker.close();
  });

  test('answers basic.get from a paged head, also right after in-memory heads expired', async () => {
    let now = 1_000_000;
    const [broker, client] = await start(new MemoryStore(), { clock: () => now });
    client.declareQueue('g', {}, { durable: true });
    // The four in memory expire; the paged-out ones after them do not.
    for (let i = 0; i < 4; i++) client.publish('', 'g', body(i), { ...PERSISTENT, expiration: '10' });
    for (let i = 4; i < 3000; i++) client.publish('', 'g', body(i), PERSISTENT);
    expect(queueOf(broker, 'g').ready.pagedCount).toBe(2996);
    now += 20;
    expect(await getAll(client, 'g')).toEqual(bodies(4, 3000));
    await broker.close();
  });

  test('expires paged-out messages by the queue TTL, dead-lettering them in order with their bodies', async () => {
    let now = 1_000_000;
    const [broker, client] = await start(new MemoryStore(), { clock: () => now });
    client.declareQueue('dead');
    client.declareQueue(
      'ttl',
      { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' },
      { durable: true },
    );
    for (let i = 0; i < COUNT / 2; i++) client.publish('', 'ttl', body(i), PERSISTENT);
    now += 500;
    for (let i = COUNT / 2; i < COUNT; i++) client.publish('', 'ttl', body(i), PERSISTENT);
    const ttl = queueOf(broker, 'ttl');
    const dead = queueOf(broker, 'dead');
    expect(ttl.ready.nextExpiry()).toBe(1_001_000);

    now += 600; // the first half is past its TTL, the second is not
    ttl.dispatch();
    await waitFor(() => dead.messageCount === COUNT / 2, 20000, 'the first half dead-lettered');
    expect(ttl.messageCount).toBe(COUNT / 2);
    expect(client.getAll('dead')).toEqual(bodies(0, COUNT / 2));
    expect(await getAll(client, 'ttl')).toEqual(bodies(COUNT / 2, COUNT));
    await broker.close();
  });

  test('expires paged-out messages by their own expiration once they reach the head', async () => {
    let now = 1_000_000;
    const store = new MemoryStore();
    const [broker, client] = await start(store, { clock: () => now });
    client.declareQueue('exp', {}, { durable: true });
    for (let i = 0; i < COUNT; i++) {
      client.publish('', 'exp', body(i), { ...PERSISTENT, expiration: i < 5000 ? '100' : '100000' });
    }
    now += 200;
    queueOf(broker, 'exp').dispatch();
    await waitFor(() => queueOf(broker, 'exp').messageCount === COUNT - 5000, 20000, '5000 expired');
    expect(await getAll(client, 'exp')).toEqual(bodies(5000, COUNT));
    await waitFor(() => store.messageCount === 0, 5000, 'the store emptied');
    await broker.close();
  });

  test('drops heads across blocks past x-max-length, dead-lettering them in order', async () => {
    const [broker, client] = await start(new MemoryStore());
    client.declareQueue('dropped');
    client.declareQueue(
      'short',
      { 'x-max-length': 5000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dropped' },
      { durable: true },
    );
    for (let i = 0; i < COUNT; i++) client.publish('', 'short', body(i), PERSISTENT);
    const dropped = queueOf(broker, 'dropped');
    expect(queueOf(broker, 'short').messageCount).toBe(5000);
    await waitFor(() => dropped.messageCount === COUNT - 5000, 20000, 'the dropped heads dead-lettered');
    expect(client.getAll('dropped')).toEqual(bodies(0, COUNT - 5000));
    expect(await consume(client, 'short', 5000)).toEqual(bodies(COUNT - 5000, COUNT));
    await broker.close();
  });

  test('keeps x-max-length-bytes over a paged backlog without a dead-letter exchange', async () => {
    const store = new MemoryStore();
    const [broker, client] = await start(store);
    client.declareQueue('bytes', { 'x-max-length-bytes': 6 * 3000 }, { durable: true });
    for (let i = 0; i < COUNT; i++) client.publish('', 'bytes', body(i), PERSISTENT);
    expect(queueOf(broker, 'bytes').messageCount).toBe(3000);
    expect(store.messageCount).toBe(3000);
    expect(await getAll(client, 'bytes')).toEqual(bodies(COUNT - 3000, COUNT));
    await broker.close();
  });

  test('purges and deletes a paged backlog, settling every message in the store', async () => {
    const store = new MemoryStore();
    const [broker, client] = await start(store);
    client.declareQueue('p', {}, { durable: true });
    client.declareQueue('d', {}, { durable: true });
    for (let i = 0; i < COUNT; i++) {
      client.publish('', 'p', body(i), PERSISTENT);
      client.publish('', 'd', body(i), PERSISTENT);
    }
    expect(client.channel.queuePurge('p')).toBe(COUNT);
    expect(queueOf(broker, 'p').ready.pagedCount).toBe(0);
    expect(client.channel.queueDelete('d', false, false)).toBe(COUNT);
    await broker.persistence.flush();
    expect(store.messageCount).toBe(0);
    await broker.close();
  });

  test('comes back after a restart as blocks, unacked ones redelivered, and drains in order', async () => {
    const store = new MemoryStore();
    {
      const [broker, client] = await start(store);
      client.declareQueue('kept', { 'x-max-priority': 1 }, { durable: true });
      for (let i = 0; i < COUNT; i++) {
        client.publish('', 'kept', body(i), { ...PERSISTENT, priority: i % 10 === 0 ? 1 : 0 });
      }
      // Two deliveries left unacked: they come back first in their levels, marked redelivered.
      const a = await client.getAsync('kept', false);
      const b = await client.getAsync('kept', false);
      expect([a?.delivery.msg.body.toString(), b?.delivery.msg.body.toString()]).toEqual([body(0), body(10)]);
      await broker.close();
    }
    const [broker, client] = await start(store);
    const queue = queueOf(broker, 'kept');
    expect(queue.messageCount).toBe(COUNT);
    expect(queue.ready.pagedCount).toBeGreaterThan(COUNT - 10);
    expect(broker.memory.used).toBeLessThanOrEqual(BUDGET);
    const all = bodies(0, COUNT);
    const expected = [...all.filter((_, i) => i % 10 === 0), ...all.filter((_, i) => i % 10 !== 0)].map(
      (s) => (s === body(0) || s === body(10) ? `${s}*` : s),
    );
    expect(await consume(client, 'kept', COUNT)).toEqual(expected);
    await broker.close();
  });
});
