import type { Consumer } from './consumer';
import { Deque } from './deque';
import { WarrenError } from './errors';
import type { FieldTable } from './field-table';
import { Message } from './message';
import { Queue, type QueueOptions, type QueueOwner } from './queue';
import { DEFAULT_SEGMENT_SIZE_BYTES, type QueueSettings } from './queue-arguments';
import { QueueEntry } from './queue-entry';
import { queueKey, type StoredMessage } from './store';
import { StreamIndex } from './stream-index';
import { rebuildLog, type ChunkRecord } from './stream-recovery';
import { parseStreamOffset, type StreamOffsetSpec } from './stream-offset';
import type { QueueHost } from './queue-host';

/**
 * Appends within this long of a chunk's first one join that chunk and share its timestamp. It bounds how
 * many chunk records the store keeps (at most 10 a second a stream) against how precise timestamps are.
 */
export const CHUNK_SPAN_MS = 100;
/** Offsets read back from the store in one read for one consumer, at most (and a quarter of the budget). */
const READ_BATCH = 2048;
/** After a failed store read, the next try. */
const READ_RETRY_MS = 1000;

/** One consumer's place in the log, and what it has read back from the store ahead of that place. */
interface Reader {
  readonly consumer: Consumer;
  /** The next offset to deliver. */
  offset: number;
  /** Messages read back for offsets bufferFrom...; null for one the store no longer had. */
  buffer: (Message | null | undefined)[];
  bufferFrom: number;
  loading: boolean;
}

/**
 * A stream (x-queue-type=stream): an append-only log. Every message gets the next offset and stays until
 * retention removes its segment; consuming removes nothing. Each consumer reads from its own offset with credit
 * equal to its prefetch, acks only give credit back, and the delivery carries x-stream-offset.
 *
 * Bodies: the newest `residentBudget` bytes stay in memory (the tail every consumer at the head of the log
 * reads); older ones are read back from the store in batches by the consumer that needs them. Per offset the
 * stream keeps only an id and a size in typed-array blocks (StreamIndex).
 *
 * Durable state: the messages are an ordinary queue message list in the store (enqueue, and settle when
 * retention removes them); the chunk records (TopologyRecord 'stream-chunk') give the offsets, timestamps and
 * segment boundaries back after a restart.
 *
 * It is a Queue so the vhost, channels, management and metrics need nothing new; what a stream does not have
 * (basic.get, purge, nack, requeue) is refused or, for a closing channel's unacked deliveries, dropped.
 */
export class StreamQueue extends Queue {
  private index = new StreamIndex(0);
  /** Messages of offsets tailFrom..index.next-1, held in memory. */
  private tail = new Deque<Message>();
  private tailFrom = 0;
  private tailBytes = 0;
  private readonly readers = new Map<Consumer, Reader>();
  /** Deliveries not yet acked (RabbitMQ shows a stream's messages as all ready; so does unackedCount). */
  outstanding = 0;
  private feeding = false;
  private feedScheduled = false;
  private retentionTimer: NodeJS.Timeout | undefined = undefined;
  private readonly key: string;
  /** Between restore() calls at startup and recovered(): the queue's messages and chunk records as stored. */
  private restoring:
    { ids: number[]; sizes: number[]; msgs: (Message | undefined)[]; chunks: ChunkRecord[] } | undefined = {
    ids: [],
    sizes: [],
    msgs: [],
    chunks: [],
  };

  constructor(
    vhost: QueueHost,
    name: string,
    options: QueueOptions,
    settings: QueueSettings,
    owner: QueueOwner | undefined,
  ) {
    super(vhost, name, options, settings, owner);
    this.key = queueKey(vhost.name, name);
  }

  /** The log's length, as RabbitMQ counts a stream's messages. */
  override get messageCount(): number {
    return this.index.length;
  }

  get firstOffset(): number {
    return this.index.first;
  }

  get nextOffset(): number {
    return this.index.next;
  }

  /** Body bytes in the log. */
  get logBytes(): number {
    return this.index.bytes;
  }

  get segmentCount(): number {
    return this.index.segmentOffsets.length;
  }

  /** Body bytes of the log held in memory (the resident tail). */
  get residentTailBytes(): number {
    return this.tailBytes;
  }

  /** RabbitMQ 3.10 refuses a client's nack, reject and requeueing recover of a stream delivery. */
  override refuseReturn(what: string): void {
    throw new WarrenError('NOT_IMPLEMENTED', `${what} not supported by stream queues ${this.where}`);
  }

  override deliveryHeaders(entry: QueueEntry): FieldTable {
    return { 'x-stream-offset': entry.seq };
  }

  override enqueue(msg: Message): boolean {
    if (this.restoring !== undefined) this.recovered(); // a stream made after startup has nothing to restore
    const idx = this.index;
    const now = this.vhost.now();
    const maxSegment = this.settings.maxSegmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
    const opensSegment = idx.segmentOffsets.length === 0 || idx.activeSegmentBytes >= maxSegment;
    const opensChunk = opensSegment || now - idx.lastChunkTime >= CHUNK_SPAN_MS;
    // Times never go back, so a chunk's time orders the log even if the clock steps back.
    const time = opensChunk ? Math.max(now, idx.lastChunkTime) : idx.lastChunkTime;
    const persistence = this.vhost.persistence;
    // The chunk record goes before its first message in the same batch: a torn batch may keep the record
    // without the message (dropped at restart), never the message without the record.
    if (opensChunk) persistence.put(this.chunkRecord(idx.next, msg.id, time, opensSegment));
    idx.push(msg.id, msg.size, opensChunk, opensSegment, time);
    persistence.enqueueKeyed(this.key, msg);
    if (msg.refs++ === 0) this.vhost.memory.add(msg);
    this.tail.push(msg);
    this.tailBytes += msg.size;
    this.trimTail();
    this.stats.published++;
    if (opensSegment && idx.segmentOffsets.length > 1) this.applyRetention();
    this.dispatch();
    return true;
  }

  override addConsumer(consumer: Consumer): void {
    // RabbitMQ's order: the argument is checked first, then prefetch, no-ack, global qos.
    const spec = parseStreamOffset(consumer.args['x-stream-offset'], this.where, this.vhost.now());
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
    if (this.restoring !== undefined) this.recovered();
    const reader: Reader = {
      consumer,
      offset: this.startOffset(spec),
      buffer: [],
      bufferFrom: 0,
      loading: false,
    };
    this.readers.set(consumer, reader);
    try {
      super.addConsumer(consumer);
    } catch (e) {
      this.readers.delete(consumer);
      throw e;
    }
  }

  override removeConsumer(consumer: Consumer): void {
    const reader = this.readers.get(consumer);
    if (reader !== undefined) {
      this.dropBuffer(reader);
      this.readers.delete(consumer);
    }
    super.removeConsumer(consumer);
  }

  /** The offset a new consumer starts at. 'last' is the newest message: Warren's chunks are not batches. */
  private startOffset(spec: StreamOffsetSpec): number {
    const idx = this.index;
    switch (spec.kind) {
      case 'first':
        return idx.first;
      case 'last':
        return idx.length > 0 ? idx.next - 1 : idx.next;
      case 'next':
        return idx.next;
      case 'offset':
        return Math.min(Math.max(spec.offset, idx.first), idx.next);
      case 'timestamp':
        return idx.offsetAtTime(spec.ms);
    }
  }

  override take(): QueueEntry | undefined {
    throw new WarrenError('NOT_IMPLEMENTED', `basic.get not supported by stream queues ${this.where}`);
  }

  override purge(): number {
    throw new WarrenError('NOT_IMPLEMENTED', `queue.purge not supported by stream queues ${this.where}`);
  }

  /** An ack: credit back to its consumer; the message stays in the log. */
  override settle(entry: QueueEntry): void {
    this.outstanding--;
    this.stats.acked++;
    this.releaseMessage(entry.msg);
  }

  /**
   * A delivery returned without an ack: its channel closed (RabbitMQ drops a stream's unacked deliveries; the
   * consumer's next subscription picks its own offset). Client nacks are refused before this (Channel).
   */
  override requeue(entry: QueueEntry): void {
    this.outstanding--;
    this.releaseMessage(entry.msg);
  }

  /** A delivery its protocol could not send: nothing to dead-letter, the log keeps it. */
  override reject(entry: QueueEntry): void {
    this.outstanding--;
    this.releaseMessage(entry.msg);
  }

  override destroy(notifyConsumers: boolean): number {
    const count = this.index.length;
    if (this.retentionTimer !== undefined) clearTimeout(this.retentionTimer);
    for (const r of this.readers.values()) this.dropBuffer(r);
    this.readers.clear();
    for (const m of this.tail.drain()) this.releaseMessage(m);
    this.tailBytes = 0;
    const persistence = this.vhost.persistence;
    for (const offset of this.index.chunkOffsets) persistence.delete(this.chunkRecord(offset, 0, 0, false));
    super.destroy(notifyConsumers);
    return count;
  }

  /** Hands each consumer with credit the next messages at its offset, in turns, one message each per turn. */
  override dispatch(): void {
    if (this.feeding || this.deleted) return;
    this.feeding = true;
    try {
      let budget = this.vhost.limits.dispatchBatch;
      let progress = true;
      while (progress && budget > 0) {
        progress = false;
        for (const r of this.readers.values()) {
          if (budget === 0) break;
          if (this.deliverNext(r)) {
            progress = true;
            budget--;
          }
        }
      }
      // Yield to I/O so one fast reader of a long log cannot starve every socket; carry on next turn.
      if (budget === 0) this.scheduleFeed();
    } finally {
      this.feeding = false;
    }
  }

  private deliverNext(r: Reader): boolean {
    const c = r.consumer;
    const idx = this.index;
    if (r.offset < idx.first) r.offset = idx.first; // retention passed it: carry on from the oldest kept
    for (;;) {
      if (r.offset >= idx.next || !c.hasCredit()) return false;
      const fromTail = r.offset >= this.tailFrom;
      const msg = this.messageAt(r);
      if (msg === undefined) {
        this.readBack(r);
        return false;
      }
      const offset = r.offset++;
      if (msg === null) continue; // logged when read; nothing to deliver
      const entry = new QueueEntry(this, msg, offset, 0);
      entry.deliveryCount = 1;
      // The delivery holds a reference; one read back for this reader hands it the buffer's.
      if (fromTail && msg.refs++ === 0) this.vhost.memory.add(msg);
      this.outstanding++;
      this.stats.delivered++;
      c.delivered++;
      c.channel.deliver(c, entry);
      return true;
    }
  }

  /** The message at the reader's offset: from the resident tail, or its read-back buffer (taken out of it). */
  private messageAt(r: Reader): Message | null | undefined {
    const offset = r.offset;
    if (offset >= this.tailFrom) return this.tail.at(offset - this.tailFrom);
    const i = offset - r.bufferFrom;
    if (i < 0 || i >= r.buffer.length) return undefined;
    const msg = r.buffer[i];
    if (msg === undefined) return undefined;
    r.buffer[i] = undefined;
    if (i === r.buffer.length - 1) r.buffer = [];
    return msg;
  }

  /** Reads the reader's next offsets (up to the resident tail) back from the store, one read at a time. */
  private readBack(r: Reader): void {
    if (r.loading) return;
    this.dropBuffer(r);
    const idx = this.index;
    const from = r.offset;
    const end = Math.min(this.tailFrom, idx.next, from + READ_BATCH);
    const maxBytes = Math.max(1, this.budget / 4);
    const ids: number[] = [];
    let bytes = 0;
    for (let o = from; o < end && (ids.length === 0 || bytes < maxBytes); o++) {
      ids.push(idx.id(o));
      bytes += idx.size(o);
    }
    r.loading = true;
    this.vhost.persistence.read(ids).then(
      (found) => this.guarded('stream read', () => this.readDone(r, from, ids, found)),
      (err: unknown) => {
        this.vhost.logger.error(
          { err, queue: this.name, vhost: this.vhost.name },
          'reading stream messages back failed; retrying',
        );
        setTimeout(
          () =>
            this.guarded('stream read retry', () => {
              r.loading = false;
              if (this.readers.get(r.consumer) === r) this.dispatch();
            }),
          READ_RETRY_MS,
        ).unref();
      },
    );
  }

  private readDone(r: Reader, from: number, ids: number[], found: Map<number, StoredMessage>): void {
    r.loading = false;
    if (this.deleted || this.readers.get(r.consumer) !== r) return;
    const memory = this.vhost.memory;
    r.buffer = ids.map((id, k) => {
      const m = found.get(id);
      // Retention may have removed it while the read was under way: the reader moves past it anyway.
      if (m === undefined && from + k < this.index.first) return null;
      if (m === undefined) {
        this.vhost.logger.error(
          { queue: this.name, vhost: this.vhost.name, id },
          'a stream message is missing from the store; skipped',
        );
        return null;
      }
      const msg = Message.fromStored(m);
      msg.refs = 1;
      memory.add(msg);
      return msg;
    });
    r.bufferFrom = from;
    this.dispatch();
  }

  private dropBuffer(r: Reader): void {
    for (const m of r.buffer) if (m !== undefined && m !== null) this.releaseMessage(m);
    r.buffer = [];
  }

  /** Bytes of bodies kept in memory: the queue's resident budget, or all when the store cannot read back. */
  private get budget(): number {
    const b = this.residentBudget;
    return b > 0 ? b : Number.POSITIVE_INFINITY;
  }

  /** Lets go of the oldest resident bodies past the budget (the store has them). */
  private trimTail(): void {
    const budget = this.budget;
    while (this.tailBytes > budget && this.tail.length > 1) {
      const m = this.tail.shift() as Message;
      this.tailFrom++;
      this.tailBytes -= m.size;
      this.releaseMessage(m);
    }
  }

  private releaseMessage(msg: Message): void {
    if (--msg.refs === 0) this.vhost.memory.remove(msg);
  }

  /**
   * RabbitMQ's retention, per segment: while the log is over x-max-length-bytes, or its oldest segment's newest
   * message is older than x-max-age, that whole segment goes; the active (newest) segment always stays. Run
   * when a segment rolls over, and for x-max-age when the oldest segment comes of age (a timer).
   */
  applyRetention(): void {
    const idx = this.index;
    const { maxLengthBytes, maxAge } = this.settings;
    const now = this.vhost.now();
    while (idx.segmentOffsets.length > 1) {
      const tooBig = maxLengthBytes !== undefined && idx.bytes > maxLengthBytes;
      const tooOld = maxAge !== undefined && idx.segmentNewest(0) <= now - maxAge;
      if (!tooBig && !tooOld) break;
      this.dropOldestSegment();
    }
    this.armRetention();
  }

  private dropOldestSegment(): void {
    const idx = this.index;
    const persistence = this.vhost.persistence;
    const from = idx.first;
    const to = idx.segmentOffsets[1] ?? idx.next;
    // Settles first, in offset order, then the chunk records: a torn batch leaves a prefix of the segment
    // settled and its records in place, which recovered() recognises and finishes.
    for (let o = from; o < to; o++) persistence.settleKeyed(this.key, idx.id(o));
    const dropped = idx.dropOldestSegment();
    for (const offset of dropped.chunkOffsets) persistence.delete(this.chunkRecord(offset, 0, 0, false));
    while (this.tailFrom < to && this.tail.length > 0) {
      const m = this.tail.shift() as Message;
      this.tailFrom++;
      this.tailBytes -= m.size;
      this.releaseMessage(m);
    }
    if (this.tailFrom < to) this.tailFrom = to;
  }

  private armRetention(): void {
    if (this.retentionTimer !== undefined) clearTimeout(this.retentionTimer);
    this.retentionTimer = undefined;
    const maxAge = this.settings.maxAge;
    if (maxAge === undefined || this.deleted || this.index.segmentOffsets.length < 2) return;
    const at = this.index.segmentNewest(0) + maxAge;
    this.retentionTimer = setTimeout(
      () =>
        this.guarded('x-max-age', () => {
          this.retentionTimer = undefined;
          this.applyRetention();
        }),
      Math.max(0, at - this.vhost.now()) + 1,
    );
    this.retentionTimer.unref();
  }

  private scheduleFeed(): void {
    if (this.feedScheduled) return;
    this.feedScheduled = true;
    setImmediate(() =>
      this.guarded('stream dispatch', () => {
        this.feedScheduled = false;
        this.dispatch();
      }),
    );
  }

  private chunkRecord(offset: number, id: number, timestamp: number, segment: boolean): ChunkRecord {
    return { kind: 'stream-chunk', vhost: this.vhost.name, name: this.name, offset, id, timestamp, segment };
  }

  // ---- restart ---------------------------------------------------------------------------------------

  /** A chunk record from the store, before the messages are restored. */
  restoreChunk(record: ChunkRecord): void {
    this.restoring?.chunks.push(record);
  }

  override restore(msg: Message, _delivered: boolean): void {
    if (this.restoring === undefined) return;
    if (msg.refs++ === 0) this.vhost.memory.add(msg);
    this.restoring.ids.push(msg.id);
    this.restoring.sizes.push(msg.size);
    this.restoring.msgs.push(msg);
  }

  override restorePaged(id: number, size: number, _priority: number, _delivered: boolean): void {
    if (this.restoring === undefined) return;
    this.restoring.ids.push(id);
    this.restoring.sizes.push(size);
    this.restoring.msgs.push(undefined);
  }

  /** Rebuilds the log from what the store kept (rebuildLog) once every message is restored; then retention. */
  recovered(): void {
    const r = this.restoring;
    if (r === undefined) return;
    this.restoring = undefined;
    const persistence = this.vhost.persistence;
    const rebuilt = rebuildLog(r, this.vhost.now(), (offset, id, timestamp, segment) =>
      this.chunkRecord(offset, id, timestamp, segment),
    );
    for (const m of rebuilt.moved) {
      this.vhost.logger.warn(
        { queue: this.name, vhost: this.vhost.name, ...m },
        'a stream chunk is not at its recorded offset; offsets follow the stored order',
      );
    }
    const i = rebuilt.kept;
    for (let j = 0; j < i; j++) {
      persistence.settleKeyed(this.key, r.ids[j] as number);
      const m = r.msgs[j];
      if (m !== undefined) this.releaseMessage(m);
    }
    for (const c of rebuilt.deletes) persistence.delete(c);
    for (const c of rebuilt.puts) persistence.put(c);
    const idx = rebuilt.index;
    this.index = idx;
    // The newest bodies the store loaded stay resident, within the budget; the rest are read when needed.
    const budget = this.budget;
    let from = r.ids.length;
    let bytes = 0;
    while (from > i) {
      const m = r.msgs[from - 1];
      if (m === undefined || bytes + m.size > budget) break;
      bytes += m.size;
      from--;
    }
    for (let j = i; j < from; j++) {
      const m = r.msgs[j];
      if (m !== undefined) this.releaseMessage(m);
    }
    for (let j = from; j < r.msgs.length; j++) this.tail.push(r.msgs[j] as Message);
    this.tailBytes = bytes;
    this.tailFrom = idx.next - this.tail.length;
    this.applyRetention();
  }
}
