import type { DeathReason } from './dead-letter';
import { Message } from './message';
import type { QueueEntry } from './queue-entry';
import type { QueueHost } from './queue-host';
import type { ReadyList } from './ready-list';
import type { StoredMessage } from './store';

/** Paged-out messages read back in one store read, at most (and at most a quarter of the budget's bytes). */
export const PAGE_IN_BATCH = 2048;
/** After a failed store read, the next try. */
const PAGE_IN_RETRY_MS = 1000;

/** What the backlog needs of its queue: closures, so the queue's own members stay its own. */
export interface BacklogQueue {
  readonly name: string;
  readonly host: QueueHost;
  readonly ready: ReadyList;
  isDeleted(): boolean;
  /** Bytes of ready messages the queue keeps in memory before it pages stored ones out; 0 for never. */
  residentBudget(): number;
  /** The entry leaves the queue for good (store record settled, memory released). */
  release(entry: QueueEntry): void;
  dispatch(): void;
  /** Republishes a dead message to the queue's dead-letter exchange. */
  deadLetter(msg: Message, reason: DeathReason): void;
  /** Runs one of the queue's own callbacks, contained (see Queue.guarded). */
  guarded(what: string, fn: () => void): void;
}

/**
 * The part of a durable queue's ready list that waits on disk: messages paged out past the queue's memory
 * budget (an id, a size and a priority each in a ReadyList block), read back ahead of the consumers one store
 * read at a time, or at once for a basic.get; and the bodies of paged-out messages that die (expired, dropped
 * by max-length, rejected), read back so they are dead-lettered in order, behind any still being read.
 */
export class QueueBacklog {
  /** A store read of paged-out messages is under way. */
  private loading = false;
  /** basic.get calls waiting for the head to be read back. */
  private loadWaiters: (() => void)[] = [];
  /** Entries to dead-letter whose bodies are being read back (or that wait behind such), in order. */
  private readonly deadPending: { entry: QueueEntry; reason: DeathReason }[] = [];
  private deadLoading = false;

  constructor(private readonly q: BacklogQueue) {}

  /** Calls `fn` once the read of paged-out messages under way (or started now) is done. */
  whenHeadLoaded(fn: () => void): void {
    this.loadWaiters.push(fn);
    this.pageIn();
  }

  /** Reads the backlog back before the in-memory part runs dry, so consumers rarely wait on the disk. */
  prefetch(): void {
    const ready = this.q.ready;
    if (ready.pagedCount > 0 && ready.residentBytes < this.q.residentBudget() / 2) this.pageIn();
  }

  /**
   * The entry goes into the ready list as a paged-out one (no object: a slot in a block) and lets go of the
   * message: once no other queue holds it, its body and properties are garbage and only the store has them.
   * The store write is already in this turn's batch.
   */
  pageOut(entry: QueueEntry): void {
    const msg = entry.msg;
    this.q.ready.pushPaged(entry.seq, msg.id, msg.size, msg.priority, entry.expiresAt, entry.deliveryCount);
    if (--msg.refs === 0) this.q.host.memory.remove(msg);
  }

  /** Reads the next paged-out messages back from the store, one read at a time. */
  pageIn(): void {
    const q = this.q;
    if (this.loading || q.isDeleted()) return;
    if (q.ready.pagedCount === 0) {
      this.runLoadWaiters();
      return;
    }
    const batch = q.ready.nextPaged(PAGE_IN_BATCH, Math.max(1, q.residentBudget() / 4));
    this.loading = true;
    q.host.persistence.read(batch.map((e) => e.msg.id)).then(
      (found) =>
        q.guarded('page-in', () => {
          this.loading = false;
          for (const entry of q.isDeleted() ? [] : batch) this.loaded(entry, found.get(entry.msg.id));
          this.runLoadWaiters();
          q.dispatch();
        }),
      (err: unknown) => {
        q.host.logger.error(
          { err, queue: q.name, vhost: q.host.name },
          'reading paged-out messages failed; retrying',
        );
        setTimeout(
          () =>
            q.guarded('page-in retry', () => {
              this.loading = false;
              this.pageIn();
            }),
          PAGE_IN_RETRY_MS,
        ).unref();
      },
    );
  }

  /** The queue is deleted, or nothing is left on disk: every basic.get waiting on a read may go on. */
  runLoadWaiters(): void {
    const waiters = this.loadWaiters;
    if (waiters.length === 0) return;
    this.loadWaiters = [];
    for (const fn of waiters) fn();
  }

  /**
   * Whether `entry`, dying, must wait to be dead-lettered: its body is on disk, or earlier dead letters are
   * still being read. If so it is queued behind them (and released once dead-lettered); if not, the caller
   * dead-letters it now.
   */
  deadLetterLater(entry: QueueEntry, reason: DeathReason): boolean {
    if (!entry.msg.paged && !this.deadLoading && this.deadPending.length === 0) return false;
    this.deadPending.push({ entry, reason });
    this.readDeadLetters();
    return true;
  }

  private loaded(entry: QueueEntry, stored: StoredMessage | undefined): void {
    const q = this.q;
    // Gone while reading (purged, expired, dropped by max-length): nothing to load.
    if (!entry.inReady || !entry.msg.paged) return;
    if (stored !== undefined) {
      const msg = Message.fromStored(stored);
      msg.refs = 1;
      q.host.memory.add(msg);
      q.ready.loaded(entry, msg);
      return;
    }
    q.host.logger.error(
      { queue: q.name, vhost: q.host.name, id: entry.msg.id },
      'a paged-out message is missing from the store; dropped',
    );
    q.ready.remove(entry);
    q.release(entry);
  }

  /** Dead-letters the waiting entries in order, reading the paged-out bodies among them in one go. */
  private readDeadLetters(): void {
    const q = this.q;
    if (this.deadLoading || this.deadPending.length === 0) return;
    const batch = this.deadPending.splice(0, PAGE_IN_BATCH);
    const ids = batch.filter((d) => d.entry.msg.paged).map((d) => d.entry.msg.id);
    this.deadLoading = true;
    const done = (found: Map<number, StoredMessage>): void => {
      this.deadLoading = false;
      for (const { entry, reason } of batch) {
        const stored = entry.msg.paged ? found.get(entry.msg.id) : undefined;
        const msg = entry.msg.paged
          ? stored === undefined
            ? undefined
            : Message.fromStored(stored)
          : entry.msg;
        if (msg !== undefined && !q.isDeleted()) q.deadLetter(msg, reason);
        q.release(entry);
      }
      this.readDeadLetters();
    };
    q.host.persistence.read(ids).then(
      (found) => q.guarded('dead-letter read', () => done(found)),
      (err: unknown) => {
        q.host.logger.error({ err, queue: q.name }, 'reading paged-out messages to dead-letter failed');
        q.guarded('dead-letter read', () => done(new Map()));
      },
    );
  }
}
