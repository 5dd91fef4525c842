import { IdMap } from './id-map';

const CHUNK_BITS = 14;
/** Slots per chunk: columns grow a chunk at a time, never by copying everything (no pause, no 2x peak). */
const CHUNK = 1 << CHUNK_BITS;
const LOW = CHUNK - 1;
/** Bytes of one slot over all columns (see Chunk). */
const SLOT_BYTES = 49;
const MAX_U32 = 0xffff_ffff;

/** One chunk of every column, laid over a single ArrayBuffer. */
class Chunk {
  readonly id: Float64Array;
  readonly pSeq: Float64Array;
  readonly refs: Uint32Array;
  readonly bSeg: Int32Array;
  readonly bOff: Uint32Array;
  readonly bLen: Uint32Array;
  readonly pQueue: Uint32Array;
  readonly pSeg: Int32Array;
  readonly pOff: Uint32Array;
  readonly size: Uint32Array;
  readonly priority: Uint8Array;

  constructor() {
    const buf = new ArrayBuffer(CHUNK * SLOT_BYTES);
    let at = 0;
    const f64 = (): Float64Array => new Float64Array(buf, (at += CHUNK * 8) - CHUNK * 8, CHUNK);
    const u32 = (): Uint32Array => new Uint32Array(buf, (at += CHUNK * 4) - CHUNK * 4, CHUNK);
    const i32 = (): Int32Array => new Int32Array(buf, (at += CHUNK * 4) - CHUNK * 4, CHUNK);
    this.id = f64();
    this.pSeq = f64();
    this.refs = u32();
    this.bSeg = i32();
    this.bOff = u32();
    this.bLen = u32();
    this.pQueue = u32();
    this.pSeg = i32();
    this.pOff = u32();
    this.size = u32();
    this.priority = new Uint8Array(buf, at, CHUNK);
  }
}

/**
 * The journal's per-message state as columns, one slot per message id (49 bytes, plus 12 per bucket of the
 * id map): how many queue entries hold it, where its MESSAGE record is, its body size and priority (what a
 * queue needs to hold it while it stays on disk, so a restart need not read every body for them), and its
 * first queue entry (the common case is exactly one: one durable queue, no DELIVERED record yet), where
 * its ENQUEUE record is.
 * Segments are referred to by number (-1: none); offsets and lengths are 32-bit (a segment is closed long
 * before 4 GiB).
 *
 * Slots are dense: removing one moves the last slot into its place (and re-points that id), so iteration is
 * a plain loop over `0..size-1`, and a loop that removes the slot it is at must run downwards.
 */
export class MessageTable {
  private readonly ids = new IdMap();
  private readonly chunks: Chunk[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The slot of `id`, or -1. */
  find(id: number): number {
    return this.ids.get(id);
  }

  /** A new slot for `id` (not already present): no entries, no body. */
  add(id: number): number {
    const s = this.count++;
    if (s >>> CHUNK_BITS === this.chunks.length) this.chunks.push(new Chunk());
    const c = this.chunk(s);
    const i = s & LOW;
    c.id[i] = id;
    c.refs[i] = 0;
    c.bSeg[i] = -1;
    c.pQueue[i] = 0;
    this.ids.set(id, s);
    return s;
  }

  /** Frees slot `s`; the last slot moves into it. */
  remove(s: number): void {
    const c = this.chunk(s);
    const i = s & LOW;
    this.ids.delete(c.id[i] as number);
    const last = --this.count;
    if (s !== last) {
      const l = this.chunk(last);
      const j = last & LOW;
      c.id[i] = l.id[j] as number;
      c.pSeq[i] = l.pSeq[j] as number;
      c.refs[i] = l.refs[j] as number;
      c.bSeg[i] = l.bSeg[j] as number;
      c.bOff[i] = l.bOff[j] as number;
      c.bLen[i] = l.bLen[j] as number;
      c.pQueue[i] = l.pQueue[j] as number;
      c.pSeg[i] = l.pSeg[j] as number;
      c.pOff[i] = l.pOff[j] as number;
      c.size[i] = l.size[j] as number;
      c.priority[i] = l.priority[j] as number;
      this.ids.set(c.id[i] as number, s);
    }
    // One spare chunk stays, so a queue hovering at a chunk boundary does not allocate on every message.
    while (this.chunks.length > 1 && (this.chunks.length - 2) << CHUNK_BITS >= this.count) this.chunks.pop();
  }

  id(s: number): number {
    return this.chunk(s).id[s & LOW] as number;
  }

  refs(s: number): number {
    return this.chunk(s).refs[s & LOW] as number;
  }

  setRefs(s: number, refs: number): void {
    this.chunk(s).refs[s & LOW] = refs;
  }

  /** Segment number of the body's MESSAGE record; -1 when the body is not (or no longer) on disk. */
  bodySeg(s: number): number {
    return this.chunk(s).bSeg[s & LOW] as number;
  }

  bodyOff(s: number): number {
    return this.chunk(s).bOff[s & LOW] as number;
  }

  bodyLen(s: number): number {
    return this.chunk(s).bLen[s & LOW] as number;
  }

  setBody(s: number, seg: number, off: number, len: number): void {
    checkU32(off);
    const c = this.chunk(s);
    const i = s & LOW;
    c.bSeg[i] = seg;
    c.bOff[i] = off;
    c.bLen[i] = len;
  }

  /** Body bytes (without properties and routing), and priority: kept with the body's first location. */
  bodySize(s: number): number {
    return this.chunk(s).size[s & LOW] as number;
  }

  priority(s: number): number {
    return this.chunk(s).priority[s & LOW] as number;
  }

  setMeta(s: number, size: number, priority: number): void {
    const c = this.chunk(s);
    const i = s & LOW;
    c.size[i] = size;
    // AMQP priorities are an octet; anything above counts as the highest anyway.
    c.priority[i] = priority > 255 ? 255 : priority < 0 ? 0 : priority;
  }

  clearBody(s: number): void {
    this.chunk(s).bSeg[s & LOW] = -1;
  }

  /** The queue (its number + 1) holding the message's first entry; 0 when there is none. */
  primaryQueue(s: number): number {
    return this.chunk(s).pQueue[s & LOW] as number;
  }

  primarySeq(s: number): number {
    return this.chunk(s).pSeq[s & LOW] as number;
  }

  primarySeg(s: number): number {
    return this.chunk(s).pSeg[s & LOW] as number;
  }

  primaryOff(s: number): number {
    return this.chunk(s).pOff[s & LOW] as number;
  }

  setPrimary(s: number, queue: number, seq: number, seg: number, off: number): void {
    checkU32(off);
    const c = this.chunk(s);
    const i = s & LOW;
    c.pQueue[i] = queue;
    c.pSeq[i] = seq;
    c.pSeg[i] = seg;
    c.pOff[i] = off;
  }

  clearPrimary(s: number): void {
    this.chunk(s).pQueue[s & LOW] = 0;
  }

  private chunk(s: number): Chunk {
    return this.chunks[s >>> CHUNK_BITS] as Chunk;
  }
}

/** A wrapped offset would point at another record: fail loudly instead (a batch of over 3 GiB). */
function checkU32(n: number): void {
  if (n > MAX_U32) throw new RangeError(`journal offset ${n} does not fit the index`);
}
