import {
  Message,
  refuseReturns,
  WarrenError,
  type Channel,
  type Consumer,
  type FieldTable,
  type Limits,
  type QueueEntry,
  type QueueOptions,
  type SettleKind,
} from '@warren/core';
import type { StompFrame } from '../codec/frame';
import { parseDestination, replyToProperty, type Destination } from '../mapping/destination';
import { booleanHeader, fitsShortstr, propertiesFromSend } from '../mapping/headers';
import { Selector, SelectorError } from '../selector';
import { StompFailure } from './stomp-failure';
import { planSubscription, queueArguments, runTopology, type TopologyStep } from './subscribe-plan';
import { Subscription, type AckMode, type MessageWriter } from './subscription';
import { StompTransactions } from './transactions';

/** Headers only the broker sets (RabbitMQ's HEADERS_NOT_ON_SEND). */
const HEADERS_NOT_ON_SEND = ['message-id'] as const;
/** What the commands need from their session. */
export interface CommandHost extends MessageWriter {
  readonly id: string;
  readonly limits: Pick<Limits, 'stompMaxSubscriptions' | 'selectorMaxLength' | 'maxTransactionOps'>;
}

const TEMP_QUEUE_PREFIX = '/temp-queue/';
/** A /temp-queue/'s queue: server-named, private to the connection, gone with it. */
const tempQueueOptions = (): QueueOptions => ({
  durable: false,
  exclusive: true,
  autoDelete: true,
  arguments: {},
});

const ACK_MODES: ReadonlySet<string> = new Set(['auto', 'client', 'client-individual']);
const PREFETCH = /^[0-9]{1,9}$/;

/** What a SEND came to: see MessagingCommands.send. */
export type SendOutcome = 'routed' | 'stored' | 'in-transaction';

/** A SUBSCRIBE checked and planned: its topology steps (see runTopology), then `finish` consumes. */
export interface PreparedSubscription {
  readonly steps: readonly TopologyStep[];
  finish(): void;
}

/**
 * SEND, SUBSCRIBE, UNSUBSCRIBE, ACK, NACK of a connected session, translated into calls on its one core
 * channel (RabbitMQ runs a STOMP connection as one AMQP channel too).
 */
export class MessagingCommands {
  private readonly subscriptions = new Map<string, Subscription>();
  /** /temp-queue/<name> -> the server-named private queue behind it. */
  private readonly tempQueues = new Map<string, string>();
  /** Bound once: SEND headers -> properties turns /temp-queue/x into its queue. */
  private readonly resolveReplyTo = (replyTo: string): string => {
    const temp = tempQueueName(replyTo);
    return temp !== undefined ? this.tempQueue(temp) : replyToProperty(replyTo);
  };
  private readonly tempQueueFn = (name: string): string => this.tempQueue(name);

  /** The session's transactions, on the core's Transaction, bounded together by maxTransactionOps. */
  readonly transactions: StompTransactions;

  constructor(
    private readonly host: CommandHost,
    private readonly channel: Channel,
  ) {
    this.transactions = new StompTransactions(host.limits.maxTransactionOps, channel);
  }

  /**
   * SEND. Says whether the store is writing the message (its receipt then waits for the disk), or whether it
   * waits in a transaction (which owns its receipt).
   */
  send(frame: StompFrame): SendOutcome | Promise<SendOutcome> {
    const h = frame.headers;
    // The broker names each message; a client's message-id would be a lie about where it came from.
    for (const name of HEADERS_NOT_ON_SEND) {
      if (h.has(name)) throw new StompFailure('Invalid header', `'${name}' is not allowed on 'SEND'.\n`);
    }
    const dest = parseDestination(required(frame, 'destination', 'Missing destination'));
    checkDeliverable(dest);
    // /queue/x is declared (durable) on first SEND, with the SEND's x-* headers as its arguments as a
    // SUBSCRIBE's would be, so a later AMQP declare with the same arguments is equivalent (as RabbitMQ).
    if (dest.kind === 'queue' && !this.channel.vhost.queues.has(dest.name)) {
      const declared = this.channel.claims.queueDeclare(dest.name, {
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: queueArguments(h),
      });
      if (declared instanceof Promise) {
        return declared.then(() => this.claimReplyQueue(frame)).then(() => this.publish(frame, dest));
      }
    }
    const claimed = this.claimReplyQueue(frame);
    if (claimed !== undefined) return claimed.then(() => this.publish(frame, dest));
    return this.publish(frame, dest);
  }

  /**
   * A SEND whose reply-to names a /temp-queue/ not made yet: in a cluster its queue is claimed before the
   * message goes, so a reply sent through another node finds it (undefined: nothing to wait for; on a single
   * node the queue is made now). The SEND's headers are checked first, so a refused SEND makes nothing.
   */
  private claimReplyQueue(frame: StompFrame): Promise<void> | undefined {
    const replyTo = frame.headers.get('reply-to');
    const temp = replyTo === undefined ? undefined : tempQueueName(replyTo);
    if (temp === undefined || this.tempQueues.has(temp)) return undefined;
    propertiesFromSend(frame.headers, () => '');
    this.checkRoom();
    const declared = this.channel.claims.queueDeclare('', tempQueueOptions());
    if (!(declared instanceof Promise)) {
      this.openTempQueue(temp, declared.queue);
      return undefined;
    }
    return declared.then((d) => {
      // Another SEND cannot have made it meanwhile: the session reads no frame while this one waits.
      this.openTempQueue(temp, d.queue);
    });
  }

  private publish(frame: StompFrame, dest: Destination): SendOutcome {
    const h = frame.headers;
    const [exchange, routingKey] = this.target(dest);
    const properties = propertiesFromSend(h, this.resolveReplyTo);
    this.channel.checkUserId(properties.userId);
    const msg = Message.fromProperties(exchange, routingKey, properties, frame.body);
    const tx = h.get('transaction');
    if (tx !== undefined) {
      this.transactions.send(tx, exchange, msg, h.get('receipt'));
      return 'in-transaction';
    }
    this.channel.publish(exchange, msg);
    return msg.stored ? 'stored' : 'routed';
  }

  /** A prepared SUBSCRIBE's declares and binds: made now on a single node, else the claims' promise. */
  runTopology(prepared: PreparedSubscription): Promise<void> | undefined {
    return runTopology(this.channel, prepared.steps);
  }

  /**
   * SUBSCRIBE's checks (headers, ids, room, selector, the destination's exchange) and plan; the caller runs
   * the plan's topology steps (runTopology: at once on a single node, through claims in a cluster) and then
   * `finish`, which creates the subscription and its consumer.
   */
  prepareSubscribe(frame: StompFrame): PreparedSubscription {
    const h = frame.headers;
    const destination = required(frame, 'destination', 'Missing destination');
    const dest = parseDestination(destination);
    // A binding key longer than any routing key can never match, and a topic match walks it word by word.
    checkDeliverable(dest);
    const idHeader = h.get('id');
    // A subscription without id (STOMP 1.0) is known by its destination: UNSUBSCRIBE names it so.
    const id = idHeader ?? destination;
    const tag = `${idHeader === undefined ? 'Q_' : 'T_'}${id}`;
    // RabbitMQ closes the connection after this ERROR: the client's idea of its subscriptions is wrong.
    if (this.subscriptions.has(id)) {
      throw new StompFailure(
        'Duplicated subscription identifier',
        `A subscription identified by '${tag}' already exists.`,
        true,
      );
    }
    this.checkRoom();
    const ack = h.get('ack') ?? 'auto';
    if (!ACK_MODES.has(ack)) throw new StompFailure('Invalid header', `Invalid ack mode '${ack}'\n`);
    let selector: Selector | undefined;
    const selectorText = h.get('selector');
    if (selectorText !== undefined) {
      const maxLength = this.host.limits.selectorMaxLength;
      try {
        selector = new Selector(selectorText, maxLength);
      } catch (error) {
        if (!(error instanceof SelectorError)) throw error;
        // Quote the selector back, but not all of one refused for its length.
        const shown = selectorText.length > maxLength ? `${selectorText.slice(0, 64)}...` : selectorText;
        throw new StompFailure('Invalid selector', `${error.message}: ${shown}\n`);
      }
    }
    // prefetch-count is RabbitMQ's; activemq.prefetchSize is what ActiveMQ clients send.
    const prefetchText = h.get('prefetch-count') ?? h.get('activemq.prefetchSize');
    if (prefetchText !== undefined && !PREFETCH.test(prefetchText)) {
      throw new StompFailure('Invalid header', `Invalid prefetch-count '${prefetchText}'\n`);
    }
    const prefetch = prefetchText === undefined ? 0 : Number(prefetchText);
    const args = streamOffsetArgument(h.get('x-stream-offset'));
    const plan = planSubscription(this.channel, dest, h, idHeader, destination, this.tempQueueFn);
    const finish = (): void => {
      const sub = new Subscription(
        {
          id,
          hasId: idHeader !== undefined,
          destination,
          ackMode: ack as AckMode,
          selector,
          privateQueue: plan.privateQueue,
          durableQueue: plan.durableQueue,
        },
        this.channel,
        this.host,
        this.host.id,
      );
      this.consume(sub, plan.queue, tag, prefetch, args);
      this.subscriptions.set(id, sub);
    };
    return { steps: plan.steps, finish };
  }

  /** UNSUBSCRIBE; a promise when it deletes a durable subscription's queue through a pending claim. */
  unsubscribe(frame: StompFrame): Promise<void> | undefined {
    const h = frame.headers;
    // STOMP 1.0: by id, or by destination for a subscription made without one.
    const id = h.get('id') ?? h.get('destination');
    if (id === undefined) {
      throw new StompFailure(
        'Missing Header',
        `"UNSUBSCRIBE" must include an 'id' or 'destination' header\n`,
      );
    }
    const sub = this.subscriptions.get(id);
    if (sub === undefined) throw new StompFailure('Bad subscription', `Subscription to '${id}' not found.\n`);
    this.subscriptions.delete(id);
    if (sub.consumer !== undefined) this.channel.cancel(sub.consumer.tag);
    // RabbitMQ: a durable topic subscription ends for good with UNSUBSCRIBE durable:true (or persistent:true).
    const durableQueue = sub.spec.durableQueue;
    if (
      durableQueue !== undefined &&
      (booleanHeader(h, 'durable') === true || booleanHeader(h, 'persistent') === true)
    ) {
      const deleted = this.channel.claims.queueDelete(durableQueue);
      if (deleted instanceof Promise) return deleted.then(() => undefined);
    }
    return undefined;
  }

  /** ACK / NACK (NACK: `requeue:false` dead-letters or drops instead of requeueing). */
  settle(frame: StompFrame, nack: boolean): void {
    const h = frame.headers;
    // STOMP 1.2 "ACK": `id` matches the MESSAGE's ack header; 1.0/1.1 use message-id. Either is taken.
    const primary = this.host.version === '1.2' ? 'id' : 'message-id';
    const handle = h.get(primary) ?? h.get(primary === 'id' ? 'message-id' : 'id');
    const at = handle === undefined ? -1 : handle.lastIndexOf('@@');
    const digits = handle === undefined || at < 0 ? '' : handle.slice(at + 2);
    if (!/^[0-9]{1,15}$/.test(digits)) {
      throw new StompFailure(
        'Invalid header',
        `"${frame.command}" must include a valid "${primary}" header\n`,
      );
    }
    const tag = Number(digits);
    const target = this.channel.unacked.get(tag);
    // An unknown or already settled delivery is a channel error in RabbitMQ, which closes the connection.
    if (target === undefined || target.settling) {
      throw new WarrenError('PRECONDITION_FAILED', `unknown delivery tag ${tag}`);
    }
    const entries = this.collect(target, tag);
    // A NACK is RabbitMQ STOMP's basic.nack: a stream refuses it.
    if (nack) refuseReturns(entries, 'basic.nack and basic.reject');
    // RabbitMQ's default_nack_requeue: only an explicit false does not requeue.
    const how: SettleKind = !nack ? 'ack' : booleanHeader(h, 'requeue') === false ? 'reject' : 'requeue';
    const tx = h.get('transaction');
    if (tx !== undefined) this.transactions.settle(tx, entries, how);
    else this.channel.settle(entries, how);
  }

  transactionId(frame: StompFrame): string {
    return required(frame, 'transaction', 'Missing transaction');
  }

  /** The broker cancelled a subscription (its queue was deleted). */
  forget(sub: Subscription): void {
    if (this.subscriptions.get(sub.spec.id) === sub) this.subscriptions.delete(sub.spec.id);
  }

  clear(): void {
    this.subscriptions.clear();
  }

  /**
   * Refuses one more subscription past stompMaxSubscriptions. Not fatal: like a duplicate id it broke
   * nothing, so the session stays usable and the client may UNSUBSCRIBE and try again.
   */
  private checkRoom(): void {
    const max = this.host.limits.stompMaxSubscriptions;
    if (this.subscriptions.size >= max) {
      throw new StompFailure(
        'Too many subscriptions',
        `This session already has ${max} subscriptions (stompMaxSubscriptions); UNSUBSCRIBE one first.\n`,
      );
    }
  }

  /** Cumulative for ack:client (STOMP 1.2 "SUBSCRIBE": every message of that subscription up to this one). */
  private collect(target: QueueEntry, tag: number): QueueEntry[] {
    const consumer = target.consumer;
    const sink = consumer?.sink;
    if (!(sink instanceof Subscription) || sink.spec.ackMode !== 'client') return [target];
    const out: QueueEntry[] = [];
    for (const [t, e] of this.channel.unacked) {
      if (t > tag) break; // Map order is tag order
      if (e.consumer === consumer && !e.settling) out.push(e);
    }
    return out;
  }

  private consume(
    sub: Subscription,
    queue: string,
    tag: string,
    prefetch: number,
    args: FieldTable = {},
  ): void {
    // A stream refuses no-ack consumers; with prefetch-count given, ack:auto hears that refusal (as from
    // RabbitMQ, which sends the header's basic.qos before its no-ack basic.consume), else the missing prefetch.
    const stream = this.channel.vhost.queues.get(queue)?.settings.type === 'stream';
    const consumer: Consumer = this.channel.consume(
      queue,
      {
        consumerTag: tag,
        noAck: sub.coreNoAck,
        exclusive: false,
        arguments: args,
        prefetch: sub.spec.ackMode === 'auto' && !stream ? 0 : prefetch,
        // On a shared queue a selector is the queue's business: it offers each message to a subscription that
        // wants it and keeps the rest for others. A queue of the subscription's own drops what it refuses.
        accepts:
          sub.spec.selector !== undefined && !sub.spec.privateQueue ? (msg) => sub.matches(msg) : undefined,
      },
      sub,
    );
    sub.consumer = consumer;
  }

  /** Where a SEND goes: [exchange, routing key] (a /queue/x is declared by then: see send). */
  private target(dest: Destination): [string, string] {
    switch (dest.kind) {
      case 'queue':
        return ['', dest.name];
      case 'amq-queue':
      case 'reply-queue':
        return ['', dest.name];
      case 'temp-queue':
        return ['', this.tempQueue(dest.name)];
      case 'topic':
        return ['amq.topic', dest.key];
      case 'exchange':
        return [dest.exchange, dest.key];
    }
  }

  /**
   * The private queue behind /temp-queue/<name>: created on first use, exclusive to this connection, and
   * consumed at once by an auto-ack subscription whose id is the temp-queue destination, as in RabbitMQ (the
   * replies arrive with subscription:/temp-queue/<name>).
   */
  private tempQueue(name: string): string {
    const known = this.tempQueues.get(name);
    if (known !== undefined) return known;
    this.checkRoom(); // before the queue is declared, so a refusal leaves nothing behind
    return this.openTempQueue(name, this.channel.queueDeclare('', tempQueueOptions()).queue);
  }

  /** Registers a /temp-queue/'s queue and consumes it for the session. */
  private openTempQueue(name: string, queue: string): string {
    this.tempQueues.set(name, queue);
    const id = `/temp-queue/${name}`;
    const sub = new Subscription(
      {
        id,
        hasId: true,
        destination: id,
        ackMode: 'auto',
        selector: undefined,
        privateQueue: true,
        durableQueue: undefined,
      },
      this.channel,
      this.host,
      this.host.id,
    );
    this.consume(sub, queue, `T_${id}`, 0);
    this.subscriptions.set(id, sub);
    return queue;
  }
}

/** The x of a /temp-queue/x; undefined for any other destination. */
function tempQueueName(destination: string): string | undefined {
  return destination.startsWith(TEMP_QUEUE_PREFIX) && destination.length > TEMP_QUEUE_PREFIX.length
    ? destination.slice(TEMP_QUEUE_PREFIX.length)
    : undefined;
}

/**
 * An AMQP consumer is told a message's exchange and routing key in basic.deliver, as short strings (AMQP 0-9-1
 * section 4.2.5.3: at most 255 octets). Checked before target(), which may declare the queue.
 */
function checkDeliverable(dest: Destination): void {
  let names: string[];
  switch (dest.kind) {
    case 'topic':
      names = [dest.key];
      break;
    case 'exchange':
      names = [dest.exchange, dest.key];
      break;
    case 'temp-queue':
      return; // the queue is server-named
    default:
      names = [dest.name];
  }
  for (const name of names) {
    if (!fitsShortstr(name)) {
      throw new StompFailure(
        'Invalid header',
        `Header 'destination' names an exchange, queue or routing key longer than 255 bytes, the most AMQP ` +
          'can carry.\n',
      );
    }
  }
}

function required(frame: StompFrame, header: string, message: string): string {
  const v = frame.headers.get(header);
  if (v === undefined)
    throw new StompFailure(message, `"${frame.command}" must include a '${header}' header\n`);
  return v;
}

/**
 * The SUBSCRIBE header x-stream-offset as RabbitMQ's STOMP reads it (rabbit_stomp_frame:stream_offset_header):
 * first, last, next, offset=N (a long) and timestamp=T (seconds) become the consumer argument; any other value
 * is no argument (the stream's default, next). A malformed number, which RabbitMQ fails on, is refused.
 */
function streamOffsetArgument(value: string | undefined): FieldTable {
  if (value === 'first' || value === 'last' || value === 'next') return { 'x-stream-offset': value };
  const m = value === undefined ? null : /^(offset|timestamp)=(.*)$/.exec(value);
  if (m === null) return {};
  const [, kind, digits = ''] = m;
  if (!/^-?[0-9]{1,15}$/.test(digits)) {
    throw new StompFailure('Invalid header', `Invalid x-stream-offset '${value ?? ''}'\n`);
  }
  const n = Number(digits);
  return { 'x-stream-offset': kind === 'offset' ? n : new Date(n * 1000) };
}
