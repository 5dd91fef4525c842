/** Entries per block at most: big enough that a block's own objects are noise per entry, small enough to copy. */
export const BLOCK_CAPACITY = 4096;
/** A new block starts this small, so a queue that pages a handful of messages does not pay for thousands. */
const FIRST_CAPACITY = 32;
const U32 = 0x1_0000_0000;

/**
 * A run of consecutive paged-out ready entries of one priority level, held as columns instead of a
 * QueueEntry and a stand-in Message each (about 470 bytes of heap per entry that way; here 13 bytes, 21 with
 * a TTL). Entries leave only from the front (`shift`) or by splitting the block (a requeue landing inside
 * it), never from the middle, so `start` and `end` are all the bookkeeping there is.
 *
 * Sequence numbers and message ids are stored as 32-bit offsets from the block's first entry: both grow by
 * one per publish in the common case. An entry that does not fit that way starts a new block (`accepts`).
 */
export class PagedBlock {
  /** First entry still in the block. */
  start = 0;
  /** One past the last entry. */
  end = 0;
  private seqs: Uint32Array;
  private ids: Uint32Array;
  private sizes: Uint32Array;
  private priorities: Uint8Array;
  /** Only once an entry has an expiry: most queues have no TTL. */
  private expiries: Float64Array | undefined = undefined;
  /** Only once an entry was delivered before (a restart's unacked messages). */
  private deliveries: Uint8Array | undefined = undefined;

  constructor(
    private readonly baseSeq: number,
    private readonly baseId: number,
    capacity = FIRST_CAPACITY,
  ) {
    const buf = new ArrayBuffer(capacity * 13);
    this.seqs = new Uint32Array(buf, 0, capacity);
    this.ids = new Uint32Array(buf, capacity * 4, capacity);
    this.sizes = new Uint32Array(buf, capacity * 8, capacity);
    this.priorities = new Uint8Array(buf, capacity * 12, capacity);
  }

  get length(): number {
    return this.end - this.start;
  }

  get firstSeq(): number {
    return this.seqAt(this.start);
  }

  get lastSeq(): number {
    return this.seqAt(this.end - 1);
  }

  /** Whether an entry with this seq and id can be appended here (it follows, and fits the offsets). */
  accepts(seq: number, id: number): boolean {
    return (
      this.end < BLOCK_CAPACITY &&
      seq > this.lastSeq &&
      seq - this.baseSeq < U32 &&
      id >= this.baseId &&
      id - this.baseId < U32
    );
  }

  push(seq: number, id: number, size: number, priority: number, expiresAt: number, deliveries: number): void {
    if (this.end === this.seqs.length) this.grow(Math.min(BLOCK_CAPACITY, this.seqs.length * 2));
    const i = this.end++;
    this.seqs[i] = seq - this.baseSeq;
    this.ids[i] = id - this.baseId;
    this.sizes[i] = size;
    // x-max-priority is at most 255 (and a higher message priority counts as the maximum).
    this.priorities[i] = priority > 255 ? 255 : priority;
    if (expiresAt !== 0 || this.expiries !== undefined) {
      this.expiries ??= new Float64Array(this.seqs.length);
      this.expiries[i] = expiresAt;
    }
    if (deliveries !== 0 || this.deliveries !== undefined) {
      this.deliveries ??= new Uint8Array(this.seqs.length);
      // Only "delivered before or not" matters to a ready entry; the count saturates.
      this.deliveries[i] = deliveries > 255 ? 255 : deliveries;
    }
  }

  seqAt(i: number): number {
    return this.baseSeq + (this.seqs[i] as number);
  }

  idAt(i: number): number {
    return this.baseId + (this.ids[i] as number);
  }

  sizeAt(i: number): number {
    return this.sizes[i] as number;
  }

  priorityAt(i: number): number {
    return this.priorities[i] as number;
  }

  expiresAt(i: number): number {
    return this.expiries === undefined ? 0 : (this.expiries[i] as number);
  }

  deliveriesAt(i: number): number {
    return this.deliveries === undefined ? 0 : (this.deliveries[i] as number);
  }

  /** The first index from `start` whose seq is at least `seq` (`end` when none). */
  lowerBound(seq: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqAt(mid) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Moves the entries from index `at` on into a new block, returned; this block ends before `at`. */
  splitAt(at: number): PagedBlock {
    const n = this.end - at;
    let capacity = FIRST_CAPACITY;
    while (capacity < n) capacity *= 2;
    const b = new PagedBlock(this.baseSeq, this.baseId, capacity);
    b.seqs.set(this.seqs.subarray(at, this.end));
    b.ids.set(this.ids.subarray(at, this.end));
    b.sizes.set(this.sizes.subarray(at, this.end));
    b.priorities.set(this.priorities.subarray(at, this.end));
    if (this.expiries !== undefined) {
      b.expiries = new Float64Array(capacity);
      b.expiries.set(this.expiries.subarray(at, this.end));
    }
    if (this.deliveries !== undefined) {
      b.deliveries = new Uint8Array(capacity);
      b.deliveries.set(this.deliveries.subarray(at, this.end));
    }
    b.end = n;
    this.end = at;
    return b;
  }

  private grow(capacity: number): void {
    const next = new PagedBlock(this.baseSeq, this.baseId, capacity);
    next.seqs.set(this.seqs);
    next.ids.set(this.ids);
    next.sizes.set(this.sizes);
    next.priorities.set(this.priorities);
    this.seqs = next.seqs;
    this.ids = next.ids;
    this.sizes = next.sizes;
    this.priorities = next.priorities;
    if (this.expiries !== undefined) {
      const e = new Float64Array(capacity);
      e.set(this.expiries);
      this.expiries = e;
    }
    if (this.deliveries !== undefined) {
      const d = new Uint8Array(capacity);
      d.set(this.deliveries);
      this.deliveries = d;
    }
  }
}
