const MIN_CAPACITY = 1024;
const TWO_32 = 0x1_0000_0000;

/**
 * Message id -> slot, as an open-addressing hash table in typed arrays (linear probing, deletion by backward
 * shift, so there are no tombstones). A JS Map costs 30-40 bytes of heap per entry, more once ids pass 2^31
 * and stop being small integers; this costs 12 bytes per bucket outside the heap, at a load between 0.2 and
 * 0.7, and the garbage collector never walks it.
 */
export class IdMap {
  private keys: Float64Array;
  /** Slot per bucket; -1 marks an empty bucket (so any id, even 0, can be a key). */
  private slots: Int32Array;
  private mask: number;
  /** 32 - log2(capacity): buckets come from the hash's top bits, the well-mixed ones. */
  private shift: number;
  private count = 0;

  constructor() {
    this.keys = new Float64Array(MIN_CAPACITY);
    this.slots = new Int32Array(MIN_CAPACITY).fill(-1);
    this.mask = MIN_CAPACITY - 1;
    this.shift = 32 - Math.log2(MIN_CAPACITY);
  }

  get size(): number {
    return this.count;
  }

  /** The slot of `id`, or -1. */
  get(id: number): number {
    const { keys, slots, mask } = this;
    for (let b = hash(id) >>> this.shift; ; b = (b + 1) & mask) {
      const s = slots[b] as number;
      if (s < 0) return -1;
      if (keys[b] === id) return s;
    }
  }

  /** Adds `id` or changes its slot. */
  set(id: number, slot: number): void {
    const { keys, slots, mask } = this;
    for (let b = hash(id) >>> this.shift; ; b = (b + 1) & mask) {
      const s = slots[b] as number;
      if (s < 0) {
        keys[b] = id;
        slots[b] = slot;
        if (++this.count > keys.length * 0.7) this.resize(keys.length * 2);
        return;
      }
      if (keys[b] === id) {
        slots[b] = slot;
        return;
      }
    }
  }

  delete(id: number): void {
    const { keys, slots, mask } = this;
    let b = hash(id) >>> this.shift;
    for (; ; b = (b + 1) & mask) {
      if ((slots[b] as number) < 0) return;
      if (keys[b] === id) break;
    }
    // Backward shift: pull later members of the probe run into the hole so lookups never stop early.
    let hole = b;
    for (let j = (hole + 1) & mask; (slots[j] as number) >= 0; j = (j + 1) & mask) {
      const home = hash(keys[j] as number) >>> this.shift;
      // Movable when its home is not in the cyclic range (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j] as number;
        slots[hole] = slots[j] as number;
        hole = j;
      }
    }
    slots[hole] = -1;
    if (--this.count < keys.length * 0.2 && keys.length > MIN_CAPACITY) this.resize(keys.length / 2);
  }

  private resize(capacity: number): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    this.keys = new Float64Array(capacity);
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.count = 0;
    for (let b = 0; b < oldKeys.length; b++) {
      const s = oldSlots[b] as number;
      if (s >= 0) this.set(oldKeys[b] as number, s);
    }
  }
}

/**
 * Ids are integers up to 2^53: both 32-bit halves are mixed, then multiplied by 2^32/phi (Fibonacci
 * hashing), whose top bits spread consecutive ids evenly over the buckets.
 */
function hash(id: number): number {
  const lo = id >>> 0;
  const hi = (id / TWO_32) >>> 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
}
