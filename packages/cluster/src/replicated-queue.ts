import {
  Message,
  Queue,
  type Consumer,
  type QueueEntry,
  type QueueHost,
  type QueueOptions,
  type QueueOwner,
  type QueueSettings,
} from '@warren/core';
import type { ConsumeHandle } from './consume-loop';
import type { Delivery } from './delivery';
import { decodeEnvelope, encodeEnvelope, envelopeProperties } from './envelope';
import type { QueueStream } from './queue-stream';

/** What a replicated queue needs of the node it lives on. */
export interface ReplicaHost {
  /** The queue's stream, opened (or created) once per node. */
  stream(vhost: string, queue: string): Promise<QueueStream>;
  /** A publish id unique in the cluster: JetStream drops a retried publish with the same id (dedup window). */
  publishId(msg: Message): string;
  /** How many consumers the other nodes have on this queue now (0 for those that do not answer in time). */
  remoteConsumers(vhost: string, queue: string): Promise<number>;
  /** The largest message NATS takes (its max_payload), with room for the publish's headers; 0 if unknown. */
  readonly maxPayload: number;
  /** Broker-wide message ids for what comes out of a stream. */
  nextMessageId(): number;
  /** How long JetStream waits for an ack; in-flight deliveries are kept alive at a third of it. */
  readonly ackWaitMs: number;
  /** False once the node leaves: retries stop. */
  readonly running: boolean;
}

/** What one consumer without a prefetch limit may have pulled for it at once. */
const UNLIMITED_CREDIT = 256;
/** First and last wait between two publish attempts while the stream cannot take one. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;
/** How stale the ready count may be before a read of it asks the stream again. */
const COUNT_REFRESH_MS = 1000;

/**
 * A durable queue of a cluster, kept in a JetStream work-queue stream that every node shares. It is a sibling
 * of the local Queue and uses its machinery for what stays local: consumers, credit, dispatch, deliveries and
 * their acks. What differs:
 *
 * - enqueue publishes to the stream; the publisher's confirm (or receipt) waits for JetStream's PubAck through
 *   Persistence.hold, retried with the same publish id until it comes, so a retry is not a second copy.
 * - messages come in from the stream's shared pull consumer, never more than the local consumers have credit
 *   for (prefetch stays exact across nodes), and join the ready list through Queue.admit;
 * - an ack is +ACK, a requeue (nack, reject with requeue, a closed channel) is -NAK, so JetStream hands the
 *   message again to whichever node pulls next, flagged redelivered by its delivery count;
 * - deliveries still held are kept alive with +WPI, so only a node that died has its deliveries redelivered
 *   after ackWaitMs.
 */
export class ReplicatedQueue extends Queue {
  private readonly streamReady: Promise<QueueStream>;
  private stream: QueueStream | undefined;
  private puller: ConsumeHandle | undefined;
  /** The stream's handle on each message this node holds (ready or unacked). */
  private readonly deliveries = new Map<QueueEntry, Delivery>();
  /** Ready messages in the stream as last read, plus what was published here since. */
  private readyCount = 0;
  private countReadAt = 0;
  private countReading = false;
  /** Consumers on other nodes, as last counted. */
  private elsewhere = 0;
  /** basic.get's one-message pull came back; the next take() may run even if it found nothing. */
  private fetched = false;
  /** basic.get pulls under way: what they bring stays here for the get even with no consumer. */
  private getting = 0;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    host: QueueHost,
    name: string,
    options: QueueOptions,
    settings: QueueSettings,
    owner: QueueOwner | undefined,
    private readonly replica: ReplicaHost,
  ) {
    super(host, name, options, settings, owner);
    this.streamReady = replica.stream(host.name, name);
    this.streamReady.then(
      (s) => {
        this.stream = s;
        this.refreshCount();
        this.topUp();
      },
      (err: unknown) =>
        host.logger.error(
          { err, queue: name, vhost: host.name },
          'the stream of a replicated queue did not open',
        ),
    );
  }

  /** The stream keeps the messages; nothing goes to the node's own store. */
  override stores(): boolean {
    return false;
  }

  /** Ready messages cluster-wide, as last read from the stream (at most a second old when asked again). */
  override get messageCount(): number {
    if (this.vhost.now() - this.countReadAt > COUNT_REFRESH_MS) this.refreshCount();
    return this.readyCount + this.ready.length;
  }

  /** Consumers on every node, as last counted (a declare counts them afresh: see refresh). */
  override get consumerCount(): number {
    return this.consumers.length + this.elsewhere;
  }

  /**
   * Reads the cluster-wide figures a declare-ok reports: ready messages from the stream, consumers from the
   * other nodes. A declare waits for it, so its counts include every message confirmed before it.
   */
  async refresh(): Promise<void> {
    const s = await this.streamReady;
    const [ready, elsewhere] = await Promise.all([
      s.readyCount(),
      this.replica.remoteConsumers(this.vhost.name, this.name),
    ]);
    this.readyCount = ready;
    this.countReadAt = this.vhost.now();
    this.elsewhere = elsewhere;
  }

  override enqueue(msg: Message): boolean {
    if (this.deleted) return false;
    // x-overflow=reject-publish(-dlx): the stream is not asked, so the length is the one known here.
    const { maxLength, overflow } = this.settings;
    if (overflow !== 'drop-head' && maxLength !== undefined && this.messageCount >= maxLength) return false;
    this.stats.published++;
    this.readyCount++;
    const bytes = encodeEnvelope({
      exchange: msg.exchange,
      routingKey: msg.routingKey,
      properties: msg.properties,
      body: msg.body,
    });
    const max = this.replica.maxPayload;
    if (max > 0 && bytes.length > max) {
      // NATS would refuse it on every try: refused here instead, as an overflow is (a nack with confirms).
      this.vhost.logger.warn(
        { queue: this.name, vhost: this.vhost.name, bytes: bytes.length, maxPayload: max },
        "a message bigger than the NATS servers' max_payload cannot enter a replicated queue; refused",
      );
      return false;
    }
    // Stored means "a confirm or receipt waits for the store": here, for the stream's PubAck (the hold).
    msg.stored = true;
    this.vhost.persistence.hold(this.publish(bytes, this.replica.publishId(msg)));
    return true;
  }

  override addConsumer(consumer: Consumer): void {
    super.addConsumer(consumer);
    this.topUp();
  }

  override removeConsumer(consumer: Consumer): void {
    super.removeConsumer(consumer);
    if (this.consumers.length === 0) this.handBack();
  }

  override dispatch(): void {
    super.dispatch();
    this.topUp();
  }

  override get headPaged(): boolean {
    return this.ready.length === 0 && !this.fetched && !this.deleted;
  }

  /** basic.get: one message pulled without waiting (an empty answer if the stream has none ready). */
  override whenHeadLoaded(fn: () => void): void {
    this.getting++;
    const done = (): void => {
      this.getting--;
      this.fetched = true;
      this.guarded('basic.get', fn);
    };
    this.streamReady
      .then((s) => s.pull(1, { noWait: true }))
      .then(async (got) => {
        for (const d of got) this.accept(d);
        // get-ok's message count: what is left, read after the pull.
        await this.refresh().catch(() => {});
      })
      .then(
        () => done(),
        (err: unknown) => {
          this.vhost.logger.warn({ err, queue: this.name }, 'basic.get could not pull from the stream');
          done();
        },
      );
  }

  override take(): QueueEntry | undefined {
    const entry = super.take();
    this.fetched = false;
    return entry;
  }

  /** Puts a delivery back: the stream hands it out again, to this node or another, flagged redelivered. */
  override requeue(entry: QueueEntry): void {
    const d = this.deliveries.get(entry);
    const limit = this.settings.deliveryLimit;
    if (d === undefined || (limit !== undefined && entry.deliveryCount > limit)) {
      // Past x-delivery-limit the base class dead-letters it, and release() acks it in the stream.
      super.requeue(entry);
      return;
    }
    this.unackedCount--;
    entry.tag = 0;
    entry.consumer = undefined;
    this.deliveries.delete(entry);
    this.readyCount++;
    d.nak();
    super.release(entry);
    this.topUp();
  }

  override purge(): number {
    const local = super.purge();
    const purged = this.readyCount;
    this.readyCount = 0;
    this.streamReady
      .then((s) => s.purge())
      .catch((err: unknown) => this.vhost.logger.warn({ err, queue: this.name }, 'stream purge failed'));
    return local + purged;
  }

  override destroy(notifyConsumers: boolean): number {
    this.puller?.stop();
    this.puller = undefined;
    this.stopKeepAlive();
    return super.destroy(notifyConsumers) + this.readyCount;
  }

  /** The message leaves for good (acked, dead-lettered, dropped): +ACK in the stream. */
  protected override release(entry: QueueEntry): void {
    const d = this.deliveries.get(entry);
    if (d !== undefined) {
      this.deliveries.delete(entry);
      if (!this.deleted) d.ack();
      if (this.deliveries.size === 0) this.stopKeepAlive();
    }
    super.release(entry);
  }

  /** The node is leaving: stop pulling; what is held here goes back to the stream with the node's acks gone. */
  leave(): void {
    this.puller?.stop();
    this.puller = undefined;
    this.stopKeepAlive();
  }

  /** Asks the stream for as many messages as the local consumers can take now, less what is already coming. */
  private topUp(): void {
    const s = this.stream;
    if (s === undefined || this.deleted || !this.replica.running) return;
    let want = 0;
    for (const c of this.consumers) {
      if (!c.hasCredit()) continue;
      want += c.noAck || c.prefetch === 0 ? UNLIMITED_CREDIT : c.prefetch - c.unacked;
    }
    if (want === 0) return;
    this.puller ??= s.consume({
      credit: 0,
      onDelivery: (d) => this.guarded('stream delivery', () => this.accept(d)),
      onError: (err) =>
        this.vhost.logger.warn({ err, queue: this.name }, 'pulling from the stream failed; retrying'),
    });
    const missing = want - this.ready.length - this.puller.credit;
    if (missing > 0) this.puller.addCredit(missing);
  }

  /** A message from the stream joins the ready list; with nobody left to take it, it goes straight back. */
  private accept(d: Delivery): void {
    if (this.deleted || !this.replica.running) {
      d.nak();
      return;
    }
    const envelope = decodeEnvelope(d.body);
    // The body is a view into the client's read buffer: copied once, here, because the queue keeps it.
    const msg = Message.fromProperties(
      envelope.exchange,
      envelope.routingKey,
      envelopeProperties(envelope),
      Buffer.from(envelope.body),
    );
    msg.id = this.replica.nextMessageId();
    if (this.readyCount > 0) this.readyCount--;
    const entry = this.admit(msg, d.deliveryCount - 1);
    this.deliveries.set(entry, d);
    this.startKeepAlive();
    if (this.consumers.length === 0 && this.getting === 0) this.handBack();
  }

  /** No consumer here any more: ready messages pulled for them go back to the stream for other nodes. */
  private handBack(): void {
    this.puller?.stop();
    this.puller = undefined;
    for (;;) {
      const entry = this.ready.shift();
      if (entry === undefined) break;
      const d = this.deliveries.get(entry);
      this.deliveries.delete(entry);
      d?.nak();
      this.readyCount++;
      super.release(entry);
    }
    if (this.deliveries.size === 0) this.stopKeepAlive();
  }

  private async publish(bytes: Uint8Array, id: string): Promise<void> {
    let wait = RETRY_FIRST_MS;
    for (;;) {
      try {
        const s = await this.streamReady;
        await s.publish(bytes, id);
        return;
      } catch (err) {
        if (this.deleted || !this.replica.running) return;
        this.vhost.logger.warn(
          { err, queue: this.name, retryMs: wait },
          'publish to the stream failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  private refreshCount(): void {
    const s = this.stream;
    if (s === undefined || this.countReading) return;
    this.countReading = true;
    s.readyCount().then(
      (n) => {
        this.countReading = false;
        this.countReadAt = this.vhost.now();
        this.readyCount = n;
      },
      () => {
        this.countReading = false;
      },
    );
  }

  private startKeepAlive(): void {
    if (this.keepAlive !== undefined) return;
    this.keepAlive = setInterval(
      () =>
        this.guarded('stream keep-alive', () => {
          for (const d of this.deliveries.values()) d.working();
        }),
      Math.max(100, Math.floor(this.replica.ackWaitMs / 3)),
    );
    this.keepAlive.unref();
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
