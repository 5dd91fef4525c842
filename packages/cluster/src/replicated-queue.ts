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
import { envelopeOf, messageOf } from './envelope';
import type { QueueStream } from './queue-stream';
import { oneAtATime, retryWrite } from './retry';

/** What a replicated queue needs of the node it lives on. */
export interface ReplicaHost {
  /** The queue's stream, opened (or created) once per node. */
  stream(vhost: string, queue: string): Promise<QueueStream>;
  /** A publish id unique in the cluster: JetStream drops a retried publish with the same id (dedup window). */
  publishId(msg: Message): string;
  /** What the other nodes have of this queue now (nothing counted for those that do not answer in time). */
  remoteState(vhost: string, queue: string): Promise<ReplicaState>;
  /** A publish landed in this queue over a drop-head limit: asks the one node chosen to trim it to. */
  askTrim(vhost: string, queue: string): void;
  /** The largest message NATS takes (its max_payload), with room for the publish's headers; 0 if unknown. */
  readonly maxPayload: number;
  /** Broker-wide message ids for what comes out of a stream. */
  nextMessageId(): number;
  /** How long JetStream waits for an ack; in-flight deliveries are kept alive at a third of it. */
  readonly ackWaitMs: number;
  /** False once the node leaves: retries stop. */
  readonly running: boolean;
}

/** One node's share of a queue: its consumers, and the deliveries they hold unacked. */
export interface ReplicaState {
  consumers: number;
  unacked: number;
}

/** What one consumer without a prefetch limit may have pulled for it at once. */
const UNLIMITED_CREDIT = 256;
/** How stale the ready count may be before a read of it asks the stream again. */
const COUNT_REFRESH_MS = 1000;
/**
 * How long one pull request waits on the server. JetStream 2.9 cannot cancel a request, so one made for a
 * consumer that has gone since (cancel, channel closed) still takes messages until it expires; this node
 * hands them straight back (-NAK), and they may bounce to the same request again. Short requests keep that
 * window to a second, at the cost of one request per second per idle queue.
 */
const PULL_EXPIRES_MS = 1000;
/** How long a count waits for the server to confirm this node's acks before it reads anyway. */
const ACKED_WAIT_MS = 1000;
/**
 * A drop-head trim that may not have been the last word (see dropHeads) tries again after this long, this
 * many times in a row without dropping anything.
 */
const TRIM_RETRY_MS = 100;
const TRIM_TRIES = 20;
/** How long basic.get waits between two pulls while the count says a message is on its way back. */
const GET_RETRY_MS = 50;
/** How many ready messages one pull of a purge takes (and acks) at a time. */
const PURGE_BATCH = 1000;

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
  /** The stream's messages as last read, plus what was published here since, less what was acked here since. */
  private streamMessages = 0;
  /** The stream and its consumer agreed on the count when it was last read (nothing on its way). */
  private countsSettled = true;
  /** What the stream keeps per message on average, as last read (x-max-length-bytes counts with it). */
  private storedPerMessage = 0;
  /** Deliveries held unacked on the other nodes, as last counted. */
  private unackedElsewhere = 0;
  private countReadAt = 0;
  /** Reads the counts again, unless a read is under way. */
  private readonly refreshCount = oneAtATime(() => this.refresh());
  /** Consumers on other nodes, as last counted. */
  private elsewhere = 0;
  /** basic.get's one-message pull came back; the next take() may run even if it found nothing. */
  private fetched = false;
  /** basic.get pulls under way: what they bring stays here for the get even with no consumer. */
  private getting = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  /** The last delivery acked here since the counts were read: a refresh waits until the server has it. */
  private lastAcked: Delivery | undefined;
  /** A drop-head trim is under way; another is due after it. */
  private trimming = false;
  private trimAgain = false;
  private trimMisses = 0;
  /** Publishes from this node not yet acknowledged by the stream. */
  private readonly publishing = new Set<Promise<void>>();

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

  /** Ready messages cluster-wide, as last counted (at most a second old when asked again). */
  override get messageCount(): number {
    if (!this.deleted && this.vhost.now() - this.countReadAt > COUNT_REFRESH_MS) this.refreshCount();
    return Math.max(0, this.streamMessages - this.unackedCount - this.unackedElsewhere);
  }

  /** Consumers on every node, as last counted (a declare counts them afresh: see refresh). */
  override get consumerCount(): number {
    return this.consumers.length + this.elsewhere;
  }

  /** This node's share, for the others' counts. */
  localState(): ReplicaState {
    return { consumers: this.consumers.length, unacked: this.unackedCount };
  }

  /**
   * Counts what a declare-ok reports, cluster-wide: consumers on every node, and ready messages, which are the
   * stream's messages less the deliveries held unacked on every node. (JetStream's own pending count leaves out
   * a message handed back and not yet handed out again, and counts as taken one pulled by a node that has not
   * delivered it yet; neither is what a RabbitMQ user means by ready.) A declare waits for it, so its counts
   * include every message confirmed before it.
   */
  async refresh(): Promise<void> {
    const s = await this.streamReady;
    // Acks are sent without waiting; a count read before the server had them would still include their
    // messages (a client that acked, then declared, would see them). One answered ack covers all before it.
    const acked = this.lastAcked;
    this.lastAcked = undefined;
    if (acked !== undefined) await acked.acked(ACKED_WAIT_MS).catch(() => {});
    const [stored, elsewhere] = await Promise.all([
      s.stored(),
      this.replica.remoteState(this.vhost.name, this.name),
    ]);
    this.streamMessages = stored.messages;
    this.countsSettled = stored.settled;
    if (stored.bytesPerMessage > 0) this.storedPerMessage = stored.bytesPerMessage;
    this.unackedElsewhere = elsewhere.unacked;
    this.countReadAt = this.vhost.now();
    this.elsewhere = elsewhere.consumers;
  }

  /**
   * Ready bytes cluster-wide, as x-max-length-bytes counts them here: ready messages at the stream's stored
   * size per message (the body, Warren's envelope of properties and routing, the subject and headers), which
   * is a little more than RabbitMQ's body bytes. Only the stream knows every node's messages, and it tells a
   * total, not a size per message.
   */
  private get readyBytes(): number {
    return this.messageCount * this.storedPerMessage;
  }

  override enqueue(msg: Message): boolean {
    if (this.deleted) return false;
    const bytes = envelopeOf(msg);
    const max = this.replica.maxPayload;
    if (max > 0 && bytes.length > max) {
      // NATS would refuse it on every try: refused here instead, as an overflow is (a nack with confirms).
      this.vhost.logger.warn(
        { queue: this.name, vhost: this.vhost.name, bytes: bytes.length, maxPayload: max },
        "a message bigger than the NATS servers' max_payload cannot enter a replicated queue; refused",
      );
      return false;
    }
    // x-overflow=reject-publish(-dlx): the stream is not asked, so the length is the one known here.
    const { maxLength, maxLengthBytes, overflow } = this.settings;
    if (overflow !== 'drop-head') {
      if (maxLength !== undefined && this.messageCount >= maxLength) return false;
      if (maxLengthBytes !== undefined && this.readyBytes + bytes.length > maxLengthBytes) return false;
    }
    this.stats.published++;
    this.streamMessages++;
    if (this.storedPerMessage === 0) this.storedPerMessage = bytes.length;
    // Stored means "a confirm or receipt waits for the store": here, for the stream's PubAck (the hold).
    msg.stored = true;
    const published = this.publish(bytes, this.replica.publishId(msg));
    // Other nodes publish too, so only the stream can say whether this one put the queue over its limit, and
    // one node trims, or two would race for the same head.
    if (this.dropsHead) void published.then(() => this.replica.askTrim(this.vhost.name, this.name));
    this.publishing.add(published);
    void published.finally(() => this.publishing.delete(published));
    this.vhost.persistence.hold(published);
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
      .then((s) => this.getOne(s))
      .then(
        () => done(),
        (err: unknown) => {
          this.vhost.logger.warn({ err, queue: this.name }, 'basic.get could not pull from the stream');
          done();
        },
      );
  }

  /**
   * basic.get's pull. The stream may count a message ready that no pull can have at this instant: one handed
   * back by a request that outlived its consumer, on its way between the two. Then the pull is tried again,
   * for as long as such a request can live; a queue the count says is empty answers at once.
   */
  private async getOne(s: QueueStream): Promise<void> {
    const deadline = Date.now() + PULL_EXPIRES_MS + GET_RETRY_MS;
    for (;;) {
      const got = await s.pull(1, { noWait: true });
      for (const d of got) this.accept(d);
      // get-ok's message count: what is left, read after the pull.
      await this.refresh().catch(() => {});
      if (got.length > 0 || this.messageCount === 0 || this.deleted || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, GET_RETRY_MS).unref());
    }
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
    d.nak();
    super.release(entry);
    this.topUp();
  }

  /** Resolves once every message published here so far is in the stream (or given up with the queue). */
  async settled(): Promise<void> {
    await Promise.all(this.publishing);
  }

  /**
   * Drops the ready messages, here and in the stream, as RabbitMQ's purge does: deliveries not yet acked (on
   * any node) stay, to be acked or requeued. The stream's ready messages are pulled and acked in batches, after
   * this node's earlier publishes have landed; purge-ok (and the channel's next frames) wait for it.
   */
  override async purge(): Promise<number> {
    let purged = super.purge() as number;
    await this.settled();
    const s = await this.streamReady;
    for (;;) {
      if (this.deleted) break;
      const got = await s.pull(PURGE_BATCH, { noWait: true });
      for (const d of got) d.ack();
      purged += got.length;
      if (got.length < PURGE_BATCH) break;
    }
    await this.refresh().catch(() => {});
    return purged;
  }

  override destroy(notifyConsumers: boolean): number {
    this.puller?.stop();
    this.puller = undefined;
    this.stopKeepAlive();
    // The ready count is cluster-wide and includes what this node had pulled.
    const ready = this.messageCount;
    return Math.max(super.destroy(notifyConsumers), ready);
  }

  /** The message leaves for good (acked, dead-lettered, dropped): +ACK in the stream. */
  protected override release(entry: QueueEntry): void {
    const d = this.deliveries.get(entry);
    if (d !== undefined) {
      this.deliveries.delete(entry);
      if (!this.deleted) {
        d.ack();
        this.lastAcked = d;
      }
      if (this.streamMessages > 0) this.streamMessages--;
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
      expiresMs: PULL_EXPIRES_MS,
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
    // The body is a view into the client's read buffer: messageOf copies it once, as the queue keeps it.
    const msg = messageOf(d.body);
    msg.id = this.replica.nextMessageId();
    // Its TTL counts from when the stream stored it: one that waited past it there dies now, as expired.
    const storedAt = d.storedAt > 0 ? d.storedAt : this.vhost.now();
    this.admit(msg, d.deliveryCount - 1, storedAt, (entry) => this.deliveries.set(entry, d));
    // A no-ack consumer may have taken and settled it already.
    if (this.deliveries.size > 0) this.startKeepAlive();
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
      super.release(entry);
    }
    if (this.deliveries.size === 0) this.stopKeepAlive();
  }

  /**
   * x-max-length and x-max-length-bytes with drop-head (RabbitMQ's default overflow): once a publish has
   * landed and the queue holds more ready messages (or bytes) than the limit, the oldest ready ones leave the
   * stream, dead-lettered with reason maxlen (or dropped). Called on the one node chosen to trim the queue
   * (Peers.chosenFor), whichever node the publish came through. One trim at a time, and one more after it if
   * publishes landed meanwhile; a trim that finds the queue within its limits does nothing.
   */
  dropHeads(): void {
    if (this.deleted) return;
    if (this.trimming) {
      this.trimAgain = true;
      return;
    }
    this.trimming = true;
    this.trimAgain = false;
    // `again`: the trim may not have been the last word. It pulled less than the excess (a message on its way
    // back, other pulls waiting), or the stream and its consumer disagreed on the count (a publish the consumer
    // has not seen yet would make it low).
    const trim = async (): Promise<{ dropped: number; again: boolean }> => {
      const s = await this.streamReady;
      await this.refresh();
      const excess = this.messageCount - this.keepAtMost();
      if (excess <= 0) return { dropped: 0, again: !this.countsSettled };
      const got = await s.pull(excess, { noWait: true });
      let dropped = 0;
      for (const d of got) {
        // Consumers pull too, so the count may be behind: a message that was never delivered before goes
        // only if its delivery says the limit's worth came after it, else it goes back. (For a redelivered
        // one the server's pending count leaves out the other redeliveries behind it; the count decides.)
        if (!d.redelivered && d.pending < this.keepAtMost()) {
          d.nak();
          continue;
        }
        const msg = messageOf(d.body);
        this.deadLetterNew(msg, 'maxlen');
        d.ack();
        dropped++;
        // The next count waits for the server to have this ack, or it would see the message still there.
        this.lastAcked = d;
        if (this.streamMessages > 0) this.streamMessages--;
      }
      return { dropped, again: got.length < excess || !this.countsSettled };
    };
    trim().then(
      ({ dropped, again }) => {
        this.trimming = false;
        if (this.trimAgain) return this.dropHeads();
        // Try again shortly, for as long as tries keep finding something, or a few times more.
        this.trimMisses = dropped > 0 || !again ? 0 : this.trimMisses + 1;
        if (again && this.trimMisses < TRIM_TRIES) {
          setTimeout(() => this.guarded('x-max-length', () => this.dropHeads()), TRIM_RETRY_MS).unref();
        }
      },
      (err: unknown) => {
        this.trimming = false;
        this.vhost.logger.warn(
          { err, queue: this.name },
          'dropping the oldest messages over x-max-length failed',
        );
      },
    );
  }

  /** A length limit with drop-head: the queue is trimmed after publishes. */
  get dropsHead(): boolean {
    const { maxLength, maxLengthBytes, overflow } = this.settings;
    return overflow === 'drop-head' && (maxLength !== undefined || maxLengthBytes !== undefined);
  }

  /** The most ready messages x-max-length and x-max-length-bytes let the queue keep, as last counted. */
  private keepAtMost(): number {
    const { maxLength, maxLengthBytes } = this.settings;
    let keep = maxLength ?? Infinity;
    if (maxLengthBytes !== undefined && this.storedPerMessage > 0)
      keep = Math.min(keep, Math.floor(maxLengthBytes / this.storedPerMessage));
    return keep;
  }

  private publish(bytes: Uint8Array, id: string): Promise<void> {
    return retryWrite(
      async () => (await this.streamReady).publish(bytes, id).then(() => {}),
      () => this.deleted || !this.replica.running,
      (err, retryMs) =>
        this.vhost.logger.warn({ err, queue: this.name, retryMs }, 'publish to the stream failed; retrying'),
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
