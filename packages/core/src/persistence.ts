import type { Message } from './message';
import type { QueueEntry } from './queue-entry';
import {
  queueKey,
  topologyKey,
  type MessageStore,
  type StoredMessage,
  type StoreOp,
  type TopologyRecord,
} from './store';

/**
 * Gathers every store operation of one event-loop turn into one batch (group commit): the store sees one
 * `write` per turn, a journal makes that one write + one fsync, and the confirms and receipts waiting on the
 * batch are released together when it is durable.
 */
export class Persistence {
  private ops: StoreOp[] = [];
  private waiting: (() => void)[] = [];
  /** This turn's holds: work elsewhere (a cluster's PubAcks) its confirms wait for besides the store. */
  private holds: Promise<unknown>[] = [];
  /**
   * Settles when the newest batch that waited on a hold, or came after one, has released its waiters; undefined
   * when none is outstanding (then batches go straight to the store, as on a single node).
   */
  private heldTail: Promise<void> | undefined = undefined;
  private scheduled = false;
  private inFlight = 0;
  /** Waiters of the newest batch handed to the store; stores complete batches in order. */
  private lastWaiting: (() => void)[] = [];
  /** Increments each time a batch is handed to the store; lets callers tell batches apart. */
  batchId = 0;

  constructor(
    private readonly store: MessageStore,
    /** Hears what a waiter threw (callers guard their own; this is the last line). */
    private readonly onCallbackError: (err: unknown) => void = () => {},
  ) {}

  /** Whether queues may keep persistent messages on disk only: the store can read them back. */
  get canPage(): boolean {
    return this.store.read !== undefined;
  }

  /** Reads messages back from the store (paged-out ones). This turn's operations go to the store first. */
  read(ids: readonly number[]): Promise<Map<number, StoredMessage>> {
    if (this.store.read === undefined) return Promise.resolve(new Map());
    this.writeNow();
    return this.store.read(ids);
  }

  put(record: TopologyRecord): void {
    this.push({ op: 'put', key: topologyKey(record), record });
  }

  delete(record: TopologyRecord): void {
    this.push({ op: 'delete', key: topologyKey(record) });
  }

  enqueue(entry: QueueEntry): void {
    this.enqueueKeyed(queueKey(entry.queue.vhost.name, entry.queue.name), entry.msg);
  }

  /** `enqueue` by queue key, for a queue that keeps no entry object per message (a stream). */
  enqueueKeyed(queue: string, msg: Message): void {
    this.push({ op: 'enqueue', queue, id: msg.id, message: this.firstWrite(msg) });
  }

  settle(entry: QueueEntry): void {
    this.settleKeyed(queueKey(entry.queue.vhost.name, entry.queue.name), entry.msg.id);
  }

  settleKeyed(queue: string, id: number): void {
    this.push({ op: 'settle', queue, id });
  }

  /** Only the first delivery is recorded; later ones change nothing a restart needs to know. */
  delivered(entry: QueueEntry): void {
    if (entry.deliveryCount !== 1 || !entry.queue.stores(entry.msg)) return;
    this.push({
      op: 'delivered',
      queue: queueKey(entry.queue.vhost.name, entry.queue.name),
      id: entry.msg.id,
    });
  }

  dropQueue(vhost: string, name: string): void {
    this.push({ op: 'drop-queue', queue: queueKey(vhost, name) });
  }

  /**
   * Makes this turn's batch wait for `work` as well as for the store: its confirms and receipts go out once both
   * are done (a replicated queue holds a turn until the cluster acknowledged its messages). Batches still release
   * their waiters in order. A rejected hold counts as done: whoever holds handles its own failure (retries).
   */
  hold(work: Promise<unknown>): void {
    this.holds.push(work);
    this.schedule();
  }

  /** Whether operations are waiting for this turn's batch. */
  get pending(): boolean {
    return this.ops.length > 0 || this.holds.length > 0;
  }

  /** Calls `fn` once everything recorded so far (including this turn) is durable. */
  afterSync(fn: () => void): void {
    if (!this.pending && this.inFlight === 0) {
      queueMicrotask(() => {
        try {
          fn();
        } catch (err) {
          this.onCallbackError(err);
        }
      });
      return;
    }
    // Nothing new this turn: durable once the newest batch already handed out is.
    (this.pending ? this.waiting : this.lastWaiting).push(fn);
  }

  /** Resolves when every batch handed out so far is durable. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.writeNow();
      this.afterSync(resolve);
    });
  }

  private firstWrite(msg: Message) {
    if (msg.stored) return undefined;
    msg.stored = true;
    return {
      id: msg.id,
      exchange: msg.exchange,
      routingKey: msg.routingKey,
      properties: msg.properties,
      body: msg.body,
    };
  }

  private push(op: StoreOp): void {
    this.ops.push(op);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      // A microtask runs after the current socket 'data' handler: the whole chunk's work is one batch.
      queueMicrotask(() => this.writeNow());
    }
  }

  private writeNow(): void {
    this.scheduled = false;
    if (!this.pending) return;
    const ops = this.ops;
    const waiting = this.waiting;
    const holds = this.holds;
    this.ops = [];
    this.waiting = [];
    this.holds = [];
    this.lastWaiting = waiting;
    this.batchId++;
    this.inFlight++;
    const release = (): void => {
      this.inFlight--;
      // Each waiter is some client's confirm or receipt: one that throws must not cost the others theirs.
      for (const fn of waiting) {
        try {
          fn();
        } catch (err) {
          this.onCallbackError(err);
        }
      }
    };
    if (holds.length === 0 && this.heldTail === undefined) {
      this.store.write(ops, release);
      return;
    }
    // Behind a hold: the store and the holds may finish in any order, the waiters still leave in batch order.
    const written =
      ops.length === 0 ? undefined : new Promise<void>((resolve) => this.store.write(ops, resolve));
    const tail: Promise<void> = Promise.all([this.heldTail, written, Promise.allSettled(holds)]).then(() => {
      if (this.heldTail === tail) this.heldTail = undefined;
      release();
    });
    this.heldTail = tail;
  }
}
