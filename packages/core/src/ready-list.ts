import { Deque } from './deque';
import type { Message } from './message';
import { PagedBlock } from './paged-block';
import type { QueueEntry } from './queue-entry';

/**
 * Makes the QueueEntry (with a paged-out stand-in message, Message.pagedOut) for an entry a PagedBlock held,
 * when someone needs it as an object: the next read-back batch, a paged head that expires or is dropped, a
 * purge.
 */
export type StandInFactory = (
  seq: number,
  id: number,
  size: number,
  priority: number,
  expiresAt: number,
  deliveryCount: number,
) => QueueEntry;

/** What a level's tail holds: an entry object, or a run of paged-out entries as columns. */
type TailItem = QueueEntry | PagedBlock;

/**
 * One priority level: `head` then `tail`, in publish order. `head` holds only messages in memory; `tail` starts
 * at the first paged-out one (body on disk) and takes every later arrival, so the order survives while the
 * queue reads the backlog back a batch at a time. Without paging `tail` stays empty. In `tail`, paged-out
 * entries are kept in blocks; only those being read back (and transient messages arriving meanwhile) are
 * QueueEntry objects.
 */
interface Level {
  readonly head: Deque<QueueEntry>;
  readonly tail: Deque<TailItem>;
}

const firstSeqOf = (item: TailItem): number => (item instanceof PagedBlock ? item.firstSeq : item.seq);

/**
 * A queue's ready messages. Without x-max-priority it is one FIFO; with it, one FIFO per priority level and
 * the highest non-empty level is served first (RabbitMQ: a message priority above the maximum counts as the
 * maximum). Each level stays ordered by publish sequence, so a requeue returns to its original position.
 */
export class ReadyList {
  private readonly levels: Level[];
  private count = 0;
  /** Body bytes of every ready message, paged out or not (x-max-length-bytes counts them all). */
  bytes = 0;
  /** Body bytes of the ready messages held in memory. */
  residentBytes = 0;
  /** Ready messages whose body is on disk only. */
  pagedCount = 0;

  constructor(
    readonly maxPriority: number,
    private readonly standIn: StandInFactory,
  ) {
    this.levels = [];
    for (let i = 0; i <= maxPriority; i++) this.levels.push({ head: new Deque(), tail: new Deque() });
  }

  get length(): number {
    return this.count;
  }

  /** An entry whose message is in memory (a stand-in, Message.paged, goes to a block like `pushPaged`). */
  push(entry: QueueEntry): void {
    const msg = entry.msg;
    if (msg.paged) {
      this.pushPaged(entry.seq, msg.id, msg.size, msg.priority, entry.expiresAt, entry.deliveryCount);
      return;
    }
    const level = this.level(msg.priority);
    (level.tail.length > 0 ? level.tail : level.head).push(entry);
    this.added(entry);
  }

  /**
   * A paged-out entry, appended without an object of its own: to the last block of its level's tail when it
   * follows on, else to a new block. `seq` must be above every seq already in the list.
   */
  pushPaged(
    seq: number,
    id: number,
    size: number,
    priority: number,
    expiresAt: number,
    deliveryCount: number,
  ): void {
    const { tail } = this.level(priority);
    let block = tail.peekLast();
    if (!(block instanceof PagedBlock) || !block.accepts(seq, id)) {
      block = new PagedBlock(seq, id);
      tail.push(block);
    }
    block.push(seq, id, size, priority, expiresAt, deliveryCount);
    this.count++;
    this.bytes += size;
    this.pagedCount++;
  }

  /** Back to its original position (by publish sequence), as RabbitMQ does for requeued deliveries. */
  requeue(entry: QueueEntry): void {
    const { head, tail } = this.level(entry.msg.priority);
    const first = tail.peek();
    if (first !== undefined && entry.seq > firstSeqOf(first)) this.insertInTail(tail, entry);
    else head.insertOrdered(entry, (e) => e.seq);
    this.added(entry);
  }

  /** Whether the next entry to deliver is paged out (its body must be read back first). */
  get headPaged(): boolean {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      if (head.length > 0) return false;
      const t = tail.peek();
      if (t !== undefined) return t instanceof PagedBlock || t.msg.paged;
    }
    return false;
  }

  /** The next entry to deliver; its message may be paged out (see `headPaged`), and then this makes its object. */
  peek(): QueueEntry | undefined {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      const e = head.peek() ?? this.tailFront(tail);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  shift(): QueueEntry | undefined {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      if (head.length > 0) return this.removed(head.shift() as QueueEntry);
      if (this.tailFront(tail) !== undefined) return this.removed(tail.shift() as QueueEntry);
    }
    return undefined;
  }

  /** The earliest expiry among the level heads (only heads expire, as in RabbitMQ); 0 when none. */
  nextExpiry(): number {
    let earliest = 0;
    for (const { head, tail } of this.levels) {
      const at = this.frontExpiry(head, tail);
      if (at !== 0 && (earliest === 0 || at < earliest)) earliest = at;
    }
    return earliest;
  }

  /** Removes and returns the first head that has expired by `now`, if any. */
  shiftExpired(now: number): QueueEntry | undefined {
    for (const { head, tail } of this.levels) {
      const at = this.frontExpiry(head, tail);
      if (at === 0 || at > now) continue;
      if (head.length > 0) return this.removed(head.shift() as QueueEntry);
      this.tailFront(tail);
      return this.removed(tail.shift() as QueueEntry);
    }
    return undefined;
  }

  /**
   * Looks at up to `limit` in-memory entries in delivery order (past the head) for one that `pick` finds a
   * taker for; removes that entry and returns it with its taker. For filtered consumers (selectors) only.
   */
  takeFirstTaken<T>(limit: number, pick: (e: QueueEntry) => T | undefined): [QueueEntry, T] | undefined {
    let seen = 0;
    for (let p = this.levels.length - 1; p >= 0 && seen < limit; p--) {
      const level = (this.levels[p] as Level).head;
      for (let i = 0; i < level.length && seen < limit; i++, seen++) {
        const e = level.at(i) as QueueEntry;
        const taker = pick(e);
        if (taker !== undefined) {
          level.removeAt(i);
          return [this.removed(e), taker];
        }
      }
    }
    return undefined;
  }

  /**
   * The paged-out entries to read back next, in delivery order: up to `maxCount` of them or `maxBytes` of
   * body, from the front of the highest levels' tails. They become objects (stand-ins) in place, so the
   * read's answer can be matched to them and the rest of the list can change meanwhile.
   */
  nextPaged(maxCount: number, maxBytes: number): QueueEntry[] {
    const out: QueueEntry[] = [];
    let bytes = 0;
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { tail } = this.levels[p] as Level;
      for (let i = 0; i < tail.length; i++) {
        const item = tail.at(i) as TailItem;
        if (!(item instanceof PagedBlock)) {
          if (!item.msg.paged) continue;
          out.push(item);
          bytes += item.msg.size;
          if (out.length >= maxCount || bytes >= maxBytes) return out;
          continue;
        }
        const made: QueueEntry[] = [];
        while (item.length > 0 && out.length < maxCount && bytes < maxBytes) {
          const e = this.makeStandIn(item, item.start++);
          made.push(e);
          out.push(e);
          bytes += e.msg.size;
        }
        // The stand-ins take the block's place in the tail, before what is left of it.
        if (item.length === 0) {
          tail.set(i, made.pop() as QueueEntry);
          tail.insertAt(i, made);
          i += made.length;
        } else {
          tail.insertAt(i, made);
          return out;
        }
        if (out.length >= maxCount || bytes >= maxBytes) return out;
      }
    }
    return out;
  }

  /**
   * A paged-out entry's message was read back: it holds `msg` now, and the in-memory front of its level's
   * tail joins the head. The entry must still be in this list.
   */
  loaded(entry: QueueEntry, msg: Message): void {
    entry.msg = msg;
    this.pagedCount--;
    this.residentBytes += msg.size;
    const { head, tail } = this.level(msg.priority);
    for (;;) {
      const t = tail.peek();
      if (t === undefined || t instanceof PagedBlock || t.msg.paged) break;
      head.push(tail.shift() as QueueEntry);
    }
  }

  /** Takes out one entry object wherever it is (a paged-out message the store no longer has). */
  remove(entry: QueueEntry): void {
    const { head, tail } = this.level(entry.msg.priority);
    for (const d of [head, tail] as Deque<TailItem>[]) {
      for (let i = 0; i < d.length; i++) {
        if (d.at(i) === entry) {
          d.removeAt(i);
          this.removed(entry);
          return;
        }
      }
    }
  }

  /**
   * Empties the list, handing every entry to `visit` in delivery order (paged-out ones as stand-ins made one
   * at a time, so a purge of millions never holds them all). Returns how many there were.
   */
  drain(visit: (e: QueueEntry) => void): number {
    const n = this.count;
    const levels = this.levels;
    for (let p = levels.length - 1; p >= 0; p--) {
      const { head, tail } = levels[p] as Level;
      for (let e = head.shift(); e !== undefined; e = head.shift()) this.drained(e, visit);
      for (let t = tail.shift(); t !== undefined; t = tail.shift()) {
        if (!(t instanceof PagedBlock)) this.drained(t, visit);
        else while (t.length > 0) this.drained(this.makeStandIn(t, t.start++), visit);
      }
    }
    this.count = 0;
    this.bytes = 0;
    this.residentBytes = 0;
    this.pagedCount = 0;
    return n;
  }

  /**
   * Every entry in delivery order, for looking at only: paged-out entries still in blocks are stand-ins made
   * for the walk, not the list's own objects (nothing is changed).
   */
  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      yield* head;
      for (const t of tail) {
        if (!(t instanceof PagedBlock)) yield t;
        else for (let i = t.start; i < t.end; i++) yield this.makeStandIn(t, i);
      }
    }
  }

  /** The tail's first entry as an object, made from its block when it is in one (the block shrinks). */
  private tailFront(tail: Deque<TailItem>): QueueEntry | undefined {
    const t = tail.peek();
    if (!(t instanceof PagedBlock)) return t;
    const e = this.makeStandIn(t, t.start++);
    if (t.length === 0) tail.shift();
    tail.unshift(e);
    return e;
  }

  private frontExpiry(head: Deque<QueueEntry>, tail: Deque<TailItem>): number {
    const e = head.peek();
    if (e !== undefined) return e.expiresAt;
    const t = tail.peek();
    if (t === undefined) return 0;
    return t instanceof PagedBlock ? t.expiresAt(t.start) : t.expiresAt;
  }

  /** Ordered insert into a tail; one landing inside a block splits it around the entry. */
  private insertInTail(tail: Deque<TailItem>, entry: QueueEntry): void {
    // The last item that starts before the entry (the caller made sure the first one does).
    let lo = 0;
    let hi = tail.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (firstSeqOf(tail.at(mid) as TailItem) < entry.seq) lo = mid;
      else hi = mid;
    }
    const before = tail.at(lo) as TailItem;
    if (before instanceof PagedBlock && entry.seq < before.lastSeq) {
      tail.insertAt(lo + 1, [entry, before.splitAt(before.lowerBound(entry.seq))]);
    } else {
      tail.insertAt(lo + 1, [entry]);
    }
  }

  private makeStandIn(block: PagedBlock, i: number): QueueEntry {
    const e = this.standIn(
      block.seqAt(i),
      block.idAt(i),
      block.sizeAt(i),
      block.priorityAt(i),
      block.expiresAt(i),
      block.deliveriesAt(i),
    );
    e.inReady = true;
    return e;
  }

  private drained(e: QueueEntry, visit: (e: QueueEntry) => void): void {
    e.inReady = false;
    visit(e);
  }

  private added(entry: QueueEntry): void {
    entry.inReady = true;
    this.count++;
    const size = entry.msg.size;
    this.bytes += size;
    if (entry.msg.paged) this.pagedCount++;
    else this.residentBytes += size;
  }

  private removed(entry: QueueEntry): QueueEntry {
    entry.inReady = false;
    this.count--;
    const size = entry.msg.size;
    this.bytes -= size;
    if (entry.msg.paged) this.pagedCount--;
    else this.residentBytes -= size;
    return entry;
  }

  private level(priority: number): Level {
    return this.levels[priority > this.maxPriority ? this.maxPriority : priority] as Level;
  }
}
