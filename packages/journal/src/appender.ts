import { open, type FileHandle } from 'node:fs/promises';
import { FixedHistogram, type Logger } from '@warren/core';
import type { Segment } from './segment';

/** One batch of framed records bound for a known place in a segment. */
export interface PendingWrite {
  seg: Segment;
  offset: number;
  chunks: Buffer[];
  bytes: number;
  batch: number;
  /** Called once the batch and every one before it are on stable storage. */
  done: (() => void) | undefined;
}

export interface AppenderOptions {
  dir: string;
  fsync: boolean;
  logger: Logger;
  /** After every durable round: the segments it made dead may now be deleted. */
  onDurable: (batch: number) => void;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 5000;

/** fdatasync latency, seconds: from a fast NVMe's half millisecond to a struggling disk's seconds. */
const SYNC_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Store batches per group commit: powers of two up to the batches a busy second can pile up. */
const GROUP_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * The group commit. Batches queue up while a write + fdatasync is in flight; the next round takes all of
 * them at once (one pwritev, one fdatasync), then releases their callbacks in batch order. The file I/O runs
 * on libuv's thread pool, so the event loop keeps taking publishes during a sync.
 */
export class Appender {
  durableBatch = 0;
  /** Bytes and batches per round, for the figures a benchmark reports. */
  readonly stats = { rounds: 0, batches: 0, bytes: 0, syncMs: 0 };
  /** Seconds per fdatasync and store batches per group commit, for the Prometheus endpoint. */
  readonly syncSeconds = new FixedHistogram(SYNC_SECONDS_BUCKETS);
  readonly groupSize = new FixedHistogram(GROUP_SIZE_BUCKETS);
  private queue: PendingWrite[] = [];
  private running: Promise<void> | undefined;
  private writing: Segment | undefined;
  private closing = false;
  /** Promises of `whenDurable`, oldest first. */
  private waiters: { batch: number; resolve: () => void }[] = [];

  constructor(private readonly o: AppenderOptions) {}

  push(p: PendingWrite): void {
    this.queue.push(p);
    if (this.running === undefined) this.running = this.run();
  }

  /** Resolves once batch `batch` (and every one before it) is durable. */
  whenDurable(batch: number): Promise<void> {
    if (batch <= this.durableBatch) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ batch, resolve }));
  }

  /** Resolves once everything pushed so far is durable. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
    await this.writing?.fd?.close();
    if (this.writing !== undefined) this.writing.fd = undefined;
    this.writing = undefined;
  }

  private async run(): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (this.queue.length > 0) {
      // One round writes to one segment: a batch for the next segment waits for the following round.
      const seg = (this.queue[0] as PendingWrite).seg;
      let n = 1;
      while (n < this.queue.length && (this.queue[n] as PendingWrite).seg === seg) n++;
      const group = this.queue.slice(0, n);
      try {
        await this.writeGroup(seg, group);
      } catch (err) {
        // Nothing of the group is acknowledged: confirms wait rather than lie. The same bytes are rewritten
        // at the same offsets on retry, which also recovers from a failed fsync that dropped dirty pages.
        this.o.logger.error({ err, segment: seg.path, retryInMs: delay }, 'journal: write failed; retrying');
        if (this.closing && delay >= RETRY_MAX_MS) break;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        continue;
      }
      delay = RETRY_MIN_MS;
      this.queue.splice(0, n);
      const last = group[group.length - 1] as PendingWrite;
      this.durableBatch = last.batch;
      this.stats.rounds++;
      this.stats.batches += group.length;
      this.groupSize.observe(group.length);
      for (const p of group) p.done?.();
      while (this.waiters.length > 0 && (this.waiters[0] as { batch: number }).batch <= this.durableBatch) {
        this.waiters.shift()?.resolve();
      }
      this.o.onDurable(this.durableBatch);
    }
    this.running = undefined;
  }

  private async writeGroup(seg: Segment, group: PendingWrite[]): Promise<void> {
    let created = false;
    if (seg.fd === undefined) {
      // Only a new head is ever opened here. 'w', not 'wx': a file of this number can only be left by our own
      // failed attempt a moment ago.
      seg.fd = await open(seg.path, 'w');
      created = true;
    }
    const fd = seg.fd;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (const p of group) {
      for (const c of p.chunks) chunks.push(c);
      bytes += p.bytes;
    }
    const start = (group[0] as PendingWrite).offset;
    await writeAll(fd, chunks, start, bytes);
    const t0 = performance.now();
    if (this.o.fsync) {
      await fd.datasync();
      // A new file's directory entry must be durable too, or a power loss could lose the whole file.
      if (created) await syncDir(this.o.dir);
    }
    const syncMs = performance.now() - t0;
    this.stats.syncMs += syncMs;
    if (this.o.fsync) this.syncSeconds.observe(syncMs / 1000);
    this.stats.bytes += bytes;
    if (created && this.writing !== seg) {
      // The previous head got its last bytes synced in an earlier round; nothing writes to it any more.
      const prev = this.writing;
      this.writing = seg;
      if (prev?.fd !== undefined) {
        const f = prev.fd;
        prev.fd = undefined;
        await f.close();
      }
    }
  }
}

async function writeAll(fd: FileHandle, chunks: Buffer[], position: number, bytes: number): Promise<void> {
  let done = 0;
  let list = chunks;
  while (done < bytes) {
    // pwritev at an explicit offset: a retry overwrites exactly the same range.
    const { bytesWritten } = await fd.writev(list, position + done);
    done += bytesWritten;
    if (done < bytes) list = skipBytes(list, bytesWritten);
  }
}

function skipBytes(list: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of list) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
