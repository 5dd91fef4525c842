import fc from 'fast-check';
import { Message, QueueEntry, type Queue } from '@warren/core';
import { BLOCK_CAPACITY } from '../src/paged-block';
import { ReadyList } from '../src/ready-list';

/**
 * The ready list keeps paged-out entries in blocks of columns and makes objects of them only on demand; a
 * plain array sorted by (level, seq) is what it must look like from outside, whatever the operations.
 */
const MAX_PRIORITY = 2;
const NO_QUEUE = undefined as unknown as Queue;

type Op =
  | { op: 'push'; priority: number; size: number; expires: number }
  | { op: 'pushPaged'; priority: number; size: number; expires: number; idJump: number; redelivered: boolean }
  /** Delivered at once, never in the list; a requeue later puts it between the entries after it. */
  | { op: 'deliverAtOnce'; priority: number; size: number }
  | { op: 'shift' }
  | { op: 'peek' }
  | { op: 'requeue'; pick: number }
  | { op: 'nextPaged'; count: number; bytes: number }
  | { op: 'loaded'; pick: number }
  | { op: 'remove'; pick: number }
  | { op: 'shiftExpired'; now: number }
  | { op: 'drain' };

const priority = fc.integer({ min: 0, max: MAX_PRIORITY + 1 });
const size = fc.integer({ min: 0, max: 5 });
const expires = fc.constantFrom(0, 0, 10, 20, 30);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('push' as const), priority, size, expires }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('pushPaged' as const),
      priority,
      size,
      expires,
      // Mostly the next id; sometimes a gap that does not fit a block's 32-bit offsets, or an older id.
      idJump: fc.oneof(
        { weight: 8, arbitrary: fc.constant(1) },
        { weight: 1, arbitrary: fc.constant(2 ** 33) },
        { weight: 1, arbitrary: fc.constant(-5) },
      ),
      redelivered: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deliverAtOnce' as const), priority, size }) },
  { weight: 3, arbitrary: fc.constant({ op: 'shift' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'peek' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('requeue' as const), pick: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('nextPaged' as const),
      count: fc.integer({ min: 1, max: 6 }),
      bytes: fc.integer({ min: 1, max: 20 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('loaded' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('shiftExpired' as const), now: fc.integer({ min: 0, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'drain' as const }) },
);

/** One ready entry as the model sees it. */
interface Item {
  seq: number;
  id: number;
  size: number;
  level: number;
  expiresAt: number;
  paged: boolean;
  deliveryCount: number;
}

const level = (p: number): number => Math.min(p, MAX_PRIORITY);
const view = (e: QueueEntry): Item => ({
  seq: e.seq,
  id: e.msg.id,
  size: e.msg.size,
  level: level(e.msg.priority),
  expiresAt: e.expiresAt,
  paged: e.msg.paged,
  deliveryCount: e.deliveryCount,
});

function realMessage(id: number, size: number, priority: number): Message {
  const m = Message.fromProperties('', 'k', { deliveryMode: 2, priority }, Buffer.alloc(size));
  m.id = id;
  return m;
}

class Model {
  items: Item[] = [];

  /** Delivery order: highest level first, then by seq. */
  ordered(): Item[] {
    return [...this.items].sort((a, b) => b.level - a.level || a.seq - b.seq);
  }

  take(seq: number): void {
    this.items = this.items.filter((i) => i.seq !== seq);
  }

  firstExpired(now: number): Item | undefined {
    for (let l = 0; l <= MAX_PRIORITY; l++) {
      const first = this.ordered().find((i) => i.level === l);
      if (first !== undefined && first.expiresAt !== 0 && first.expiresAt <= now) return first;
    }
    return undefined;
  }
}

/** Runs `ops` on a ready list and the model side by side; compares them after each op (or only at the end). */
function run(ops: Op[], checkEach = true): void {
  const list = new ReadyList(MAX_PRIORITY, (seq, id, sz, prio, expiresAt, deliveries) => {
    const stub = Message.pagedOut(id, sz, prio);
    const e = new QueueEntry(NO_QUEUE, stub, seq, expiresAt);
    e.deliveryCount = deliveries;
    return e;
  });
  const model = new Model();
  /** Entries taken out (delivered), in memory: what may be requeued. */
  const out: QueueEntry[] = [];
  /** Stand-ins handed out by nextPaged: what may be loaded or removed. */
  let batch: QueueEntry[] = [];
  let seq = 0;
  let id = 1000;

  const check = (): void => {
    expect([...list].map(view)).toEqual(model.ordered());
    expect(list.length).toBe(model.items.length);
    const sum = (f: (i: Item) => boolean): number => model.items.filter(f).reduce((n, i) => n + i.size, 0);
    expect(list.bytes).toBe(sum(() => true));
    expect(list.residentBytes).toBe(sum((i) => !i.paged));
    expect(list.pagedCount).toBe(model.items.filter((i) => i.paged).length);
    const first = model.ordered()[0];
    expect(list.headPaged).toBe(first?.paged ?? false);
    const heads = [0, 1, 2].map((l) => model.ordered().find((i) => i.level === l)?.expiresAt ?? 0);
    const due = heads.filter((t) => t !== 0);
    expect(list.nextExpiry()).toBe(due.length === 0 ? 0 : Math.min(...due));
  };
  const takenOut = (e: QueueEntry | undefined, expected: Item | undefined): void => {
    expect(e === undefined ? undefined : view(e)).toEqual(expected);
    if (e === undefined || expected === undefined) return;
    expect(e.inReady).toBe(false);
    model.take(expected.seq);
    // Delivered: its message is in memory from now on (a paged one would have been read first).
    if (e.msg.paged) e.msg = realMessage(e.msg.id, e.msg.size, e.msg.priority);
    e.deliveryCount++;
    out.push(e);
  };

  for (const op of ops) {
    switch (op.op) {
      case 'push': {
        const s = ++seq;
        const e = new QueueEntry(NO_QUEUE, realMessage(++id, op.size, op.priority), s, op.expires);
        list.push(e);
        const item = { seq: s, id, size: op.size, level: level(op.priority), expiresAt: op.expires };
        model.items.push({ ...item, paged: false, deliveryCount: 0 });
        break;
      }
      case 'pushPaged': {
        const s = ++seq;
        id += op.idJump;
        const deliveries = op.redelivered ? 1 : 0;
        list.pushPaged(s, id, op.size, op.priority, op.expires, deliveries);
        const item = { seq: s, id, size: op.size, level: level(op.priority), expiresAt: op.expires };
        model.items.push({ ...item, paged: true, deliveryCount: deliveries });
        break;
      }
      case 'deliverAtOnce': {
        const e = new QueueEntry(NO_QUEUE, realMessage(++id, op.size, op.priority), ++seq, 0);
        e.deliveryCount = 1;
        out.push(e);
        break;
      }
      case 'shift':
        takenOut(list.shift(), model.ordered()[0]);
        break;
      case 'peek': {
        const e = list.peek();
        expect(e === undefined ? undefined : view(e)).toEqual(model.ordered()[0]);
        expect(list.peek()).toBe(e);
        break;
      }
      case 'requeue': {
        const e = out.splice(op.pick % Math.max(1, out.length), 1)[0];
        if (e === undefined) break;
        list.requeue(e);
        expect(e.inReady).toBe(true);
        model.items.push(view(e));
        break;
      }
      case 'nextPaged': {
        batch = list.nextPaged(op.count, op.bytes);
        const paged = model.ordered().filter((i) => i.paged);
        let n = 0;
        let bytes = 0;
        while (n < paged.length && n < op.count && bytes < op.bytes) bytes += (paged[n++] as Item).size;
        expect(batch.map(view)).toEqual(paged.slice(0, n));
        expect(list.nextPaged(op.count, op.bytes)).toEqual(batch);
        break;
      }
      case 'loaded': {
        const e = batch.splice(op.pick % Math.max(1, batch.length), 1)[0];
        if (e === undefined || !e.inReady || !e.msg.paged) break;
        list.loaded(e, realMessage(e.msg.id, e.msg.size, e.msg.priority));
        const item = model.items.find((i) => i.seq === e.seq) as Item;
        item.paged = false;
        break;
      }
      case 'remove': {
        const e = batch.splice(op.pick % Math.max(1, batch.length), 1)[0];
        if (e === undefined || !e.inReady) break;
        list.remove(e);
        expect(e.inReady).toBe(false);
        model.take(e.seq);
        break;
      }
      case 'shiftExpired': {
        const expected = model.firstExpired(op.now);
        const e = list.shiftExpired(op.now);
        expect(e === undefined ? undefined : view(e)).toEqual(expected);
        if (e !== undefined) model.take(e.seq);
        break;
      }
      case 'drain': {
        const seen: Item[] = [];
        const n = list.drain((e) => {
          expect(e.inReady).toBe(false);
          seen.push(view(e));
        });
        expect(seen).toEqual(model.ordered());
        expect(n).toBe(seen.length);
        model.items = [];
        batch = [];
        break;
      }
    }
    if (checkEach) check();
  }
  check();
}

describe('the ready list with paged-out entries in blocks', () => {
  test('behaves like an array sorted by priority level and publish order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => run(ops)),
      { numRuns: 300 },
    );
  });

  test('keeps order across many full blocks, with requeues landing inside them', () => {
    const n = BLOCK_CAPACITY * 2 + 10;
    const ops: Op[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 1000 === 500) ops.push({ op: 'deliverAtOnce', priority: 0, size: 1 });
      ops.push({ op: 'pushPaged', priority: 0, size: 1, expires: 0, idJump: 1, redelivered: false });
    }
    for (let i = 0; i < 9; i++) ops.push({ op: 'requeue', pick: i * 7 });
    for (let i = 0; i < 10; i++) ops.push({ op: 'shift' });
    ops.push({ op: 'nextPaged', count: 5000, bytes: 1e9 }, { op: 'drain' });
    run(ops, false);
  });
});
