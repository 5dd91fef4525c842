import {
  Message,
  Queue,
  QueueEntry,
  WarrenError,
  parseStreamOffset,
  type Consumer,
  type FieldTable,
  type QueueHost,
  type QueueOptions,
  type QueueOwner,
  type QueueSettings,
  type StreamOffsetSpec,
} from '@warren/core';
import type { Delivery } from './delivery';
import { envelopeOf, messageOf } from './envelope';
import type { LogReader, LogStream } from './log-stream';
import { oneAtATime, retryWrite } from './retry';

/** What a replicated stream needs of the node it lives on. */
export interface LogHost {
  /** The queue's log, opened (or created, with the queue's retention) once per node. */
  log(vhost: string, queue: string, settings: QueueSettings): Promise<LogStream>;
  /** A publish id unique in the cluster (see ReplicaHost). */
  publishId(msg: Message): string;
  /** Broker-wide message ids for what comes out of the log. */
  nextMessageId(): number;
  readonly maxPayload: number;
  readonly running: boolean;
}

/** How stale the message count may be before a read of it asks the log again. */
const COUNT_REFRESH_MS = 1000;

/** One consumer's reader on the log, and the deliveries that came while the consumer had no room. */
interface Reading {
  reader: LogReader | undefined;
  /** Arrived while the consumer's channel could not take them (its socket backed up): sent on dispatch. */
  waiting: Delivery[];
  closed: boolean;
}

/**
 * A stream queue of a cluster (x-queue-type=stream): its log is a JetStream stream every node shares
 * (log-stream.ts), so a message appended through any node is read through every node, at the same offsets.
 * It keeps the rules of the single node's StreamQueue: a consumer starts where x-stream-offset says, needs a
 * prefetch, gets `x-stream-offset` on every delivery, and its acks give credit back without removing anything;
 * basic.get, purge, nack and requeue are refused as RabbitMQ refuses them. What differs: retention is
 * JetStream's, per message (x-max-length-bytes, x-max-age), not by whole segments.
 */
export class ReplicatedStream extends Queue {
  private readonly logReady: Promise<LogStream>;
  private log: LogStream | undefined;
  private readonly readings = new Map<Consumer, Reading>();
  private readonly deliveries = new Map<QueueEntry, Delivery>();
  private count = 0;
  private countReadAt = 0;
  /** Reads the count again, unless a read is under way. */
  private readonly refreshCount = oneAtATime(() => this.refresh());
  private readonly publishing = new Set<Promise<void>>();
  /** Deliveries not yet acked. */
  outstanding = 0;

  constructor(
    host: QueueHost,
    name: string,
    options: QueueOptions,
    settings: QueueSettings,
    owner: QueueOwner | undefined,
    private readonly logs: LogHost,
  ) {
    super(host, name, options, settings, owner);
    this.logReady = logs.log(host.name, name, settings);
    this.logReady.then(
      (log) => {
        this.log = log;
        this.refreshCount();
      },
      (err: unknown) =>
        host.logger.error({ err, queue: name, vhost: host.name }, 'the log of a stream queue did not open'),
    );
  }

  override stores(): boolean {
    return false;
  }

  /** The log's length, as RabbitMQ counts a stream's messages (at most a second old when asked again). */
  override get messageCount(): number {
    if (!this.deleted && this.vhost.now() - this.countReadAt > COUNT_REFRESH_MS) this.refreshCount();
    return this.count;
  }

  /** Reads the log's length for a declare-ok, after this node's appends have landed. */
  async refresh(): Promise<void> {
    await Promise.all(this.publishing);
    const log = await this.logReady;
    this.count = await log.messageCount();
    this.countReadAt = this.vhost.now();
  }

  override refuseReturn(what: string): void {
    throw new WarrenError('NOT_IMPLEMENTED', `${what} not supported by stream queues ${this.where}`);
  }

  override deliveryHeaders(entry: QueueEntry): FieldTable {
    return { 'x-stream-offset': entry.seq };
  }

  override enqueue(msg: Message): boolean {
    if (this.deleted) return false;
    const bytes = envelopeOf(msg);
    const max = this.logs.maxPayload;
    if (max > 0 && bytes.length > max) {
      this.vhost.logger.warn(
        { queue: this.name, vhost: this.vhost.name, bytes: bytes.length, maxPayload: max },
        "a message bigger than the NATS servers' max_payload cannot enter a stream queue; refused",
      );
      return false;
    }
    this.stats.published++;
    this.count++;
    msg.stored = true;
    const appended = this.append(bytes, this.logs.publishId(msg));
    this.publishing.add(appended);
    void appended.finally(() => this.publishing.delete(appended));
    this.vhost.persistence.hold(appended);
    return true;
  }

  override addConsumer(consumer: Consumer): void {
    // RabbitMQ's order: the argument is checked first, then prefetch, no-ack, global qos (as StreamQueue).
    const now = this.vhost.now();
    const parsed = parseStreamOffset(consumer.args['x-stream-offset'], this.where, now);
    // 'next' (and a time still to come, which RabbitMQ treats alike) is what is appended from now on; the reader
    // is made after consume-ok, so it starts at this time rather than at whatever the log's end is by then
    // ('last' likewise, below).
    const fromNow = parsed.kind === 'next' || (parsed.kind === 'timestamp' && parsed.ms > now);
    const start: StreamOffsetSpec = fromNow ? { kind: 'timestamp', ms: now } : parsed;
    if (consumer.prefetch === 0) {
      throw new WarrenError('PRECONDITION_FAILED', `consumer prefetch count is not set for '${this.where}'`);
    }
    if (consumer.noAck) {
      throw new WarrenError(
        'NOT_IMPLEMENTED',
        `automatic acknowledgement not supported by stream queues ${this.where}`,
      );
    }
    if (consumer.channel.globalPrefetch > 0) {
      throw new WarrenError('NOT_IMPLEMENTED', `${this.where} does not support global qos`);
    }
    super.addConsumer(consumer);
    const reading: Reading = { reader: undefined, waiting: [], closed: false };
    this.readings.set(consumer, reading);
    this.logReady
      // 'last' is looked up at once, before consume-ok reaches the client and it publishes again.
      .then(async (log) =>
        log.read(start.kind === 'last' ? await log.lastOffset() : start, {
          credit: consumer.prefetch,
          onDelivery: (d) => this.guarded('stream delivery', () => this.arrived(consumer, reading, d)),
          onError: (err) =>
            this.vhost.logger.warn({ err, queue: this.name }, 'reading the stream failed; retrying'),
        }),
      )
      .then(
        (reader) => {
          if (reading.closed) reader.close();
          else reading.reader = reader;
        },
        (err: unknown) =>
          this.vhost.logger.error({ err, queue: this.name }, 'a reader of the stream could not be made'),
      );
  }

  override removeConsumer(consumer: Consumer): void {
    const reading = this.readings.get(consumer);
    if (reading !== undefined) {
      reading.closed = true;
      reading.reader?.close();
      reading.waiting = [];
      this.readings.delete(consumer);
    }
    super.removeConsumer(consumer);
  }

  override take(): QueueEntry | undefined {
    throw new WarrenError('NOT_IMPLEMENTED', `basic.get not supported by stream queues ${this.where}`);
  }

  override purge(): number {
    throw new WarrenError('NOT_IMPLEMENTED', `queue.purge not supported by stream queues ${this.where}`);
  }

  /** An ack: credit back to its consumer's reader; the message stays in the log. */
  override settle(entry: QueueEntry): void {
    this.done(entry);
    this.stats.acked++;
  }

  /** Its channel closed unacked: dropped, as RabbitMQ drops a stream's (the log keeps the message). */
  override requeue(entry: QueueEntry): void {
    this.done(entry);
  }

  override reject(entry: QueueEntry): void {
    this.done(entry);
  }

  override destroy(notifyConsumers: boolean): number {
    for (const r of this.readings.values()) {
      r.closed = true;
      r.reader?.close();
    }
    this.readings.clear();
    super.destroy(notifyConsumers);
    return this.count;
  }

  /** Sends what waited for room, now that a consumer may have some. */
  override dispatch(): void {
    if (this.deleted) return;
    for (const [consumer, reading] of this.readings) {
      while (reading.waiting.length > 0 && consumer.hasCredit()) {
        this.deliver(consumer, reading.waiting.shift() as Delivery);
      }
    }
  }

  /** The node is leaving: readers stop (the server drops them once idle). */
  leave(): void {
    for (const r of this.readings.values()) {
      r.closed = true;
      r.reader?.close();
    }
  }

  private arrived(consumer: Consumer, reading: Reading, d: Delivery): void {
    if (reading.closed || this.deleted) return;
    if (reading.waiting.length > 0 || !consumer.hasCredit()) reading.waiting.push(d);
    else this.deliver(consumer, d);
  }

  private deliver(consumer: Consumer, d: Delivery): void {
    const msg = messageOf(d.body);
    msg.id = this.logs.nextMessageId();
    const entry = new QueueEntry(this, msg, d.seq - 1, 0);
    entry.deliveryCount = 1;
    if (msg.refs++ === 0) this.vhost.memory.add(msg);
    this.deliveries.set(entry, d);
    this.outstanding++;
    this.stats.delivered++;
    consumer.delivered++;
    consumer.channel.deliver(consumer, entry);
  }

  private done(entry: QueueEntry): void {
    this.outstanding--;
    const d = this.deliveries.get(entry);
    this.deliveries.delete(entry);
    d?.ack();
    const consumer = entry.consumer;
    if (consumer !== undefined) this.readings.get(consumer)?.reader?.addCredit(1);
    if (--entry.msg.refs === 0) this.vhost.memory.remove(entry.msg);
  }

  private append(bytes: Uint8Array, id: string): Promise<void> {
    return retryWrite(
      async () => (await this.logReady).append(bytes, id).then(() => {}),
      () => this.deleted || !this.logs.running,
      (err, retryMs) =>
        this.vhost.logger.warn({ err, queue: this.name, retryMs }, 'append to the stream failed; retrying'),
    );
  }
}
