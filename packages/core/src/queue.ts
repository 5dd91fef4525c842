import type { Consumer } from './consumer';
import { deadLetterMessage, type DeathReason } from './dead-letter';
import { describe, WarrenError } from './errors';
import type { FieldTable } from './field-table';
import { Message } from './message';
import type { QueueSettings } from './queue-arguments';
import { QueueEntry } from './queue-entry';
import { QueueBacklog } from './queue-backlog';
import { ReadyList } from './ready-list';
import type { QueueHost } from './queue-host';

/** How far past the head dispatch looks for a message a filtered consumer accepts (bounds the cost). */
const SELECTOR_SCAN_LIMIT = 1000;

export interface QueueOptions {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

/** Who owns an exclusive queue: a connection. */
export interface QueueOwner {
  readonly id: number;
  /** The queue is gone (deleted, expired, auto-deleted) before its owner: the owner stops counting it. */
  forgetQueue(q: Queue): void;
}

/**
 * A classic queue: a ready list (per priority level when x-max-priority is set), consumers served
 * round-robin within the highest priority that has credit, and the RabbitMQ queue arguments.
 * Unacked deliveries are held by their channels; the queue counts them.
 */
export class Queue {
  readonly kind = 'queue';
  readonly ready: ReadyList;
  readonly consumers: Consumer[] = [];
  /** Entries handed out and not yet settled (held by channels). */
  unackedCount = 0;
  deleted = false;
  /** The ready messages the delete dropped (delete-ok's count), once deleted. */
  droppedOnDelete = 0;
  /** The vhost's routing-walk mark (see Vhost.route); not queue state. */
  routeEpoch = 0;
  /** Bindings in which this queue is the destination (kept for deletion and listing). */
  readonly bindings = new Set<import('./exchanges/exchange').Binding>();
  /** Totals for the management API and metrics. */
  readonly stats = { published: 0, delivered: 0, acked: 0, redelivered: 0, deadLettered: 0, expired: 0 };

  private seq = 0;
  private rr = 0;
  /** Consumers with a filter; while there are any, dispatch may look past the head. */
  private filtered = 0;
  /** The highest x-priority among the consumers: a scan that finds a consumer with credit at it can stop. */
  private topPriority = -Infinity;
  private hadConsumer = false;
  private dispatching = false;
  private dispatchScheduled = false;
  private expiryTimer: NodeJS.Timeout | undefined = undefined;
  private expiryAt = 0;
  private unusedTimer: NodeJS.Timeout | undefined = undefined;
  /** What waits on disk, and the store reads that bring it back. */
  private readonly backlog: QueueBacklog;

  constructor(
    /** Where the queue lives (its vhost): the only way it reaches the rest of the broker. */
    readonly vhost: QueueHost,
    readonly name: string,
    readonly options: QueueOptions,
    readonly settings: QueueSettings,
    /** The connection owning an exclusive queue. */
    readonly owner: QueueOwner | undefined,
  ) {
    this.ready = new ReadyList(settings.maxPriority, (seq, id, size, priority, expiresAt, deliveries) => {
      const stub = Message.pagedOut(id, size, priority);
      stub.refs = 1;
      const entry = new QueueEntry(this, stub, seq, expiresAt);
      entry.deliveryCount = deliveries;
      return entry;
    });
    this.backlog = new QueueBacklog({
      name,
      host: vhost,
      ready: this.ready,
      isDeleted: () => this.deleted,
      residentBudget: () => this.residentBudget,
      release: (e) => this.release(e),
      dispatch: () => this.dispatch(),
      deadLetter: (msg, reason) => this.deadLetterNew(msg, reason),
      guarded: (what, fn) => this.guarded(what, fn),
    });
    this.touch();
  }

  get durable(): boolean {
    return this.options.durable;
  }

  get messageCount(): number {
    return this.ready.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /** Whether persistent messages in this queue go to the store. */
  get persists(): boolean {
    return this.options.durable;
  }

  /**
   * Whether `msg` goes to the store while this queue holds it: a persistent message in a durable queue, and
   * every message in a quorum queue (whose log keeps all, whatever their delivery mode, as RabbitMQ's does).
   */
  stores(msg: Message): boolean {
    return this.options.durable && (msg.persistent || this.settings.type !== 'classic');
  }

  /**
   * Headers this queue adds to one delivery, or undefined: a quorum queue's x-delivery-count (the times the
   * message was handed out before), as RabbitMQ's quorum queues set it.
   */
  deliveryHeaders(entry: QueueEntry): FieldTable | undefined {
    if (this.settings.type === 'quorum' && entry.deliveryCount > 1) {
      return { 'x-delivery-count': entry.deliveryCount - 1 };
    }
    return undefined;
  }

  get where(): string {
    return describe('queue', this.name, this.vhost.name);
  }

  /**
   * Accepts a routed message. Returns false when x-overflow=reject-publish(-dlx) refuses it (the publisher
   * gets a nack if it asked for confirms).
   */
  enqueue(msg: Message): boolean {
    const s = this.settings;
    if (s.overflow !== 'drop-head' && this.isFull(msg)) {
      if (s.overflow === 'reject-publish-dlx') this.deadLetterNew(msg, 'maxlen');
      return false;
    }
    const now = this.vhost.now();
    let ttl = s.messageTtl ?? -1;
    if (msg.ttl >= 0 && (ttl < 0 || msg.ttl < ttl)) ttl = msg.ttl;
    const entry = new QueueEntry(this, msg, ++this.seq, ttl >= 0 ? now + ttl : 0);
    this.hold(entry);
    this.stats.published++;

    // An idle consumer takes it at once, before TTL or length limits apply: RabbitMQ's x-message-ttl=0
    // means "deliver now or never".
    if (this.ready.length === 0 && !this.dispatching) {
      const consumer = this.pickConsumer(msg);
      if (consumer !== undefined) {
        this.deliverTo(consumer, entry);
        return true;
      }
    }
    if (this.overBudget(msg)) this.backlog.pageOut(entry);
    else this.ready.push(entry);
    this.enforceMaxLength();
    this.dispatch();
    return true;
  }

  addConsumer(consumer: Consumer): void {
    if (this.consumers.some((c) => c.exclusive) || (consumer.exclusive && this.consumers.length > 0)) {
      throw new WarrenError('ACCESS_REFUSED', `${this.where} in exclusive use`);
    }
    this.consumers.push(consumer);
    if (consumer.accepts !== undefined) this.filtered++;
    if (consumer.priority > this.topPriority) this.topPriority = consumer.priority;
    this.hadConsumer = true;
    this.clearUnusedTimer();
    this.dispatch();
  }

  /** Removes a consumer; its unacked deliveries stay with its channel. May auto-delete the queue. */
  removeConsumer(consumer: Consumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (consumer.accepts !== undefined) this.filtered--;
    if (consumer.priority === this.topPriority) {
      this.topPriority = this.consumers.reduce((top, c) => Math.max(top, c.priority), -Infinity);
    }
    consumer.cancelled = true;
    if (this.rr > i) this.rr--;
    if (this.consumers.length === 0) {
      if (this.options.autoDelete && this.hadConsumer) {
        this.vhost.removeQueue(this);
        return;
      }
      this.touch();
    } else {
      // Under single-active-consumer the next consumer becomes active and must get the backlog.
      this.dispatch();
    }
  }

  /**
   * Whether the next message is paged out: basic.get must wait (`whenHeadLoaded`) before `take` can hand it
   * out. Heads past their TTL leave first (as `take` would drop them), so the answer is about the message
   * `take` would hand out, not an expired one in front of it.
   */
  get headPaged(): boolean {
    this.expireDue(this.vhost.now());
    return this.ready.headPaged;
  }

  /** Calls `fn` once the read of paged-out messages under way (or started now) is done. */
  whenHeadLoaded(fn: () => void): void {
    this.backlog.whenHeadLoaded(fn);
  }

  /** basic.get: the next live message, or undefined. The caller tracks or settles it. */
  take(): QueueEntry | undefined {
    if (this.headPaged) throw new Error('take() while the head is paged out; wait for whenHeadLoaded');
    this.touch();
    const entry = this.shiftLive(this.vhost.now());
    if (entry !== undefined) {
      entry.deliveryCount++;
      if (entry.deliveryCount > 1) this.stats.redelivered++;
      this.stats.delivered++;
      this.unackedCount++;
      this.vhost.persistence.delivered(entry);
    }
    this.backlog.prefetch();
    this.armExpiry();
    return entry;
  }

  /** Delivers what it can: ready messages to consumers with credit. Safe to call at any time. */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      const now = this.vhost.now();
      let budget = this.vhost.limits.dispatchBatch;
      while (this.ready.length > 0) {
        this.expireDue(now);
        if (this.ready.headPaged) {
          this.backlog.pageIn();
          break;
        }
        const head = this.ready.peek();
        if (head === undefined) break;
        let consumer = this.pickConsumer(head.msg);
        let entry: QueueEntry | undefined;
        if (consumer !== undefined) entry = this.ready.shift();
        else if (this.filtered > 0) {
          // Nobody with credit wants the head, but a filtered consumer may want a later message.
          const found = this.ready.takeFirstTaken(SELECTOR_SCAN_LIMIT, (e) => this.pickConsumer(e.msg));
          if (found !== undefined) [entry, consumer] = found;
        }
        if (entry === undefined || consumer === undefined) break;
        this.deliverTo(consumer, entry);
        if (--budget === 0) {
          // Yield to I/O so one deep queue cannot starve every socket; carry on next turn.
          if (this.ready.length > 0) this.scheduleDispatch();
          break;
        }
      }
      this.expireDue(now);
    } finally {
      this.dispatching = false;
    }
    this.backlog.prefetch();
    this.armExpiry();
  }

  /** Throws when this queue does not take back deliveries a client returns (see refuseReturns); this one does. */
  refuseReturn(_what: string): void {}

  /** Settles an unacked entry for good (ack, or reject without dead-letter exchange). */
  settle(entry: QueueEntry): void {
    this.unackedCount--;
    this.stats.acked++;
    this.release(entry);
  }

  /**
   * Puts an unacked entry back at its original position, marked redelivered; past a quorum queue's
   * x-delivery-limit it is dead-lettered instead (reason delivery_limit), so a poison message cannot cycle.
   */
  requeue(entry: QueueEntry): void {
    this.unackedCount--;
    entry.tag = 0;
    entry.consumer = undefined;
    if (this.deleted) return this.release(entry);
    const limit = this.settings.deliveryLimit;
    if (limit !== undefined && entry.deliveryCount > limit) return this.deadLetter(entry, 'delivery_limit');
    this.ready.requeue(entry);
    this.enforceMaxLength();
  }

  /** Rejected without requeue: to the dead-letter exchange if there is one, else dropped. */
  reject(entry: QueueEntry): void {
    this.unackedCount--;
    this.deadLetter(entry, 'rejected');
  }

  /**
   * Drops the ready messages and says how many. A queue whose messages live elsewhere (a cluster's stream)
   * answers with a promise: purge-ok waits for it, and the channel's next frames wait with it.
   */
  purge(): number | Promise<number> {
    const count = this.ready.drain((e) => this.release(e));
    this.armExpiry();
    return count;
  }

  /** Called by the vhost when the queue is deleted: consumers are told, ready messages released. */
  destroy(notifyConsumers: boolean): number {
    this.deleted = true;
    this.clearUnusedTimer();
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    const count = this.ready.drain((e) => this.release(e));
    this.backlog.runLoadWaiters();
    for (const c of this.consumers.splice(0)) {
      c.cancelled = true;
      c.channel.forgetConsumer(c);
      if (notifyConsumers) c.sink.cancelledByBroker(c);
    }
    return count;
  }

  /** Resets the x-expires clock: a redeclare, a basic.get, or the last consumer leaving. */
  touch(): void {
    const expires = this.settings.expires;
    if (expires === undefined || this.deleted || this.consumers.length > 0) return;
    this.clearUnusedTimer();
    this.unusedTimer = setTimeout(
      () =>
        this.guarded('x-expires', () => {
          if (this.consumers.length === 0 && !this.deleted) this.vhost.removeQueue(this);
        }),
      expires,
    );
    this.unusedTimer.unref();
  }

  /** Restores a message from the store at startup, in order, without writing it again. */
  restore(msg: Message, delivered: boolean): void {
    const entry = new QueueEntry(this, msg, ++this.seq, this.restoredExpiry());
    entry.deliveryCount = delivered ? 1 : 0;
    if (msg.refs++ === 0) this.vhost.memory.add(msg);
    this.ready.push(entry);
  }

  /**
   * Restores, in order, a message the store left on disk: the queue holds only its id, size and priority
   * (in a ReadyList block, no object) until it reads the message back.
   */
  restorePaged(id: number, size: number, priority: number, delivered: boolean): void {
    this.ready.pushPaged(++this.seq, id, size, priority, this.restoredExpiry(), delivered ? 1 : 0);
  }

  /**
   * The queue's TTL, counted from the restart; a message's own `expiration` is not applied again (a paged-out
   * one's properties are not even read at restart).
   */
  private restoredExpiry(): number {
    const ttl = this.settings.messageTtl ?? -1;
    return ttl >= 0 ? this.vhost.now() + ttl : 0;
  }

  /** Bytes of ready messages this queue keeps in memory before it pages persistent ones out; 0 for never. */
  get residentBudget(): number {
    const persistence = this.vhost.persistence;
    return this.persists && persistence.canPage ? this.vhost.limits.queueResidentBytes : 0;
  }

  /**
   * Whether a new ready message goes to disk only: a persistent message in a durable queue over its budget,
   * or any while older ones wait on disk (later arrivals queue behind them there).
   */
  private overBudget(msg: Message): boolean {
    if (!this.stores(msg)) return false;
    const budget = this.residentBudget;
    return budget > 0 && (this.ready.pagedCount > 0 || this.ready.residentBytes + msg.size > budget);
  }

  private deliverTo(consumer: Consumer, entry: QueueEntry): void {
    entry.deliveryCount++;
    if (entry.deliveryCount > 1) this.stats.redelivered++;
    this.stats.delivered++;
    consumer.delivered++;
    this.unackedCount++;
    this.vhost.persistence.delivered(entry);
    consumer.channel.deliver(consumer, entry);
  }

  /**
   * The consumer for the next message: under single-active-consumer only the first; otherwise round-robin
   * among the highest-priority consumers that have credit.
   */
  private pickConsumer(msg: Message): Consumer | undefined {
    const list = this.consumers;
    const n = list.length;
    if (n === 0) return undefined;
    if (this.settings.singleActiveConsumer) {
      const active = list[0] as Consumer;
      return active.hasCredit() && (active.accepts === undefined || active.accepts(msg)) ? active : undefined;
    }
    // Round-robin among the highest-priority consumers with credit. The walk stops at the first one with
    // credit at the top priority, so with equal priorities (the usual case) it costs one step per busy consumer
    // skipped, not one per consumer.
    let best: Consumer | undefined;
    let bestIndex = -1;
    const top = this.topPriority;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const c = list[i] as Consumer;
      if (
        (best === undefined || c.priority > best.priority) &&
        c.hasCredit() &&
        (c.accepts === undefined || c.accepts(msg))
      ) {
        best = c;
        bestIndex = i;
        if (c.priority === top) break;
      }
    }
    if (best !== undefined) this.rr = (bestIndex + 1) % n;
    return best;
  }

  private isFull(msg: Message): boolean {
    const { maxLength, maxLengthBytes } = this.settings;
    return (
      (maxLength !== undefined && this.ready.length >= maxLength) ||
      (maxLengthBytes !== undefined && this.ready.bytes + msg.size > maxLengthBytes)
    );
  }

  /** x-overflow=drop-head: oldest ready messages go (dead-lettered with reason maxlen) until within bounds. */
  private enforceMaxLength(): void {
    const { maxLength, maxLengthBytes } = this.settings;
    if (maxLength === undefined && maxLengthBytes === undefined) return;
    while (
      this.ready.length > 0 &&
      ((maxLength !== undefined && this.ready.length > maxLength) ||
        (maxLengthBytes !== undefined && this.ready.bytes > maxLengthBytes))
    ) {
      this.deadLetter(this.ready.shift() as QueueEntry, 'maxlen');
    }
  }

  /** The next ready entry that has not expired; expired heads on the way are dead-lettered. */
  private shiftLive(now: number): QueueEntry | undefined {
    for (;;) {
      const expired = this.ready.shiftExpired(now);
      if (expired === undefined) break;
      this.stats.expired++;
      this.deadLetter(expired, 'expired');
    }
    return this.ready.shift();
  }

  private expireDue(now: number): void {
    for (;;) {
      const expired = this.ready.shiftExpired(now);
      if (expired === undefined) return;
      this.stats.expired++;
      this.deadLetter(expired, 'expired');
    }
  }

  /** Keeps one timer for the earliest head expiry, so expired messages leave even when nobody consumes. */
  private armExpiry(): void {
    if (this.deleted) return;
    const at = this.ready.nextExpiry();
    if (at === 0 || (this.expiryTimer !== undefined && this.expiryAt <= at)) return;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryAt = at;
    this.expiryTimer = setTimeout(
      () =>
        this.guarded('expiry', () => {
          this.expiryTimer = undefined;
          this.dispatch();
        }),
      Math.max(0, at - this.vhost.now()),
    );
    this.expiryTimer.unref();
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() =>
      this.guarded('dispatch', () => {
        this.dispatchScheduled = false;
        this.dispatch();
      }),
    );
  }

  private deadLetter(entry: QueueEntry, reason: DeathReason): void {
    // With a dead-letter exchange, a body on disk (or one behind such) is read back first, in order.
    if (this.settings.deadLetterExchange !== undefined && this.backlog.deadLetterLater(entry, reason)) return;
    this.deadLetterNew(entry.msg, reason);
    this.release(entry);
  }

  /**
   * Dead-letters run inside whoever moved the message (an expiry timer, another client's ack or publish), so a
   * failure here is contained: the dead letter is dropped and logged rather than thrown into that caller.
   */
  protected deadLetterNew(msg: Message, reason: DeathReason): void {
    const dlx = this.settings.deadLetterExchange;
    const deaths = this.vhost.deadLettered;
    (dlx === undefined ? deaths.disabled : deaths.atMostOnce)[reason]++;
    if (dlx === undefined) return;
    this.stats.deadLettered++;
    const now = this.vhost.now();
    try {
      const dead = deadLetterMessage(msg, this.name, reason, dlx, this.settings.deadLetterRoutingKey, now);
      this.vhost.publishDeadLetter(dead);
    } catch (err) {
      this.vhost.queueFault();
      this.vhost.logger.error(
        { err, queue: this.name, vhost: this.vhost.name, reason },
        'dead-lettering a message failed; it is dropped',
      );
    }
  }

  /**
   * Runs one of this queue's own callbacks (a timer, a deferred dispatch, a store read coming back). Nothing it
   * throws may reach the event loop, where it would end the process for every client: it is logged and counted
   * and the queue carries on. Deliveries inside it are guarded per connection already (Channel.deliver).
   */
  protected guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.vhost.queueFault();
      this.vhost.logger.error(
        { err, queue: this.name, vhost: this.vhost.name, callback: what },
        'a queue callback failed',
      );
    }
  }

  private hold(entry: QueueEntry): void {
    if (entry.msg.refs++ === 0) this.vhost.memory.add(entry.msg);
    if (this.stores(entry.msg)) this.vhost.persistence.enqueue(entry);
  }

  /**
   * Takes in a message whose safekeeping is elsewhere (a replicated queue's stream, which counts it as
   * published already): it joins the ready list behind the others with `deliveredBefore` deliveries on record,
   * so the next one is flagged redelivered when that is above 0. `publishedAt` (ms) starts its TTL clock
   * (x-message-ttl, its own expiration): one already past it is dead-lettered as expired, not delivered.
   */
  protected admit(
    msg: Message,
    deliveredBefore: number,
    publishedAt: number,
    admitted?: (entry: QueueEntry) => void,
  ): QueueEntry {
    let ttl = this.settings.messageTtl ?? -1;
    if (msg.ttl >= 0 && (ttl < 0 || msg.ttl < ttl)) ttl = msg.ttl;
    const entry = new QueueEntry(this, msg, ++this.seq, ttl >= 0 ? publishedAt + ttl : 0);
    entry.deliveryCount = deliveredBefore;
    this.hold(entry);
    // Before the dispatch: it may deliver the entry, and a no-ack delivery releases it at once.
    admitted?.(entry);
    this.ready.push(entry);
    this.dispatch();
    return entry;
  }

  /** The entry leaves this queue for good: store record settled, memory released with the last reference. */
  protected release(entry: QueueEntry): void {
    const msg = entry.msg;
    if (this.stores(msg) && !this.deleted) this.vhost.persistence.settle(entry);
    if (--msg.refs === 0) this.vhost.memory.remove(msg);
  }

  private clearUnusedTimer(): void {
    if (this.unusedTimer !== undefined) clearTimeout(this.unusedTimer);
    this.unusedTimer = undefined;
  }
}
