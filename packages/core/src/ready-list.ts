import { Deque } from './deque';
import type { Message } from './message';
import type { QueueEntry } from './queue-entry';

const bySeq = (e: QueueEntry): number => e.seq;

/**
 * One priority level: `head` then `tail`, in publish order. `head` holds only messages in memory; `tail` starts
 * at the first paged-out one (body on disk) and takes every later arrival, so the order survives while the
 * queue reads the backlog back a batch at a time. Without paging `tail` stays empty.
 */
interface Level {
  readonly head: Deque<QueueEntry>;
  readonly tail: Deque<QueueEntry>;
}

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

  constructor(readonly maxPriority: number) {
    this.levels = [];
    for (let i = 0; i <= maxPriority; i++) this.levels.push({ head: new Deque(), tail: new Deque() });
  }

  get length(): number {
    return this.count;
  }

  push(entry: QueueEntry): void {
    const level = this.level(entry);
    (entry.msg.paged || level.tail.length > 0 ? level.tail : level.head).push(entry);
    this.added(entry);
  }

  /** Back to its original position (by publish sequence), as RabbitMQ does for requeued deliveries. */
  requeue(entry: QueueEntry): void {
    const level = this.level(entry);
    const firstPaged = level.tail.peek();
    (firstPaged !== undefined && entry.seq > firstPaged.seq ? level.tail : level.head).insertOrdered(
      entry,
      bySeq,
    );
    this.added(entry);
  }

  /** The next entry to deliver; its message may be paged out (see `paged`). */
  peek(): QueueEntry | undefined {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      const e = head.peek() ?? tail.peek();
      if (e !== undefined) return e;
    }
    return undefined;
  }

  shift(): QueueEntry | undefined {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      const e = head.shift() ?? tail.shift();
      if (e !== undefined) return this.removed(e);
    }
    return undefined;
  }

  /** The earliest expiry among the level heads (only heads expire, as in RabbitMQ); 0 when none. */
  nextExpiry(): number {
    let earliest = 0;
    for (const { head, tail } of this.levels) {
      const e = head.peek() ?? tail.peek();
      if (e !== undefined && e.expiresAt !== 0 && (earliest === 0 || e.expiresAt < earliest)) {
        earliest = e.expiresAt;
      }
    }
    return earliest;
  }

  /** Removes and returns the first head that has expired by `now`, if any. */
  shiftExpired(now: number): QueueEntry | undefined {
    for (const { head, tail } of this.levels) {
      const first = head.length > 0 ? head : tail;
      const e = first.peek();
      if (e !== undefined && e.expiresAt !== 0 && e.expiresAt <= now) {
        first.shift();
        return this.removed(e);
      }
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
   * body, from the front of the highest levels' tails.
   */
  nextPaged(maxCount: number, maxBytes: number): QueueEntry[] {
    const out: QueueEntry[] = [];
    let bytes = 0;
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { tail } = this.levels[p] as Level;
      for (let i = 0; i < tail.length; i++) {
        const e = tail.at(i) as QueueEntry;
        if (!e.msg.paged) continue;
        out.push(e);
        bytes += e.msg.size;
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
    const { head, tail } = this.level(entry);
    while (tail.length > 0 && !(tail.peek() as QueueEntry).msg.paged) head.push(tail.shift() as QueueEntry);
  }

  /** Takes out one entry wherever it is (a paged-out message the store no longer has). */
  remove(entry: QueueEntry): void {
    const { head, tail } = this.level(entry);
    for (const d of [head, tail]) {
      for (let i = 0; i < d.length; i++) {
        if (d.at(i) === entry) {
          d.removeAt(i);
          this.removed(entry);
          return;
        }
      }
    }
  }

  drain(): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      for (const d of [head, tail]) {
        for (const e of d.drain()) {
          e.inReady = false;
          out.push(e);
        }
      }
    }
    this.count = 0;
    this.bytes = 0;
    this.residentBytes = 0;
    this.pagedCount = 0;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const { head, tail } = this.levels[p] as Level;
      yield* head;
      yield* tail;
    }
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

  private level(entry: QueueEntry): Level {
    const p = entry.msg.priority > this.maxPriority ? this.maxPriority : entry.msg.priority;
    return this.levels[p] as Level;
  }
}
