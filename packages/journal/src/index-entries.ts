import type { Segment } from './segment';

/* The shapes the journal index keeps beside its columns, and the views it hands out; apart so the index file reads as its operations. */

/**
 * A queue entry that does not fit its message's columns (MessageTable): a second or later queue holding the
 * message, or an ENQUEUE record of a length other than its queue's usual one. Rare, so an object each.
 */
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

/** The delivered mark of an entry kept in the columns, and its DELIVERED record if it has one. */
export interface DeliveredMark {
  seg: Segment | undefined;
  off: number;
  len: number;
}

export interface QueueState {
  readonly key: string;
  /** Number + 1, as kept in MessageTable's primary-queue column (0 there means none). */
  readonly tag: number;
  /** Length of this queue's ENQUEUE records (fixed by its name), so the columns need not keep it. */
  enqueueLen: number;
  /** Entries held in the columns. */
  primaries: number;
  readonly extra: Map<number, EntryState>;
}

/** Where a message's MESSAGE record is, and how many queue entries hold the message. */
export interface BodyLocation {
  seg: Segment;
  off: number;
  len: number;
  refs: number;
}

/** One queue entry, as visited by `eachEntry`: its ENQUEUE record and its DELIVERED record if any. */
export interface EntryView {
  queue: string;
  id: number;
  seq: number;
  delivered: boolean;
  seg: Segment;
  len: number;
  dSeg: Segment | undefined;
  dLen: number;
}

export function extraView(q: QueueState, id: number, e: EntryState): EntryView {
  const { seq, delivered, seg, len, dSeg, dLen } = e;
  return { queue: q.key, id, seq, delivered, seg, len, dSeg, dLen };
}

export function entryState(
  seq: number,
  delivered: boolean,
  seg: Segment,
  off: number,
  len: number,
): EntryState {
  return { seq, delivered, seg, off, len, dSeg: undefined, dOff: 0, dLen: 0 };
}
