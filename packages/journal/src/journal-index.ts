import type { TopologyRecord } from '@warren/core';
import {
  entryState,
  extraView,
  type BodyLocation,
  type DeliveredMark,
  type EntryState,
  type EntryView,
  type QueueState,
} from './index-entries';
import { MessageTable } from './message-table';
import type { Segment } from './segment';

export interface TopologyState {
  seq: number;
  record: TopologyRecord;
  seg: Segment;
  off: number;
  len: number;
}

/**
 * The journal's state in memory: what MemoryStore holds, except that bodies stay on disk (only their
 * location is kept), plus the location of every live record for space accounting. The live write path and
 * recovery drive the same methods in the same order, so the state after a restart is the state before it.
 *
 * Per message the common case (one queue, not yet delivered) costs no object: a slot in MessageTable's
 * columns holds the body's location and that entry's. Other entries and DELIVERED marks are kept aside.
 */
export class JournalIndex {
  readonly topology = new Map<string, TopologyState>();
  /** Every segment file by number: the columns refer to segments by number. Shared with the journal. */
  readonly segments = new Map<number, Segment>();
  maxMessageId = 0;
  /** Next insertion sequence for topology keys and queue entries. */
  nextSeq = 1;
  /** The batch being applied (see Segment.deadAt). */
  batch = 0;
  private readonly table = new MessageTable();
  private readonly queues = new Map<string, QueueState>();
  /** Queue tags (index = tag) and the free ones, so dropped queues' numbers are reused. */
  private readonly byTag: (QueueState | undefined)[] = [undefined];
  private readonly freeTags: number[] = [];
  /** Delivered marks of the entries in the columns, by message id. */
  private readonly marks = new Map<number, DeliveredMark>();

  /** Distinct message ids held (with a body or entries). */
  get messageCount(): number {
    return this.table.size;
  }

  put(key: string, seq: number, record: TopologyRecord, seg: Segment, off: number, len: number): void {
    const old = this.topology.get(key);
    if (old !== undefined) old.seg.kill(old.len, seg, this.batch);
    this.topology.set(key, { seq, record, seg, off, len });
    seg.addLive(len);
    this.seen(seq);
  }

  /** `seg` undefined: the record is dropped with nothing on disk cancelling it (it was found unreadable). */
  del(key: string, seg: Segment | undefined): void {
    const old = this.topology.get(key);
    if (old === undefined) return;
    old.seg.kill(old.len, seg, this.batch);
    this.topology.delete(key);
  }

  /** A MESSAGE record: the body of `id`, `size` bytes of it the message body proper. */
  body(id: number, seg: Segment, off: number, len: number, size: number, priority: number): void {
    const t = this.table;
    let s = t.find(id);
    if (s < 0) s = t.add(id);
    // Two copies of a body (one moved by compaction, the old one still on disk): the newer one counts.
    else if (t.bodySeg(s) >= 0) this.seg(t.bodySeg(s)).kill(t.bodyLen(s), undefined, this.batch);
    t.setBody(s, seg.no, off, len);
    t.setMeta(s, size, priority);
    seg.addLive(len);
    if (id > this.maxMessageId) this.maxMessageId = id;
  }

  /** Compaction copied the body's record of `id` (it is held) to `seg`. */
  bodyMoved(id: number, seg: Segment, off: number, len: number): void {
    const t = this.table;
    const s = t.find(id);
    if (s < 0) return;
    if (t.bodySeg(s) >= 0) this.seg(t.bodySeg(s)).kill(t.bodyLen(s), undefined, this.batch);
    t.setBody(s, seg.no, off, len);
    seg.addLive(len);
  }

  /** Body bytes of a message whose body is on disk; -1 otherwise. */
  bodySizeOf(id: number): number {
    const s = this.table.find(id);
    return s < 0 || this.table.bodySeg(s) < 0 ? -1 : this.table.bodySize(s);
  }

  /** Priority of a message whose body is on disk (0 otherwise). */
  priorityOf(id: number): number {
    const s = this.table.find(id);
    return s < 0 ? 0 : this.table.priority(s);
  }

  /** The body's record was found unreadable: its entries stay, and are skipped when recovered. */
  loseBody(id: number): void {
    const t = this.table;
    const s = t.find(id);
    if (s < 0 || t.bodySeg(s) < 0) return;
    this.seg(t.bodySeg(s)).kill(t.bodyLen(s), undefined, this.batch);
    t.clearBody(s);
  }

  hasBody(id: number): boolean {
    const s = this.table.find(id);
    return s >= 0 && this.table.bodySeg(s) >= 0;
  }

  /** Where the body of a message is; undefined when it is not on disk. */
  bodyOf(id: number): BodyLocation | undefined {
    const t = this.table;
    const s = t.find(id);
    if (s < 0 || t.bodySeg(s) < 0) return undefined;
    return { seg: this.seg(t.bodySeg(s)), off: t.bodyOff(s), len: t.bodyLen(s), refs: t.refs(s) };
  }

  /** Visits every body held on disk: (id, segment, offset, length, entries holding it). */
  eachBody(visit: (id: number, seg: Segment, off: number, len: number, refs: number) => void): void {
    const t = this.table;
    for (let s = 0; s < t.size; s++) {
      const no = t.bodySeg(s);
      if (no >= 0) visit(t.id(s), this.seg(no), t.bodyOff(s), t.bodyLen(s), t.refs(s));
    }
  }

  enqueue(
    queue: string,
    id: number,
    seq: number,
    delivered: boolean,
    seg: Segment,
    off: number,
    len: number,
  ): void {
    const q = this.queueState(queue);
    const t = this.table;
    let s = t.find(id);
    if (s < 0) s = t.add(id);
    const mark = delivered ? { seg: undefined, off: 0, len: 0 } : undefined;
    if (t.primaryQueue(s) === q.tag) {
      // Replaced (compaction moving it, or a re-enqueue): the old records are dead.
      this.killPrimary(s, q, seg);
      if (len === q.enqueueLen) {
        t.setPrimary(s, q.tag, seq, seg.no, off);
        if (mark !== undefined) this.marks.set(id, mark);
      } else {
        t.clearPrimary(s);
        q.primaries--;
        q.extra.set(id, entryState(seq, delivered, seg, off, len));
      }
    } else {
      const old = q.extra.get(id);
      if (old !== undefined) this.killEntry(old, seg);
      else t.setRefs(s, t.refs(s) + 1);
      if (old === undefined && t.primaryQueue(s) === 0 && (q.enqueueLen === len || q.primaries === 0)) {
        q.enqueueLen = len;
        q.primaries++;
        t.setPrimary(s, q.tag, seq, seg.no, off);
        if (mark !== undefined) this.marks.set(id, mark);
      } else {
        q.extra.set(id, entryState(seq, delivered, seg, off, len));
      }
    }
    seg.addLive(len);
    if (id > this.maxMessageId) this.maxMessageId = id;
    this.seen(seq);
  }

  hasQueue(queue: string): boolean {
    return this.queues.has(queue);
  }

  /** The entry's insertion sequence, or -1 when there is none (a re-enqueue keeps its place). */
  entrySeq(queue: string, id: number): number {
    const q = this.queues.get(queue);
    if (q === undefined) return -1;
    const s = this.table.find(id);
    if (s >= 0 && this.table.primaryQueue(s) === q.tag) return this.table.primarySeq(s);
    return q.extra.get(id)?.seq ?? -1;
  }

  /** Whether the entry exists and is marked delivered. */
  isDelivered(queue: string, id: number): boolean {
    const q = this.queues.get(queue);
    if (q === undefined) return false;
    const s = this.table.find(id);
    if (s >= 0 && this.table.primaryQueue(s) === q.tag) return this.marks.has(id);
    return q.extra.get(id)?.delivered === true;
  }

  /** The entry, for compaction's re-check before rewriting it. */
  entry(queue: string, id: number): EntryView | undefined {
    const q = this.queues.get(queue);
    if (q === undefined) return undefined;
    const s = this.table.find(id);
    if (s >= 0 && this.table.primaryQueue(s) === q.tag) return this.primaryView(s, q);
    const e = q.extra.get(id);
    return e === undefined ? undefined : extraView(q, id, e);
  }

  /** Visits every queue entry (in no particular order). `visit` must not change the index. */
  eachEntry(visit: (e: EntryView) => void): void {
    const t = this.table;
    for (let s = 0; s < t.size; s++) {
      const tag = t.primaryQueue(s);
      if (tag !== 0) visit(this.primaryView(s, this.byTag[tag] as QueueState));
    }
    for (const q of this.queues.values()) for (const [id, e] of q.extra) visit(extraView(q, id, e));
  }

  delivered(queue: string, id: number, seg: Segment, off: number, len: number): void {
    const q = this.queues.get(queue);
    if (q === undefined) return;
    const s = this.table.find(id);
    if (s >= 0 && this.table.primaryQueue(s) === q.tag) {
      if (this.marks.has(id)) return;
      this.marks.set(id, { seg, off, len });
      seg.addLive(len);
      return;
    }
    const e = q.extra.get(id);
    if (e === undefined || e.delivered) return;
    e.delivered = true;
    e.dSeg = seg;
    e.dOff = off;
    e.dLen = len;
    seg.addLive(len);
  }

  settle(queue: string, id: number, seg: Segment | undefined): void {
    const q = this.queues.get(queue);
    if (q === undefined) return;
    const t = this.table;
    const s = t.find(id);
    if (s >= 0 && t.primaryQueue(s) === q.tag) {
      this.killPrimary(s, q, seg);
      t.clearPrimary(s);
      q.primaries--;
      this.unref(s);
      return;
    }
    const e = q.extra.get(id);
    if (e === undefined) return;
    q.extra.delete(id);
    this.killEntry(e, seg);
    if (s >= 0) this.unref(s);
  }

  dropQueue(queue: string, seg: Segment): void {
    const q = this.queues.get(queue);
    if (q === undefined) return;
    const t = this.table;
    for (const [id, e] of q.extra) {
      this.killEntry(e, seg);
      const s = t.find(id);
      if (s >= 0) this.unref(s);
    }
    q.extra.clear();
    // Downwards: unref may move the last slot into this one, and that one was seen already.
    for (let s = t.size - 1; s >= 0 && q.primaries > 0; s--) {
      if (s >= t.size || t.primaryQueue(s) !== q.tag) continue;
      this.killPrimary(s, q, seg);
      t.clearPrimary(s);
      q.primaries--;
      this.unref(s);
    }
    this.queues.delete(queue);
    this.byTag[q.tag] = undefined;
    this.freeTags.push(q.tag);
  }

  /**
   * After recovery: bodies no entry holds (a batch torn between its MESSAGE and ENQUEUE records) are dropped,
   * and entries whose body was lost to corruption are removed. Returns the lost entries for the report.
   */
  sweep(): { queue: string; id: number }[] {
    const lost: { queue: string; id: number }[] = [];
    this.eachEntry((e) => {
      if (!this.hasBody(e.id)) lost.push({ queue: e.queue, id: e.id });
    });
    for (const { queue, id } of lost) this.settle(queue, id, undefined);
    const t = this.table;
    for (let s = t.size - 1; s >= 0; s--) {
      if (s >= t.size || t.refs(s) > 0) continue;
      if (t.bodySeg(s) >= 0) this.seg(t.bodySeg(s)).kill(t.bodyLen(s), undefined, this.batch);
      t.remove(s);
    }
    return lost;
  }

  private queueState(queue: string): QueueState {
    let q = this.queues.get(queue);
    if (q === undefined) {
      const tag = this.freeTags.pop() ?? this.byTag.length;
      q = { key: queue, tag, enqueueLen: 0, primaries: 0, extra: new Map() };
      this.queues.set(queue, q);
      this.byTag[tag] = q;
    }
    return q;
  }

  private primaryView(s: number, q: QueueState): EntryView {
    const t = this.table;
    const id = t.id(s);
    const mark = this.marks.get(id);
    return {
      queue: q.key,
      id,
      seq: t.primarySeq(s),
      delivered: mark !== undefined,
      seg: this.seg(t.primarySeg(s)),
      len: q.enqueueLen,
      dSeg: mark?.seg,
      dLen: mark?.len ?? 0,
    };
  }

  /** The records of slot `s`'s column entry (its ENQUEUE, its DELIVERED if any) are dead because of `by`. */
  private killPrimary(s: number, q: QueueState, by: Segment | undefined): void {
    const t = this.table;
    this.seg(t.primarySeg(s)).kill(q.enqueueLen, by, this.batch);
    const id = t.id(s);
    const mark = this.marks.get(id);
    if (mark === undefined) return;
    mark.seg?.kill(mark.len, by, this.batch);
    this.marks.delete(id);
  }

  private killEntry(e: EntryState, by: Segment | undefined): void {
    e.seg.kill(e.len, by, this.batch);
    if (e.dSeg !== undefined) e.dSeg.kill(e.dLen, by, this.batch);
  }

  private unref(s: number): void {
    const t = this.table;
    const refs = t.refs(s) - 1;
    if (refs > 0) return t.setRefs(s, refs);
    // Nothing on disk needs to cancel a body: with no entry left, recovery drops it (see sweep).
    if (t.bodySeg(s) >= 0) this.seg(t.bodySeg(s)).kill(t.bodyLen(s), undefined, this.batch);
    t.remove(s);
  }

  private seg(no: number): Segment {
    const s = this.segments.get(no);
    if (s === undefined) throw new Error(`journal index refers to segment ${no}, which is not known`);
    return s;
  }

  private seen(seq: number): void {
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }
}
