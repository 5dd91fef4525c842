import { randomBytes } from 'node:crypto';
import { ChannelAccess } from './channel-access';
import { ChannelClaims } from './channel-claims';
import { ConfirmTracker, type ConfirmSink } from './confirm-tracker';
import type { Connection } from './connection';
import { Consumer, type ConsumeOptions, type ConsumerSink } from './consumer';
import { checkConsumerArguments } from './consumer-arguments';
import { UntranslatableMessage, WarrenError } from './errors';
import type { Exchange, ExchangeOptions } from './exchanges/exchange';
import { fieldInteger, type FieldTable } from './field-table';
import type { Message } from './message';
import type { Queue, QueueOptions } from './queue';
import type { QueueEntry } from './queue-entry';
import { queueNameFor, serverName } from './topology-authority';
import { Transaction, TransactionBudget, type SettleKind, type TransactionTarget } from './transaction';
import type { PublishResult, Vhost } from './vhost';

/** Implemented by a protocol: what a channel sends back that is not a reply to a call. */
export interface ChannelEvents {
  /** A mandatory message that reached no queue (AMQP basic.return, 312 NO_ROUTE). */
  returned(msg: Message, replyCode: number, replyText: string): void;
  /** Publisher confirms, in confirm mode. */
  confirmed: ConfirmSink;
  /**
   * The broker closes this channel with a channel error (consumer_timeout): AMQP sends channel.close. Without
   * it the error ends the whole connection (a STOMP session is one channel), as an operator's close does.
   */
  closedByBroker?(err: WarrenError): void;
}

/** Per-channel totals for the management API (the connection and the broker keep the same sums). */
export interface ChannelStats {
  published: number;
  delivered: number;
  acked: number;
  redelivered: number;
}

export interface DeclaredQueue {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface GetResult {
  delivery: QueueEntry;
  /** Ready messages left in the queue. */
  messageCount: number;
}

/**
 * A channel: the unit every protocol session drives (an AMQP channel, a STOMP connection). It checks
 * permissions, numbers deliveries, holds the unacked ones, enforces prefetch, and runs confirms and
 * transactions; the vhost does the routing and the queues the dispatching.
 */
export class Channel implements TransactionTarget {
  readonly unacked = new Map<number, QueueEntry>();
  readonly consumers = new Map<string, Consumer>();
  readonly stats: ChannelStats = { published: 0, delivered: 0, acked: 0, redelivered: 0 };
  closed = false;
  /** channel.flow: false stops deliveries to this channel's consumers. */
  flowActive = true;
  /** Prefetch given to consumers created from now on (basic.qos global=false). */
  consumerPrefetch = 0;
  /** Unacked deliveries allowed across the whole channel (basic.qos global=true); 0 = unlimited. */
  globalPrefetch = 0;
  private nextTag = 0;
  private confirms: ConfirmTracker | undefined = undefined;
  private tx: Transaction | undefined = undefined;
  /** The last queue declared on this channel: AMQP lets an empty queue name mean it. */
  private lastQueue: string | undefined = undefined;
  private readonly result: PublishResult = { routed: 0, rejected: 0 };
  private syncBatch: number[] | undefined = undefined;
  private syncBatchId = -1;

  /** What this channel's user may do (claims check through it too). */
  readonly access: ChannelAccess;
  /** The topology operations as claims, for a broker that may be one node of a cluster. */
  readonly claims = new ChannelClaims(this);

  constructor(
    readonly connection: Connection,
    readonly id: number,
    private readonly events: ChannelEvents,
  ) {
    this.access = new ChannelAccess(connection.user.name, connection.vhost);
  }

  get vhost(): Vhost {
    return this.connection.vhost;
  }

  get confirmMode(): boolean {
    return this.confirms !== undefined;
  }

  get transactional(): boolean {
    return this.tx !== undefined;
  }

  // ---- flow control (read by consumers) -----------------------------------------------------------------

  isFlowing(): boolean {
    return !this.closed && this.flowActive && this.connection.writable;
  }

  hasGlobalCredit(): boolean {
    return this.globalPrefetch === 0 || this.unacked.size < this.globalPrefetch;
  }

  /** channel.flow: pauses or resumes deliveries to this channel's consumers. */
  flow(active: boolean): void {
    this.flowActive = active;
    if (active) this.kick();
  }

  /** Re-runs dispatch on every queue this channel consumes from (credit or writability came back). */
  kick(): void {
    for (const c of this.consumers.values()) c.queue.dispatch();
  }

  // ---- exchanges ------------------------------------------------------------------------------------

  exchangeDeclare(name: string, type: string, options: ExchangeOptions, passive = false): Exchange {
    if (!passive) this.access.check('configure', 'exchange', name);
    return this.vhost.declareExchange(name, type, options, passive);
  }

  exchangeDelete(name: string, ifUnused = false): void {
    this.access.check('configure', 'exchange', name);
    this.vhost.deleteExchange(name, ifUnused);
  }

  exchangeBind(destination: string, source: string, routingKey: string, args: FieldTable = {}): void {
    this.access.checkExchangeBind(destination, source, routingKey);
    this.vhost.bind(source, this.vhost.getExchange(destination), routingKey, args);
  }

  exchangeUnbind(destination: string, source: string, routingKey: string, args: FieldTable = {}): void {
    this.access.checkExchangeBind(destination, source, routingKey);
    const d = this.vhost.exchanges.get(destination);
    if (d !== undefined) this.vhost.unbind(source, d, routingKey, args);
  }

  // ---- queues ---------------------------------------------------------------------------------------

  /** queue.declare; an empty name asks for a server-named queue (amq.gen-...). */
  queueDeclare(name: string, options: QueueOptions, passive = false): DeclaredQueue {
    const queueName = queueNameFor(name, options.arguments, passive);
    this.checkQueueDeclare(queueName, options, passive);
    const q = this.vhost.declareQueue(queueName, options, this.connection, passive);
    if (options.exclusive && !passive && q.owner === this.connection) this.connection.ownQueue(q);
    this.lastQueue = q.name;
    return { queue: q.name, messageCount: q.messageCount, consumerCount: q.consumerCount };
  }

  /** queue.declare's checks of this channel's rights and room (claims.queueDeclare runs them too). */
  checkQueueDeclare(queueName: string, options: QueueOptions, passive: boolean): void {
    if (!passive) this.access.check('configure', 'queue', queueName);
    if (options.exclusive && !passive && !this.vhost.queues.has(queueName)) this.checkQueueRoom();
  }

  /**
   * Direct reply-to (RabbitMQ's amq.rabbitmq.reply-to): a private queue for this connection's replies, named
   * amq.rabbitmq.reply-to.<random>, gone with the connection. Replies reach it through the default exchange.
   * In a cluster the name carries this node's (amq.rabbitmq.reply-to.<node, base64url>.<random>), as
   * RabbitMQ's carries its node, so a reply sent through another node finds its way here.
   */
  declareReplyQueue(): string {
    this.checkQueueRoom();
    const node = this.vhost.broker.topologyAuthority !== undefined ? this.vhost.broker.nodeName : undefined;
    const home = node !== undefined ? `${Buffer.from(node).toString('base64url')}.` : '';
    const name = REPLY_TO_PREFIX + home + randomBytes(16).toString('base64url');
    const q = this.vhost.declareQueue(
      name,
      { durable: false, exclusive: true, autoDelete: true, arguments: {} },
      this.connection,
      false,
      true,
    );
    this.connection.ownQueue(q);
    return name;
  }

  queueBind(queue: string, exchange: string, routingKey: string, args: FieldTable = {}): void {
    const name = this.resolveQueue(queue);
    // AMQP: an empty queue name and an empty routing key both mean the last declared queue.
    const key = queue === '' && routingKey === '' ? name : routingKey;
    this.access.checkQueueBind(name, exchange, key);
    this.vhost.bind(exchange, this.vhost.useQueue(name, this.connection), key, args);
  }

  queueUnbind(queue: string, exchange: string, routingKey: string, args: FieldTable = {}): void {
    const name = this.resolveQueue(queue);
    this.access.checkQueueBind(name, exchange, routingKey);
    this.vhost.unbind(exchange, this.vhost.useQueue(name, this.connection), routingKey, args);
  }

  queuePurge(queue: string): number | Promise<number> {
    const name = this.resolveQueue(queue);
    this.access.check('read', 'queue', name);
    return this.vhost.useQueue(name, this.connection).purge();
  }

  queueDelete(queue: string, ifUnused = false, ifEmpty = false): number {
    const name = this.resolveQueue(queue);
    this.access.check('configure', 'queue', name);
    return this.vhost.deleteQueue(name, this.connection, ifUnused, ifEmpty);
  }

  // ---- consuming ------------------------------------------------------------------------------------

  /** basic.qos. prefetch-size is not supported by RabbitMQ either; the protocol refuses it before here. */
  qos(prefetchCount: number, global: boolean): void {
    if (global) this.globalPrefetch = prefetchCount;
    else this.consumerPrefetch = prefetchCount;
    this.kick();
  }

  consume(queue: string, options: ConsumeOptions, sink: ConsumerSink): Consumer {
    const name = this.resolveQueue(queue);
    this.access.check('read', 'queue', name);
    const q = this.vhost.useQueue(name, this.connection);
    const tag =
      options.consumerTag !== undefined && options.consumerTag !== ''
        ? options.consumerTag
        : serverName('amq.ctag-');
    if (this.consumers.has(tag))
      throw new WarrenError('NOT_ALLOWED', `attempt to reuse consumer tag '${tag}'`);
    if (this.consumers.size >= this.vhost.broker.limits.maxConsumersPerChannel) {
      throw new WarrenError('RESOURCE_ERROR', `too many consumers on channel ${this.id}`);
    }
    const args = options.arguments ?? {};
    checkConsumerArguments(q.settings.type, args, q.where);
    const priority = fieldInteger(args['x-priority']) ?? 0;
    const consumer = new Consumer(
      tag,
      q,
      this,
      options.noAck === true,
      options.exclusive === true,
      priority,
      options.prefetch ?? this.consumerPrefetch,
      args,
      sink,
      options.accepts,
    );
    this.consumers.set(tag, consumer);
    try {
      q.addConsumer(consumer);
    } catch (e) {
      this.consumers.delete(tag);
      throw e;
    }
    return consumer;
  }

  /** basic.cancel. Unknown tags are fine (RabbitMQ answers cancel-ok). Returns whether one was cancelled. */
  cancel(consumerTag: string): boolean {
    const c = this.consumers.get(consumerTag);
    if (c === undefined) return false;
    this.consumers.delete(consumerTag);
    c.queue.removeConsumer(c);
    return true;
  }

  /** Called by a queue being deleted: the consumer is gone without a client cancel. */
  forgetConsumer(c: Consumer): void {
    if (this.consumers.get(c.tag) === c) this.consumers.delete(c.tag);
  }

  /**
   * basic.get. `reply` gets the message, or undefined for an empty queue: at once, unless the queue's next
   * message is paged out, then once it is read back (never if the channel closes meanwhile). Errors (access,
   * a missing queue) are thrown before anything waits.
   */
  get(queue: string, noAck: boolean, reply: (result: GetResult | undefined) => void): void {
    const name = this.resolveQueue(queue);
    this.access.check('read', 'queue', name);
    const q = this.vhost.useQueue(name, this.connection);
    const attempt = (): void => {
      if (this.closed) return;
      if (q.deleted) {
        this.connection.counters.getEmpty++;
        return reply(undefined);
      }
      if (q.headPaged) return q.whenHeadLoaded(attempt);
      const entry = q.take();
      if (entry === undefined) {
        this.connection.counters.getEmpty++;
        return reply(undefined);
      }
      entry.tag = ++this.nextTag;
      this.countDelivery(entry);
      if (noAck) this.connection.counters.deliveredGetAutoAck++;
      else this.connection.counters.deliveredGetManualAck++;
      if (noAck) q.settle(entry);
      else this.unacked.set(entry.tag, entry);
      reply({ delivery: entry, messageCount: q.messageCount });
    };
    attempt();
  }

  /**
   * Called by a queue: hands `entry` to `consumer` with this channel's next delivery tag. The queue runs this
   * inside whoever triggered the dispatch (another client's publish, a timer), so a sink that throws must not
   * unwind into them: see deliveryFailed.
   */
  deliver(consumer: Consumer, entry: QueueEntry): void {
    entry.tag = ++this.nextTag;
    this.countDelivery(entry);
    if (consumer.noAck) {
      this.connection.counters.deliveredConsumeAutoAck++;
      try {
        consumer.sink.deliver(entry, consumer);
      } catch (err) {
        return this.deliveryFailed(entry, err);
      }
      entry.queue.settle(entry);
      return;
    }
    this.connection.counters.deliveredConsumeManualAck++;
    entry.consumer = consumer;
    consumer.unacked++;
    this.unacked.set(entry.tag, entry);
    try {
      consumer.sink.deliver(entry, consumer);
    } catch (err) {
      this.deliveryFailed(entry, err);
    }
  }

  /**
   * A delivery threw on its way to the wire. The message that made it throw is taken to be the cause: it is
   * rejected without requeue (dead-lettered if the queue has a dead-letter exchange, else dropped), so it cannot
   * come back and take down every consumer of the queue in turn. The connection whose sink failed is closed; its
   * other unacked deliveries go back to their queues as on any close.
   */
  private deliveryFailed(entry: QueueEntry, err: unknown): void {
    const broker = this.vhost.broker;
    const where = { connection: this.connection.id, channel: this.id, queue: entry.queue.name };
    if (this.unacked.get(entry.tag) === entry) {
      this.unacked.delete(entry.tag);
      if (entry.consumer !== undefined) entry.consumer.unacked--;
    }
    entry.consumer = undefined;
    if (err instanceof UntranslatableMessage) {
      // The message cannot be said in this consumer's protocol; the consumer itself is fine and carries on.
      broker.counters.untranslatable++;
      broker.logger.warn(
        { ...where, reason: err.message, err: err.cause },
        'a message cannot be delivered over this protocol; rejected',
      );
      entry.queue.reject(entry);
      return;
    }
    broker.counters.deliveryFailures++;
    broker.logger.error(
      { ...where, err },
      'a delivery failed; the message is rejected and the connection closed',
    );
    // The connection goes first, so dead-lettering the message cannot hand anything to the broken sink again.
    this.connection.fault(err);
    entry.queue.reject(entry);
  }

  // ---- acknowledgements -----------------------------------------------------------------------------

  ack(tag: number, multiple = false): void {
    const entries = this.collect(tag, multiple);
    if (this.tx !== undefined) return this.tx.settle(entries, 'ack');
    this.settle(entries, 'ack');
  }

  nack(tag: number, multiple = false, requeue = true): void {
    const entries = this.collect(tag, multiple);
    refuseReturns(entries, 'basic.nack and basic.reject');
    const kind = requeue ? 'requeue' : 'reject';
    if (this.tx !== undefined) return this.tx.settle(entries, kind);
    this.settle(entries, kind);
  }

  reject(tag: number, requeue = true): void {
    this.nack(tag, false, requeue);
  }

  /** basic.recover with requeue=true: every unacked delivery goes back to its queue, redelivered. */
  recover(): void {
    const entries = [...this.unacked.values()];
    refuseReturns(entries, 'basic.recover');
    this.settle(entries, 'requeue');
  }

  /** Applies settlements now (outside a transaction, or at commit). */
  settle(entries: QueueEntry[], kind: SettleKind): void {
    const touched = new Set<Queue>();
    for (const e of entries) {
      if (this.unacked.get(e.tag) !== e) continue;
      this.unacked.delete(e.tag);
      e.settling = false;
      if (e.consumer !== undefined) e.consumer.unacked--;
      if (kind === 'ack') this.countAck();
      if (kind === 'ack') e.queue.settle(e);
      else if (kind === 'requeue') e.queue.requeue(e);
      else e.queue.reject(e);
      touched.add(e.queue);
    }
    for (const q of touched) q.dispatch();
    // Channel-wide prefetch frees credit for every queue this channel consumes from.
    if (this.globalPrefetch > 0) this.kick();
  }

  // ---- publishing -----------------------------------------------------------------------------------

  /**
   * basic.publish. In a transaction the message waits for commit; in confirm mode it is numbered and
   * confirmed once every queue has it (and the store, for a persistent message in a durable queue).
   */
  publish(exchange: string, msg: Message, mandatory = false): void {
    this.access.checkPublish(exchange, msg.routingKey);
    this.countPublish(msg);
    if (this.tx !== undefined) {
      this.vhost.getExchange(exchange); // an unknown exchange fails now, not at commit
      this.tx.publish(exchange, msg, mandatory);
      return;
    }
    const seq = this.confirms === undefined ? 0 : this.confirms.next();
    try {
      this.route(exchange, msg, mandatory, seq);
    } catch (e) {
      if (seq !== 0) this.confirms?.complete(seq, false);
      throw e;
    }
  }

  /**
   * A publish into `tx`, one of a protocol's own transactions (STOMP has any number per session): checked and
   * counted now, as any publish, routed at commit. `mark` comes back from the commit (a receipt to send).
   */
  publishIn<Mark>(tx: Transaction<Mark>, exchange: string, msg: Message, mark?: Mark): void {
    this.access.checkPublish(exchange, msg.routingKey);
    this.countPublish(msg);
    this.vhost.getExchange(exchange); // an unknown exchange fails now, not at commit
    tx.publish(exchange, msg, false, mark);
  }

  /** TransactionTarget: a buffered publish, at commit. */
  publishNow(exchange: string, msg: Message, mandatory: boolean): void {
    // An exchange deleted since the publish makes the message unroutable, as if published now.
    if (this.vhost.exchanges.has(exchange)) this.route(exchange, msg, mandatory, 0);
  }

  /** TransactionTarget: buffered settlements, at commit. */
  settleNow(entries: QueueEntry[], how: SettleKind): void {
    this.settle(entries, how);
  }

  /** RabbitMQ's validated user-id (see ChannelAccess.checkUserId). */
  checkUserId(userId: string | undefined): void {
    this.access.checkUserId(userId);
  }

  /** Routes now; used by publish and by commit. */
  route(exchange: string, msg: Message, mandatory: boolean, seq: number): void {
    const r = this.result;
    this.vhost.publish(exchange, msg, r);
    this.countRouting(r, mandatory);
    if (mandatory && r.routed === 0 && r.rejected === 0) this.events.returned(msg, 312, 'NO_ROUTE');
    if (seq === 0 || this.confirms === undefined) return;
    if (r.rejected > 0) this.confirms.complete(seq, false);
    else if (msg.stored) this.confirmWhenDurable(seq);
    else {
      this.connection.counters.confirmed++;
      this.confirms.complete(seq, true);
    }
  }

  confirmSelect(): void {
    if (this.tx !== undefined) {
      throw new WarrenError('PRECONDITION_FAILED', 'cannot switch from tx to confirm mode');
    }
    this.confirms ??= new ConfirmTracker(this.events.confirmed, (fn) => this.connection.guard(fn));
  }

  // ---- transactions ---------------------------------------------------------------------------------

  txSelect(): void {
    if (this.confirms !== undefined) {
      throw new WarrenError('PRECONDITION_FAILED', 'cannot switch from confirm to tx mode');
    }
    this.tx ??= new Transaction(new TransactionBudget(this.vhost.broker.limits.maxTransactionOps));
  }

  txCommit(): void {
    this.requireTx().commit(this);
  }

  txRollback(): void {
    this.requireTx().rollback();
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  /**
   * The broker closes this channel with a channel error (consumer_timeout: see AckTimeouts). The protocol's
   * closedByBroker does it; without one the error ends the connection, as an operator's close does.
   */
  closeByBroker(err: WarrenError): void {
    if (this.closed) return;
    if (this.events.closedByBroker !== undefined) this.events.closedByBroker(err);
    else this.connection.onForcedClose(err);
  }

  /**
   * Closes the channel: its transaction is dropped, its unacked deliveries go back to their queues at once
   * (a dying worker's messages go to the others: seed 001), its consumers are cancelled.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tx?.rollback();
    const entries = [...this.unacked.values()];
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    this.settle(entries, 'requeue');
    for (const c of consumers) c.queue.removeConsumer(c);
    this.connection.forgetChannel(this);
  }

  // ---- helpers --------------------------------------------------------------------------------------

  private collect(tag: number, multiple: boolean): QueueEntry[] {
    if (multiple) {
      // RabbitMQ: multiple with tag 0 settles everything outstanding; otherwise the tag itself must exist.
      if (tag !== 0 && !this.isOpen(tag)) throw unknownTag(tag);
      const out: QueueEntry[] = [];
      for (const [t, e] of this.unacked) {
        if (tag !== 0 && t > tag) break; // Map order is tag order: tags only grow
        if (!e.settling) out.push(e);
      }
      return out;
    }
    if (!this.isOpen(tag)) throw unknownTag(tag);
    return [this.unacked.get(tag) as QueueEntry];
  }

  private isOpen(tag: number): boolean {
    const e = this.unacked.get(tag);
    return e !== undefined && !e.settling;
  }

  private confirmWhenDurable(seq: number): void {
    const persistence = this.vhost.broker.persistence;
    // One callback per store batch, not per message.
    if (this.syncBatch === undefined || this.syncBatchId !== persistence.batchId) {
      const batch: number[] = [];
      this.syncBatch = batch;
      this.syncBatchId = persistence.batchId;
      persistence.afterSync(() =>
        this.connection.guard(() => {
          if (this.confirms !== undefined) this.connection.counters.confirmed += batch.length;
          for (const s of batch) this.confirms?.complete(s, true);
        }),
      );
    }
    this.syncBatch.push(seq);
  }

  /**
   * A connection's exclusive queues die with it, but while it lives one client could make millions (an RPC
   * client that declares a reply queue per request and never deletes them): maxQueuesPerConnection.
   */
  private checkQueueRoom(): void {
    const max = this.vhost.broker.limits.maxQueuesPerConnection;
    if (this.connection.ownedQueues >= max) {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `cannot declare queue: this connection already holds ${max} exclusive queues (maxQueuesPerConnection)`,
      );
    }
  }

  private requireTx(): Transaction {
    if (this.tx === undefined) throw new WarrenError('PRECONDITION_FAILED', 'channel is not transactional');
    return this.tx;
  }

  /** A queue name as AMQP means it on this channel: the empty name is the last queue declared here. */
  resolveQueue(name: string): string {
    if (name !== '') return name;
    if (this.lastQueue === undefined) throw new WarrenError('NOT_FOUND', 'no previously declared queue');
    return this.lastQueue;
  }

  // Plain increments on objects that exist anyway: counting costs the data path no allocation.
  private countPublish(msg: Message): void {
    this.stats.published++;
    this.connection.stats.published++;
    this.vhost.broker.stats.published++;
    const counters = this.connection.counters;
    counters.received++;
    if (this.confirms !== undefined) counters.receivedConfirm++;
    counters.messageSizes.observe(msg.size);
  }

  /** A publish reached a queue, or none: RabbitMQ's routed, unroutable_returned and unroutable_dropped. */
  private countRouting(r: PublishResult, mandatory: boolean): void {
    const counters = this.connection.counters;
    if (r.routed > 0) counters.routed++;
    else if (r.rejected > 0) return;
    else if (mandatory) counters.unroutableReturned++;
    else counters.unroutableDropped++;
  }

  private countDelivery(entry: QueueEntry): void {
    const broker = this.vhost.broker;
    this.stats.delivered++;
    this.connection.stats.delivered++;
    broker.stats.delivered++;
    if (entry.redelivered) {
      this.stats.redelivered++;
      broker.stats.redelivered++;
      this.connection.counters.redelivered++;
    }
  }

  private countAck(): void {
    this.stats.acked++;
    this.vhost.broker.stats.acked++;
    this.connection.counters.acknowledged++;
  }
}

/** The pseudo-queue of direct reply-to, and the prefix of the real queues behind it. */
export const REPLY_TO_QUEUE = 'amq.rabbitmq.reply-to';
export const REPLY_TO_PREFIX = 'amq.rabbitmq.reply-to.';

/** The node a cluster's direct reply-to queue lives on, read from its name; undefined for any other name. */
export function replyQueueNode(name: string): string | undefined {
  if (!name.startsWith(REPLY_TO_PREFIX)) return undefined;
  const rest = name.slice(REPLY_TO_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) return undefined;
  const node = Buffer.from(rest.slice(0, dot), 'base64url').toString();
  return node === '' ? undefined : node;
}

/**
 * Throws when a queue does not take back deliveries a client returns (nack, reject, a requeueing recover): a
 * stream (StreamQueue.refuseReturn). A closing channel's unacked deliveries are not this: they always go back.
 */
export function refuseReturns(entries: readonly QueueEntry[], what: string): void {
  for (const e of entries) e.queue.refuseReturn(what);
}

function unknownTag(tag: number): WarrenError {
  return new WarrenError('PRECONDITION_FAILED', `unknown delivery tag ${tag}`);
}
