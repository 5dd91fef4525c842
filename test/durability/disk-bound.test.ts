import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import { waitFor } from '@warren/testkit';
import { startDurableBroker, type DurableBroker } from './durable-broker';

/*
 * KahaDB's failure from the seeds: one unconsumed message keeps every journal file written after it. Here
 * one message stays delivered-but-unacked while a few hundred MB of persistent messages flow through another
 * queue, and the data directory must stay within a few segments the whole time.
 */
const SEGMENT = 8 * 1024 * 1024;
const BODY = 64 * 1024;
const TOTAL = Number(process.env['WARREN_DISK_BOUND_MB'] ?? 256) * 1024 * 1024;

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir))
    total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  return total;
}

let dir: string;
let broker: DurableBroker | undefined;
let conn: ChannelModel | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-disk-'));
});
afterEach(async () => {
  await conn?.close().catch(() => {});
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

it('one old unacked message does not keep the data directory from shrinking while hundreds of MB flow', async () => {
  broker = await startDurableBroker(dir, { segmentSize: SEGMENT });
  conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`, { noDelay: true });
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('old', { durable: true });
  await ch.assertQueue('flow', { durable: true });
  ch.sendToQueue('old', Buffer.from('the old one'), { persistent: true });
  await ch.waitForConfirms();
  // Delivered and never acked: pinned as long as this connection lives.
  const holder = await conn.createChannel();
  const old = await holder.get('old', { noAck: false });
  expect(old !== false && old.content.toString()).toBe('the old one');

  const consumer = await conn.createChannel();
  await consumer.prefetch(200);
  let acked = 0;
  await consumer.consume('flow', (m) => {
    if (m === null) return;
    consumer.ack(m);
    acked++;
  });

  const count = Math.ceil(TOTAL / BODY);
  const body = Buffer.alloc(BODY, 7);
  let maxBytes = 0;
  let sent = 0;
  while (sent < count) {
    for (let k = 0; k < 50 && sent < count; k++, sent++) ch.sendToQueue('flow', body, { persistent: true });
    await ch.waitForConfirms();
    if (sent % 500 < 50) maxBytes = Math.max(maxBytes, await dirBytes(dir));
  }
  await waitFor(() => acked === count, 60_000, 'every flowing message to be acked');
  await broker.journal.idle();
  maxBytes = Math.max(maxBytes, await dirBytes(dir));
  const final = await dirBytes(dir);

  expect(maxBytes).toBeLessThan(6 * SEGMENT);
  expect(final).toBeLessThan(3 * SEGMENT);
  expect(broker.journal.stats().segmentsDeleted).toBeGreaterThan(TOTAL / SEGMENT / 2);

  // And the old message, moved forward by compaction on the way, is still there after a restart.
  await conn.close();
  conn = undefined;
  await broker.close();
  broker = await startDurableBroker(dir, { segmentSize: SEGMENT });
  conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`, { noDelay: true });
  const after = await conn.createChannel();
  const back = await after.get('old', { noAck: true });
  expect(back !== false && [back.content.toString(), back.fields.redelivered]).toEqual(['the old one', true]);
  expect(await after.get('flow', { noAck: true })).toBe(false);
}, 180_000);
