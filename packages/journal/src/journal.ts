import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  silentLogger,
  type FixedHistogram,
  type Logger,
  type MessageStore,
  type RecoverOptions,
  type RecoveredState,
  type StoredMessage,
  type StoreOp,
} from '@warren/core';
import { Appender } from './appender';
import { DirLock } from './dir-lock';
import { DirectoryError, makeDirectory, probeWritable, type DirectoryStep } from './directory';
import { DiskMonitor, type DiskAlarmListener } from './disk-monitor';
import { BatchWriter, INLINE_BODY_MAX } from './batch-writer';
import { auditIndex } from './index-audit';
import { JournalIndex } from './journal-index';
import { Maintenance, type MaintenanceHost } from './maintenance';
import { encodeOps } from './op-writer';
import { encodeHeader, HEADER_SIZE, recordAt, segmentFileName } from './record-format';
import { decodeMessage } from './records';
import { recoveredState } from './recovered-state';
import { recoverSegments, type RecoveryReport } from './recovery';
import { Segment } from './segment';
import { readRecords } from './segment-reader';

export interface JournalOptions {
  /** Created if missing. One journal per directory: a second open fails while the first holds its lock. */
  dir: string;
  /** A segment is closed and a new one started once it reaches this size. Default 64 MiB. */
  segmentSize?: number;
  logger?: Logger;
  /** fdatasync each group commit (default true). Off only for tests and benchmarks that accept loss. */
  fsync?: boolean;
  /**
   * RabbitMQ's disk_free_limit in bytes: below it the disk alarm is raised (see `onDiskAlarm`). 0 = off.
   * Default 50 MB, RabbitMQ's default.
   */
  diskFreeLimit?: number;
  /** Free bytes on the journal's file system; replaceable for tests. */
  freeSpace?: () => Promise<number>;
}

export interface JournalStats {
  segments: number;
  /** Bytes of all segment files. */
  diskBytes: number;
  /** Bytes of records recovery would still need. */
  liveBytes: number;
  /** Distinct message bodies held. */
  messages: number;
  /** Group commits (write + fdatasync rounds) and the store batches they carried. */
  rounds: number;
  batches: number;
  /** Batches handed to the journal and not yet on disk: what a close is still waiting for. */
  pendingBatches: number;
  bytesWritten: number;
  /** Total milliseconds spent in fdatasync. */
  syncMs: number;
  segmentsDeleted: number;
  segmentsCompacted: number;
  bytesMoved: number;
}

export const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;

/**
 * The durable MessageStore: append-only segment files of checksummed records (record-format.ts), one write
 * and one fdatasync per group of batches, crash recovery that cuts torn tails and skips corrupt records, and
 * background deletion and compaction of dead space.
 */
export class Journal implements MessageStore, MaintenanceHost {
  readonly index: JournalIndex;
  /** The index's table: its columns name segments by number. */
  readonly segments: Map<number, Segment>;
  readonly logger: Logger;
  readonly segmentSize: number;
  readonly fsync: boolean;
  private headSeg: Segment | undefined;
  private batch = 0;
  private readonly appender: Appender;
  private readonly maintenance: Maintenance;
  private closed = false;
  private readonly disk: DiskMonitor;

  private constructor(
    readonly dir: string,
    options: JournalOptions,
    index: JournalIndex,
    segments: Segment[],
    /** What recovery found wrong when this journal was opened. */
    readonly report: RecoveryReport,
    private readonly lock: DirLock,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.fsync = options.fsync ?? true;
    this.index = index;
    this.segments = index.segments;
    for (const s of segments) this.segments.set(s.no, s);
    this.appender = new Appender({
      dir,
      fsync: this.fsync,
      logger: this.logger,
      onDurable: () => {
        this.maintenance.kick();
        this.disk.maybeCheck();
      },
    });
    this.maintenance = new Maintenance(this);
    this.disk = new DiskMonitor(dir, options.diskFreeLimit ?? 50_000_000, this.logger, options.freeSpace);
  }

  /** Opens (and recovers) the journal in `options.dir`. */
  static async open(options: JournalOptions): Promise<Journal> {
    const logger = options.logger ?? silentLogger;
    // Each step fails at once with a DirectoryError naming itself: a directory that cannot be made, locked or
    // written now will not become usable by retrying, and the appender would otherwise retry its first write
    // forever.
    await step(options.dir, 'create', () => makeDirectory(options.dir));
    const lock = await step(options.dir, 'lock', () => DirLock.acquire(options.dir));
    const index = new JournalIndex();
    let recovered;
    try {
      await step(options.dir, 'write', () => probeWritable(options.dir));
      recovered = await recoverSegments(options.dir, index, logger);
      if (options.fsync ?? true) {
        // A killed process leaves written-but-unsynced bytes in the page cache; they are about to be trusted
        // (older segments may be deleted on their word), so they go to disk first. Only the newest segments
        // can hold any: every older one was synced before the next was started.
        for (const s of recovered.segments.slice(-2)) {
          const fh = await open(s.path, 'r');
          await fh.datasync();
          await fh.close();
        }
      }
    } catch (err) {
      await lock.release();
      throw err;
    }
    const { segments, report } = recovered;
    const j = new Journal(options.dir, options, index, segments, report, lock);
    // Appending always starts in a fresh segment: the old tail may have been cut, and its header stays valid.
    j.roll();
    await j.appender.idle();
    j.maintenance.kick();
    await j.disk.check();
    logger.info(
      {
        dir: options.dir,
        segments: report.segments,
        records: report.records,
        messages: index.messageCount,
        damaged: report.truncated.length + report.skipped.length + report.undecodable.length,
      },
      'journal opened',
    );
    return j;
  }

  head(): Segment {
    return this.headSeg as Segment;
  }

  durableBatch(): number {
    return this.appender.durableBatch;
  }

  /** Topology and each queue's messages in order (see recoveredState). */
  async recover(options: RecoverOptions = {}): Promise<RecoveredState> {
    await this.appender.idle();
    return recoveredState(this.index, options, (whole) =>
      this.maintenance.hold(() => this.readBodies(whole)),
    );
  }

  /**
   * Messages by id, read from their segments (paged-out messages a queue has reached). Records of batches not
   * yet written are waited for; a record moved by compaction while being read is read again where it went.
   */
  async read(ids: readonly number[]): Promise<Map<number, StoredMessage>> {
    const out = new Map<number, StoredMessage>();
    let pending = ids;
    for (let attempt = 0; pending.length > 0 && attempt < 3; attempt++) {
      const bySeg = new Map<Segment, { id: number; off: number; len: number }[]>();
      let needBatch = 0;
      for (const id of pending) {
        const m = this.index.bodyOf(id);
        if (m === undefined || m.refs === 0) continue;
        let list = bySeg.get(m.seg);
        if (list === undefined) bySeg.set(m.seg, (list = []));
        list.push({ id, off: m.off, len: m.len });
        if (m.seg.lastBatch > needBatch) needBatch = m.seg.lastBatch;
      }
      await this.appender.whenDurable(needBatch);
      const retry: number[] = [];
      for (const [seg, locs] of bySeg) {
        try {
          await readRecords(seg.path, locs, (buf, pos, loc) => {
            const message = recordAt(buf, pos) === loc.len ? decodeMessage(buf, pos, loc.len) : undefined;
            if (message?.id === loc.id) out.set(loc.id, message);
            else retry.push(loc.id);
          });
        } catch (err) {
          // Compaction deleted the segment after copying its live records forward: look them up again.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          for (const loc of locs) retry.push(loc.id);
        }
      }
      pending = retry;
    }
    for (const id of pending) {
      this.logger.error({ id }, 'journal: a paged-out message could not be read back');
    }
    return out;
  }

  write(ops: StoreOp[], durable: () => void): void {
    if (this.closed) throw new Error('journal is closed');
    this.maintenance.noteWrite();
    this.append(
      batchSizeHint(ops),
      (w, seg, base) => encodeOps(ops, w, this.index, seg, base, this.logger),
      durable,
    );
  }

  /**
   * Encodes a batch at the head and queues it for the next group commit. The index changes as the records
   * are encoded, so the order of changes in memory is the order of records on disk.
   */
  append(
    sizeHint: number,
    build: (w: BatchWriter, seg: Segment, base: number) => void,
    done: (() => void) | undefined,
  ): void {
    if (this.head().size >= this.segmentSize) this.roll();
    const seg = this.head();
    const base = seg.size;
    const w = new BatchWriter(Math.min(MAX_INITIAL_BATCH, Math.max(512, sizeHint)));
    this.index.batch = ++this.batch;
    build(w, seg, base);
    const chunks = w.finish();
    const bytes = w.offset;
    seg.size += bytes;
    seg.lastBatch = this.batch;
    this.appender.push({ seg, offset: base, chunks, bytes, batch: this.batch, done });
  }

  /**
   * The disk alarm: `listener(true)` when free space falls below diskFreeLimit, `listener(false)` when it is
   * back. The server turns it into the broker's publisher blocking (AMQP connection.blocked), as for memory.
   */
  onDiskAlarm(listener: DiskAlarmListener): () => void {
    return this.disk.onAlarm(listener);
  }

  /** Whether free space is below diskFreeLimit now. */
  get diskLow(): boolean {
    return this.disk.low;
  }

  /** Re-reads free space now (tests; the journal also checks on its own). */
  checkDisk(): Promise<void> {
    return this.disk.check();
  }

  /** Resolves once every batch written so far is durable and background maintenance has settled. */
  async idle(): Promise<void> {
    await this.appender.idle();
    await this.maintenance.idle();
    await this.appender.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disk.stop();
    await this.appender.idle();
    await this.maintenance.stop();
    await this.appender.close();
    for (const s of this.segments.values()) {
      if (s.fd !== undefined) await s.fd.close();
      s.fd = undefined;
    }
    await this.lock.release();
  }

  /** Space accounting checked against the index (see auditIndex); empty when consistent. */
  audit(): string[] {
    return auditIndex(this.index, this.segments.values());
  }

  /** fdatasync seconds and batches per group commit, as histograms (read by the Prometheus endpoint). */
  histograms(): { syncSeconds: FixedHistogram; groupSize: FixedHistogram } {
    return { syncSeconds: this.appender.syncSeconds, groupSize: this.appender.groupSize };
  }

  stats(): JournalStats {
    let diskBytes = 0;
    let liveBytes = 0;
    for (const s of this.segments.values()) {
      diskBytes += s.size;
      liveBytes += s.liveBytes;
    }
    const a = this.appender.stats;
    const m = this.maintenance.stats;
    return {
      segments: this.segments.size,
      diskBytes,
      liveBytes,
      messages: this.index.messageCount,
      rounds: a.rounds,
      batches: a.batches,
      pendingBatches: this.batch - this.appender.durableBatch,
      bytesWritten: a.bytes,
      syncMs: a.syncMs,
      segmentsDeleted: m.deleted,
      segmentsCompacted: m.compacted,
      bytesMoved: m.moved,
    };
  }

  /** Starts a new head segment; its header records the id and sequence high-water marks. */
  private roll(): void {
    let last = 0;
    for (const no of this.segments.keys()) if (no > last) last = no;
    const no = last + 1;
    const seg = new Segment(no, join(this.dir, segmentFileName(no)), HEADER_SIZE);
    this.segments.set(no, seg);
    this.headSeg = seg;
    const header = encodeHeader({
      segment: no,
      maxMessageId: this.index.maxMessageId,
      nextSeq: this.index.nextSeq,
    });
    seg.lastBatch = ++this.batch;
    this.appender.push({
      seg,
      offset: 0,
      chunks: [header],
      bytes: HEADER_SIZE,
      batch: this.batch,
      done: undefined,
    });
  }

  /** The messages in `whole`, read back from the segments (bodies are not kept in memory). */
  private async readBodies(whole: ReadonlySet<number>): Promise<Map<number, StoredMessage>> {
    const bySeg = new Map<Segment, { id: number; off: number; len: number }[]>();
    for (const id of whole) {
      const m = this.index.bodyOf(id);
      if (m === undefined || m.refs === 0) continue;
      let list = bySeg.get(m.seg);
      if (list === undefined) bySeg.set(m.seg, (list = []));
      list.push({ id, off: m.off, len: m.len });
    }
    const bodies = new Map<number, StoredMessage>();
    for (const [seg, locs] of bySeg) {
      await readRecords(seg.path, locs, (buf, pos, loc) => {
        if (recordAt(buf, pos) !== loc.len) {
          this.logger.error(
            { segment: seg.path, offset: loc.off, id: loc.id },
            'journal: a message body is unreadable',
          );
          return;
        }
        bodies.set(loc.id, decodeMessage(buf, pos, loc.len));
      });
    }
    return bodies;
  }
}

async function step<T>(dir: string, name: DirectoryStep, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw err instanceof DirectoryError ? err : new DirectoryError(dir, name, err);
  }
}

/** A batch buffer this large is allocated up front at most; a bigger batch grows it (copying once or twice). */
const MAX_INITIAL_BATCH = 1024 * 1024;

/**
 * About the bytes a batch encodes to: its small records, plus the bodies copied inline (BatchWriter's
 * INLINE_BODY_MAX), so a batch of 1 KiB persistent messages starts in a buffer that holds it instead of
 * doubling (and copying) its way up from 16 KiB.
 */
function batchSizeHint(ops: readonly StoreOp[]): number {
  let bytes = 0;
  for (const op of ops) {
    bytes += 96;
    if (op.op === 'enqueue' && op.message !== undefined && op.message.body.length <= INLINE_BODY_MAX) {
      bytes += op.message.body.length;
    }
  }
  return bytes;
}
