import { MemoryStore } from '../src/memory-store';
import { Persistence } from '../src/persistence';
import type { StoreOp } from '../src/store';

/** A promise and the functions that settle it, for work a test finishes when it chooses. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and promise reaction run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A store whose batches become durable only when the test says so, in order, as a journal's do. */
class SlowStore extends MemoryStore {
  readonly due: (() => void)[] = [];
  override write(ops: StoreOp[], durable: () => void): void {
    super.write(ops, () => this.due.push(durable));
  }
}

const put = (p: Persistence, name: string): void =>
  p.put({
    kind: 'exchange',
    vhost: 'v',
    name,
    type: 'direct',
    durable: true,
    autoDelete: false,
    internal: false,
    arguments: {},
  });

describe('Persistence.hold: confirms that wait for work besides the store', () => {
  test("a turn's waiters wait for its hold as well as for the store", async () => {
    const p = new Persistence(new MemoryStore());
    const work = deferred();
    put(p, 'x');
    p.hold(work.promise);
    const done: string[] = [];
    p.afterSync(() => done.push('confirm'));
    await settle();
    expect(done).toEqual([]);
    work.resolve();
    await settle();
    expect(done).toEqual(['confirm']);
  });

  test('a hold alone, with nothing for the store, still makes a batch its waiters wait for', async () => {
    const store = new MemoryStore();
    const p = new Persistence(store);
    const work = deferred();
    p.hold(work.promise);
    expect(p.pending).toBe(true);
    const done: string[] = [];
    p.afterSync(() => done.push('confirm'));
    await settle();
    expect(done).toEqual([]);
    work.resolve();
    await settle();
    expect(done).toEqual(['confirm']);
    expect(store.batches).toBe(0);
  });

  test('batches release in order even when a later one is durable first', async () => {
    const store = new SlowStore();
    const p = new Persistence(store);
    const first = deferred();
    const done: string[] = [];
    put(p, 'a');
    p.hold(first.promise);
    p.afterSync(() => done.push('first'));
    await settle();
    put(p, 'b');
    p.afterSync(() => done.push('second'));
    await settle();
    for (const fn of store.due.splice(0)) fn();
    await settle();
    expect(done).toEqual([]);
    first.resolve();
    await settle();
    expect(done).toEqual(['first', 'second']);
    // Past the held batches, the plain path again: the store's callback releases directly.
    put(p, 'c');
    p.afterSync(() => done.push('third'));
    await settle();
    for (const fn of store.due.splice(0)) fn();
    expect(done).toEqual(['first', 'second', 'third']);
  });

  test('a rejected hold releases its waiters (the holder retries or reports on its own)', async () => {
    const p = new Persistence(new MemoryStore());
    const work = deferred();
    p.hold(work.promise);
    const done: string[] = [];
    p.afterSync(() => done.push('confirm'));
    work.reject(new Error('cluster gone'));
    await settle();
    expect(done).toEqual(['confirm']);
  });

  test('without holds the store releases waiters from its own callback, as before', () => {
    const store = new SlowStore();
    const p = new Persistence(store);
    p.enqueueKeyed('v\u0000q', { id: 1, stored: true } as never);
    const done: string[] = [];
    p.afterSync(() => done.push('confirm'));
    p.flush().catch(() => {});
    expect(store.due).toHaveLength(1);
    store.due[0]!();
    expect(done).toEqual(['confirm']);
  });
});
