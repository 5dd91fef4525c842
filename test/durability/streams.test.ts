import { startBrokerChild } from './broker-child';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { startDurableBroker, type DurableBroker } from './durable-broker';

/*
 * A stream's log across restarts on the journal: a graceful restart and kill -9 keep every confirmed append
 * at the offset it had, with retention's removals kept too, and a consumer from offset N after the restart
 * reads N onwards.
 */
let dir: string;
let conns: ChannelModel[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-streams-'));
});
afterEach(async () => {
  for (const c of conns) await c.close().catch(() => {});
  conns = [];
  await rm(dir, { recursive: true, force: true });
});

const STREAM_ARGS = {
  'x-queue-type': 'stream',
  // 100-byte bodies: 20 to a segment, and about 300 kept.
  'x-stream-max-segment-size-bytes': 2000,
  'x-max-length-bytes': 30_000,
};
const body = (i: number): Buffer => Buffer.from(String(i).padEnd(100, '.'));
const idOf = (m: ConsumeMessage): number => Number.parseInt(m.content.toString(), 10);
const offsetOf = (m: ConsumeMessage): unknown => (m.properties.headers ?? {})['x-stream-offset'];

async function open(port: number): Promise<ChannelModel> {
  const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`, { noDelay: true });
  c.on('error', () => {});
  conns.push(c);
  return c;
}

/** Reads the stream from `offset` until `count` messages came. */
async function readFrom(
  port: number,
  queue: string,
  offset: unknown,
  count: number,
): Promise<ConsumeMessage[]> {
  const c = await open(port);
  const ch = await c.createChannel();
  await ch.prefetch(500);
  const got: ConsumeMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages came`)), 10_000);
    void ch.consume(
      queue,
      (m) => {
        if (m === null) return;
        got.push(m);
        ch.ack(m);
        if (got.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
      { arguments: { 'x-stream-offset': offset } },
    );
  });
  await c.close();
  conns = conns.filter((x) => x !== c);
  return got;
}

async function queueLength(port: number, queue: string): Promise<number> {
  const c = await open(port);
  const ch = await c.createChannel();
  const { messageCount } = await ch.checkQueue(queue);
  await c.close();
  conns = conns.filter((x) => x !== c);
  return messageCount;
}

describe('a stream across restarts', () => {
  test('a graceful restart keeps offsets, retention and timestamps', async () => {
    let broker: DurableBroker = await startDurableBroker(dir);
    const c = await open(broker.amqpPort);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('s', { durable: true, arguments: STREAM_ARGS });
    for (let i = 0; i < 1000; i++) ch.sendToQueue('s', body(i), { persistent: i % 2 === 0 });
    await ch.waitForConfirms();
    const length = await queueLength(broker.amqpPort, 's');
    const first = 1000 - length;
    expect(first).toBeGreaterThan(0);
    await c.close();
    conns = [];
    await broker.close();

    broker = await startDurableBroker(dir);
    try {
      expect(await queueLength(broker.amqpPort, 's')).toBe(length);
      const all = await readFrom(broker.amqpPort, 's', 'first', length);
      expect(all.map(offsetOf)).toEqual(Array.from({ length }, (_, k) => first + k));
      expect(all.map(idOf)).toEqual(Array.from({ length }, (_, k) => first + k));
      const fromN = await readFrom(broker.amqpPort, 's', 990, 10);
      expect(fromN.map(idOf)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
      // Every message is less than an hour old and was published before this second ended.
      const hour = await readFrom(broker.amqpPort, 's', '1h', length);
      expect(offsetOf(hour[0] as ConsumeMessage)).toBe(first);
    } finally {
      await broker.close();
    }
  });

  test('a stream larger than the resident budget comes back with the journal leaving most of it on disk', async () => {
    // 24,000 x 1 KiB is past the default 16 MiB budget: recovery hands the tail over as paged columns.
    let broker: DurableBroker = await startDurableBroker(dir);
    const c = await open(broker.amqpPort);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('big', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const kib = (i: number): Buffer => Buffer.from(String(i).padEnd(1024, '.'));
    for (let i = 0; i < 24_000; i++) ch.sendToQueue('big', kib(i));
    await ch.waitForConfirms();
    await c.close();
    conns = [];
    await broker.close();

    broker = await startDurableBroker(dir);
    try {
      const all = await readFrom(broker.amqpPort, 'big', 'first', 24_000);
      expect(all.every((m, k) => offsetOf(m) === k && idOf(m) === k)).toBe(true);
      const memory = broker.broker.memory.used;
      expect(memory).toBeLessThanOrEqual(16 * 1024 * 1024);
    } finally {
      await broker.close();
    }
  });

  test('kill -9 keeps every confirmed append at its offset; a consumer from N gets N onwards', async () => {
    let child = await startBrokerChild(dir);
    const c = await open(child.amqpPort);
    const ch = await c.createConfirmChannel();
    ch.on('error', () => {});
    await ch.assertQueue('s', { durable: true, arguments: STREAM_ARGS });
    // Publish in windows of 200 with confirms; kill while a window is in flight once 1500 are confirmed.
    let confirmed = -1; // highest id whose confirm came (one publisher: confirms come in order)
    let sent = 0;
    const killAt = 1500;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        if (confirmed + 1 >= killAt) {
          // Some more in flight, then the kill.
          for (let k = 0; k < 200; k++) ch.sendToQueue('s', body(sent++), { persistent: true });
          child.proc.kill('SIGKILL');
          resolve();
          return;
        }
        const upTo = sent + 200;
        for (; sent < upTo; sent++) {
          const i = sent;
          ch.sendToQueue('s', body(i), { persistent: i % 3 !== 0 }, (err) => {
            if (err === null || err === undefined) confirmed = Math.max(confirmed, i);
            if (i === upTo - 1) setImmediate(pump);
          });
        }
      };
      pump();
    });
    await child.exited;
    conns = [];

    child = await startBrokerChild(dir);
    try {
      const length = await queueLength(child.amqpPort, 's');
      const all = await readFrom(child.amqpPort, 's', 'first', length);
      const first = offsetOf(all[0] as ConsumeMessage) as number;
      // Offsets are consecutive and each is the id it was published with: nothing moved, nothing twice.
      expect(all.map(offsetOf)).toEqual(Array.from({ length }, (_, k) => first + k));
      expect(all.map(idOf)).toEqual(Array.from({ length }, (_, k) => first + k));
      // Every confirmed append retention had not removed is there.
      expect(first + length - 1).toBeGreaterThanOrEqual(confirmed);
      expect(length).toBeLessThanOrEqual(30_000 / 100 + 20);
      const n = confirmed - 50;
      const fromN = await readFrom(child.amqpPort, 's', n, first + length - n);
      expect(fromN.map(idOf)).toEqual(Array.from({ length: first + length - n }, (_, k) => n + k));
      // And the log goes on from where it was.
      const after = await open(child.amqpPort);
      const ach = await after.createConfirmChannel();
      ach.sendToQueue('s', body(first + length));
      await ach.waitForConfirms();
      const tail = await readFrom(child.amqpPort, 's', 'last', 1);
      expect([offsetOf(tail[0] as ConsumeMessage), idOf(tail[0] as ConsumeMessage)]).toEqual([
        first + length,
        first + length,
      ]);
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });
});
