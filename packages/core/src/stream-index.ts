/** Offsets per block: one block is 12 bytes an offset (id f64 + size u32), 48 KiB. */
const BLOCK = 4096;
/** The first block of a stream starts this small, so a stream of a handful of messages pays for a handful. */
const FIRST_BLOCK = 64;

/**
 * A stream's log, without bodies: per offset the message id and body size, as columns in blocks of typed
 * arrays (12 bytes a message, no object), and the two coarser units RabbitMQ's streams have:
 *
 * - chunks: runs of consecutive offsets appended within CHUNK_SPAN_MS of each other, each with the time its
 *   first message arrived. That time is every one of its messages' timestamp (timestamp offsets, x-max-age),
 *   as a RabbitMQ chunk's timestamp is. A chunk is what the store records (see StreamQueue), so a restart sees
 *   the same times the live stream used.
 * - segments: runs of whole chunks up to x-stream-max-segment-size-bytes of bodies; retention removes whole
 *   segments from the front.
 *
 * Offsets run from `first` (the oldest kept) to `next` (the one the next append gets).
 */
export class StreamIndex {
  first: number;
  next: number;
  /** Body bytes of every kept message. */
  bytes = 0;
  /** Offset of element 0 of blocks[0]: a multiple of BLOCK. */
  private base: number;
  private readonly ids: Float64Array[] = [];
  private readonly sizes: Uint32Array[] = [];

  /** Per chunk: first offset, timestamp (ms), id of its first message (how the store recognises it). */
  readonly chunkOffsets: number[] = [];
  readonly chunkTimes: number[] = [];
  readonly chunkIds: number[] = [];
  /** Per segment: first offset and body bytes. */
  readonly segmentOffsets: number[] = [];
  readonly segmentBytes: number[] = [];

  constructor(start: number) {
    this.first = start;
    this.next = start;
    this.base = start - (start % BLOCK);
  }

  get length(): number {
    return this.next - this.first;
  }

  id(offset: number): number {
    const i = offset - this.base;
    return (this.ids[Math.floor(i / BLOCK)] as Float64Array)[i % BLOCK] as number;
  }

  size(offset: number): number {
    const i = offset - this.base;
    return (this.sizes[Math.floor(i / BLOCK)] as Uint32Array)[i % BLOCK] as number;
  }

  /** Appends one message; the caller has decided whether it opens a chunk and/or a segment (see `opens`). */
  push(id: number, size: number, newChunk: boolean, newSegment: boolean, time: number): number {
    const offset = this.next;
    if (newSegment || this.segmentOffsets.length === 0) {
      this.segmentOffsets.push(offset);
      this.segmentBytes.push(0);
      newChunk = true;
    }
    if (newChunk || this.chunkOffsets.length === 0) {
      this.chunkOffsets.push(offset);
      this.chunkTimes.push(time);
      this.chunkIds.push(id);
    }
    const i = offset - this.base;
    const b = Math.floor(i / BLOCK);
    let ids = this.ids[b];
    let sizes = this.sizes[b];
    const at = i % BLOCK;
    if (ids === undefined || sizes === undefined || at >= ids.length) {
      // A block grows by doubling up to BLOCK; after that each block is full-size.
      const capacity = ids === undefined ? (b === 0 ? FIRST_BLOCK : BLOCK) : Math.min(BLOCK, ids.length * 2);
      const grownIds = new Float64Array(Math.max(capacity, at + 1));
      const grownSizes = new Uint32Array(grownIds.length);
      if (ids !== undefined && sizes !== undefined) {
        grownIds.set(ids);
        grownSizes.set(sizes);
      }
      ids = grownIds;
      sizes = grownSizes;
      this.ids[b] = ids;
      this.sizes[b] = sizes;
    }
    ids[at] = id;
    sizes[at] = size;
    this.next++;
    this.bytes += size;
    const last = this.segmentBytes.length - 1;
    this.segmentBytes[last] = (this.segmentBytes[last] as number) + size;
    return offset;
  }

  /** Bytes in the newest segment (the active one, which the next append may roll over). */
  get activeSegmentBytes(): number {
    return this.segmentBytes[this.segmentBytes.length - 1] ?? 0;
  }

  /** Timestamp of the newest chunk (0 with none). */
  get lastChunkTime(): number {
    return this.chunkTimes[this.chunkTimes.length - 1] ?? 0;
  }

  /** The time of the newest chunk of segment `s` (its newest message's timestamp). */
  segmentNewest(s: number): number {
    const end = this.segmentOffsets[s + 1] ?? this.next;
    const c = this.chunkAt(end - 1);
    return this.chunkTimes[c] ?? 0;
  }

  /** Index of the chunk holding `offset` (the last chunk starting at or before it). */
  chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.chunkOffsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.chunkOffsets[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The first offset of the first chunk with a timestamp at or after `ms`; `next` when there is none. */
  offsetAtTime(ms: number): number {
    let lo = 0;
    let hi = this.chunkTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.chunkTimes[mid] as number) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.chunkOffsets.length ? (this.chunkOffsets[lo] as number) : this.next;
  }

  /**
   * Removes the oldest segment and returns the chunks it held (their first message ids, for the store) and
   * its offset range. The caller never removes the last (active) segment.
   */
  dropOldestSegment(): { from: number; to: number; chunkIds: number[]; chunkOffsets: number[] } {
    const from = this.segmentOffsets.shift() as number;
    this.bytes -= this.segmentBytes.shift() as number;
    const to = this.segmentOffsets[0] ?? this.next;
    let n = 0;
    while (n < this.chunkOffsets.length && (this.chunkOffsets[n] as number) < to) n++;
    const chunkOffsets = this.chunkOffsets.splice(0, n);
    this.chunkTimes.splice(0, n);
    const chunkIds = this.chunkIds.splice(0, n);
    this.first = to;
    while (this.base + BLOCK <= this.first && this.ids.length > 0) {
      this.ids.shift();
      this.sizes.shift();
      this.base += BLOCK;
    }
    return { from, to, chunkIds, chunkOffsets };
  }
}
