/**
 * A growable ring buffer: O(1) push/shift/unshift at both ends, O(1) indexed reads, and an ordered insert for
 * the rare requeue that lands in the middle. Capacity stays a power of two so wrapping is a mask.
 */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.items = new Array<T | undefined>(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  unshift(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the message be collected
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  peekLast(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) & this.mask];
  }

  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.items[(this.head + index) & this.mask];
  }

  /**
   * Inserts keeping the deque ordered by `key` (ascending). Requeued deliveries go back to their original
   * position; nearly always that is the front, which costs O(1). Otherwise shifts the tail: O(n).
   */
  insertOrdered(item: T, key: (t: T) => number): void {
    const k = key(item);
    const first = this.peek();
    if (first === undefined || k <= key(first)) return this.unshift(item);
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(this.at(mid) as T) < k) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.count) return this.push(item);
    if (this.count === this.items.length) this.grow();
    for (let i = this.count; i > lo; i--) {
      this.items[(this.head + i) & this.mask] = this.items[(this.head + i - 1) & this.mask];
    }
    this.items[(this.head + lo) & this.mask] = item;
    this.count++;
  }

  /** Replaces the item at `index`. */
  set(index: number, item: T): void {
    if (index < 0 || index >= this.count) throw new RangeError(`set ${index} of ${this.count}`);
    this.items[(this.head + index) & this.mask] = item;
  }

  /**
   * Inserts `list` before the item at `index` (`length`: at the back), moving whichever side is shorter, so
   * an insert near the front costs O(index + list.length) however long the deque is.
   */
  insertAt(index: number, list: readonly T[]): void {
    const k = list.length;
    if (k === 0) return;
    if (index < 0 || index > this.count) throw new RangeError(`insertAt ${index} of ${this.count}`);
    while (this.count + k > this.items.length) this.grow();
    const { items, mask } = this;
    if (index < this.count - index) {
      // Front part moves k places towards the front.
      this.head = (this.head - k) & mask;
      for (let i = 0; i < index; i++) items[(this.head + i) & mask] = items[(this.head + i + k) & mask];
    } else {
      for (let i = this.count - 1; i >= index; i--) {
        items[(this.head + i + k) & mask] = items[(this.head + i) & mask];
      }
    }
    for (let j = 0; j < k; j++) items[(this.head + index + j) & mask] = list[j] as T;
    this.count += k;
  }

  /** Removes and returns the item at `index` (0 = front), closing the gap: O(n). */
  removeAt(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    if (index === 0) return this.shift();
    const item = this.items[(this.head + index) & this.mask];
    for (let i = index; i < this.count - 1; i++) {
      this.items[(this.head + i) & this.mask] = this.items[(this.head + i + 1) & this.mask];
    }
    this.items[(this.head + this.count - 1) & this.mask] = undefined;
    this.count--;
    return item;
  }

  /** Removes and returns every item, front to back. */
  drain(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < out.length; i++) out[i] = this.shift() as T;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & this.mask] as T;
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}
