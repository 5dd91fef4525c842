import { MemoryStore, type StoreOp } from '@warren/core';
import type { Journal } from '@warren/journal';
import { message, normalize, openJournal, Q, removeDir, tempDir, writeDurable } from './support';

/**
 * The index keeps a message's first queue entry in its columns and anything else (more queues, delivered
 * marks) aside: whichever way an entry is held, what comes back is what MemoryStore (the reference) holds,
 * and the space accounting adds up.
 */
let dir: string;
let journal: Journal;
beforeEach(async () => {
  dir = await tempDir();
  journal = await openJournal(dir, { segmentSize: 4096 });
});
afterEach(async () => {
  await journal.close();
  await removeDir(dir);
});

/** Writes the batches to the journal and the reference, then compares them now and after a reopen. */
async function same(batches: StoreOp[][]): Promise<void> {
  const memory = new MemoryStore();
  for (const b of batches) {
    await writeDurable(memory, b);
    await writeDurable(journal, b);
  }
  await journal.idle();
  expect(journal.audit()).toEqual([]);
  expect(normalize(await journal.recover())).toEqual(normalize(await memory.recover()));
  await journal.close();
  journal = await openJournal(dir, { segmentSize: 4096 });
  expect(journal.audit()).toEqual([]);
  expect(normalize(await journal.recover())).toEqual(normalize(await memory.recover()));
}

const enqueue = (queue: string, id: number, body?: string): StoreOp => ({
  op: 'enqueue',
  queue: Q(queue),
  id,
  message: body === undefined ? undefined : message(id, body),
});

describe('the journal index', () => {
  it('keeps a message held by several queues once, with a delivered mark per queue', async () => {
    await same([
      [enqueue('a', 1, 'one'), enqueue('bb', 1), enqueue('ccc', 1), enqueue('a', 2, 'two')],
      [
        { op: 'delivered', queue: Q('bb'), id: 1 },
        { op: 'delivered', queue: Q('a'), id: 2 },
      ],
      [{ op: 'settle', queue: Q('a'), id: 1 }],
    ]);
    expect(journal.stats().messages).toBe(2);
  });

  it('gives an entry enqueued again its old place, without its delivered mark', async () => {
    await same([
      [enqueue('q', 1, 'one'), enqueue('q', 2, 'two'), enqueue('r', 2)],
      [
        { op: 'delivered', queue: Q('q'), id: 1 },
        { op: 'delivered', queue: Q('r'), id: 2 },
      ],
      [enqueue('q', 1), enqueue('r', 2)],
    ]);
  });

  it('reuses a dropped queue number without mixing the old entries into the new queue', async () => {
    await same([
      [enqueue('old', 1, 'one'), enqueue('kept', 1), enqueue('old', 2, 'two')],
      [{ op: 'drop-queue', queue: Q('old') }],
      [enqueue('new', 3, 'three'), enqueue('new', 1)],
    ]);
  });

  it('drops a queue of many messages across segments, keeping those another queue holds', async () => {
    const fill: StoreOp[] = [];
    for (let id = 1; id <= 3000; id++) {
      fill.push(enqueue('big', id, `m${id}`));
      if (id % 10 === 0) fill.push(enqueue('other', id));
    }
    await same([fill, [{ op: 'drop-queue', queue: Q('big') }]]);
    expect(journal.stats().messages).toBe(300);
  });
});

describe('a restart of a long queue', () => {
  it('hands over the front whole and the rest as columns, in order, with sizes and priorities', async () => {
    const batch: StoreOp[] = [];
    for (let id = 1; id <= 2000; id++) {
      const m = message(id, 'x'.repeat(id % 50));
      m.properties = { deliveryMode: 2, priority: id % 4 };
      batch.push({ op: 'enqueue', queue: Q('long'), id, message: m });
    }
    batch.push({ op: 'delivered', queue: Q('long'), id: 1 }, { op: 'delivered', queue: Q('long'), id: 1500 });
    await writeDurable(journal, batch);
    await journal.close();
    journal = await openJournal(dir, { segmentSize: 4096 });

    const all = (await journal.recover()).messages.get(Q('long')) ?? [];
    const split = await journal.recover({ residentBytes: 1000, pagedTails: true });
    const front = split.messages.get(Q('long')) ?? [];
    const tail = split.pagedTails?.get(Q('long'));
    expect(front.length).toBeGreaterThan(10);
    expect(front.every((m) => m.message !== undefined)).toBe(true);
    expect(front.reduce((n, m) => n + m.size, 0)).toBeLessThanOrEqual(1000);
    expect(front.length + (tail?.ids.length ?? 0)).toBe(2000);
    const columns = Array.from(tail?.ids ?? [], (id, i) => ({
      id,
      size: tail?.sizes[i],
      priority: tail?.priorities[i],
      delivered: tail?.delivered[i] === 1,
    }));
    const brief = (m: { id: number; size: number; priority: number; delivered: boolean }): unknown => ({
      id: m.id,
      size: m.size,
      priority: m.priority,
      delivered: m.delivered,
    });
    expect([...front.map(brief), ...columns]).toEqual(all.map(brief));
  });
});
