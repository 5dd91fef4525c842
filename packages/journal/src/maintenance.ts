import { unlink } from 'node:fs/promises';
import type { Logger } from '@warren/core';
import { syncDir } from './appender';
import type { BatchWriter } from './batch-writer';
import type { JournalIndex } from './journal-index';
import { recordAt } from './record-format';
import { writeEnqueue } from './records';
import type { Segment } from './segment';
import { readRecords } from './segment-reader';

/** What maintenance needs from the journal. */
export interface MaintenanceHost {
  readonly dir: string;
  readonly index: JournalIndex;
  readonly segments: Map<number, Segment>;
  readonly segmentSize: number;
  readonly fsync: boolean;
  readonly logger: Logger;
  head(): Segment;
  durableBatch(): number;
  append(
    sizeHint: number,
    build: (w: BatchWriter, seg: Segment, base: number) => void,
    done: (() => void) | undefined,
  ): void;
}

/** A segment whose live bytes are below this share of its size is compacted on its own account. */
const GARBAGE_RATIO = 0.25;
/** Live records copied per compaction batch, so normal batches are never queued behind a huge one. */
const COPY_CHUNK = 4 * 1024 * 1024;
const ENTRY_CHUNK = 20000;

type RawItem =
  | { kind: 'topology'; key: string; off: number; len: number }
  | { kind: 'body'; id: number; off: number; len: number };

/**
 * Gives disk space back, in the background after each group commit. Dead segments are deleted (out of
 * order when their tombstones allow it). A segment kept alive by a few records is compacted: its live
 * records are copied to the head, after which it is dead too. So one old unconsumed message costs its own
 * bytes, moved forward now and then, never the gigabytes written after it (KahaDB's failure).
 */
export class Maintenance {
  readonly stats = { deleted: 0, compacted: 0, moved: 0 };
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private held = 0;
  /** Compactions since the last batch from the broker: bounded, so maintenance can never chase its own tail. */
  private sinceWrite = 0;

  constructor(private readonly host: MaintenanceHost) {}

  kick(): void {
    if (this.stopped || this.held > 0) return;
    this.again = true;
    if (this.running === undefined) {
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }
  }

  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** The broker wrote a batch: its space may need reclaiming again. */
  noteWrite(): void {
    this.sinceWrite = 0;
  }

  /** Keeps segments where they are while `fn` reads them (recovery loads bodies by location). */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.held++;
    try {
      await this.idle();
      return await fn();
    } finally {
      this.held--;
      this.kick();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async loop(): Promise<void> {
    try {
      while (this.again && !this.stopped && this.held === 0) {
        this.again = false;
        while (await this.deleteDead());
        if (!this.stopped && (await this.compactOne())) this.again = true;
      }
    } catch (err) {
      this.host.logger.error({ err }, 'journal: maintenance failed; it runs again after the next write');
    }
  }

  private async deleteDead(): Promise<boolean> {
    const { host } = this;
    const durable = host.durableBatch();
    const head = host.head();
    const victims: Segment[] = [];
    for (const s of host.segments.values()) {
      if (s === head || s.busy || s.live > 0 || s.pins > 0) continue;
      if (s.deadAt > durable || s.lastBatch > durable) continue;
      victims.push(s);
    }
    if (victims.length === 0) return false;
    for (const v of victims) {
      if (v.fd !== undefined) {
        const fd = v.fd;
        v.fd = undefined;
        await fd.close();
      }
      await unlink(v.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    // The tombstones in newer segments may go only once these deletions survive a power loss.
    if (host.fsync) await syncDir(host.dir);
    for (const v of victims) {
      v.release();
      host.segments.delete(v.no);
      this.stats.deleted++;
    }
    host.logger.debug({ segments: victims.map((v) => v.no) }, 'journal: deleted dead segments');
    return true;
  }

  private async compactOne(): Promise<boolean> {
    const { host } = this;
    const head = host.head();
    const durable = host.durableBatch();
    let total = 0;
    let live = 0;
    const candidates: Segment[] = [];
    for (const s of host.segments.values()) {
      if (s === head) continue;
      total += s.size;
      live += s.liveBytes;
      // Only a segment whose every batch is written: compaction reads it back from the file.
      if (s.live > 0 && !s.busy && s.lastBatch <= durable) candidates.push(s);
    }
    let victim: Segment | undefined;
    for (const c of candidates) {
      if (c.liveBytes < c.size * GARBAGE_RATIO && (victim === undefined || ratio(c) < ratio(victim)))
        victim = c;
    }
    // Everything dead but pinned by tombstones aimed at an old segment: move that segment's survivors
    // forward. The oldest first, as tombstones only ever point backwards.
    if (victim === undefined && total > 2 * live + 2 * host.segmentSize) victim = candidates[0];
    if (victim === undefined || this.sinceWrite > host.segments.size + 2) return false;
    this.sinceWrite++;
    await this.compact(victim);
    if (victim.live > 0 && !this.stopped) {
      // Nothing left to move yet still counted live: accounting drifted. Stop here rather than spin.
      host.logger.error(
        { segment: victim.no, live: victim.live },
        'journal: compaction left live records behind',
      );
      return false;
    }
    return true;
  }

  private async compact(victim: Segment): Promise<void> {
    const { host } = this;
    const index = host.index;
    victim.busy = true;
    try {
      const raw: RawItem[] = [];
      for (const [key, t] of index.topology) {
        if (t.seg === victim) raw.push({ kind: 'topology', key, off: t.off, len: t.len });
      }
      index.eachBody((id, seg, off, len) => {
        if (seg === victim) raw.push({ kind: 'body', id, off, len });
      });
      raw.sort((a, b) => a.off - b.off);
      let i = 0;
      while (i < raw.length && !this.stopped) {
        let bytes = 0;
        let j = i;
        while (j < raw.length && (j === i || bytes + (raw[j] as RawItem).len <= COPY_CHUNK)) {
          bytes += (raw[j] as RawItem).len;
          j++;
        }
        await this.copyRaw(victim, raw.slice(i, j));
        i = j;
      }
      const entries: { queue: string; id: number }[] = [];
      index.eachEntry((e) => {
        if (e.seg === victim || e.dSeg === victim) entries.push({ queue: e.queue, id: e.id });
      });
      for (let k = 0; k < entries.length && !this.stopped; k += ENTRY_CHUNK) {
        await this.rewriteEntries(victim, entries.slice(k, k + ENTRY_CHUNK));
      }
      this.stats.compacted++;
      host.logger.debug(
        { segment: victim.no, copied: raw.length, entries: entries.length },
        'journal: compacted',
      );
    } finally {
      victim.busy = false;
    }
  }

  /** Copies records verbatim (they are position-independent) after checking them once more. */
  private async copyRaw(victim: Segment, items: RawItem[]): Promise<void> {
    const { host } = this;
    const index = host.index;
    const read = new Map<RawItem, Buffer>();
    await readRecords(victim.path, items, (buf, pos, item) => {
      if (recordAt(buf, pos) === item.len) read.set(item, buf.subarray(pos, pos + item.len));
    });
    await new Promise<void>((resolve) =>
      host.append(
        items.length * 64,
        (w, seg, base) => {
          for (const item of items) {
            // Re-checked now: the item may have been settled or replaced while the read was in flight.
            const bytes = read.get(item);
            if (item.kind === 'topology') {
              const t = index.topology.get(item.key);
              if (t === undefined || t.seg !== victim || t.off !== item.off) continue;
              if (bytes === undefined) {
                host.logger.error(
                  { segment: victim.no, key: item.key },
                  'journal: topology record unreadable',
                );
                index.del(item.key, undefined);
                continue;
              }
              const off = base + w.offset;
              w.raw(bytes);
              index.put(item.key, t.seq, t.record, seg, off, item.len);
            } else {
              const m = index.bodyOf(item.id);
              if (m === undefined || m.seg !== victim || m.off !== item.off) continue;
              if (bytes === undefined) {
                host.logger.error({ segment: victim.no, id: item.id }, 'journal: message body unreadable');
                index.loseBody(item.id);
                continue;
              }
              const off = base + w.offset;
              w.raw(bytes);
              index.bodyMoved(item.id, seg, off, item.len);
            }
            this.stats.moved += item.len;
          }
        },
        resolve,
      ),
    );
  }

  /** Queue entries are rewritten, not copied: one ENQUEUE carrying the delivered mark replaces both records. */
  private async rewriteEntries(victim: Segment, list: { queue: string; id: number }[]): Promise<void> {
    const index = this.host.index;
    await new Promise<void>((resolve) =>
      this.host.append(
        list.length * 48,
        (w, seg, base) => {
          for (const { queue, id } of list) {
            const e = index.entry(queue, id);
            if (e === undefined || (e.seg !== victim && e.dSeg !== victim)) continue;
            const off = base + w.offset;
            const len = writeEnqueue(w, id, e.seq, e.delivered, queue);
            index.enqueue(queue, id, e.seq, e.delivered, seg, off, len);
            this.stats.moved += len;
          }
        },
        resolve,
      ),
    );
  }
}

function ratio(s: Segment): number {
  return s.size === 0 ? 0 : s.liveBytes / s.size;
}
