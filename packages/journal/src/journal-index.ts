import type { TopologyRecord } from '@warren/core';
import type { Segment } from './segment';

export interface TopologyState {
  seq: number;
  record: TopologyRecord;
  seg: Segment;
  off: number;
  len: number;
}

/** One message in one queue: where its ENQUEUE record is, and its DELIVERED record if it has one. */
export interface EntryState {
  seq: number;
  delivered: boolean;
  seg: Segment;
  off: number;
  len: number;
  dSeg: Segment | undefined;
  dOff: number;
  dLen: number;
}

/** A message id: how many queue entries hold it, and where its body is (undefined when never seen). */
export interface MessageState {
  refs: number;
  seg: Segment | undefined;
  off: number;
  len: number;
}

/**
 * The journal's state in memory: what MemoryStore holds, except that bodies stay on disk (only their
 * location is kept), plus the location of every live record for space accounting. The live write path and
 * recovery drive the same methods in the same order, so the state after a restart is the state before it.
 */
export class JournalIndex {
  readonly topology = new Map<string, TopologyState>();
  readonly queues = new Map<string, Map<number, EntryState>>();
  readonly messages = new Map<number, MessageState>();
  maxMessageId = 0;
  /** Next insertion sequence for topology keys and queue entries. */
  nextSeq = 1;
  /** The batch being applied (see Segment.deadAt). */
  batch = 0;

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

  body(id: number, seg: Segment, off: number, len: number): void {
    let m = this.messages.get(id);
    if (m === undefined) this.messages.set(id, (m = { refs: 0, seg: undefined, off: 0, len: 0 }));
    // Two copies of a body (one moved by compaction, the old one still on disk): the newer one counts.
    if (m.seg !== undefined) m.seg.kill(m.len, undefined, this.batch);
    m.seg = seg;
    m.off = off;
    m.len = len;
    seg.addLive(len);
    if (id > this.maxMessageId) this.maxMessageId = id;
  }

  /** The body's record was found unreadable: its entries stay, and are skipped when recovered. */
  loseBody(id: number): void {
    const m = this.messages.get(id);
    if (m?.seg === undefined) return;
    m.seg.kill(m.len, undefined, this.batch);
    m.seg = undefined;
  }

  hasBody(id: number): boolean {
    return this.messages.get(id)?.seg !== undefined;
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
    let q = this.queues.get(queue);
    if (q === undefined) this.queues.set(queue, (q = new Map()));
    const old = q.get(id);
    if (old !== undefined) {
      this.killEntry(old, seg);
    } else {
      let m = this.messages.get(id);
      if (m === undefined) this.messages.set(id, (m = { refs: 0, seg: undefined, off: 0, len: 0 }));
      m.refs++;
    }
    q.set(id, { seq, delivered, seg, off, len, dSeg: undefined, dOff: 0, dLen: 0 });
    seg.addLive(len);
    if (id > this.maxMessageId) this.maxMessageId = id;
    this.seen(seq);
  }

  /** The entry's insertion sequence when it exists (a re-enqueue keeps its place, as in MemoryStore). */
  entry(queue: string, id: number): EntryState | undefined {
    return this.queues.get(queue)?.get(id);
  }

  delivered(queue: string, id: number, seg: Segment, off: number, len: number): void {
    const e = this.queues.get(queue)?.get(id);
    if (e === undefined || e.delivered) return;
    e.delivered = true;
    e.dSeg = seg;
    e.dOff = off;
    e.dLen = len;
    seg.addLive(len);
  }

  settle(queue: string, id: number, seg: Segment | undefined): void {
    const q = this.queues.get(queue);
    const e = q?.get(id);
    if (q === undefined || e === undefined) return;
    q.delete(id);
    this.killEntry(e, seg);
    this.unref(id);
  }

  dropQueue(queue: string, seg: Segment): void {
    const q = this.queues.get(queue);
    if (q === undefined) return;
    for (const [id, e] of q) {
      this.killEntry(e, seg);
      this.unref(id);
    }
    this.queues.delete(queue);
  }

  /**
   * After recovery: bodies no entry holds (a batch torn between its MESSAGE and ENQUEUE records) are dropped,
   * and entries whose body was lost to corruption are removed. Returns the lost entries for the report.
   */
  sweep(): { queue: string; id: number }[] {
    const lost: { queue: string; id: number }[] = [];
    for (const [queue, q] of this.queues) {
      for (const id of q.keys()) {
        if (!this.hasBody(id)) {
          lost.push({ queue, id });
          this.settle(queue, id, undefined);
        }
      }
    }
    for (const [id, m] of this.messages) {
      if (m.refs > 0) continue;
      if (m.seg !== undefined) m.seg.kill(m.len, undefined, this.batch);
      this.messages.delete(id);
    }
    return lost;
  }

  /**
   * Recounts what each segment holds from the index and compares with the running counts (for tests: a
   * drift would make space accounting lie). Returns one line per disagreement.
   */
  audit(segments: Iterable<Segment>): string[] {
    const count = new Map<Segment, { live: number; bytes: number }>();
    const add = (seg: Segment | undefined, len: number): void => {
      if (seg === undefined) return;
      const c = count.get(seg) ?? { live: 0, bytes: 0 };
      c.live++;
      c.bytes += len;
      count.set(seg, c);
    };
    for (const t of this.topology.values()) add(t.seg, t.len);
    for (const m of this.messages.values()) add(m.seg, m.len);
    for (const q of this.queues.values()) {
      for (const e of q.values()) {
        add(e.seg, e.len);
        add(e.dSeg, e.dLen);
      }
    }
    const out: string[] = [];
    for (const s of segments) {
      const c = count.get(s) ?? { live: 0, bytes: 0 };
      if (c.live !== s.live || c.bytes !== s.liveBytes) {
        out.push(
          `segment ${s.no}: counted live=${s.live}/${s.liveBytes}B, index holds ${c.live}/${c.bytes}B`,
        );
      }
    }
    return out;
  }

  private killEntry(e: EntryState, by: Segment | undefined): void {
    e.seg.kill(e.len, by, this.batch);
    if (e.dSeg !== undefined) e.dSeg.kill(e.dLen, by, this.batch);
  }

  private unref(id: number): void {
    const m = this.messages.get(id);
    if (m === undefined || --m.refs > 0) return;
    // Nothing on disk needs to cancel a body: with no entry left, recovery drops it (see sweep).
    if (m.seg !== undefined) m.seg.kill(m.len, undefined, this.batch);
    this.messages.delete(id);
  }

  private seen(seq: number): void {
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }
}
