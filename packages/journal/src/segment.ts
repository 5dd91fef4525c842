import type { FileHandle } from 'node:fs/promises';

/**
 * One segment file and what is still needed in it. A record is live while recovery needs it to rebuild the
 * current state (the latest PUT of a key, a message body some queue still holds, a queue entry and its
 * delivered mark). A segment with nothing live may still hold tombstones (DELETE, SETTLE, DROP_QUEUE, or a
 * record that superseded an older one) that cancel records in an older segment: if it went first, replaying
 * the older segment would resurrect them. `pins` counts those; the segment goes once both counts are zero.
 */
export class Segment {
  /** Bytes in the file, including those still waiting in the write queue. */
  size: number;
  live = 0;
  liveBytes = 0;
  /** Records in older segments that this segment's records cancel (must outlive those segments). */
  pins = 0;
  /** Newer segments pinned by records in this one, with how many records each. */
  readonly pinned = new Map<Segment, number>();
  /** The batch whose records made this segment dead; it may go only once that batch is durable. */
  deadAt = 0;
  /** The last batch queued for this file: it may be deleted only once that batch is written. */
  lastBatch = 0;
  /** Compaction is reading it: not deleted underneath. */
  busy = false;
  fd: FileHandle | undefined = undefined;

  constructor(
    readonly no: number,
    readonly path: string,
    size: number,
  ) {
    this.size = size;
  }

  addLive(bytes: number): void {
    this.live++;
    this.liveBytes += bytes;
  }

  /**
   * A record of this segment is no longer needed because of a record in segment `by` (undefined when nothing
   * on disk cancels it: a body whose last reference went, a record recovery found unusable).
   */
  kill(bytes: number, by: Segment | undefined, batch: number): void {
    this.live--;
    this.liveBytes -= bytes;
    if (this.live === 0) this.deadAt = batch;
    if (by !== undefined && by !== this) {
      by.pins++;
      this.pinned.set(by, (this.pinned.get(by) ?? 0) + 1);
    }
  }

  /** Called once this segment's file is durably gone: the tombstones aimed at it are no longer needed. */
  release(): void {
    for (const [s, n] of this.pinned) s.pins -= n;
    this.pinned.clear();
  }
}
