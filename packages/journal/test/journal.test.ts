import { readdir } from 'node:fs/promises';
import { Journal } from '@warren/journal';
import { message, openJournal, Q, removeDir, tempDir, writeDurable } from './support';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

describe('journal basics', () => {
  it('restores topology and messages in queue order with their delivered marks after a reopen', async () => {
    const j = await openJournal(dir);
    await writeDurable(j, [
      {
        op: 'put',
        key: 'q\u0000/\u0000jobs',
        record: {
          kind: 'queue',
          vhost: '/',
          name: 'jobs',
          durable: true,
          autoDelete: false,
          arguments: { 'x-max-length': 10n },
        },
      },
      { op: 'enqueue', queue: Q('jobs'), id: 1, message: message(1, 'one') },
      { op: 'enqueue', queue: Q('jobs'), id: 2, message: message(2, 'two', { h: 'v' }) },
      { op: 'enqueue', queue: Q('jobs'), id: 3, message: message(3, Buffer.alloc(5000, 7)) },
    ]);
    await writeDurable(j, [
      { op: 'delivered', queue: Q('jobs'), id: 2 },
      { op: 'settle', queue: Q('jobs'), id: 1 },
    ]);
    await j.close();

    const k = await openJournal(dir);
    const state = await k.recover();
    await k.close();
    expect(state.topology).toEqual([
      {
        kind: 'queue',
        vhost: '/',
        name: 'jobs',
        durable: true,
        autoDelete: false,
        arguments: { 'x-max-length': 10n },
      },
    ]);
    const list = state.messages.get(Q('jobs')) ?? [];
    expect(list.map((m) => [m.id, m.message?.body.length, m.delivered])).toEqual([
      [2, 3, true],
      [3, 5000, false],
    ]);
    expect(list[0]?.message?.properties.headers).toEqual({ h: 'v' });
    expect(state.maxMessageId).toBe(3);
  });

  it('calls durable callbacks in batch order and carries many batches in one group commit', async () => {
    const j = await openJournal(dir, { fsync: true });
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 1; i <= 200; i++) {
      all.push(
        new Promise((resolve) =>
          j.write([{ op: 'enqueue', queue: Q('q'), id: i, message: message(i, `m${i}`) }], () => {
            order.push(i);
            resolve();
          }),
        ),
      );
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // 200 batches written while the first sync was in flight cannot have needed 200 fsyncs.
    expect(j.stats().rounds).toBeLessThan(100);
    await j.close();
  });

  it('keeps the largest message id even after every record carrying it is deleted', async () => {
    const j = await openJournal(dir, { segmentSize: 256 });
    for (let i = 1; i <= 50; i++) {
      await writeDurable(j, [{ op: 'enqueue', queue: Q('q'), id: i, message: message(i, 'x'.repeat(100)) }]);
      await writeDurable(j, [{ op: 'settle', queue: Q('q'), id: i }]);
    }
    await j.idle();
    await j.close();
    const k = await openJournal(dir, { segmentSize: 256 });
    expect((await k.recover()).maxMessageId).toBe(50);
    expect(k.stats().segments).toBeLessThanOrEqual(3);
    await k.close();
  });

  it('refuses writes after close', async () => {
    const j = await Journal.open({ dir, fsync: false });
    await j.close();
    expect(() => j.write([], () => {})).toThrow('journal is closed');
  });

  it('deletes fully dead segments', async () => {
    const j = await openJournal(dir, { segmentSize: 4096 });
    for (let i = 1; i <= 300; i++) {
      await writeDurable(j, [
        { op: 'enqueue', queue: Q('q'), id: i, message: message(i, Buffer.alloc(500)) },
      ]);
      await writeDurable(j, [{ op: 'settle', queue: Q('q'), id: i }]);
    }
    await j.idle();
    expect(j.stats().segmentsDeleted).toBeGreaterThan(30);
    expect((await readdir(dir)).length).toBeLessThanOrEqual(3);
    await j.close();
  });
});

describe('disk alarm', () => {
  it('raises the alarm below diskFreeLimit and clears it when space returns', async () => {
    let free = 10_000_000;
    const j = await openJournal(dir, { diskFreeLimit: 1_000_000, freeSpace: async () => free });
    const seen: boolean[] = [];
    j.onDiskAlarm((low) => seen.push(low));
    expect(j.diskLow).toBe(false);
    free = 500_000;
    await j.checkDisk();
    expect(j.diskLow).toBe(true);
    free = 2_000_000;
    await j.checkDisk();
    expect(seen).toEqual([true, false]);
    await j.close();
  });

  it('reads the real free space of the data directory', async () => {
    const j = await openJournal(dir, { diskFreeLimit: Number.MAX_SAFE_INTEGER });
    expect(j.diskLow).toBe(true);
    await j.close();
  });
});
