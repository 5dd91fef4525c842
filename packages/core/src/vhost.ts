import type { Broker } from './broker';
import { isDeadLetterCycle } from './dead-letter';
import { describe, WarrenError } from './errors';
import { DirectExchange } from './exchanges/direct-exchange';
import {
  bindingKey,
  EXCHANGE_TYPES,
  type Binding,
  type Destination,
  type Exchange,
  type ExchangeOptions,
  type ExchangeType,
} from './exchanges/exchange';
import { FanoutExchange } from './exchanges/fanout-exchange';
import { HeadersExchange } from './exchanges/headers-exchange';
import { TopicExchange } from './exchanges/topic-exchange';
import { fieldValuesEqual, type FieldTable } from './field-table';
import type { Limits } from './limits';
import type { Logger } from './logger';
import type { Message } from './message';
import type { DeadLetterCounters } from './metrics';
import type { Persistence } from './persistence';
import { Queue, type QueueOptions, type QueueOwner } from './queue';
import { checkEquivalentArguments, parseQueueArguments, type QueueSettings } from './queue-arguments';
import type { BodyAccounting, QueueHost } from './queue-host';
import type { TopologyRecord, VhostMetadata } from './store';
import { StreamQueue } from './stream-queue';

/** Filled by `publish`: how many queues took the message and how many refused it (x-overflow=reject-*). */
export interface PublishResult {
  routed: number;
  rejected: number;
}

/**
 * Per-depth scratch space: a dead-letter publish can happen inside a publish, so each depth has its own.
 * Arrays, not Sets: membership is an epoch mark on the queue or exchange itself, so a publish allocates and
 * clears nothing.
 */
interface RouteScratch {
  readonly queues: Queue[];
  readonly stack: Exchange[];
  readonly out: Destination[];
}

const PREDECLARED: readonly [string, ExchangeType][] = [
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];

/**
 * A virtual host: its own exchanges, queues and bindings. Every topology change and every publish in the
 * broker goes through here; the channel in front of it has already checked permissions.
 */
export class Vhost implements QueueHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** RabbitMQ's vhost metadata: shown and exported, not acted on. */
  metadata: VhostMetadata = { description: '', tags: [], defaultQueueType: undefined };
  private readonly scratch: RouteScratch[] = [];
  private depth = 0;
  /** Incremented per routing walk; a queue or exchange whose mark equals it was reached in this walk. */
  private epoch = 0;

  constructor(
    readonly broker: Broker,
    readonly name: string,
  ) {
    const durable: ExchangeOptions = { durable: true, autoDelete: false, internal: false, arguments: {} };
    // The default exchange: every queue is implicitly bound to it by its own name (AMQP 0-9-1 3.1.3.1).
    this.exchanges.set('', this.makeExchange('', 'direct', durable));
    for (const [name, type] of PREDECLARED) this.exchanges.set(name, this.makeExchange(name, type, durable));
  }
  // ---- QueueHost: what this vhost's queues reach through it --------------------------------------------

  now(): number {
    return this.broker.now();
  }

  get limits(): Readonly<Limits> {
    return this.broker.limits;
  }

  get persistence(): Persistence {
    return this.broker.persistence;
  }

  get memory(): BodyAccounting {
    return this.broker.memory;
  }

  get logger(): Logger {
    return this.broker.logger;
  }

  get deadLettered(): DeadLetterCounters {
    return this.broker.deadLettered;
  }

  queueFault(): void {
    this.broker.counters.queueTimerFaults++;
  }

  // ---- exchanges -------------------------------------------------------------------------------------

  getExchange(name: string): Exchange {
    const x = this.exchanges.get(name);
    if (x === undefined) throw new WarrenError('NOT_FOUND', `no ${describe('exchange', name, this.name)}`);
    return x;
  }

  /**
   * The local checks of an exchange.declare, without changing anything: NOT_FOUND for a passive declare of
   * nothing, the default exchange, an unknown type, an inequivalent redeclare, the reserved amq. prefix.
   * Returns the exchange that exists, if any. declareExchange runs it too, and so does a claim (see
   * TopologyAuthority) before it asks the cluster.
   */
  checkDeclareExchange(
    name: string,
    type: string,
    options: ExchangeOptions,
    passive = false,
  ): Exchange | undefined {
    const existing = this.exchanges.get(name);
    if (passive) {
      if (existing === undefined)
        throw new WarrenError('NOT_FOUND', `no ${describe('exchange', name, this.name)}`);
      return existing;
    }
    if (name === '')
      throw new WarrenError('ACCESS_REFUSED', 'operation not permitted on the default exchange');
    if (!(EXCHANGE_TYPES as readonly string[]).includes(type)) {
      // RabbitMQ treats an unknown type as a connection-level command error.
      throw new WarrenError('COMMAND_INVALID', `unknown exchange type '${type}'`);
    }
    if (existing !== undefined) {
      this.checkExchangeEquivalent(existing, type, options);
      return existing;
    }
    if (name.startsWith('amq.')) {
      throw new WarrenError('ACCESS_REFUSED', `exchange name '${name}' contains reserved prefix 'amq.*'`);
    }
    return undefined;
  }

  declareExchange(name: string, type: string, options: ExchangeOptions, passive = false): Exchange {
    const existing = this.checkDeclareExchange(name, type, options, passive);
    if (existing !== undefined) return existing;
    const x = this.makeExchange(name, type as ExchangeType, options);
    this.exchanges.set(name, x);
    if (x.durable) this.broker.persistence.put(this.exchangeRecord(x));
    return x;
  }

  /** The local checks of an exchange.delete; returns the exchange, or undefined if there is none (fine). */
  checkDeleteExchange(name: string, ifUnused: boolean): Exchange | undefined {
    if (name === '' || name.startsWith('amq.')) {
      throw new WarrenError(
        'ACCESS_REFUSED',
        `operation not permitted on ${describe('exchange', name, this.name)}`,
      );
    }
    const x = this.exchanges.get(name);
    if (x === undefined) return undefined; // idempotent, as in RabbitMQ 3.x
    if (ifUnused && x.bindingCount > 0) {
      throw new WarrenError('PRECONDITION_FAILED', `${describe('exchange', name, this.name)} in use`);
    }
    return x;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    const x = this.checkDeleteExchange(name, ifUnused);
    if (x !== undefined) this.removeExchange(x);
  }

  // ---- queues ----------------------------------------------------------------------------------------

  getQueue(name: string): Queue {
    const q = this.queues.get(name);
    if (q === undefined) throw new WarrenError('NOT_FOUND', `no ${describe('queue', name, this.name)}`);
    return q;
  }

  /** Finds a queue and checks that `owner` may use it (exclusive queues belong to one connection). */
  useQueue(name: string, owner: QueueOwner | undefined): Queue {
    const q = this.getQueue(name);
    if (q.owner !== undefined && q.owner !== owner) {
      throw new WarrenError(
        'RESOURCE_LOCKED',
        `cannot obtain exclusive access to locked ${q.where}. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      );
    }
    return q;
  }

  /**
   * The local checks of a queue.declare, without changing anything: NOT_FOUND for a passive declare of
   * nothing, RESOURCE_LOCKED for another connection's exclusive queue, an inequivalent redeclare, the reserved
   * amq. prefix, invalid arguments. Returns the queue that exists, if any.
   */
  checkDeclareQueue(
    name: string,
    options: QueueOptions,
    owner: QueueOwner | undefined,
    passive = false,
    internal = false,
  ): Queue | undefined {
    const existing = this.queues.get(name);
    if (passive) {
      if (existing === undefined)
        throw new WarrenError('NOT_FOUND', `no ${describe('queue', name, this.name)}`);
      return this.useQueue(name, owner);
    }
    if (existing !== undefined) {
      const q = this.useQueue(name, owner);
      this.checkQueueEquivalent(q, options);
      return q;
    }
    this.checkNewQueue(name, options, internal);
    return undefined;
  }

  declareQueue(
    name: string,
    options: QueueOptions,
    owner: QueueOwner | undefined,
    passive = false,
    /** The broker's own amq.* queues (direct reply-to) skip the reserved-name check. */
    internal = false,
  ): Queue {
    if (passive || this.queues.has(name)) {
      const q = this.checkDeclareQueue(name, options, owner, passive, internal) as Queue;
      q.touch();
      return q;
    }
    const settings = this.checkNewQueue(name, options, internal);
    const queueOwner = options.exclusive ? owner : undefined;
    const q =
      this.broker.queueFactory?.(this, name, options, settings, queueOwner) ??
      (settings.type === 'stream'
        ? new StreamQueue(this, name, options, settings, queueOwner)
        : new Queue(this, name, options, settings, queueOwner));
    this.queues.set(name, q);
    if (q.durable && !options.exclusive) {
      this.broker.persistence.put({
        kind: 'queue',
        vhost: this.name,
        name,
        durable: true,
        autoDelete: options.autoDelete,
        arguments: options.arguments,
      });
    }
    return q;
  }

  /** A queue that does not exist yet: its name and arguments. */
  private checkNewQueue(name: string, options: QueueOptions, internal: boolean): QueueSettings {
    if (name.startsWith('amq.') && !name.startsWith('amq.gen-') && !internal) {
      throw new WarrenError('ACCESS_REFUSED', `queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    return parseQueueArguments(options.arguments, name, this.name, options);
  }

  /** The local checks of a queue.delete; returns the queue, or undefined if there is none (fine). */
  checkDeleteQueue(
    name: string,
    owner: QueueOwner | undefined,
    ifUnused: boolean,
    ifEmpty: boolean,
  ): Queue | undefined {
    const q = this.queues.get(name);
    if (q === undefined) return undefined; // idempotent, as in RabbitMQ 3.x
    this.useQueue(name, owner);
    if (ifUnused && q.consumerCount > 0) throw new WarrenError('PRECONDITION_FAILED', `${q.where} in use`);
    if (ifEmpty && q.messageCount > 0) throw new WarrenError('PRECONDITION_FAILED', `${q.where} not empty`);
    return q;
  }

  deleteQueue(name: string, owner: QueueOwner | undefined, ifUnused: boolean, ifEmpty: boolean): number {
    const q = this.checkDeleteQueue(name, owner, ifUnused, ifEmpty);
    return q === undefined ? 0 : this.removeQueue(q);
  }

  /**
   * Deletes a queue whatever its state: explicit delete, auto-delete, x-expires, exclusive owner gone.
   * Returns the ready messages it dropped.
   */
  removeQueue(q: Queue, notifyConsumers = true): number {
    if (q.deleted || this.queues.get(q.name) !== q) return 0;
    this.queues.delete(q.name);
    for (const b of [...q.bindings]) this.removeBinding(b);
    const count = q.destroy(notifyConsumers);
    q.droppedOnDelete = count;
    q.owner?.forgetQueue(q);
    if (q.durable && q.owner === undefined) {
      this.broker.persistence.dropQueue(this.name, q.name);
      this.broker.persistence.delete({
        kind: 'queue',
        vhost: this.name,
        name: q.name,
        durable: true,
        autoDelete: false,
        arguments: {},
      });
    }
    return count;
  }

  // ---- bindings --------------------------------------------------------------------------------------

  /** The local checks of a bind: not the default exchange, the source exists, the arguments are valid. */
  checkBind(source: string, args: FieldTable): Exchange {
    const x = this.checkUnbind(source);
    x.validateBinding(args);
    return x;
  }

  /** The local checks of an unbind: not the default exchange, and the source exists. */
  checkUnbind(source: string): Exchange {
    if (source === '')
      throw new WarrenError('ACCESS_REFUSED', `operation not permitted on the default exchange`);
    return this.getExchange(source);
  }

  bind(source: string, destination: Destination, routingKey: string, args: FieldTable): void {
    const x = this.checkBind(source, args);
    const binding: Binding = {
      source: x,
      destination,
      routingKey,
      arguments: args,
      key: bindingKey(destination, routingKey, args),
    };
    if (!x.addBinding(binding)) return;
    if (destination.kind === 'queue') destination.bindings.add(binding);
    else destination.inbound.add(binding);
    if (
      x.durable &&
      destination.durable &&
      !(destination.kind === 'queue' && destination.owner !== undefined)
    ) {
      this.broker.persistence.put(this.bindingRecord(binding));
    }
  }

  unbind(source: string, destination: Destination, routingKey: string, args: FieldTable): void {
    const x = this.checkUnbind(source);
    const binding = x.findBinding(bindingKey(destination, routingKey, args));
    if (binding !== undefined) this.removeBinding(binding);
  }

  // ---- publishing ------------------------------------------------------------------------------------

  /**
   * The one ingress: routes `msg` from `exchangeName` through the exchange graph and enqueues it in every
   * queue reached, each queue once. Synchronous; fills `result`.
   */
  publish(exchangeName: string, msg: Message, result: PublishResult): void {
    const x = this.exchanges.get(exchangeName);
    if (x === undefined)
      throw new WarrenError('NOT_FOUND', `no ${describe('exchange', exchangeName, this.name)}`);
    if (x.options.internal) {
      throw new WarrenError(
        'ACCESS_REFUSED',
        `cannot publish to internal ${describe('exchange', exchangeName, this.name)}`,
      );
    }
    result.routed = 0;
    result.rejected = 0;
    msg.id = this.broker.nextMessageId();
    x.stats.publishIn++;
    if (x.name === '') {
      // The default exchange routes by queue name (its bindings are implicit): the commonest publish of all.
      const q = this.queues.get(msg.routingKey) ?? this.broker.queueElsewhere?.(this, msg.routingKey);
      if (q !== undefined) {
        if (q.enqueue(msg)) result.routed = 1;
        else result.rejected = 1;
      }
      if (result.routed > 0) x.stats.publishOut++;
      return;
    }
    const s = this.enter();
    try {
      this.route(x, msg, s);
      const queues = s.queues;
      for (let i = 0; i < queues.length; i++) {
        if ((queues[i] as Queue).enqueue(msg)) result.routed++;
        else result.rejected++;
      }
      if (result.routed > 0) x.stats.publishOut++;
    } finally {
      this.leave(s);
    }
  }

  /** Publishes a dead-lettered message: no confirms, no returns, dropped if its exchange is gone. */
  publishDeadLetter(msg: Message): void {
    const x = this.exchanges.get(msg.exchange);
    if (x === undefined) return;
    msg.id = this.broker.nextMessageId();
    const s = this.enter();
    try {
      this.route(x, msg, s);
      for (const q of s.queues) if (!isDeadLetterCycle(msg, q.name)) q.enqueue(msg);
    } finally {
      this.leave(s);
    }
  }

  /** Queues reached from exchange `x`: bindings, exchange-to-exchange bindings and alternate exchanges. */
  private route(x: Exchange, msg: Message, s: RouteScratch): void {
    const epoch = ++this.epoch;
    if (x.name === '') {
      // The default exchange routes by queue name; its bindings are implicit.
      const q = this.queues.get(msg.routingKey) ?? this.broker.queueElsewhere?.(this, msg.routingKey);
      if (q !== undefined) s.queues.push(q);
      return;
    }
    s.stack.push(x);
    x.routeEpoch = epoch;
    while (s.stack.length > 0) {
      const e = s.stack.pop() as Exchange;
      s.out.length = 0;
      e.route(msg, s.out);
      for (let i = 0; i < s.out.length; i++) {
        const d = s.out[i] as Destination;
        if (d.routeEpoch === epoch) continue; // each queue once, each exchange once (cycles end)
        d.routeEpoch = epoch;
        if (d.kind === 'queue') s.queues.push(d);
        else s.stack.push(d);
      }
      // RabbitMQ consults an exchange's alternate exchange when that exchange itself matched nothing.
      if (s.out.length === 0) {
        const aeName = e.alternateExchange;
        const ae = aeName === undefined ? undefined : this.exchanges.get(aeName);
        if (ae !== undefined && ae.routeEpoch !== epoch) {
          ae.routeEpoch = epoch;
          s.stack.push(ae);
        }
      }
    }
  }

  private enter(): RouteScratch {
    let s = this.scratch[this.depth];
    if (s === undefined) {
      s = { queues: [], stack: [], out: [] };
      this.scratch[this.depth] = s;
    }
    this.depth++;
    return s;
  }

  private leave(s: RouteScratch): void {
    s.queues.length = 0;
    s.stack.length = 0;
    s.out.length = 0;
    this.depth--;
  }

  // ---- internals -------------------------------------------------------------------------------------

  private makeExchange(name: string, type: ExchangeType, options: ExchangeOptions): Exchange {
    switch (type) {
      case 'direct':
        return new DirectExchange(this.name, name, options);
      case 'fanout':
        return new FanoutExchange(this.name, name, options);
      case 'topic':
        return new TopicExchange(this.name, name, options, this.broker.limits.topicCacheSize);
      case 'headers':
        return new HeadersExchange(this.name, name, options);
    }
  }

  private removeExchange(x: Exchange): void {
    this.exchanges.delete(x.name);
    x.deleted = true;
    for (const b of [...x.bindings]) this.removeBinding(b);
    for (const b of [...x.inbound]) this.removeBinding(b);
    if (x.durable) this.broker.persistence.delete(this.exchangeRecord(x));
  }

  private removeBinding(b: Binding): void {
    if (b.source.removeBinding(b.key) === undefined) return;
    const d = b.destination;
    if (d.kind === 'queue') d.bindings.delete(b);
    else d.inbound.delete(b);
    if (b.source.durable && d.durable) this.broker.persistence.delete(this.bindingRecord(b));
    // An auto-delete exchange goes when its last binding (as source) does.
    if (b.source.options.autoDelete && b.source.bindingCount === 0 && !b.source.deleted)
      this.removeExchange(b.source);
  }

  /** PRECONDITION_FAILED when a redeclaration differs from `x` (also used to validate a definitions import). */
  checkExchangeEquivalent(x: Exchange, type: string, o: ExchangeOptions): void {
    const where = describe('exchange', x.name, this.name);
    const differ = (arg: string, received: unknown, current: unknown): never => {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `inequivalent arg '${arg}' for ${where}: received '${String(received)}' but current is '${String(current)}'`,
      );
    };
    if (x.type !== type) differ('type', type, x.type);
    if (x.options.durable !== o.durable) differ('durable', o.durable, x.options.durable);
    if (x.options.autoDelete !== o.autoDelete) differ('auto_delete', o.autoDelete, x.options.autoDelete);
    if (x.options.internal !== o.internal) differ('internal', o.internal, x.options.internal);
    const ae = o.arguments['alternate-exchange'];
    const cur = x.options.arguments['alternate-exchange'];
    if (!fieldValuesEqual(ae ?? null, cur ?? null)) differ('alternate-exchange', ae ?? 'none', cur ?? 'none');
  }

  /** PRECONDITION_FAILED when a redeclaration differs from `q` (also used to validate a definitions import). */
  checkQueueEquivalent(q: Queue, o: QueueOptions): void {
    const where = q.where;
    const differ = (arg: string, received: boolean, current: boolean): never => {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `inequivalent arg '${arg}' for ${where}: received '${received}' but current is '${current}'`,
      );
    };
    if (q.options.durable !== o.durable) differ('durable', o.durable, q.options.durable);
    if (q.options.exclusive !== o.exclusive) differ('exclusive', o.exclusive, q.options.exclusive);
    if (q.options.autoDelete !== o.autoDelete) differ('auto_delete', o.autoDelete, q.options.autoDelete);
    checkEquivalentArguments(q.options.arguments, o.arguments, where);
  }

  private exchangeRecord(x: Exchange): Extract<TopologyRecord, { kind: 'exchange' }> {
    return {
      kind: 'exchange',
      vhost: this.name,
      name: x.name,
      type: x.type,
      durable: true,
      autoDelete: x.options.autoDelete,
      internal: x.options.internal,
      arguments: x.options.arguments,
    };
  }

  private bindingRecord(b: Binding): Extract<TopologyRecord, { kind: 'binding' }> {
    return {
      kind: 'binding',
      vhost: this.name,
      source: b.source.name,
      destination: b.destination.name,
      destinationKind: b.destination.kind,
      routingKey: b.routingKey,
      arguments: b.arguments,
    };
  }
}
