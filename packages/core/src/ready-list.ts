import { Deque } from './deque';
import type { QueueEntry } from './queue-entry';

const bySeq = (e: QueueEntry): number => e.seq;

/**
 * A queue's ready messages. Without x-max-priority it is one FIFO; with it, one FIFO per priority level and
 * the highest non-empty level is served first (RabbitMQ: a message priority above the maximum counts as the
 * maximum). Each level stays ordered by publish sequence, so a requeue returns to its original position.
 */
export class ReadyList {
  private readonly levels: Deque<QueueEntry>[];
  private count = 0;
  bytes = 0;

  constructor(readonly maxPriority: number) {
    this.levels = [];
    for (let i = 0; i <= maxPriority; i++) this.levels.push(new Deque<QueueEntry>());
  }

  get length(): number {
    return this.count;
  }

  push(entry: QueueEntry): void {
    this.level(entry).push(entry);
    this.count++;
    this.bytes += entry.msg.size;
  }

  /** Back to its original position (by publish sequence), as RabbitMQ does for requeued deliveries. */
  requeue(entry: QueueEntry): void {
    this.level(entry).insertOrdered(entry, bySeq);
    this.count++;
    this.bytes += entry.msg.size;
  }

  peek(): QueueEntry | undefined {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const head = (this.levels[p] as Deque<QueueEntry>).peek();
      if (head !== undefined) return head;
    }
    return undefined;
  }

  shift(): QueueEntry | undefined {
    for (let p = this.levels.length - 1; p >= 0; p--) {
      const entry = (this.levels[p] as Deque<QueueEntry>).shift();
      if (entry !== undefined) {
        this.count--;
        this.bytes -= entry.msg.size;
        return entry;
      }
    }
    return undefined;
  }

  /** The earliest expiry among the level heads (only heads expire, as in RabbitMQ); 0 when none. */
  nextExpiry(): number {
    let earliest = 0;
    for (const level of this.levels) {
      const head = level.peek();
      if (head !== undefined && head.expiresAt !== 0 && (earliest === 0 || head.expiresAt < earliest)) {
        earliest = head.expiresAt;
      }
    }
    return earliest;
  }

  /** Removes and returns the first head that has expired by `now`, if any. */
  shiftExpired(now: number): QueueEntry | undefined {
    for (const level of this.levels) {
      const head = level.peek();
      if (head !== undefined && head.expiresAt !== 0 && head.expiresAt <= now) {
        level.shift();
        this.count--;
        this.bytes -= head.msg.size;
        return head;
      }
    }
    return undefined;
  }

  /**
   * Looks at up to `limit` entries in delivery order (past the head) for one that `pick` finds a taker for;
   * removes that entry and returns it with its taker. For filtered consumers (selectors) only.
   */
  takeFirstTaken<T>(limit: number, pick: (e: QueueEntry) => T | undefined): [QueueEntry, T] | undefined {
    let seen = 0;
    for (let p = this.levels.length - 1; p >= 0 && seen < limit; p--) {
      const level = this.levels[p] as Deque<QueueEntry>;
      for (let i = 0; i < level.length && seen < limit; i++, seen++) {
        const e = level.at(i) as QueueEntry;
        const taker = pick(e);
        if (taker !== undefined) {
          level.removeAt(i);
          this.count--;
          this.bytes -= e.msg.size;
          return [e, taker];
        }
      }
    }
    return undefined;
  }

  drain(): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (let p = this.levels.length - 1; p >= 0; p--)
      for (const e of (this.levels[p] as Deque<QueueEntry>).drain()) out.push(e);
    this.count = 0;
    this.bytes = 0;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let p = this.levels.length - 1; p >= 0; p--) yield* this.levels[p] as Deque<QueueEntry>;
  }

  private level(entry: QueueEntry): Deque<QueueEntry> {
    const p = entry.msg.priority > this.maxPriority ? this.maxPriority : entry.msg.priority;
    return this.levels[p] as Deque<QueueEntry>;
  }
}
